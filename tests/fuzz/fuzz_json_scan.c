/* libFuzzer: the request scanner, the model splice and the Bedrock body adaptation. The
 * spliced output of a valid body must itself be valid. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "providers/bedrock_request.h"
#include "common/json_scan.h"

/* json_array_each_object against json_array_each and json_scan_object on each item */
struct items {
    struct json_span spans[64];
    size_t n;
    int diff;
};

static void plain_item(void *ud, struct json_span item)
{
    struct items *it = ud;
    if (it->n < 64)
        it->spans[it->n] = item;
    it->n++;
}

static void object_item(void *ud, struct json_span item, const struct json_object_scan *scan)
{
    struct items *it = ud;
    struct json_object_scan alone;
    const char *err;
    if (it->n < 64 && (it->spans[it->n].p != item.p || it->spans[it->n].len != item.len))
        it->diff = 1;
    it->n++;
    int ok = json_scan_object(item.p, item.len, &alone, &err) == 0;
    if (ok != (scan != NULL) || (ok && (alone.count != scan->count ||
                                        memcmp(alone.members, scan->members, alone.count * sizeof(alone.members[0])))))
        it->diff = 1;
}

static void check_arrays(const struct json_object_scan *o)
{
    static struct json_object_scan scan;
    for (size_t i = 0; i < o->count; i++) {
        struct items plain = {0}, objects = {0};
        int n = json_array_each(o->members[i].value, plain_item, &plain);
        memcpy(objects.spans, plain.spans, sizeof(plain.spans));
        int m = json_array_each_object(o->members[i].value, &scan, object_item, &objects);
        if (n != m || (n >= 0 && (objects.n != plain.n || objects.diff)))
            abort();
    }
}

/* The same member in both scans: the same spans. A stamp only the memo scan gives, and only to a
 * value the memo holds under that stamp. */
static int same_member(const struct json_member *plain, const struct json_member *m, const struct json_value_memo *memo,
                       size_t nmemo)
{
    if (plain->stamp != 0 || memcmp(&plain->key, &m->key, sizeof(m->key)) != 0 ||
        memcmp(&plain->value, &m->value, sizeof(m->value)) != 0 ||
        memcmp(&plain->whole, &m->whole, sizeof(m->whole)) != 0)
        return 0;
    if (m->stamp == 0)
        return 1;
    for (size_t i = 0; i < nmemo; i++)
        if (json_member_key_is(m, memo[i].name))
            return memo[i].stamp == m->stamp && memo[i].len == m->value.len &&
                   memcmp(memo[i].bytes, m->value.p, m->value.len) == 0;
    return 0;
}

/* json_scan_object_memo against json_scan_object, the memo carried from input to input (and from
 * the same input: each one is scanned twice, so the second scan may take a member from the memo) */
static void check_memo(const char *data, size_t size)
{
    static struct json_value_memo memo[] = {{.name = "tools"}, {.name = "system"}, {.name = "messages"}};
    const size_t nmemo = sizeof(memo) / sizeof(memo[0]);
    static struct json_object_scan plain, with_memo;
    const char *err_plain, *err_memo;
    for (int pass = 0; pass < 2; pass++) {
        int a = json_scan_object(data, size, &plain, &err_plain);
        int b = json_scan_object_memo(data, size, &with_memo, &err_memo, memo, nmemo);
        if (a != b || (a != 0 && strcmp(err_plain, err_memo) != 0) || (a == 0 && plain.count != with_memo.count))
            abort();
        for (size_t i = 0; a == 0 && i < plain.count; i++)
            if (!same_member(&plain.members[i], &with_memo.members[i], memo, nmemo))
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct json_object_scan o, o2;
    const char *err;
    check_memo((const char *)data, size);
    if (json_scan_object((const char *)data, size, &o, &err) != 0)
        return 0;
    check_arrays(&o);
    sbuf out = SBUF_INIT;
    const char *keys[] = {"model"}, *values[] = {"\"claude-sonnet-4-5\""};
    const char *drop[] = {"stream", "x"}; /* "x" is added back: top-level names are unique */
    json_splice(&o, drop, 2, keys, values, 1, "\"x\":1", &out);
    /* the splice may add two members: a body already at the scanner's limit may not re-scan */
    int room = o.count + 2 <= JSON_SCAN_MAX_MEMBERS;
    if (json_scan_object(out.data, out.len, &o2, &err) != 0 && room)
        abort();
    sbuf_reset(&out);
    /* every route, with the adaptations that rewrite the most: an allowlist of betas, dropped
     * fields, formats, strict tools and server tools, adaptive thinking made a budget, user_id
     * hashed, earlier thinking blocks left out */
    static const enum bedrock_route routes[] = {BEDROCK_INVOKE, BEDROCK_RUNTIME, BEDROCK_MANTLE};
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        struct bedrock_adaptation a = {0};
        if (routes[i] == BEDROCK_INVOKE)
            snprintf(a.body_version, sizeof(a.body_version), "bedrock-2023-05-31");
        else
            a.version_header = 1;
        a.has_allowlist = routes[i] == BEDROCK_INVOKE;
        a.betas_allowed[0] = "interleaved-thinking-2025-05-14";
        a.betas_denied[0] = "oauth-2025-04-20";
        a.drop_fields[0] = "context_management";
        a.drop_output_format = a.drop_tool_strict = a.drop_server_tools = 1;
        a.hash_user_id = routes[i] != BEDROCK_INVOKE;
        a.thinking_budget = i == 2 ? BEDROCK_THINKING_KEEP : 31999;
        a.drop_thinking_blocks = i == 1;
        sbuf removed = SBUF_INIT;
        const char *beta = "oauth-2025-04-20, interleaved-thinking-2025-05-14";
        bedrock_request_body(&o, routes[i], &a, "us.anthropic.claude-sonnet-4-5-20250929-v1:0", beta, strlen(beta),
                             (int)(size & 1), &out, NULL, &removed);
        if (json_scan_object(out.data, out.len, &o2, &err) != 0 && room)
            abort();
        sbuf_reset(&out);
        sbuf_free(&removed);
    }
    sbuf_free(&out);
    return 0;
}
