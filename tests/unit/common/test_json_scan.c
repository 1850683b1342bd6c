/* The single-pass request scanner: validation, member spans, and splicing. */
#include <ctype.h>
#include "check.h"
#include "common/json_scan.h"
#include "common/memory.h"

static int scan_ok(const char *s)
{
    struct json_object_scan o;
    const char *err = NULL;
    return json_scan_object(s, strlen(s), &o, &err) == 0;
}

static void test_validation(void)
{
    static const char *const good[] = {
        "{}",
        " { } ",
        "{\"a\":1}",
        "{\"a\":-0.5e+10,\"b\":[true,false,null,{\"c\":\"\\u00e9\\n\\\"\"}]}",
        "{\"a\":[[[[]]]],\"b\":\"\\/\"}",
        "{\"model\":\"x\",\"messages\":[]}\n",
    };
    static const char *const bad[] = {
        "",
        "[]",
        "{",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":tru}",
        "{\"a\":\"x}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":1} x",
        "{\"a\":\"tab\there\"}",
        "{a:1}",
        "{\"a\":[1 2]}",
        "{\"a\":-}",
        "{\"a\":1e}",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!scan_ok(good[i]))
            fprintf(stderr, "should be valid: %s\n", good[i]);
        CHECK(scan_ok(good[i]));
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (scan_ok(bad[i]))
            fprintf(stderr, "should be invalid: %s\n", bad[i]);
        CHECK(!scan_ok(bad[i]));
    }
    /* nesting is bounded */
    char deep[2 * JSON_SCAN_MAX_DEPTH + 16];
    size_t n = 0;
    deep[n++] = '{';
    memcpy(deep + n, "\"a\":", 4);
    n += 4;
    for (int i = 0; i < JSON_SCAN_MAX_DEPTH + 2; i++)
        deep[n++] = '[';
    for (int i = 0; i < JSON_SCAN_MAX_DEPTH + 2; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    CHECK(!scan_ok(deep));
}

static void test_members_and_splice(void)
{
    const char *body = "{ \"model\" : \"us.anthropic.claude-sonnet-4-5-20250929-v1:0\", \"stream\":true,"
                       "\"messages\":[{\"role\":\"user\",\"content\":\"hi, \\\"you\\\"\"}], \"max_tokens\": 10 }";
    struct json_object_scan o;
    const char *err = NULL;
    CHECK_INT_EQ(json_scan_object(body, strlen(body), &o, &err), 0);
    CHECK_INT_EQ(o.count, 4);
    const struct json_member *m = json_scan_find(&o, "model");
    CHECK(m != NULL);
    char model[128];
    CHECK_INT_EQ(json_span_string(m->value, model, sizeof(model)), 0);
    CHECK_STR_EQ(model, "us.anthropic.claude-sonnet-4-5-20250929-v1:0");
    CHECK(json_span_is(json_scan_find(&o, "stream")->value, "true"));
    CHECK(json_scan_find(&o, "nope") == NULL);

    sbuf out = SBUF_INIT;
    const char *drop[] = {"stream"};
    const char *keys[] = {"model"};
    const char *values[] = {"\"claude-sonnet-4-5-20250929\""};
    json_splice(&o, drop, 1, keys, values, 1, "\"anthropic_version\":\"bedrock-2023-05-31\"", &out);
    CHECK_STR_EQ(out.data, "{\"model\":\"claude-sonnet-4-5-20250929\",\"messages\":[{\"role\":\"user\",\"content\":"
                           "\"hi, \\\"you\\\"\"}],\"max_tokens\": 10,\"anthropic_version\":\"bedrock-2023-05-31\"}");
    CHECK(scan_ok(out.data));
    sbuf_free(&out);

    /* a string with an escape that is not a plain character is not a model id */
    const char *esc = "{\"model\":\"a\\nb\"}";
    CHECK_INT_EQ(json_scan_object(esc, strlen(esc), &o, &err), 0);
    CHECK(json_span_string(json_scan_find(&o, "model")->value, model, sizeof(model)) != 0);
}

struct items {
    sbuf seen;
};

