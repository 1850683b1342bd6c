/* The Bedrock body adapter (see bedrock_request.h): pure, a scanned request and an adaptation in,
 * the route's body and header betas out. */
#include "providers/bedrock_request.h"
#include <cjson/cJSON.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/comma_list.h"
#include "core/thinking_blocks.h"
#include "common/memory.h"

static int in_list(const char *item, size_t len, const char *const *list)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++)
        if (strlen(list[i]) == len && memcmp(list[i], item, len) == 0)
            return 1;
    return 0;
}

struct beta_filter {
    const struct bedrock_adaptation *a;
    sbuf *out;
    int json; /* 1: JSON array items, 0: comma-separated */
    int count;
};

static int beta_kept(const struct bedrock_adaptation *a, const char *item, size_t len)
{
    if (a->drop_server_tools && in_list(item, len, (const char *const *)a->server_tool_betas))
        return 0;
    if (a->has_allowlist)
        return in_list(item, len, (const char *const *)a->betas_allowed);
    return !in_list(item, len, (const char *const *)a->betas_denied);
}

static void keep_beta(void *ud, const char *item, size_t len)
{
    struct beta_filter *f = ud;
    if (!beta_kept(f->a, item, len))
        return;
    if (f->count++)
        sbuf_putc(f->out, ',');
    if (f->json)
        sbuf_json_string(f->out, item, len);
    else
        sbuf_append(f->out, item, len);
}

void bedrock_header_betas(const char *beta, size_t beta_len, const struct bedrock_adaptation *a, sbuf *out)
{
    struct beta_filter f = {a, out, 0, 0};
    comma_list_each(beta, beta_len, keep_beta, &f);
}

/* {"type":"adaptive"} -> {"type":"enabled","budget_tokens":N}, N below max_tokens as Bedrock
 * requires. Returns 1 if replaced (value written), 0 to keep as is, -1 to drop thinking. */
static int adapt_thinking(const struct json_object_scan *scan, unsigned budget, sbuf *value)
{
    const struct json_member *t = json_scan_find(scan, "thinking");
    if (t == NULL || budget == BEDROCK_THINKING_KEEP)
        return 0;
    cJSON *obj = cJSON_ParseWithLength(t->value.p, t->value.len);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(obj, "type");
    int adaptive = cJSON_IsString(type) && strcmp(type->valuestring, "adaptive") == 0;
    cJSON_Delete(obj);
    if (!adaptive)
        return 0;
    const struct json_member *mt = json_scan_find(scan, "max_tokens");
    long max_tokens = mt ? strtol(mt->value.p, NULL, 10) : 0;
    long b = (long)budget;
    if (max_tokens > 0 && b >= max_tokens)
        b = max_tokens - 1;
    if (budget == 0 || b < 1024) /* Bedrock's minimum thinking budget */
        return -1;
    sbuf_printf(value, "{\"type\":\"enabled\",\"budget_tokens\":%ld}", b);
    return 1;
}

/* budget_tokens of an enabled thinking value, 0 if none. */
static long thinking_budget_of(const char *json, size_t len)
{
    cJSON *obj = cJSON_ParseWithLength(json, len);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(obj, "budget_tokens");
    long r = cJSON_IsNumber(b) && b->valuedouble > 0 && b->valuedouble < 1e9 ? (long)b->valuedouble : 0;
    cJSON_Delete(obj);
    return r;
}

/* A count_tokens request has no max_tokens, which InvokeModel bodies require (and CountTokens
 * validates): the smallest value Bedrock accepts, above the thinking budget when there is one.
 * It does not change the count of input tokens. */
static void add_count_max_tokens(const struct json_object_scan *scan, const char *thinking, int thinking_dropped,
                                 sbuf *extra)
{
    if (json_scan_find(scan, "max_tokens") != NULL)
        return;
    long budget = 0;
    const struct json_member *t = json_scan_find(scan, "thinking");
    if (thinking != NULL)
        budget = thinking_budget_of(thinking, strlen(thinking));
    else if (t != NULL && !thinking_dropped)
        budget = thinking_budget_of(t->value.p, t->value.len);
    sbuf_printf(extra, "%s\"max_tokens\":%ld", extra->len ? "," : "", budget + 1);
}

