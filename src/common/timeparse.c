#include "common/timeparse.h"

static int two_digits(const char *p)
{
    return p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' ? (p[0] - '0') * 10 + (p[1] - '0') : -1;
}

/* strptime takes any day 1-31 and timegm would roll 2023-02-29 into March: refuse it instead. */
static int day_exists(const struct tm *tm)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year = tm->tm_year + 1900;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return tm->tm_mday <= days[tm->tm_mon] + (tm->tm_mon == 1 && leap);
}

int time_parse_rfc3339(const char *s, time_t *out)
{
    struct tm tm = {0};
    const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest == NULL || !day_exists(&tm))
        return -1;
    if (*rest == '.')
        while (*++rest >= '0' && *rest <= '9')
            ;
    long offset = 0;
    if (*rest == '+' || *rest == '-') {
        /* hh:mm, also ISO 8601's hhmm and hh */
        int hh = two_digits(rest + 1), mm = 0;
        if (hh < 0 || hh > 23)
            return -1;
        const char *m = rest + 3 + (rest[3] == ':'); /* rest[3] exists: two digits came before */
        if (*m != '\0' || rest[3] == ':') {
            mm = two_digits(m);
            if (mm < 0 || mm > 59)
                return -1;
        }
        offset = (hh * 3600L + mm * 60L) * (*rest == '+' ? 1 : -1);
    } else if (*rest != 'Z' && *rest != 'z' && *rest != '\0') {
        return -1;
    }
    *out = timegm(&tm) - offset;
    return 0;
}
