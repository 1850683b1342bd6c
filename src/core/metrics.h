/* Counters and histograms for GET /metrics (Prometheus text format 0.0.4).
 *
 * Two views of the traffic:
 *  - client responses (claude_proxy_requests_total): one per request answered, labelled with the
 *    provider whose answer was relayed (the last one tried), or "proxy" when the proxy answered
 *    without asking any provider (refusals, validation errors, local endpoints);
 *  - upstream attempts (claude_proxy_upstream_responses_total / _failures_total): one per request
 *    sent to a provider, including the ones whose 429 made the proxy fall back.
 * All calls come from the event-loop thread. */
#ifndef CP_METRICS_H
#define CP_METRICS_H
#include <stddef.h>
#include <stdint.h>
#include "common/sbuf.h"

/* Path classes of responses made without a provider, beside provider.h's ENDPOINT_* values
 * (which stay below these), so that one `endpoint` argument carries either. */
enum metrics_endpoint {
    METRICS_ENDPOINT_MODELS = 16, /* GET /v1/models answered locally (OpenAI model list) */
    METRICS_ENDPOINT_INFO,        /* /, /health, /metrics */
    METRICS_ENDPOINT_OTHER,       /* any other path (404) */
};

/* Streams relayed now and bytes relayed so far: exchange.c adds to them, /metrics and /health
 * read them. */
struct metrics_streams {
    uint64_t active_streams;
    uint64_t bytes_streamed;
};
extern struct metrics_streams metrics_streams;

/* The end of a request that went through exchange.c. provider: the last provider tried, or
 * NULL when none was (counted as "proxy"). duration_ms: from the request arriving to the end of
 * its response, fallbacks included. (Per-attempt times come from the metrics_record_upstream_*
 * calls, bytes from metrics_streams.) */
void metrics_record_request(const char *provider, int endpoint, int api, int status, uint64_t duration_ms);
/* A response the proxy made itself without going through exchange.c (400/401/403/404/405/413/
 * 415 refusals, /v1/models, /health...): counted as provider="proxy". endpoint: ENDPOINT_* for
 * the Anthropic paths, METRICS_ENDPOINT_* otherwise; api: API_OPENAI on the /chat/completions
 * paths (then labelled endpoint="chat_completions"), else API_ANTHROPIC. */
void metrics_record_local_response(int endpoint, int api, int status);

/* An upstream attempt got a response head with this status, ttfb_ms after its request went out
 * (whatever happens next: relay or fallback). */
void metrics_record_upstream_response(const char *provider, int status, uint64_t ttfb_ms);
/* The attempt got no response to relay: a connect/TLS/send error, a timeout, or an invalid head. */
enum metrics_failure { METRICS_FAILURE_CONNECT, METRICS_FAILURE_TIMEOUT, METRICS_FAILURE_INVALID };
void metrics_record_upstream_failure(const char *provider, enum metrics_failure reason);
/* The attempt whose answer went to the client ended, latency_ms after its request went out. */
void metrics_record_upstream_latency(const char *provider, uint64_t latency_ms);

/* The token usage of an answer and what it cost (spend on a metered provider, the API-equivalent
 * value under a subscription); usd < 0: the model has no price. model: its base id. */
struct usage_counts;
void metrics_record_usage(const char *provider, const char *model, const struct usage_counts *u, double usd,
                          int subscription);

void metrics_record_fallback(const char *provider);
void metrics_record_cooldown(const char *provider);

struct proxy_config;
void metrics_render(sbuf *out, struct proxy_config *cfg);

#endif
