/* How long to leave a rate-limited provider alone, from what the upstream said. */
#ifndef CP_COOLDOWN_H
#define CP_COOLDOWN_H
#include <h2o.h>
#include <time.h>

/* Seconds to cool down after a trigger response: `retry-after` (seconds or an HTTP date), else
 * Anthropic's `anthropic-ratelimit-unified-reset` (epoch seconds, subscriptions), else the
 * earliest `anthropic-ratelimit-*-reset` (RFC 3339), else `fallback`; the header-derived value
 * is kept within [min, max]. *source names the header used (for the log line). */
unsigned cooldown_seconds(const h2o_header_t *headers, size_t num_headers, time_t now, unsigned fallback, unsigned min,
                          unsigned max, const char **source);

/* The seconds `retry-after` asks for (delta seconds or an HTTP date); -1 if absent or unreadable. */
long long cooldown_retry_after(const h2o_header_t *headers, size_t num_headers, time_t now);
unsigned cooldown_clamp(long long seconds, unsigned min, unsigned max);

#endif
