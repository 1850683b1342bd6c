#include "cli/usage_report.h"
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/ledger.h"
#include "common/memory.h"

int usage_parse_by(const char *s, enum usage_by *out)
{
    static const char *const names[] = {"provider", "model", "day", "session"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum usage_by)i;
            return 0;
        }
    return -1;
}

struct usage_line {
    char key[160];
    int64_t requests, fell_back, input, output, cache_write, cache_read, unpriced;
    double spend, value;
};

static double cache_hit_share(const struct usage_line *l)
{
    double all = (double)(l->input + l->cache_write + l->cache_read);
    return all > 0 ? (double)l->cache_read / all : 0;
}

static void add_line(struct usage_line *total, const struct usage_line *l)
{
    total->requests += l->requests, total->fell_back += l->fell_back, total->input += l->input;
    total->output += l->output, total->cache_write += l->cache_write, total->cache_read += l->cache_read;
    total->unpriced += l->unpriced, total->spend += l->spend, total->value += l->value;
}

/* 1234 -> "1,234" */
static const char *count(int64_t v, char *buf)
{
    char digits[32];
    snprintf(digits, sizeof(digits), "%lld", (long long)v);
    size_t n = strlen(digits), o = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

/* 1500000 -> "1.5M" */
static const char *tokens(int64_t v, char *buf)
{
    if (v >= 1000000000)
        snprintf(buf, 24, "%.1fG", v / 1e9);
    else if (v >= 1000000)
        snprintf(buf, 24, "%.1fM", v / 1e6);
    else if (v >= 10000)
        snprintf(buf, 24, "%.1fk", v / 1e3);
    else
        snprintf(buf, 24, "%lld", (long long)v);
    return buf;
}

static const char *usd(double v, char *buf)
{
    snprintf(buf, 24, v != 0 && v < 1 ? "$%.4f" : "$%.2f", v);
    return buf;
}

static void print_table(FILE *out, const char *by, const struct usage_line *lines, size_t n,
                        const struct usage_line *total)
{
    int w = (int)strlen(by);
    for (size_t i = 0; i < n; i++)
        if ((int)strlen(lines[i].key) > w)
            w = (int)strlen(lines[i].key);
    if (w < 5)
        w = 5;
    fprintf(out, "%-*s %9s %9s %8s %8s %8s %8s %6s %11s %11s\n", w, by, "requests", "fell back", "input", "output",
            "cache wr", "cache rd", "cache%", "spend", "sub value");
    for (size_t i = 0; i <= n; i++) {
        const struct usage_line *l = i < n ? &lines[i] : total;
        char a[32], b[32], c[24], d[24], e[24], f[24], g[24], h[24];
        if (i == n && n > 1)
            fprintf(out, "%.*s\n", w + 92,
                    "--------------------------------------------------------------------------"
                    "--------------------------------------------------------------------------");
        if (i == n && n <= 1)
            break;
        fprintf(out, "%-*s %9s %9s %8s %8s %8s %8s %5.0f%% %11s %11s\n", w, i < n ? l->key : "total",
                count(l->requests, a), count(l->fell_back, b), tokens(l->input, c), tokens(l->output, d),
                tokens(l->cache_write, e), tokens(l->cache_read, f), 100 * cache_hit_share(l), usd(l->spend, g),
                usd(l->value, h));
    }
    if (total->unpriced)
        fprintf(out, "(%lld requests of models without a price are not in spend or value: add them to prices)\n",
                (long long)total->unpriced);
    fprintf(out, "spend: what metered providers (Bedrock, API keys) cost; sub value: the subscription's requests "
                 "at API prices (not spent)\n");
}

static cJSON *line_json(const struct usage_line *l, const char *keyname)
{
    cJSON *o = cJSON_CreateObject();
    if (keyname != NULL)
        cJSON_AddStringToObject(o, keyname, l->key);
    cJSON_AddNumberToObject(o, "requests", (double)l->requests);
    cJSON_AddNumberToObject(o, "fell_back", (double)l->fell_back);
    cJSON_AddNumberToObject(o, "input_tokens", (double)l->input);
    cJSON_AddNumberToObject(o, "output_tokens", (double)l->output);
    cJSON_AddNumberToObject(o, "cache_write_tokens", (double)l->cache_write);
    cJSON_AddNumberToObject(o, "cache_read_tokens", (double)l->cache_read);
    cJSON_AddNumberToObject(o, "cache_hit_share", cache_hit_share(l));
    cJSON_AddNumberToObject(o, "spend_usd", l->spend);
    cJSON_AddNumberToObject(o, "subscription_value_usd", l->value);
    cJSON_AddNumberToObject(o, "unpriced_requests", (double)l->unpriced);
    return o;
}

static void csv_field(FILE *out, const char *s)
{
    if (strpbrk(s, ",\"\n") == NULL) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void iso_local(int64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

int usage_report(const char *db_path, const struct usage_query *q, FILE *out, FILE *err)
{
    static const char *const by_names[] = {"provider", "model", "day", "session"};
    static const char *const keys[] = {
        "provider",
        "COALESCE(NULLIF(client_model, ''), '-')",
        "strftime('%Y-%m-%d', time_ms / 1000, 'unixepoch', 'localtime')",
        "COALESCE(session_id, '-')",
    };
    char msg[600];
    sqlite3 *db = ledger_open_read(db_path, msg, sizeof(msg));
    if (db == NULL) {
        fprintf(err, "claude-proxy usage: cannot read the usage ledger: %s\n", msg);
        return 1;
    }
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT %s AS k, COUNT(*), SUM(fell_back), SUM(input_tokens), SUM(output_tokens), SUM(cache_write_tokens),"
             " SUM(cache_read_tokens), TOTAL(CASE WHEN billing = 'metered' THEN cost_usd END),"
             " TOTAL(CASE WHEN billing = 'subscription' THEN cost_usd END),"
             " SUM(cost_usd IS NULL AND input_tokens + output_tokens > 0)"
             " FROM requests WHERE time_ms >= ? GROUP BY k ORDER BY k",
             keys[q->by]);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(err, "claude-proxy usage: %s: %s\n", db_path, sqlite3_errmsg(db));
        ledger_close_read(db);
        return 1;
    }
    sqlite3_bind_int64(st, 1, q->since_ms);
    struct usage_line *lines = NULL, total;
    memset(&total, 0, sizeof(total));
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lines = xrealloc(lines, (n + 1) * sizeof(*lines));
        struct usage_line *l = &lines[n++];
        const unsigned char *k = sqlite3_column_text(st, 0);
        snprintf(l->key, sizeof(l->key), "%s", k ? (const char *)k : "-");
        l->requests = sqlite3_column_int64(st, 1);
        l->fell_back = sqlite3_column_int64(st, 2);
        l->input = sqlite3_column_int64(st, 3);
        l->output = sqlite3_column_int64(st, 4);
        l->cache_write = sqlite3_column_int64(st, 5);
        l->cache_read = sqlite3_column_int64(st, 6);
        l->spend = sqlite3_column_double(st, 7);
        l->value = sqlite3_column_double(st, 8);
        l->unpriced = sqlite3_column_int64(st, 9);
        add_line(&total, l);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        fprintf(err, "claude-proxy usage: %s: %s\n", db_path, sqlite3_errmsg(db));
        ledger_close_read(db);
        free(lines);
        return 1;
    }
    ledger_close_read(db);

    char since[40];
    iso_local(q->since_ms, since, sizeof(since));
    const char *by = by_names[q->by];
    if (q->format == USAGE_JSON) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "since", since);
        cJSON_AddStringToObject(o, "by", by);
        cJSON_AddStringToObject(o, "ledger", db_path);
        cJSON *rows = cJSON_AddArrayToObject(o, "rows");
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(rows, line_json(&lines[i], by));
        cJSON_AddItemToObject(o, "total", line_json(&total, NULL));
        char *text = cJSON_Print(o);
        fprintf(out, "%s\n", text);
        free(text);
        cJSON_Delete(o);
    } else if (q->format == USAGE_CSV) {
        fprintf(out,
                "%s,requests,fell_back,input_tokens,output_tokens,cache_write_tokens,cache_read_tokens,"
                "cache_hit_share,spend_usd,subscription_value_usd,unpriced_requests\n",
                by);
        for (size_t i = 0; i < n; i++) {
            const struct usage_line *l = &lines[i];
            csv_field(out, l->key);
            fprintf(out, ",%lld,%lld,%lld,%lld,%lld,%lld,%.4f,%.6f,%.6f,%lld\n", (long long)l->requests,
                    (long long)l->fell_back, (long long)l->input, (long long)l->output, (long long)l->cache_write,
                    (long long)l->cache_read, cache_hit_share(l), l->spend, l->value, (long long)l->unpriced);
        }
    } else {
        fprintf(out, "usage since %s (%s), by %s, from %s\n", since, q->since_label, by, db_path);
        if (n == 0)
            fprintf(out, "no requests recorded in that time\n");
        else
            print_table(out, by, lines, n, &total);
    }
    free(lines);
    return 0;
}
