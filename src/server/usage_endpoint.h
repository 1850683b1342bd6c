/* GET /usage: the usage ledger as JSON for the dashboard and scripts (since, by, recent=N).
 * Reads the running ledger's file over its own read-only SQLite connection, on the event loop:
 * every query is a range scan of the time index, and a progress handler interrupts one that runs
 * past USAGE_QUERY_BUDGET_MS (a 503 asking for a shorter `since`), so a large file cannot stall
 * the proxy. Rows carry counts, never content or credentials. */
#ifndef CP_USAGE_ENDPOINT_H
#define CP_USAGE_ENDPOINT_H
#include <h2o.h>

#define USAGE_QUERY_BUDGET_MS 250
#define USAGE_RECENT_MAX 50

void usage_endpoint(h2o_req_t *req);

#endif