/* ---- members rebuilt from their own members (one level down), byte for byte otherwise ---- */

struct rewrite {
    const char *keys[8];
    sbuf values[8];
    size_t n;
    const char *drop[BEDROCK_MAX_LIST + 8];
    size_t ndrop;
};

static sbuf *replace(struct rewrite *w, const char *key)
{
    w->keys[w->n] = key;
    w->values[w->n] = (sbuf)SBUF_INIT;
    return &w->values[w->n++];
}

static void list_removed(sbuf *removed, const char *what)
{
    if (removed == NULL)
        return;
    if (removed->len)
        sbuf_puts(removed, ", ");
    sbuf_puts(removed, what);
}

/* output_config without `format` (structured outputs). Returns 1 if changed (value written, or
 * *drop when nothing is left). */
static int adapt_output_config(const struct json_member *m, sbuf *value, int *drop)
{
    struct json_object_scan *o = xmalloc(sizeof(*o));
    const char *err;
    int changed = 0;
    if (json_scan_object(m->value.p, m->value.len, o, &err) == 0 && json_scan_find(o, "format") != NULL) {
        static const char *const format[] = {"format"};
        changed = 1;
        if (o->count == 1)
            *drop = 1;
        else
            json_splice(o, format, 1, NULL, NULL, 0, NULL, value);
    }
    free(o);
    return changed;
}

