#include "server/usage_endpoint.h"
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/errors.h"
#include "core/ledger.h"
#include "core/usage_since.h"
#include "common/hex.h"

enum { BY_PROVIDER, BY_MODEL, BY_DAY, BY_HOUR, BY_SESSION };
static const char *const by_names[] = {"provider", "model", "day", "hour", "session"};

struct usage_params {
    char since[40];
    int by;
    int recent;
};

static void bad_request(h2o_req_t *req, const char *msg)
{
    send_error(req, API_ANTHROPIC, 400, "invalid_request_error", msg, NULL, NULL);
}

#define DECODE_MALFORMED -1
#define DECODE_TOO_LONG -2

/* Percent-decodes src[0..len) into out (outsize counts the NUL). Strict: a '%' takes exactly two
 * hex digits and may not make a NUL; '+' stays '+' (no valid value holds a space, and a time's
 * offset is written with a '+'). Returns 0 or DECODE_*. */
static int percent_decode(const char *src, size_t len, char *out, size_t outsize)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)src[i];
        if (c == '%') {
            int hi = i + 2 < len ? hex_digit_value((unsigned char)src[i + 1]) : -1;
            int lo = i + 2 < len ? hex_digit_value((unsigned char)src[i + 2]) : -1;
            if (hi < 0 || lo < 0 || hi * 16 + lo == 0)
                return DECODE_MALFORMED;
            c = hi * 16 + lo;
            i += 2;
        }
        if (n + 1 >= outsize)
            return DECODE_TOO_LONG;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return 0;
}

/* since=, by=, recent= from the query string; anything else is refused so that a typo is not
 * silently ignored. Names and values are percent-decoded (a browser's URLSearchParams writes
 * since=2026-12-01T00%3A00%3A00Z). */
static const char *parse_params(h2o_req_t *req, struct usage_params *p)
{
    strcpy(p->since, "24h");
    p->by = BY_PROVIDER;
    p->recent = 0;
    if (req->query_at == SIZE_MAX)
        return NULL;
    const char *q = req->path.base + req->query_at + 1, *end = req->path.base + req->path.len;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        if (amp == NULL)
            amp = end;
        const char *eq = memchr(q, '=', (size_t)(amp - q));
        if (eq != NULL) {
            char k[16], v[40];
            int kr = percent_decode(q, (size_t)(eq - q), k, sizeof(k));
            int vr = percent_decode(eq + 1, (size_t)(amp - eq - 1), v, sizeof(v));
            if (kr == DECODE_MALFORMED || vr == DECODE_MALFORMED)
                return "a /usage parameter has a malformed %-escape (a % takes two hex digits, and %00 is refused)";
            if (kr == DECODE_TOO_LONG) /* longer than any known name */
                return "unknown /usage parameter (use since, by, recent)";
            if (vr == DECODE_TOO_LONG)
                return "a /usage parameter's value is too long";
            size_t klen = strlen(k);
            if (h2o_memis(k, klen, H2O_STRLIT("since"))) {
                int64_t ignored;
                if (usage_parse_since(v, 0, &ignored) != 0)
                    return "since must be a duration (5h, 24h, 7d, 30d, 90m), a date YYYY-MM-DD or a time "
                           "2026-12-01T09:00:00Z";
                strcpy(p->since, v);
            } else if (h2o_memis(k, klen, H2O_STRLIT("by"))) {
                p->by = -1;
                for (int i = 0; i < 5; i++)
                    if (strcmp(v, by_names[i]) == 0)
                        p->by = i;
                if (p->by < 0)
                    return "by must be provider, model, day, hour or session";
            } else if (h2o_memis(k, klen, H2O_STRLIT("recent"))) {
                char *e;
                long n = strtol(v, &e, 10);
                if (e == v || *e != '\0' || n < 0 || n > USAGE_RECENT_MAX)
                    return "recent must be a number of rows from 0 to 50";
                p->recent = (int)n;
            } else {
                return "unknown /usage parameter (use since, by, recent)";
            }
        } else if (amp > q) {
            return "a /usage parameter needs a value (since=24h, by=provider, recent=50)";
        }
        q = amp + 1;
    }
    return NULL;
}

static int past_budget(void *ud) { return usage_clock_ms() > *(int64_t *)ud; }

