#include "core/usage_since.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
