/* The status line built from /health answers (times in UTC for the test). */
#include <stdlib.h>
#include <time.h>
#include "check.h"
#include "cli/statusline.h"

#define NOW 1785500000 /* Fri 2026-07-31 12:13:20 UTC */

static void check_line(const char *health, const char *session, const char *want)
{
    sbuf line = SBUF_INIT;
    statusline_format(health, health ? strlen(health) : 0, session, session ? strlen(session) : 0, NOW, &line);
    sbuf_putc(&line, '\0');
    CHECK_STR_EQ(line.data, want);
    sbuf_free(&line);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    const char *session = "{\"session_id\":\"x\",\"model\":{\"id\":\"claude-opus-5-5\",\"display_name\":\"Opus 5.5\"}}";
    /* spend from the ledger (per provider), a model window at its limit, a stale 7d window */
    check_line("{\"providers\":[{\"name\":\"anthropic\",\"state\":\"ok\",\"quota\":{\"windows\":{"
               "\"5h\":{\"utilization\":0.256,\"status\":\"allowed\",\"reset\":1785510000},"
               "\"7d\":{\"utilization\":0.9,\"reset\":1785400000},"
               "\"7d_oi\":{\"utilization\":1.0,\"status\":\"rejected\",\"reset\":1785900000}}}},"
               "{\"name\":\"bedrock\",\"state\":\"ok\",\"spend\":{\"today_usd\":1.234,\"month_usd\":20}},"
               "{\"name\":\"bedrock2\",\"state\":\"ok\",\"spend\":{\"today_usd\":0.5,\"month_usd\":1}}],"
               "\"order\":[\"anthropic\",\"bedrock\",\"bedrock2\"]}",
               session,
               "Opus 5.5 → anthropic · 5h 26% (resets 15:00) · 7d_oi 100% limit (resets Wed 03:20) · "
               "fallback $1.73 today");
    /* the model id when there is no display name; nothing about spend without a ledger */
    check_line("{\"providers\":[{\"name\":\"a\",\"state\":\"cooling\",\"cooling_until\":\"2026-07-31T14:00:00Z\"},"
               "{\"name\":\"b\",\"state\":\"ok\"}],\"order\":[\"a\",\"b\"]}",
               "{\"model\":{\"id\":\"claude-haiku-5-5\"}}", "claude-haiku-5-5 → b (a back 14:00)");
    /* no spend yet: nothing said of it; a provider over its budget is back when the budget resets */
    check_line(
        "{\"providers\":[{\"name\":\"a\",\"state\":\"over_budget\",\"over_budget_until\":\"2026-08-01T00:00:00Z\","
        "\"spend\":{\"today_usd\":0.001}},{\"name\":\"b\",\"state\":\"ok\",\"spend\":{\"today_usd\":0}}],"
        "\"order\":[\"a\",\"b\"]}",
        "{}", "→ b (a back 00:00)");
    check_line("{\"providers\":[{\"name\":\"a\",\"state\":\"cooling\"}],\"order\":[\"a\"]}", "not json",
               "claude-proxy: no provider available");
    check_line("<html>", NULL, "claude-proxy: unexpected /health answer");
    check_line("{\"providers\":[{\"name\":\"a\",\"state\":\"ok\",\"quota\":\"odd\"}],\"order\":[\"a\",7]}", "{}",
               "→ a");
    CHECK_DONE();
}
