/* The start of a usage period as people write it (the `usage` command and GET /usage). */
#ifndef CP_USAGE_SINCE_H
#define CP_USAGE_SINCE_H
#include <stdint.h>

/* "5h", "24h", "7d", "30d", "90m", a local date YYYY-MM-DD (from its midnight), or an RFC 3339
 * time with its zone (2026-12-01T09:00:00Z, ...+01:00): the start in ms, relative to now_ms.
 * Returns 0 or -1. */
int usage_parse_since(const char *s, int64_t now_ms, int64_t *out_ms);

#endif
