#include "core/cooldown.h"
#include "common/http_client.h"
#include "common/timeparse.h"
#include <stdlib.h>
#include <string.h>

static int parse_uint(const h2o_iovec_t *v, long long *out)
{
    char buf[32];
    if (v->len == 0 || http_header_copy(v, buf, sizeof(buf)) != 0)
        return -1;
    char *end;
    double d = strtod(buf, &end); /* retry-after may carry a fraction in practice */
    while (*end == ' ')
        end++;
    if (*end != '\0' || !(d >= 0)) /* also refuses NaN */
        return -1;
    *out = d > 1e12 ? (long long)1e12 : (long long)(d + 0.999); /* absurd values are clamped later */
    return 0;
}

static int parse_rfc3339(const h2o_iovec_t *v, time_t *out)
{
    char buf[64];
    if (http_header_copy(v, buf, sizeof(buf)) != 0)
        return -1;
    return time_parse_rfc3339(buf, out);
}

/* "Tue, 24 Nov 2026 14:05:00 GMT" */
static int parse_http_date(const h2o_iovec_t *v, time_t *out)
{
    char buf[64];
    if (http_header_copy(v, buf, sizeof(buf)) != 0)
        return -1;
    struct tm tm = {0};
    if (strptime(buf, "%a, %d %b %Y %H:%M:%S GMT", &tm) == NULL)
        return -1;
    *out = timegm(&tm);
    return 0;
}

unsigned cooldown_clamp(long long v, unsigned min, unsigned max)
{
    if (v < (long long)min)
        return min;
    if (v > (long long)max)
        return max;
    return (unsigned)v;
}

long long cooldown_retry_after(const h2o_header_t *headers, size_t num_headers, time_t now)
{
    const h2o_iovec_t *v = http_header_find(headers, num_headers, "retry-after");
    long long secs;
    time_t at;
    if (v == NULL)
        return -1;
    if (parse_uint(v, &secs) == 0)
        return secs;
    if (parse_http_date(v, &at) == 0)
        return at > now ? (long long)(at - now) : 0;
    return -1;
}

unsigned cooldown_seconds(const h2o_header_t *headers, size_t num_headers, time_t now, unsigned fallback, unsigned min,
                          unsigned max, const char **source)
{
    const h2o_iovec_t *v;
    long long secs;
    time_t at;
    if ((v = http_header_find(headers, num_headers, "retry-after")) != NULL) {
        if (parse_uint(v, &secs) == 0) {
            *source = "retry-after";
            return cooldown_clamp(secs, min, max);
        }
        if (parse_http_date(v, &at) == 0) {
            *source = "retry-after";
            return cooldown_clamp((long long)(at - now), min, max);
        }
    }
    if ((v = http_header_find(headers, num_headers, "anthropic-ratelimit-unified-reset")) != NULL &&
        parse_uint(v, &secs) == 0) {
        *source = "anthropic-ratelimit-unified-reset";
        return cooldown_clamp(secs - (long long)now, min, max);
    }
    static const char *const resets[] = {"anthropic-ratelimit-requests-reset", "anthropic-ratelimit-tokens-reset",
                                         "anthropic-ratelimit-input-tokens-reset",
                                         "anthropic-ratelimit-output-tokens-reset"};
    long long best = -1;
    for (size_t i = 0; i < sizeof(resets) / sizeof(resets[0]); i++) {
        if ((v = http_header_find(headers, num_headers, resets[i])) != NULL && parse_rfc3339(v, &at) == 0) {
            long long d = (long long)(at - now);
            if (d > 0 && (best < 0 || d < best))
                best = d;
        }
    }
    if (best >= 0) {
        *source = "anthropic-ratelimit-*-reset";
        return cooldown_clamp(best, min, max);
    }
    *source = "configured cooldown";
    return fallback;
}
