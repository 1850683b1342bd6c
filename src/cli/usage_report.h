/* `claude-proxy usage`: a summary of the usage ledger, read from its file directly (whether or not
 * the proxy runs), as a table, JSON or CSV. */
#ifndef CP_USAGE_REPORT_H
#define CP_USAGE_REPORT_H
#include <stdint.h>
#include <stdio.h>
#include "core/usage_since.h"

enum usage_by { USAGE_BY_PROVIDER, USAGE_BY_MODEL, USAGE_BY_DAY, USAGE_BY_SESSION };
enum usage_format { USAGE_TABLE, USAGE_JSON, USAGE_CSV };

struct usage_query {
    int64_t since_ms;
    const char *since_label; /* as the user wrote it, for the header */
    enum usage_by by;
    enum usage_format format;
};

int usage_parse_by(const char *s, enum usage_by *out);
/* Prints the report of the ledger at db_path; errors go to err. Returns the exit status. */
int usage_report(const char *db_path, const struct usage_query *q, FILE *out, FILE *err);

#endif
