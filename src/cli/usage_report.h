/* `claude-proxy usage`: a summary of the usage ledger, read from its file directly (whether or not
 * the proxy runs), as a table, JSON or CSV. */
#ifndef CP_USAGE_REPORT_H
#define CP_USAGE_REPORT_H
#include <stdint.h>
#include <stdio.h>

enum usage_by { USAGE_BY_PROVIDER, USAGE_BY_MODEL, USAGE_BY_DAY, USAGE_BY_SESSION };
enum usage_format { USAGE_TABLE, USAGE_JSON, USAGE_CSV };

struct usage_query {
    int64_t since_ms;
    const char *since_label; /* as the user wrote it, for the header */
    enum usage_by by;
    enum usage_format format;
};

/* "5h", "24h", "7d", "30d", "90m", or a local date YYYY-MM-DD (from its midnight): the start in
 * ms, relative to now_ms. Returns 0 or -1. */
int usage_parse_since(const char *s, int64_t now_ms, int64_t *out_ms);
int usage_parse_by(const char *s, enum usage_by *out);
/* Prints the report of the ledger at db_path; errors go to err. Returns the exit status. */
int usage_report(const char *db_path, const struct usage_query *q, FILE *out, FILE *err);

#endif