static int is_server_tool(const char *type)
{
    static const char *const prefixes[] = {"web_search_", "web_fetch_", "code_execution_"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(type, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

/* The tools are written out only once one changes (Claude Code's never do: 80 KB of the body would be
 * copied for nothing): until then only where each item is. */
struct tools_pass {
    const struct bedrock_adaptation *a;
    sbuf *out, *removed;
    struct json_span *items; /* the items so far, while none changed */
    size_t nitems, cap;
    size_t kept;
    int changed;
};

static void keep_tool(struct tools_pass *t, const char *p, size_t len)
{
    if (t->kept++)
        sbuf_putc(t->out, ',');
    sbuf_append(t->out, p, len);
}

/* The first change: what came before it is written out */
static void tools_changed(struct tools_pass *t)
{
    if (t->changed)
        return;
    t->changed = 1;
    for (size_t i = 0; i < t->nitems; i++)
        keep_tool(t, t->items[i].p, t->items[i].len);
}

static void adapt_tool(void *ud, struct json_span item, const struct json_object_scan *scan)
{
    struct tools_pass *t = ud;
    char type[64] = "";
    const struct json_member *tm;
    if (scan != NULL && (tm = json_scan_find(scan, "type")) != NULL &&
        json_span_string(tm->value, type, sizeof(type)) != 0)
        type[0] = '\0';
    if (scan != NULL && t->a->drop_server_tools && is_server_tool(type)) {
        tools_changed(t);
        list_removed(t->removed, type);
        return;
    }
    if (scan != NULL && t->a->drop_tool_strict && json_scan_find(scan, "strict") != NULL) {
        static const char *const strict[] = {"strict"};
        if (!t->changed || t->removed == NULL ||
            strstr(t->removed->data ? t->removed->data : "", "tools[].strict") == NULL)
            list_removed(t->removed, "tools[].strict");
        tools_changed(t);
        if (t->kept++)
            sbuf_putc(t->out, ',');
        json_splice(scan, strict, 1, NULL, NULL, 0, NULL, t->out);
        return;
    }
    if (t->changed) {
        keep_tool(t, item.p, item.len);
        return;
    }
    if (t->nitems == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->items = xrealloc(t->items, t->cap * sizeof(*t->items));
    }
    t->items[t->nitems++] = item;
}

/* tools without server tools and `strict`. Returns 1 if changed (value written, or *drop when none
 * is left). */
static int adapt_tools(const struct json_member *m, const struct bedrock_adaptation *a, sbuf *value, int *drop,
                       sbuf *removed)
{
    struct json_object_scan *scan = xmalloc(sizeof(*scan));
    struct tools_pass t = {a, value, removed, NULL, 0, 0, 0, 0};
    sbuf_putc(value, '[');
    int n = json_array_each_object(m->value, scan, adapt_tool, &t);
    sbuf_putc(value, ']');
    free(scan);
    free(t.items);
    if (n < 0 || !t.changed)
        return 0;
    if (t.kept == 0)
        *drop = 1;
    return 1;
}

/* ---- the last tools adapted ----
 * Claude Code sends the same tools (80 KB of the body) in every request of a session: the outcome
 * for the last tools array seen (its bytes and the two settings that change tools) is kept, and a
 * request whose tools are the same bytes takes it instead of scanning them again. The same bytes:
 * the same stamp (the request scan's memo already compared them), else a memcmp. */
#define TOOLS_MEMO_MAX (1024 * 1024)
static struct {
    pthread_mutex_t lock;
    char *bytes;
    size_t len, cap;
    unsigned long stamp; /* the bytes' json_member stamp, 0 if they had none */
    int flags;           /* -1: empty */
    int changed, drop;
    sbuf value, removed;
    int off;
} memo = {.lock = PTHREAD_MUTEX_INITIALIZER, .flags = -1};

static int adapt_tools_memo(const struct json_member *m, const struct bedrock_adaptation *a, sbuf *value, int *drop,
                            sbuf *removed)
{
    int flags = (a->drop_server_tools ? 1 : 0) | (a->drop_tool_strict ? 2 : 0);
    pthread_mutex_lock(&memo.lock);
    if (memo.off || m->value.len > TOOLS_MEMO_MAX) {
        pthread_mutex_unlock(&memo.lock);
        return adapt_tools(m, a, value, drop, removed);
    }
    int same = memo.flags == flags && memo.len == m->value.len &&
               ((m->stamp != 0 && m->stamp == memo.stamp) || memcmp(memo.bytes, m->value.p, m->value.len) == 0);
    if (!same) {
        sbuf_reset(&memo.value);
        sbuf_reset(&memo.removed);
        memo.drop = 0;
        memo.changed = adapt_tools(m, a, &memo.value, &memo.drop, &memo.removed);
        if (memo.cap < m->value.len) {
            memo.cap = m->value.len;
            memo.bytes = xrealloc(memo.bytes, memo.cap);
        }
        memcpy(memo.bytes, m->value.p, m->value.len);
        memo.len = m->value.len;
        memo.flags = flags;
    }
    memo.stamp = m->stamp; /* the bytes are m's now, whichever way they were found the same */
    int changed = memo.changed;
    if (changed)
        sbuf_append(value, memo.value.data, memo.value.len);
    if (memo.removed.len)
        list_removed(removed, memo.removed.data);
    *drop = memo.drop;
    pthread_mutex_unlock(&memo.lock);
    return changed;
}

void bedrock_request_tools_memo(int on)
{
    pthread_mutex_lock(&memo.lock);
    memo.off = !on;
    free(memo.bytes);
    memo.bytes = NULL;
    memo.len = memo.cap = 0;
    memo.stamp = 0;
    memo.flags = -1;
    sbuf_free(&memo.value);
    sbuf_free(&memo.removed);
    pthread_mutex_unlock(&memo.lock);
}

static int user_id_char_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr(" \t\n\r\v\f:_@$#=/+,-.", c) != NULL);
}

int bedrock_fit_user_id(const char *json, size_t len, char out[65])
{
    cJSON *v = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsString(v)) {
        cJSON_Delete(v);
        return 0;
    }
    const char *s = v->valuestring;
    size_t n = strlen(s);
    int ok = n <= 256;
    for (size_t i = 0; ok && i < n; i++)
        ok = user_id_char_ok((unsigned char)s[i]);
    if (!ok) {
        unsigned char md[SHA256_DIGEST_LENGTH];
        SHA256((const unsigned char *)s, n, md);
        for (size_t i = 0; i < SHA256_DIGEST_LENGTH; i++)
            snprintf(out + 2 * i, 3, "%02x", md[i]);
    }
    cJSON_Delete(v);
    return !ok;
}

