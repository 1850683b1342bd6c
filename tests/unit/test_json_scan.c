/* The single-pass request scanner: validation, member spans, and splicing. */
#include "check.h"
#include "json_scan.h"

static int scan_ok(const char *s)
{
    struct json_object_scan o;
    const char *err = NULL;
    return json_scan_object(s, strlen(s), &o, &err) == 0;
}

static void test_validation(void)
{
    static const char *const good[] = {
        "{}", " { } ", "{\"a\":1}", "{\"a\":-0.5e+10,\"b\":[true,false,null,{\"c\":\"\\u00e9\\n\\\"\"}]}",
        "{\"a\":[[[[]]]],\"b\":\"\\/\"}", "{\"model\":\"x\",\"messages\":[]}\n",
    };
    static const char *const bad[] = {
        "", "[]", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":tru}", "{\"a\":\"x}",
        "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":1} x", "{\"a\":\"tab\there\"}", "{a:1}", "{\"a\":[1 2]}",
        "{\"a\":-}", "{\"a\":1e}",
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

static void test_real_request(void)
{
    size_t len;
    char *body = check_read_data("claude-code-request.json", &len);
    CHECK(body != NULL);
    if (body == NULL)
        return;
    struct json_object_scan o;
    const char *err = NULL;
    CHECK_INT_EQ(json_scan_object(body, len, &o, &err), 0);
    const char *want[] = {"model", "messages", "system", "tools", "max_tokens", "thinking",
                          "context_management", "output_config", "stream"};
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

/* The proxy reads members by raw name: escaped or repeated top-level names would let an upstream
 * that decodes names (or keeps the other duplicate) read a different model than the proxy. */
static void test_member_names(void)
{
    struct json_object_scan o;
    const char *err = NULL;
    static const char *const refused[] = {
        "{\"m\\u006fdel\":\"x\",\"messages\":[]}", "{\"model\":\"a\",\"m\\u006fdel\":\"b\"}",
        "{\"a\\\"b\":1}", "{\"\\/\":1}", "{\"model\":\"a\",\"messages\":[],\"model\":\"b\"}",
        "{\"x\":1,\"x\":1}", "{\"\":1,\"\":2}",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        err = NULL;
        CHECK_INT_EQ(json_scan_object(refused[i], strlen(refused[i]), &o, &err), -1);
        CHECK(err != NULL && (strstr(err, "escaped") != NULL || strstr(err, "duplicate") != NULL));
    }
    /* names nested below the top level are the upstream's business only */
    static const char *const kept[] = {
        "{\"a\":{\"m\\u006fdel\":1,\"model\":2,\"model\":3}}", "{\"ab\":1,\"a\":2,\"abc\":3,\"b\":4}",
        "{\"a\":[{\"x\":1,\"x\":2}],\"s\":\"\\u0041\"}",
    };
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        CHECK_INT_EQ(json_scan_object(kept[i], strlen(kept[i]), &o, &err), 0);
}

int main(void)
{
    test_member_names();
    test_validation();
    test_members_and_splice();
    test_real_request();
    CHECK_DONE();
}