static void record_item(void *ud, struct json_span item, const struct json_object_scan *scan)
{
    struct items *it = ud;
    sbuf_printf(&it->seen, "[%.*s]", (int)item.len, item.p);
    if (scan == NULL) {
        sbuf_puts(&it->seen, "-");
        return;
    }
    for (size_t i = 0; i < scan->count; i++)
        sbuf_printf(&it->seen, "%s%.*s=%.*s", i ? "," : "", (int)scan->members[i].key.len, scan->members[i].key.p,
                    (int)scan->members[i].value.len, scan->members[i].value.p);
    sbuf_putc(&it->seen, ';');
}

/* An array of objects in one pass: each object's members as json_scan_object gives them, NULL for
 * what it refuses (not an object, an escaped or duplicate name, too many members). */
static void test_array_each_object(void)
{
    struct json_object_scan scan;
    struct items it = {SBUF_INIT};
    const char *a =
        " [ {\"a\":1, \"b\" : [1,{\"c\":\"}\"}]} ,{}, 3,\"s\",{\"\\u0061\":1},{\"x\":1,\"x\":2},[{\"y\":1}],"
        "{ \"z\" :null } ] ";
    CHECK_INT_EQ(json_array_each_object((struct json_span){a, strlen(a)}, &scan, record_item, &it), 8);
    CHECK_STR_EQ(it.seen.data, "[{\"a\":1, \"b\" : [1,{\"c\":\"}\"}]}]a=1,b=[1,{\"c\":\"}\"}];[{}];[3]-[\"s\"]-"
                               "[{\"\\u0061\":1}]-[{\"x\":1,\"x\":2}]-[[{\"y\":1}]]-[{ \"z\" :null }]z=null;");
    sbuf_reset(&it.seen);
    CHECK_INT_EQ(json_array_each_object((struct json_span){"[]", 2}, &scan, record_item, &it), 0);
    static const char *const bad[] = {"", "{}", "[{\"a\":}]", "[{\"a\":1}", "[{\"a\" 1}]", "[1,{\"a\":tru}]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_INT_EQ(json_array_each_object((struct json_span){bad[i], strlen(bad[i])}, &scan, record_item, &it), -1);
    /* more members than a scan holds: refused as an object, still an item */
    sbuf big = SBUF_INIT;
    sbuf_puts(&big, "[{");
    for (int i = 0; i <= JSON_SCAN_MAX_MEMBERS; i++)
        sbuf_printf(&big, "%s\"k%d\":%d", i ? "," : "", i, i);
    sbuf_puts(&big, "},{\"q\":1}]");
    sbuf_reset(&it.seen);
    CHECK_INT_EQ(json_array_each_object((struct json_span){big.data, big.len}, &scan, record_item, &it), 2);
    CHECK(strstr(it.seen.data, "}]-[{\"q\":1}]q=1;") != NULL);
    sbuf_free(&big);
    sbuf_free(&it.seen);
}

/* tests/data's Claude Code request (116 KB), or NULL after a failed check */
static char *real_request(size_t *len)
{
    char *body = check_read_data("claude-code-request.json", len);
    CHECK(body != NULL);
    return body;
}

static void test_real_request(void)
{
    size_t len;
    char *body = real_request(&len);
    if (body == NULL)
        return;
    struct json_object_scan o;
    const char *err = NULL;
    CHECK_INT_EQ(json_scan_object(body, len, &o, &err), 0);
    const char *want[] = {"model",    "messages",           "system",        "tools", "max_tokens",
                          "thinking", "context_management", "output_config", "stream"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        CHECK(json_scan_find(&o, want[i]) != NULL);
    /* splicing nothing reproduces every member byte for byte */
    sbuf out = SBUF_INIT;
    json_splice(&o, NULL, 0, NULL, NULL, 0, NULL, &out);
    struct json_object_scan o2;
    CHECK_INT_EQ(json_scan_object(out.data, out.len, &o2, &err), 0);
    CHECK_INT_EQ(o2.count, o.count);
    for (size_t i = 0; i < o.count && i < o2.count; i++)
        CHECK_MEM_EQ(o.members[i].whole.p, o.members[i].whole.len, o2.members[i].whole.p, o2.members[i].whole.len);
    /* every truncation of a valid body is invalid */
    int accepted_truncation = 0;
    for (size_t cut = 0; cut < len - 1; cut += 997)
        accepted_truncation |= json_scan_object(body, cut, &o2, &err) == 0;
    CHECK(!accepted_truncation);
    sbuf_free(&out);
    free(body);
}

/* Both scans of body agree: same outcome, same error, same member spans. */
static void check_memo_scan(const char *what, const char *body, size_t len, struct json_value_memo *memo, size_t n)
{
    static struct json_object_scan plain, with_memo;
    const char *err_plain = NULL, *err_memo = NULL;
    int rc_plain = json_scan_object(body, len, &plain, &err_plain);
    int rc_memo = json_scan_object_memo(body, len, &with_memo, &err_memo, memo, n);
    if (rc_plain != rc_memo || (rc_plain != 0 && strcmp(err_plain, err_memo) != 0))
        fprintf(stderr, "%s: plain %d (%s), memo %d (%s)\n", what, rc_plain, rc_plain ? err_plain : "", rc_memo,
                rc_memo ? err_memo : "");
    CHECK_INT_EQ(rc_memo, rc_plain);
    if (rc_plain != 0) {
        CHECK_STR_EQ(err_memo, err_plain);
        return;
    }
    CHECK_INT_EQ(with_memo.count, plain.count);
    for (size_t i = 0; i < plain.count && i < with_memo.count; i++) {
        CHECK(with_memo.members[i].whole.p == plain.members[i].whole.p);
        CHECK_INT_EQ(with_memo.members[i].whole.len, plain.members[i].whole.len);
        CHECK_INT_EQ(with_memo.members[i].value.len, plain.members[i].value.len);
    }
}

/* The stamp a memo scan of body gives the member name (0 if none, or if the body is refused). */
static unsigned long stamp_of(const char *body, size_t len, struct json_value_memo *memo, size_t n, const char *name)
{
    static struct json_object_scan o;
    const char *err;
    if (json_scan_object_memo(body, len, &o, &err, memo, n) != 0)
        return 0;
    const struct json_member *m = json_scan_find(&o, name);
    return m != NULL ? m->stamp : 0;
}

/* A value the memo holds gets its stamp: the same one while the bytes stay, a new one when they
 * change (and again when they change back); a value not kept has none. */
static void test_memo_stamps(void)
{
    size_t len;
    char *body = real_request(&len);
    if (body == NULL)
        return;
    struct json_value_memo memo[] = {{.name = "tools"}, {.name = "system"}, {.name = "model"}};
    size_t n = sizeof(memo) / sizeof(memo[0]);
    unsigned long tools = stamp_of(body, len, memo, n, "tools"), system = stamp_of(body, len, memo, n, "system");
    CHECK(tools != 0 && system != 0 && tools != system);
    CHECK(tools == memo[0].stamp && system == memo[1].stamp);
    CHECK_INT_EQ(stamp_of(body, len, memo, n, "model"), 0);
    CHECK_INT_EQ(stamp_of(body, len, memo, n, "messages"), 0);
    CHECK(stamp_of(body, len, memo, n, "tools") == tools);
    /* a letter changed in the tools: new bytes, a new stamp; the system keeps its own */
    char *changed = xmalloc(len + 1);
    memcpy(changed, body, len);
    changed[len] = '\0';
    char *t = strstr(changed, "\"tools\""), *d = t != NULL ? strstr(t, "\"description\"") : NULL;
    CHECK(d != NULL);
    if (d != NULL) {
        char *letter = strchr(d + 14, '"') + 1; /* the description's first letter */
        *letter = *letter == 'x' ? 'y' : 'x';
        unsigned long other = stamp_of(changed, len, memo, n, "tools");
        CHECK(other != 0 && other != tools && other != system);
        CHECK(stamp_of(changed, len, memo, n, "system") == system);
        unsigned long back = stamp_of(body, len, memo, n, "tools");
        CHECK(back != 0 && back != tools && back != other);
    }
    /* a body refused after the memoized members (cut before its last byte) leaves them as they were */
    CHECK_INT_EQ(stamp_of(body, len - 1, memo, n, "tools"), 0);
    CHECK(stamp_of(body, len, memo, n, "system") == system);
    /* the whole "name": value has the stamp only when written without space (the test data has one) */
    {
        static struct json_object_scan o;
        const char *err;
        static const char compact[] = "{\"system\":\"";
        sbuf b = SBUF_INIT;
        sbuf_puts(&b, compact);
        for (int i = 0; i < JSON_MEMO_MIN; i++)
            sbuf_putc(&b, (char)('a' + i % 26));
        sbuf_puts(&b, "\"}");
        CHECK_INT_EQ(json_scan_object_memo(b.data, b.len, &o, &err, memo, n), 0);
        CHECK(o.members[0].stamp != 0 && json_member_whole_stamp(&o.members[0]) == o.members[0].stamp);
        sbuf_free(&b);
        CHECK_INT_EQ(json_scan_object_memo(body, len, &o, &err, memo, n), 0);
        const struct json_member *sys = json_scan_find(&o, "system");
        CHECK(sys != NULL && sys->stamp != 0 && json_member_whole_stamp(sys) == 0);
    }
    free(changed);
    json_value_memo_free(memo, n);
    free(body);
}

/* Repeated members are taken from the memo only when they are the same bytes, and a body that
 * merely starts a member with them still gets the scanner's own verdict. */
static void test_memo(void)
{
    size_t len;
    char *body = real_request(&len);
    if (body == NULL)
        return;
    struct json_value_memo memo[] = {{.name = "tools"}, {.name = "system"}, {.name = "model"}};
    size_t n = sizeof(memo) / sizeof(memo[0]);
    check_memo_scan("first", body, len, memo, n);
    struct json_object_scan o;
    const char *err;
    CHECK_INT_EQ(json_scan_object(body, len, &o, &err), 0);
    const struct json_member *tools = json_scan_find(&o, "tools"), *system = json_scan_find(&o, "system");
    CHECK(tools != NULL && system != NULL);
    if (tools == NULL || system == NULL)
        goto Done;
    /* large values are kept byte for byte; the model (a short string) is not */
    CHECK_MEM_EQ(memo[0].bytes, memo[0].len, tools->value.p, tools->value.len);
    CHECK_MEM_EQ(memo[1].bytes, memo[1].len, system->value.p, system->value.len);
    CHECK_INT_EQ(memo[2].len, 0);
    check_memo_scan("again", body, len, memo, n);

    /* the same tools followed by something else: the body is refused as the scanner refuses it */
    size_t tools_end = (size_t)(tools->value.p + tools->value.len - body);
    static const char *const after[] = {"x", " ]", ",", "\"", "", "}", "  ,\"stream\":true}"};
    for (size_t i = 0; i < sizeof(after) / sizeof(after[0]); i++) {
        sbuf b = SBUF_INIT;
        sbuf_append(&b, body, tools_end);
        sbuf_puts(&b, after[i]);
        check_memo_scan(after[i], b.data, b.len, memo, n);
        sbuf_free(&b);
    }
    /* a value that differs from the memo anywhere is scanned: valid changes and invalid ones */
    size_t tools_start = (size_t)(tools->value.p - body);
    for (size_t at = 1; at + 1 < tools->value.len; at += tools->value.len / 17) {
        for (int bad = 0; bad < 2; bad++) {
            sbuf b = SBUF_INIT;
            sbuf_append(&b, body, len);
            char *c = b.data + tools_start + at;
            if (bad)
                *c = '\x01'; /* a control character: inside a string, or between tokens */
            else if (*c >= 'a' && *c <= 'y')
                (*c)++;
            check_memo_scan(bad ? "bad byte" : "changed letter", b.data, b.len, memo, n);
            /* the memo now holds what the last valid scan kept: the original body still scans */
            check_memo_scan("original", body, len, memo, n);
            sbuf_free(&b);
        }
    }
    /* a truncated body, cut inside the memoized tools or just after them */
    for (size_t cut = tools_start; cut <= tools_end + 1; cut += (tools_end - tools_start) / 7 + 1)
        check_memo_scan("truncated", body, cut, memo, n);
    check_memo_scan("truncated after tools", body, tools_end, memo, n);
Done:
    json_value_memo_free(memo, n);
    free(body);
}

/* The proxy reads members by raw name: escaped or repeated top-level names would let an upstream
 * that decodes names (or keeps the other duplicate) read a different model than the proxy. */
static void test_member_names(void)
{
    struct json_object_scan o;
    const char *err = NULL;
    static const char *const refused[] = {
        "{\"m\\u006fdel\":\"x\",\"messages\":[]}",
        "{\"model\":\"a\",\"m\\u006fdel\":\"b\"}",
        "{\"a\\\"b\":1}",
        "{\"\\/\":1}",
        "{\"model\":\"a\",\"messages\":[],\"model\":\"b\"}",
        "{\"x\":1,\"x\":1}",
        "{\"\":1,\"\":2}",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        err = NULL;
        CHECK_INT_EQ(json_scan_object(refused[i], strlen(refused[i]), &o, &err), -1);
        CHECK(err != NULL && (strstr(err, "escaped") != NULL || strstr(err, "duplicate") != NULL));
    }
    /* names nested below the top level are the upstream's business only */
    static const char *const kept[] = {
        "{\"a\":{\"m\\u006fdel\":1,\"model\":2,\"model\":3}}",
        "{\"ab\":1,\"a\":2,\"abc\":3,\"b\":4}",
        "{\"a\":[{\"x\":1,\"x\":2}],\"s\":\"\\u0041\"}",
    };
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        CHECK_INT_EQ(json_scan_object(kept[i], strlen(kept[i]), &o, &err), 0);
}

/* Scans {"k":"<str>"} from an exactly sized heap copy, so that ASan sees any read past the end. */
static int scan_string_body(const char *str, size_t len, size_t key_len, const char **err, size_t *value_len)
{
    size_t n = key_len + 6 + len + 2;
    char *b = malloc(n);
    b[0] = '{';
    b[1] = '"';
    memset(b + 2, 'k', key_len);
    memcpy(b + 2 + key_len, "\":\"", 3);
    memcpy(b + 5 + key_len, str, len);
    memcpy(b + 5 + key_len + len, "\"}", 2);
    n = 5 + key_len + len + 2;
    struct json_object_scan o;
    *err = NULL;
    int r = json_scan_object(b, n, &o, err);
    if (r == 0)
        *value_len = o.members[0].value.len;
    free(b);
    return r;
}

/* The string scanner works on 64-byte windows: every escape, and every invalid byte, at every
 * offset across three window boundaries and with every alignment of the string's start. */
static void test_string_windows(void)
{
    static const char *const escapes[] = {"\\n",          "\\\"",           "\\\\",     "\\/",
                                          "\\u00e9",      "\\uD83D\\uDE00", "\\\\\\\"", "\\\\\\\\",
                                          "\\b\\f\\r\\t", "\\n\\u0041\\n"};
    static const struct {
        const char *bytes;
        const char *message;
    } invalid[] = {
        {"\x01", "control character"}, {"\x1f", "control character"}, {"\n", "control character"},
        {"\t", "control character"},   {"\\x", "bad escape"},         {"\\u12g4", "bad \\u escape"},
        {"\\U0041", "bad escape"},     {"\\\x01", "bad escape"},      {"\\n\\x", "bad escape"},
        {"\\\\\\", "bad escape"},
    };
    char str[300];
    int failures = 0;
    for (size_t key_len = 0; key_len < 4; key_len++) {
        for (size_t at = 0; at <= 200; at++) {
            for (size_t e = 0; e < sizeof(escapes) / sizeof(escapes[0]); e++) {
                size_t elen = strlen(escapes[e]);
                memset(str, 'x', at);
                memcpy(str + at, escapes[e], elen);
                memset(str + at + elen, 'y', 7);
                const char *err;
                size_t vlen = 0;
                if (scan_string_body(str, at + elen + 7, key_len, &err, &vlen) != 0 || vlen != at + elen + 9) {
                    if (failures++ < 5)
                        fprintf(stderr, "escape %s at %zu (key %zu) refused: %s\n", escapes[e], at, key_len, err);
                }
                /* the escape ends the string */
                if (scan_string_body(str, at + elen, key_len, &err, &vlen) != 0 || vlen != at + elen + 2)
                    failures++;
            }
            for (size_t v = 0; v < sizeof(invalid) / sizeof(invalid[0]); v++) {
                size_t blen = strlen(invalid[v].bytes);
                memset(str, 'x', at);
                memcpy(str + at, invalid[v].bytes, blen);
                memset(str + at + blen, 'x', 70);
                const char *err;
                size_t vlen;
                if (scan_string_body(str, at + blen + 70, key_len, &err, &vlen) == 0 || err == NULL ||
                    strstr(err, invalid[v].message) == NULL) {
                    if (failures++ < 5)
                        fprintf(stderr, "invalid %zu at %zu (key %zu) gave: %s\n", v, at, key_len, err ? err : "ok");
                }
            }
            /* a string cut inside an escape, or before its closing quote */
            struct json_object_scan o;
            const char *err = NULL;
            char body[300];
            int n = snprintf(
                body, sizeof(body), "{\"k\":\"%.*s\\", (int)at,
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
            char *exact = malloc((size_t)n);
            memcpy(exact, body, (size_t)n);
            if (json_scan_object(exact, (size_t)n, &o, &err) == 0 || strstr(err, "unterminated escape") == NULL)
                failures++;
            if (json_scan_object(exact, (size_t)n - 1, &o, &err) == 0 || strstr(err, "unterminated string") == NULL)
                failures++;
            free(exact);
        }
    }
    CHECK_INT_EQ(failures, 0);
}

/* The old byte-at-a-time scanner, as the reference for random strings. */
static int reference_string_ok(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c < 0x20)
            return 0;
        if (c == '\\') {
            if (i + 1 >= len)
                return 0;
            char e = p[i + 1];
            if (strchr("\"\\/bfnrt", e) != NULL && e != '\0') {
                i++;
            } else if (e == 'u') {
                if (i + 5 >= len)
                    return 0;
                for (int k = 2; k < 6; k++)
                    if (!isxdigit((unsigned char)p[i + k]))
                        return 0;
                i += 5;
            } else {
                return 0;
            }
        }
    }
    return 1;
}

static void test_random_strings(void)
{
    /* mostly text and valid escapes, now and then a byte or an escape that is not valid (a lone
     * backslash joins the next piece, valid or not) */
    static const char *const common[] = {"x",   "x",    "x",    "x",   "x",       "x",        "x",    "x",
                                         "\\n", "\\\\", "\\\"", "\\/", "\\u00e9", "\xc3\xa9", "\x7f", "ab"};
    static const char *const rare[] = {"\"", "\x01", "\\q", "\\u12g4", "\\", "\x1f"};
    char str[1400];
    unsigned seed = 12345;
    int mismatches = 0, accepted = 0;
    for (int round = 0; round < 20000; round++) {
        size_t pieces = (size_t)(round % 300), len = 0;
        for (size_t i = 0; i < pieces; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = seed >> 8;
            const char *piece = r % 500 == 0 ? rare[(r / 500) % 6] : common[r % 16];
            memcpy(str + len, piece, strlen(piece));
            len += strlen(piece);
        }
        const char *err;
        size_t vlen;
        int ok = scan_string_body(str, len, (size_t)(round % 3), &err, &vlen) == 0;
        accepted += ok;
        if (ok != reference_string_ok(str, len) && mismatches++ < 5)
            fprintf(stderr, "random string %d: scanner says %d: %.*s\n", round, ok, (int)len, str);
    }
    CHECK_INT_EQ(mismatches, 0);
    CHECK(accepted > 2000 && accepted < 18000); /* both outcomes are exercised */
}

int main(void)
{
    /* every string scanner this build and CPU have (the portable one is test_json_scan_portable) */
    static const char *const variants[] = {"baseline", "avx2"};
    for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
        if (json_scan_use_vectors(variants[v]) != 0)
            continue;
        fprintf(stderr, "string scanner: %s\n", variants[v]);
        test_string_windows();
        test_random_strings();
        test_real_request();
    }
    CHECK_INT_EQ(json_scan_use_vectors(NULL), 0);
    test_member_names();
    test_validation();
    test_members_and_splice();
    test_array_each_object();
    test_real_request();
    test_memo();
    test_memo_stamps();
    CHECK_DONE();
}
