#include "common/timeparse.h"
#include <stdio.h>

int time_parse_rfc3339(const char *s, time_t *out)
{
    struct tm tm = {0};
    const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest == NULL)
        return -1;
    if (*rest == '.')
        while (*++rest >= '0' && *rest <= '9')
            ;
    long offset = 0;
    if (*rest == '+' || *rest == '-') {
        int hh = 0, mm = 0;
        if (sscanf(rest + 1, "%d:%d", &hh, &mm) < 1)
            return -1;
        offset = (hh * 3600L + mm * 60L) * (*rest == '+' ? 1 : -1);
    } else if (*rest != 'Z' && *rest != 'z' && *rest != '\0') {
        return -1;
    }
    *out = timegm(&tm) - offset;
    return 0;
}