/* metadata with user_id fitted to Bedrock's pattern. Returns 1 if changed. */
static int adapt_metadata(const struct json_member *m, sbuf *value)
{
    struct json_object_scan *o = xmalloc(sizeof(*o));
    const char *err;
    const struct json_member *u;
    char fitted[65];
    int changed = 0;
    if (json_scan_object(m->value.p, m->value.len, o, &err) == 0 && (u = json_scan_find(o, "user_id")) != NULL &&
        bedrock_fit_user_id(u->value.p, u->value.len, fitted)) {
        char quoted[68];
        snprintf(quoted, sizeof(quoted), "\"%s\"", fitted);
        const char *keys[1] = {"user_id"}, *values[1] = {quoted};
        json_splice(o, NULL, 0, keys, values, 1, NULL, value);
        changed = 1;
    }
    free(o);
    return changed;
}

/* ---- the body's member order ----
 * Stable members first: what the proxy adds (anthropic_version and anthropic_beta, or model), then
 * tools and system, then the rest as the client ordered it, and messages last. JSON's member order
 * means nothing to Bedrock; SigV4 hashes the whole body, and a session's next body then shares
 * everything up to its new turn with the last one, which the payload hash resumes from (sigv4.c). It
 * is also the order Anthropic's prompt cache reads a request in (tools, system, messages). */
static void splice_stable_first(const struct json_object_scan *o, const struct rewrite *w, const char *const *values,
                                const char *extra, sbuf *out, struct body_parts *parts)
{
    static const char *const order[] = {"tools", "system", NULL, "messages"}; /* NULL: the others */
    static const char *const placed[] = {"tools", "system", "messages"};
    int first = 1;
    sbuf_putc(out, '{');
    if (extra != NULL && *extra != '\0') {
        sbuf_puts(out, extra);
        first = 0;
    }
    for (size_t pass = 0; pass < sizeof(order) / sizeof(order[0]); pass++) {
        for (size_t i = 0; i < o->count; i++) {
            const struct json_member *m = &o->members[i];
            if (order[pass] != NULL ? !json_member_key_is(m, order[pass]) : json_member_key_index(m, placed, 3) >= 0)
                continue;
            if (json_member_key_index(m, w->drop, w->ndrop) >= 0)
                continue;
            if (!first)
                sbuf_putc(out, ',');
            first = 0;
            int r = json_member_key_index(m, w->keys, w->n);
            if (r >= 0)
                json_member_write(m, values[r], out);
            else /* as the client sent it: a part of its own when it is long (parts may be NULL) */
                body_parts_span(parts, out, m->whole.p, m->whole.len, json_member_whole_stamp(m));
        }
    }
    sbuf_putc(out, '}');
}

void bedrock_request_body(const struct json_object_scan *scan, enum bedrock_route r, const struct bedrock_adaptation *a,
                          const char *id, const char *beta, size_t beta_len, int count_tokens, sbuf *out,
                          struct body_parts *parts, sbuf *removed)
{
    struct rewrite w;
    w.n = w.ndrop = 0;
    int invoke = r == BEDROCK_INVOKE;
    w.drop[w.ndrop++] = "model"; /* InvokeModel: in the URL; Messages routes: set below */
    if (invoke) {
        w.drop[w.ndrop++] = "stream";
        w.drop[w.ndrop++] = "anthropic_version";
        w.drop[w.ndrop++] = "anthropic_beta";
    }
    for (size_t i = 0; a->drop_fields[i] != NULL && i < BEDROCK_MAX_LIST; i++) {
        w.drop[w.ndrop++] = a->drop_fields[i];
        if (json_scan_find(scan, a->drop_fields[i]) != NULL &&
            (strcmp(a->drop_fields[i], "inference_geo") == 0 || strcmp(a->drop_fields[i], "fallbacks") == 0))
            list_removed(removed, a->drop_fields[i]);
    }

