#include "core/usage_since.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common/timeparse.h"

/* An RFC 3339 time with its zone (Z or +hh:mm): a time without one would be read as UTC by
 * some and as local time by others. */
static int parse_time(const char *s, int64_t *out_ms)
{
    size_t len = strlen(s);
    int zoned = len > 0 && (s[len - 1] == 'Z' || s[len - 1] == 'z');
    if (!zoned && len > 6) {
        const char *z = s + len - 6;
        zoned = (z[0] == '+' || z[0] == '-') && isdigit((unsigned char)z[1]) && isdigit((unsigned char)z[2]) &&
                z[3] == ':' && isdigit((unsigned char)z[4]) && isdigit((unsigned char)z[5]);
    }
    time_t t;
    if (!zoned || time_parse_rfc3339(s, &t) != 0)
        return -1;
    *out_ms = (int64_t)t * 1000;
    return 0;
}

int usage_parse_since(const char *s, int64_t now_ms, int64_t *out_ms)
{
    char *end;
    double n = strtod(s, &end);
    if (end != s && n > 0 && end[0] != '\0' && end[1] == '\0') {
        int64_t unit = end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 : end[0] == 'd' ? 86400 : 0;
        if (unit == 0)
            return -1;
        *out_ms = now_ms - (int64_t)(n * (double)unit * 1000);
        return 0;
    }
    if (strchr(s, 'T') != NULL)
        return parse_time(s, out_ms);
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *rest = strptime(s, "%Y-%m-%d", &tm);
    if (rest == NULL || *rest != '\0')
        return -1;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    if (t == (time_t)-1)
        return -1;
    *out_ms = (int64_t)t * 1000;
    return 0;
}
