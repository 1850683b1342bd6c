/* How long a rate-limited provider is left alone: retry-after in seconds or as an HTTP date,
 * Anthropic's unified reset (epoch seconds), the per-limit resets (RFC 3339), the configured
 * fallback, and the bounds. */
#include "check.h"
#include "core/cooldown.h"

static h2o_iovec_t name_of(const char *s) { return h2o_iovec_init(s, strlen(s)); }

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
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 1, 60, &src), 60);          /* bounded by max */
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

/* Which header wins when several are there, and what an unreadable or past one gives. */
static void test_precedence(void)
{
    time_t now = 1800000000;
    const char *src = NULL;
    h2o_iovec_t ra = name_of("Retry-After"), unified = name_of("anthropic-ratelimit-unified-reset"),
                req = name_of("anthropic-ratelimit-requests-reset"), tok = name_of("anthropic-ratelimit-tokens-reset"),
                out = name_of("anthropic-ratelimit-output-tokens-reset");
    h2o_header_t h[4];
    /* retry-after (any case) before the unified reset */
    h[0] = (h2o_header_t){&unified, NULL, h2o_iovec_init(H2O_STRLIT("1800007200"))};
    h[1] = (h2o_header_t){&ra, NULL, h2o_iovec_init(H2O_STRLIT("1.2"))};
    CHECK_INT_EQ(cooldown_seconds(h, 2, now, 300, 1, 86400, &src), 2); /* a fraction rounds up */
    CHECK_STR_EQ(src, "retry-after");
    /* an unreadable retry-after gives way to the next header */
    h[1].value = h2o_iovec_init(H2O_STRLIT("later"));
    CHECK_INT_EQ(cooldown_seconds(h, 2, now, 300, 1, 86400, &src), 7200);
    CHECK_STR_EQ(src, "anthropic-ratelimit-unified-reset");
    /* the unified reset before the per-limit ones */
    h[1] = (h2o_header_t){&tok, NULL, h2o_iovec_init(H2O_STRLIT("2027-01-15T08:01:00Z"))};
    CHECK_INT_EQ(cooldown_seconds(h, 2, now, 300, 1, 86400, &src), 7200);
    /* of the per-limit resets the earliest still ahead; one already past does not count */
    h[0] = (h2o_header_t){&req, NULL, h2o_iovec_init(H2O_STRLIT("2027-01-15T08:05:00Z"))};
    h[2] = (h2o_header_t){&out, NULL, h2o_iovec_init(H2O_STRLIT("2027-01-15T07:00:00Z"))};
    CHECK_INT_EQ(cooldown_seconds(h, 3, now, 300, 1, 86400, &src), 60);
    CHECK_STR_EQ(src, "anthropic-ratelimit-*-reset");
    /* all past or unreadable: the configured cooldown */
    h[0].value = h2o_iovec_init(H2O_STRLIT("yesterday"));
    h[1].value = h2o_iovec_init(H2O_STRLIT("2027-01-15T07:59:59Z"));
    CHECK_INT_EQ(cooldown_seconds(h, 3, now, 300, 1, 86400, &src), 300);
    CHECK_STR_EQ(src, "configured cooldown");
    /* header-derived values below min are raised to it: a reset in the past, an HTTP date gone by */
    h[0] = (h2o_header_t){&unified, NULL, h2o_iovec_init(H2O_STRLIT("1799999000"))};
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 5, 86400, &src), 5);
    h[0] = (h2o_header_t){&ra, NULL, h2o_iovec_init(H2O_STRLIT("Fri, 15 Jan 2027 07:00:00 GMT"))};
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 5, 86400, &src), 5);
    h[0].value = h2o_iovec_init(H2O_STRLIT("0"));
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 5, 86400, &src), 5);
    h[0].value = h2o_iovec_init(H2O_STRLIT("-3"));
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 5, 86400, &src), 300);
}

static void test_retry_after(void)
{
    time_t now = 1800000000;
    h2o_iovec_t ra = name_of("retry-after"), other = name_of("x-retry-after");
    h2o_header_t h[2];
    h[0] = (h2o_header_t){&other, NULL, h2o_iovec_init(H2O_STRLIT("9"))};
    CHECK_INT_EQ(cooldown_retry_after(h, 1, now), -1);
    h[1] = (h2o_header_t){&ra, NULL, h2o_iovec_init(H2O_STRLIT("45 "))};
    CHECK_INT_EQ(cooldown_retry_after(h, 2, now), 45);
    h[1].value = h2o_iovec_init(H2O_STRLIT("Fri, 15 Jan 2027 08:02:00 GMT"));
    CHECK_INT_EQ(cooldown_retry_after(h, 2, now), 120);
    h[1].value = h2o_iovec_init(H2O_STRLIT("Fri, 15 Jan 2027 07:02:00 GMT"));
    CHECK_INT_EQ(cooldown_retry_after(h, 2, now), 0);
    h[1].value = h2o_iovec_init(H2O_STRLIT("nan"));
    CHECK_INT_EQ(cooldown_retry_after(h, 2, now), -1);
    h[1].value = h2o_iovec_init(H2O_STRLIT(""));
    CHECK_INT_EQ(cooldown_retry_after(h, 2, now), -1);
    h[1].value = h2o_iovec_init(H2O_STRLIT("123456789012345678901234567890123"));
    CHECK_INT_EQ(cooldown_retry_after(h, 2, now), -1); /* longer than any number of seconds */
    CHECK_INT_EQ(cooldown_clamp(-5, 1, 10), 1);
    CHECK_INT_EQ(cooldown_clamp(7, 1, 10), 7);
    CHECK_INT_EQ(cooldown_clamp(1000000000000LL, 1, 10), 10);
}

int main(void)
{
    test_cooldown();
    test_precedence();
    test_retry_after();
    CHECK_DONE();
}