    int thinking_dropped = 0;
    const char *thinking_value = NULL;
    sbuf *v = replace(&w, "thinking");
    switch (adapt_thinking(scan, a->thinking_budget, v)) {
    case 1: thinking_value = v->data; break;
    case -1:
        w.drop[w.ndrop++] = "thinking";
        thinking_dropped = 1;
        /* fall through */
    default: sbuf_free(v), w.n--;
    }
    const struct json_member *m;
    int drop = 0;
    if (a->drop_output_format && (m = json_scan_find(scan, "output_config")) != NULL) {
        v = replace(&w, "output_config");
        if (adapt_output_config(m, v, &drop))
            list_removed(removed, "output_config.format");
        if (drop || v->len == 0) {
            if (drop)
                w.drop[w.ndrop++] = "output_config";
            sbuf_free(v), w.n--;
        }
    }
    drop = 0;
    if ((a->drop_tool_strict || a->drop_server_tools) && (m = json_scan_find(scan, "tools")) != NULL) {
        v = replace(&w, "tools");
        int changed = adapt_tools_memo(m, a, v, &drop, removed);
        if (drop)
            w.drop[w.ndrop++] = "tools";
        if (!changed || drop)
            sbuf_free(v), w.n--;
    }
    if (a->hash_user_id && (m = json_scan_find(scan, "metadata")) != NULL) {
        v = replace(&w, "metadata");
        if (!adapt_metadata(m, v))
            sbuf_free(v), w.n--;
    }
    if (a->drop_thinking_blocks && (m = json_scan_find(scan, "messages")) != NULL) {
        v = replace(&w, "messages");
        if (thinking_blocks_strip_messages(m->value, v) == 0)
            sbuf_free(v), w.n--;
    }

    sbuf extra = SBUF_INIT;
    if (invoke) {
        sbuf_cat(&extra, "\"anthropic_version\":\"", a->body_version[0] ? a->body_version : "bedrock-2023-05-31", "\"",
                 (char *)NULL);
        sbuf betas = SBUF_INIT;
        struct beta_filter f = {a, &betas, 1, 0};
        comma_list_each(beta, beta_len, keep_beta, &f);
        if (f.count)
            sbuf_cat(&extra, ",\"anthropic_beta\":[", betas.data, "]", (char *)NULL);
        sbuf_free(&betas);
        if (count_tokens)
            add_count_max_tokens(scan, thinking_value, thinking_dropped, &extra);
    } else {
        sbuf_puts(&extra, "\"model\":");
        sbuf_json_string(&extra, id, strlen(id));
    }
    const char *values[8];
    for (size_t i = 0; i < w.n; i++)
        values[i] = w.values[i].data ? w.values[i].data : "null";
    /* one allocation for the body (it is the request's size, give or take what changed), unless the
     * members it keeps go as parts */
    if (scan->count > 0 && parts == NULL) {
        const struct json_member *last = &scan->members[scan->count - 1];
        size_t size = (size_t)(last->whole.p + last->whole.len - scan->members[0].whole.p) + extra.len + 16;
        for (size_t i = 0; i < w.n; i++)
            size += w.values[i].len;
        sbuf_reserve(out, size);
    }
    splice_stable_first(scan, &w, values, extra.data, out, parts);
    for (size_t i = 0; i < w.n; i++)
        sbuf_free(&w.values[i]);
    sbuf_free(&extra);
}
