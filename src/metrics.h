/* Counters and histograms for GET /metrics (Prometheus text format). */
#ifndef CP_METRICS_H
#define CP_METRICS_H
#include <stddef.h>
#include <stdint.h>
#include "sbuf.h"

void metrics_record_request(const char *provider, int endpoint, int api, int status, uint64_t duration_ms,
                            uint64_t ttfb_ms, size_t bytes);
void metrics_record_fallback(const char *provider);
void metrics_record_cooldown(const char *provider);
struct proxy_config;
void metrics_render(sbuf *out, struct proxy_config *cfg);

#endif
