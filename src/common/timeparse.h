/* Timestamps from upstream headers and credential files. */
#ifndef CP_TIMEPARSE_H
#define CP_TIMEPARSE_H
#include <time.h>

/* "2026-11-24T14:05:00Z", also with fractional seconds or a +hh:mm / -hh:mm offset. 0 or -1. */
int time_parse_rfc3339(const char *s, time_t *out);

#endif
