/* The RFC 3339 parser behind the rate-limit reset headers, Retry-After dates and credential
 * expiries: the forms upstreams send, offsets both ways, fractional seconds, calendar limits
 * (leap years, days a month does not have) and text that is no timestamp. */
#include "check.h"
#include "common/timeparse.h"

/* The epoch second of s, or -2 when it is refused (no valid timestamp here is that early). */
static long long parse(const char *s)
{
    time_t t = 12345; /* a refused input must leave it alone */
    if (time_parse_rfc3339(s, &t) != 0)
        return t == 12345 ? -2 : -3;
    return (long long)t;
}

/* 2026-11-24T14:05:00Z, worked out by hand: 20781 days since 1970 and 14:05. */
#define T0 (20781LL * 86400 + 14 * 3600 + 5 * 60)

static void test_utc_forms(void)
{
    CHECK_INT_EQ(T0, 1795529100LL);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00Z"), T0);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00z"), T0);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00"), T0); /* no zone: read as UTC */
    CHECK_INT_EQ(parse("1970-01-01T00:00:00Z"), 0);
    CHECK_INT_EQ(parse("2026-11-24T14:05:59Z"), T0 + 59);
    CHECK_INT_EQ(parse("2038-01-19T03:14:08Z"), 2147483648LL); /* past 32-bit time_t */
}

static void test_fractional_seconds(void)
{
    CHECK_INT_EQ(parse("2026-11-24T14:05:00.5Z"), T0); /* truncated, not rounded */
    CHECK_INT_EQ(parse("2026-11-24T14:05:00.999999999Z"), T0);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00.123+01:00"), T0 - 3600);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00.123456"), T0);
}

static void test_offsets(void)
{
    CHECK_INT_EQ(parse("2026-11-24T14:05:00+00:00"), T0);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00-00:00"), T0);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00+02:00"), T0 - 2 * 3600);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00-05:30"), T0 + 5 * 3600 + 30 * 60);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00+05:45"), T0 - 5 * 3600 - 45 * 60);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00-00:30"), T0 + 30 * 60);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00+14:00"), T0 - 14 * 3600);
    /* ISO 8601's forms without the colon or the minutes: the same instant, not 530 hours off */
    CHECK_INT_EQ(parse("2026-11-24T14:05:00+0530"), T0 - 5 * 3600 - 30 * 60);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00+02"), T0 - 2 * 3600);
    /* an offset across midnight and the year */
    CHECK_INT_EQ(parse("2027-01-01T01:00:00+02:00"), parse("2026-12-31T23:00:00Z"));
}

static void test_calendar(void)
{
    CHECK_INT_EQ(parse("2024-02-29T00:00:00Z"), 1709164800LL);
    CHECK_INT_EQ(parse("2000-02-29T00:00:00Z"), 951782400LL); /* divisible by 400: a leap year */
    CHECK_INT_EQ(parse("2024-03-01T00:00:00Z") - parse("2024-02-28T00:00:00Z"), 2 * 86400);
    CHECK_INT_EQ(parse("2023-03-01T00:00:00Z") - parse("2023-02-28T00:00:00Z"), 86400);
    CHECK_INT_EQ(parse("2026-12-31T23:59:59Z") + 1, parse("2027-01-01T00:00:00Z"));
    /* a leap second is the next minute's first */
    CHECK_INT_EQ(parse("2016-12-31T23:59:60Z"), 1483228800LL);
    /* days the month does not have are refused, not rolled into the next month */
    CHECK_INT_EQ(parse("2023-02-29T00:00:00Z"), -2);
    CHECK_INT_EQ(parse("1900-02-29T00:00:00Z"), -2); /* divisible by 100, not 400: no leap year */
    CHECK_INT_EQ(parse("2026-02-30T00:00:00Z"), -2);
    CHECK_INT_EQ(parse("2026-04-31T00:00:00Z"), -2);
    CHECK_INT_EQ(parse("2026-11-00T00:00:00Z"), -2);
    CHECK_INT_EQ(parse("2026-11-32T00:00:00Z"), -2);
    CHECK_INT_EQ(parse("2026-13-01T00:00:00Z"), -2);
    CHECK_INT_EQ(parse("2026-00-01T00:00:00Z"), -2);
    CHECK_INT_EQ(parse("2026-11-24T24:00:00Z"), -2);
    CHECK_INT_EQ(parse("2026-11-24T14:60:00Z"), -2);
    CHECK_INT_EQ(parse("2026-11-24T14:05:62Z"), -2);
}

static void test_garbage(void)
{
    CHECK_INT_EQ(parse(""), -2);
    CHECK_INT_EQ(parse("abc"), -2);
    CHECK_INT_EQ(parse("1795529100"), -2); /* epoch seconds are not this format */
    CHECK_INT_EQ(parse("2026-11-24"), -2);
    CHECK_INT_EQ(parse("2026-11-24T14:05Z"), -2);
    CHECK_INT_EQ(parse("Tue, 24 Nov 2026 14:05:00 GMT"), -2);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00X"), -2);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00 Z"), -2);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00+ab"), -2);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00+"), -2);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00+-5:00"), -2);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00+5:00"), -2);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00+02:3"), -2);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00+24:00"), -2);
    CHECK_INT_EQ(parse("2026-11-24T14:05:00+02:60"), -2);
    CHECK_INT_EQ(parse("2026-11-24X14:05:00Z"), -2);
}

int main(void)
{
    test_utc_forms();
    test_fractional_seconds();
    test_offsets();
    test_calendar();
    test_garbage();
    CHECK_DONE();
}