static cJSON *totals_json(sqlite3_stmt *st, int first)
{
    cJSON *o = cJSON_CreateObject();
    int64_t input = sqlite3_column_int64(st, first + 2), cw = sqlite3_column_int64(st, first + 4),
            cr = sqlite3_column_int64(st, first + 5);
    cJSON_AddNumberToObject(o, "requests", (double)sqlite3_column_int64(st, first));
    cJSON_AddNumberToObject(o, "fell_back", (double)sqlite3_column_int64(st, first + 1));
    cJSON_AddNumberToObject(o, "input_tokens", (double)input);
    cJSON_AddNumberToObject(o, "output_tokens", (double)sqlite3_column_int64(st, first + 3));
    cJSON_AddNumberToObject(o, "cache_write_tokens", (double)cw);
    cJSON_AddNumberToObject(o, "cache_read_tokens", (double)cr);
    cJSON_AddNumberToObject(o, "cache_hit_share", input + cw + cr > 0 ? (double)cr / (double)(input + cw + cr) : 0);
    cJSON_AddNumberToObject(o, "spend_usd", sqlite3_column_double(st, first + 6));
    cJSON_AddNumberToObject(o, "subscription_value_usd", sqlite3_column_double(st, first + 7));
    return o;
}

#define SUMS                                                                                                           \
    "COUNT(*), SUM(fell_back), SUM(input_tokens), SUM(output_tokens), SUM(cache_write_tokens),"                        \
    " SUM(cache_read_tokens), TOTAL(CASE WHEN billing = 'metered' THEN cost_usd END),"                                 \
    " TOTAL(CASE WHEN billing = 'subscription' THEN cost_usd END)"

/* The groups: for day and hour a bucket start (ms) and a breakdown per provider, so that a chart
 * can stack providers; otherwise one line per key. */
static int query_groups(sqlite3 *db, const struct usage_params *p, int64_t since_ms, cJSON *rows, cJSON *total)
{
    static const char *const keys[] = {
        "provider",
        "COALESCE(NULLIF(client_model, ''), '-')",
        "CAST(strftime('%s', time_ms / 1000, 'unixepoch', 'localtime', 'start of day', 'utc') AS INTEGER) * 1000",
        "(time_ms / 3600000) * 3600000",
        "COALESCE(session_id, '-')",
    };
    int bucketed = p->by == BY_DAY || p->by == BY_HOUR;
    char sql[1024];
    snprintf(sql, sizeof(sql), "SELECT %s AS k, %s, " SUMS " FROM requests WHERE time_ms >= ? GROUP BY k%s ORDER BY k",
             keys[p->by], bucketed ? "provider" : "''", bucketed ? ", provider" : "");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, since_ms);
    int rc;
    cJSON *line = NULL;
    int64_t line_key = INT64_MIN;
    int64_t sum_i[6] = {0};
    double sum_d[2] = {0};
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < 6; i++)
            sum_i[i] += sqlite3_column_int64(st, 2 + i);
        for (int i = 0; i < 2; i++)
            sum_d[i] += sqlite3_column_double(st, 8 + i);
        cJSON *t = totals_json(st, 2);
        if (!bucketed) {
            const unsigned char *k = sqlite3_column_text(st, 0);
            cJSON_AddStringToObject(t, by_names[p->by], k ? (const char *)k : "-");
            cJSON_AddItemToArray(rows, t);
            continue;
        }
        int64_t k = sqlite3_column_int64(st, 0);
        if (line == NULL || k != line_key) {
            line = cJSON_CreateObject();
            cJSON_AddNumberToObject(line, "start_ms", (double)k);
            cJSON_AddNumberToObject(line, "requests", 0);
            cJSON_AddNumberToObject(line, "fell_back", 0);
            cJSON_AddNumberToObject(line, "spend_usd", 0);
            cJSON_AddObjectToObject(line, "providers");
            cJSON_AddItemToArray(rows, line);
            line_key = k;
        }
        const char *names[] = {"requests", "fell_back", "spend_usd"};
        const char *from[] = {"requests", "fell_back", "spend_usd"};
        for (int i = 0; i < 3; i++) {
            cJSON *dst = cJSON_GetObjectItem(line, names[i]);
            cJSON_SetNumberValue(dst, dst->valuedouble + cJSON_GetObjectItem(t, from[i])->valuedouble);
        }
        const unsigned char *prov = sqlite3_column_text(st, 1);
        cJSON_AddItemToObject(cJSON_GetObjectItem(line, "providers"), prov ? (const char *)prov : "-", t);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return -1;
    cJSON_AddNumberToObject(total, "requests", (double)sum_i[0]);
    cJSON_AddNumberToObject(total, "fell_back", (double)sum_i[1]);
    cJSON_AddNumberToObject(total, "input_tokens", (double)sum_i[2]);
    cJSON_AddNumberToObject(total, "output_tokens", (double)sum_i[3]);
    cJSON_AddNumberToObject(total, "cache_write_tokens", (double)sum_i[4]);
    cJSON_AddNumberToObject(total, "cache_read_tokens", (double)sum_i[5]);
    int64_t all = sum_i[2] + sum_i[4] + sum_i[5];
    cJSON_AddNumberToObject(total, "cache_hit_share", all > 0 ? (double)sum_i[5] / (double)all : 0);
    cJSON_AddNumberToObject(total, "spend_usd", sum_d[0]);
    cJSON_AddNumberToObject(total, "subscription_value_usd", sum_d[1]);
    return 0;
}

