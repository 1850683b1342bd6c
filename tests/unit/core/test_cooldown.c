/* How long a rate-limited provider is left alone: retry-after in seconds or as an HTTP date,
 * Anthropic's unified reset (epoch seconds), the per-limit resets (RFC 3339), the configured
 * fallback, and the bounds. */
#include "check.h"
#include "core/cooldown.h"

static h2o_iovec_t name_of(const char *s)
{
    return h2o_iovec_init(s, strlen(s));
}

static void test_cooldown(void)
{
    time_t now = 1800000000;
    const char *src = NULL;
    h2o_iovec_t n1 = name_of("retry-after"), n2 = name_of("anthropic-ratelimit-unified-reset"),
                n3 = name_of("anthropic-ratelimit-tokens-reset");
    h2o_header_t h[3];
    h[0] = (h2o_header_t){&n1, NULL, h2o_iovec_init(H2O_STRLIT("120"))};
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 1, 3600, &src), 120);
    CHECK_STR_EQ(src, "retry-after");
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 1, 60, &src), 60); /* bounded by max */
    h[0].value = h2o_iovec_init(H2O_STRLIT("Fri, 15 Jan 2027 08:00:30 GMT")); /* now + 30 s */
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 1, 3600, &src), 30);
    h[0] = (h2o_header_t){&n2, NULL, h2o_iovec_init(H2O_STRLIT("1800007200"))};
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 1, 86400, &src), 7200);
    CHECK_STR_EQ(src, "anthropic-ratelimit-unified-reset");
    h[0] = (h2o_header_t){&n3, NULL, h2o_iovec_init(H2O_STRLIT("2027-01-15T08:01:00Z"))};
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 1, 3600, &src), 60);
    h[0].value = h2o_iovec_init(H2O_STRLIT("2027-01-15T09:01:00.5+01:00"));
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 1, 3600, &src), 60);
    CHECK_INT_EQ(cooldown_seconds(h, 0, now, 300, 1, 3600, &src), 300);
    CHECK_STR_EQ(src, "configured cooldown");
    h[0] = (h2o_header_t){&n1, NULL, h2o_iovec_init(H2O_STRLIT("1e300"))}; /* found by fuzz_headers: clamped */
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 1, 3600, &src), 3600);
    h[0] = (h2o_header_t){&n1, NULL, h2o_iovec_init(H2O_STRLIT("soon"))};
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 1, 3600, &src), 300);
}

int main(void)
{
    test_cooldown();
    CHECK_DONE();
}
