/* Timestamps from upstream headers and credential files. */
#ifndef CP_TIMEPARSE_H
#define CP_TIMEPARSE_H
#include <time.h>

/* "2026-11-24T14:05:00Z", also with fractional seconds (dropped) or a +hh:mm / -hh:mm offset (also
 * +hhmm, +hh); no zone reads as UTC. A day the month does not have is refused. 0 or -1. */
int time_parse_rfc3339(const char *s, time_t *out);

#endif