/* The last n requests: what, where and how much; never content. */
static int query_recent(sqlite3 *db, int n, cJSON *out)
{
    static const char sql[] =
        "SELECT time_ms, COALESCE(client_model, ''), provider, status, input_tokens, output_tokens,"
        " cache_write_tokens, cache_read_tokens, cost_usd, duration_ms, fell_back FROM requests"
        " ORDER BY time_ms DESC LIMIT ?";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int(st, 1, n);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddNumberToObject(r, "time_ms", (double)sqlite3_column_int64(st, 0));
        cJSON_AddStringToObject(r, "model", (const char *)sqlite3_column_text(st, 1));
        cJSON_AddStringToObject(r, "provider", (const char *)sqlite3_column_text(st, 2));
        cJSON_AddNumberToObject(r, "status", sqlite3_column_int(st, 3));
        cJSON_AddNumberToObject(r, "input_tokens", (double)sqlite3_column_int64(st, 4));
        cJSON_AddNumberToObject(r, "output_tokens", (double)sqlite3_column_int64(st, 5));
        cJSON_AddNumberToObject(r, "cache_write_tokens", (double)sqlite3_column_int64(st, 6));
        cJSON_AddNumberToObject(r, "cache_read_tokens", (double)sqlite3_column_int64(st, 7));
        if (sqlite3_column_type(st, 8) == SQLITE_NULL)
            cJSON_AddNullToObject(r, "cost_usd");
        else
            cJSON_AddNumberToObject(r, "cost_usd", sqlite3_column_double(st, 8));
        cJSON_AddNumberToObject(r, "duration_ms", sqlite3_column_int(st, 9));
        cJSON_AddBoolToObject(r, "fell_back", sqlite3_column_int(st, 10));
        cJSON_AddItemToArray(out, r);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

void usage_endpoint(h2o_req_t *req)
{
    struct usage_params p;
    const char *problem = parse_params(req, &p);
    if (problem != NULL) {
        bad_request(req, problem);
        return;
    }
    const char *path = ledger_running_path();
    if (path == NULL) {
        send_error(req, API_ANTHROPIC, 404, "not_found_error", "the usage ledger is off (usage_db = false)", NULL,
                   NULL);
        return;
    }
    int64_t now = usage_clock_ms(), since_ms;
    usage_parse_since(p.since, now, &since_ms);
    char err[600];
    sqlite3 *db = ledger_open_read(path, err, sizeof(err));
    if (db == NULL) {
        /* a fresh ledger has no file (or no schema) until its first row is written */
        send_error(req, API_ANTHROPIC, 503, "api_error", "the usage ledger cannot be read yet (no request recorded?)",
                   NULL, NULL);
        return;
    }
    sqlite3_busy_timeout(db, 50);
    int64_t deadline = now + USAGE_QUERY_BUDGET_MS;
    sqlite3_progress_handler(db, 1000, past_budget, &deadline);

    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "since", p.since);
    cJSON_AddNumberToObject(o, "since_ms", (double)since_ms);
    cJSON_AddNumberToObject(o, "now_ms", (double)now);
    cJSON_AddStringToObject(o, "by", by_names[p.by]);
    cJSON *rows = cJSON_AddArrayToObject(o, "rows");
    cJSON *total = cJSON_AddObjectToObject(o, "total");
    int failed = query_groups(db, &p, since_ms, rows, total);
    if (failed == 0 && p.recent > 0)
        failed = query_recent(db, p.recent, cJSON_AddArrayToObject(o, "recent"));
    int interrupted = sqlite3_errcode(db) == SQLITE_INTERRUPT;
    ledger_close_read(db);
    if (failed) {
        cJSON_Delete(o);
        if (interrupted)
            send_error(req, API_ANTHROPIC, 503, "overloaded_error",
                       "the usage query took too long; ask for a shorter since", NULL, NULL);
        else
            send_error(req, API_ANTHROPIC, 500, "api_error", "the usage ledger could not be read", NULL, NULL);
        return;
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    send_json_response(req, 200, text, strlen(text));
    free(text);
}
