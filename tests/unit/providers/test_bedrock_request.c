/* A direct-API request adapted to each Bedrock route (bedrock_request.c): per route and model
 * generation, refused members, count_tokens bodies, thinking blocks another model wrote. */
#include <string.h>
#include "providers/bedrock_request.h"
#include "providers/bedrock_routes.h"
#include "check.h"

static void scan(const char *json, struct json_object_scan *o)
{
    const char *err;
    if (json_scan_object(json, strlen(json), o, &err) != 0)
        abort();
}

static void set_list(char **dst, const char *const *src)
{
    size_t i = 0;
    for (; src != NULL && src[i] != NULL; i++)
        dst[i] = (char *)src[i];
    dst[i] = NULL;
}

static const char *const INVOKE_BETAS[] = {"interleaved-thinking-2025-05-14", "tool-search-tool-2025-10-19", NULL};
static const char *const DENIED[] = {"oauth-2025-04-20", "claude-code-20250219", "web-search-2025-03-05", NULL};
static const char *const SERVER_BETAS[] = {"web-search-2025-03-05", "web-fetch-2025-09-10", NULL};

/* models.adapt's shipped shape, for an older model (adaptive: 0) or a 4.6+ one */
static void adaptation(struct bedrock_adaptation *a, enum bedrock_route r, int adaptive)
{
    static const char *const invoke_drop[] = {"context_management", "inference_geo", "fallbacks", NULL};
    static const char *const invoke_drop_older[] = {"context_management", "inference_geo", "fallbacks", "output_config",
                                                    NULL};
    static const char *const messages_drop[] = {"inference_geo", "fallbacks", NULL};
    memset(a, 0, sizeof(*a));
    set_list(a->server_tool_betas, SERVER_BETAS);
    a->drop_output_format = a->drop_tool_strict = a->drop_server_tools = 1;
    a->thinking_budget = adaptive ? BEDROCK_THINKING_KEEP : 31999;
    if (r == BEDROCK_INVOKE) {
        snprintf(a->body_version, sizeof(a->body_version), "bedrock-2023-05-31");
        a->has_allowlist = 1;
        set_list(a->betas_allowed, INVOKE_BETAS);
        set_list(a->drop_fields, adaptive ? invoke_drop : invoke_drop_older);
    } else {
        a->version_header = 1;
        a->hash_user_id = 1;
        set_list(a->betas_denied, DENIED);
        set_list(a->drop_fields, messages_drop);
    }
}

static void body(const char *in, enum bedrock_route r, const struct bedrock_adaptation *a, const char *beta, int count,
                 sbuf *out, sbuf *removed)
{
    struct json_object_scan o;
    scan(in, &o);
    bedrock_request_body(&o, r, a, "us.anthropic.claude-x", beta, beta ? strlen(beta) : 0, count, out, NULL, removed);
    /* the same body built as parts, the members kept as they were by reference into in: the parts,
     * one after the other, are the body, and what was written holds none of a long member */
    sbuf owned = SBUF_INIT, joined = SBUF_INIT, removed2 = SBUF_INIT;
    struct body_parts parts;
    body_parts_begin(&parts, &owned);
    bedrock_request_body(&o, r, a, "us.anthropic.claude-x", beta, beta ? strlen(beta) : 0, count, &owned, &parts,
                         &removed2);
    struct iovec v[BODY_PARTS_MAX];
    unsigned long stamps[BODY_PARTS_MAX];
    size_t total, n = body_parts_iovecs(&parts, v, stamps, &total);
    CHECK(n >= 1 && n <= BODY_PARTS_MAX);
    for (size_t i = 0; i < n; i++) {
        const char *p = v[i].iov_base;
        int in_request = p >= in && p + v[i].iov_len <= in + strlen(in);
        int in_owned = p >= owned.data && p + v[i].iov_len <= owned.data + owned.len;
        CHECK(in_request != in_owned);
        CHECK(!in_request || v[i].iov_len >= BODY_PARTS_MIN_SPAN);
        sbuf_append(&joined, p, v[i].iov_len);
    }
    CHECK_INT_EQ(total, out->len);
    CHECK_STR_EQ(joined.data ? joined.data : "", out->data ? out->data : "");
    if (removed != NULL)
        CHECK_STR_EQ(removed2.data ? removed2.data : "", removed->data ? removed->data : "");
    sbuf_free(&owned), sbuf_free(&joined), sbuf_free(&removed2);
}

/* CountTokens' inner body is an InvokeModel body, which needs max_tokens: count requests lack it. */
static void test_count_tokens_body(void)
{
    struct bedrock_adaptation a;
    adaptation(&a, BEDROCK_INVOKE, 0);
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"{\"model\":\"m\",\"messages\":[]}",
         "{\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":1,\"messages\":[]}"},
        {"{\"model\":\"m\",\"max_tokens\":50,\"messages\":[]}",
         "{\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":50,\"messages\":[]}"},
        /* thinking needs max_tokens above its budget */
        {"{\"thinking\":{\"type\":\"adaptive\"},\"context_management\":{},\"messages\":[]}",
         "{\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":32000,\"thinking\":{\"type\":\"enabled\","
         "\"budget_tokens\":31999},\"messages\":[]}"},
        {"{\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":2000},\"messages\":[]}",
         "{\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":2001,\"thinking\":{\"type\":\"enabled\","
         "\"budget_tokens\":2000},\"messages\":[]}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sbuf out = SBUF_INIT;
        body(cases[i].in, BEDROCK_INVOKE, &a, NULL, 1, &out, NULL);
        CHECK_STR_EQ(out.data, cases[i].want);
        sbuf_free(&out);
    }
    /* a Messages request keeps its own max_tokens rule: none is invented */
    sbuf out = SBUF_INIT;
    body(cases[0].in, BEDROCK_INVOKE, &a, NULL, 0, &out, NULL);
    CHECK(strstr(out.data, "max_tokens") == NULL);
    sbuf_free(&out);
}

/* InvokeModel as Claude Code's Bedrock mode sends it: per model generation. */
static void test_invoke_body(void)
{
    const char *in =
        "{\"model\":\"claude-opus-4-8\",\"max_tokens\":64000,\"stream\":true,\"thinking\":{\"type\":"
        "\"adaptive\",\"display\":\"omitted\"},\"output_config\":{\"effort\":\"high\"},"
        "\"context_management\":{\"edits\":[]},\"metadata\":{\"user_id\":\"{\\\"device_id\\\":\\\"d1\\\"}\"},"
        "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    const char *beta = "claude-code-20250219,oauth-2025-04-20,interleaved-thinking-2025-05-14";
    struct bedrock_adaptation a;
    adaptation(&a, BEDROCK_INVOKE, 1);
    sbuf out = SBUF_INIT;
    body(in, BEDROCK_INVOKE, &a, beta, 0, &out, NULL);
    /* adaptive thinking and effort kept; context_management never; the JSON user_id as it is */
    CHECK_STR_EQ(out.data,
                 "{\"anthropic_version\":\"bedrock-2023-05-31\",\"anthropic_beta\":[\"interleaved-thinking-"
                 "2025-05-14\"],\"max_tokens\":64000,\"thinking\":{\"type\":\"adaptive\",\"display\":\"omitted\"},"
                 "\"output_config\":{\"effort\":\"high\"},\"metadata\":{\"user_id\":\"{\\\"device_id\\\":"
                 "\\\"d1\\\"}\"},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    sbuf_reset(&out);
    adaptation(&a, BEDROCK_INVOKE, 0); /* an older model: an enabled budget below max_tokens, no output_config */
    body(in, BEDROCK_INVOKE, &a, beta, 0, &out, NULL);
    CHECK(strstr(out.data, "\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":31999}") != NULL);
    CHECK(strstr(out.data, "output_config") == NULL && strstr(out.data, "context_management") == NULL);
    sbuf_free(&out);
}

/* The Messages routes: `model` is the route's id, `stream` stays, user_id fitted to the pattern. */
static void test_messages_body(void)
{
    struct bedrock_adaptation a;
    adaptation(&a, BEDROCK_RUNTIME, 1);
    sbuf out = SBUF_INIT, removed = SBUF_INIT;
    body("{\"model\":\"claude-sonnet-5\",\"stream\":true,\"context_management\":{\"edits\":[]},"
         "\"metadata\":{\"user_id\":\"{\\\"device_id\\\":\\\"d1\\\",\\\"account_uuid\\\":\\\"a1\\\",\\\"session_id\\\":"
         "\\\"s1\\\"}\",\"other\":1},\"inference_geo\":\"us\"}",
         BEDROCK_RUNTIME, &a, NULL, 0, &out, &removed);
    CHECK_STR_EQ(out.data,
                 "{\"model\":\"us.anthropic.claude-x\",\"stream\":true,\"context_management\":{\"edits\":[]},"
                 "\"metadata\":{\"user_id\":\"0d970a14538eec25a86542491f5fd92dd230e1fc685c405b0ad395e1e3d8f348\","
                 "\"other\":1}}");
    CHECK_STR_EQ(removed.data, "inference_geo");
    sbuf_reset(&out);
    /* a user_id that fits already is left alone */
    body("{\"metadata\":{\"user_id\":\"user-42@example.com\"}}", BEDROCK_MANTLE, &a, NULL, 0, &out, NULL);
    CHECK_STR_EQ(out.data, "{\"model\":\"us.anthropic.claude-x\",\"metadata\":{\"user_id\":\"user-42@example.com\"}}");
    sbuf_reset(&out);
    char fitted[65];
    const char *long_id =
        "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"";
    CHECK_INT_EQ(bedrock_fit_user_id(long_id, strlen(long_id), fitted), 1); /* 276 characters */
    CHECK_INT_EQ(bedrock_fit_user_id("\"a b:c_d@e$f#g=h/i+j,k-l.m\"", 27, fitted), 0);
    CHECK_INT_EQ(bedrock_fit_user_id("\"semi;colon\"", 12, fitted), 1);
    /* headers: the denylist, and the betas of removed server tools */
    const char *beta = "claude-code-20250219, oauth-2025-04-20,context-management-2025-06-27,web-fetch-2025-09-10,"
                       "effort-2025-11-24";
    bedrock_header_betas(beta, strlen(beta), &a, &out);
    CHECK_STR_EQ(out.data, "context-management-2025-06-27,effort-2025-11-24");
    sbuf_free(&out);
    sbuf_free(&removed);
}

/* output_config.format, tools[].strict and server tools go; the rest of each member byte for byte. */
static void test_refused_members(void)
{
    struct bedrock_adaptation a;
    adaptation(&a, BEDROCK_MANTLE, 1);
    sbuf out = SBUF_INIT, removed = SBUF_INIT;
    body("{\"output_config\":{\"effort\":\"high\", \"format\":{\"type\":\"json_schema\"}},\"tools\":["
         "{\"name\":\"Read\",\"strict\":true, "
         "\"input_schema\":{}},{\"type\":\"web_search_20250305\",\"name\":\"web_search\"},"
         " {\"name\":\"Bash\",\"input_schema\":{ }}],\"fallbacks\":[\"x\"]}",
         BEDROCK_MANTLE, &a, NULL, 0, &out, &removed);
    CHECK_STR_EQ(out.data, "{\"model\":\"us.anthropic.claude-x\",\"tools\":[{\"name\":\"Read\",\"input_schema\":{}},"
                           "{\"name\":\"Bash\",\"input_schema\":{ }}],\"output_config\":{\"effort\":\"high\"}}");
    CHECK_STR_EQ(removed.data, "fallbacks, output_config.format, tools[].strict, web_search_20250305");
    sbuf_reset(&out);
    sbuf_reset(&removed);
    /* nothing left: the member goes */
    body("{\"output_config\":{\"format\":{}},\"tools\":[{\"type\":\"code_execution_20250825\",\"name\":\"c\"}],"
         "\"messages\":[]}",
         BEDROCK_MANTLE, &a, NULL, 0, &out, &removed);
    CHECK_STR_EQ(out.data, "{\"model\":\"us.anthropic.claude-x\",\"messages\":[]}");
    sbuf_reset(&out);
    /* a body with none of them is spliced to the same bytes (model aside: first) */
    const char *plain = "{\"tools\":[ {\"name\":\"Read\"} ],\"output_config\":{ \"effort\" : \"low\" },\"x\":[1,2]}";
    body(plain, BEDROCK_MANTLE, &a, NULL, 0, &out, NULL);
    CHECK_STR_EQ(out.data, "{\"model\":\"us.anthropic.claude-x\",\"tools\":[ {\"name\":\"Read\"} ],\"output_config\":{ "
                           "\"effort\" : \"low\" },\"x\":[1,2]}");
    sbuf_free(&out);
    sbuf_free(&removed);
}

/* The tools are written out only from the first that changes: those before it as they were, joined
 * as the adapter joins them; items that are not objects json_scan_object takes stay as they are. */
static void test_tools_changed_late(void)
{
    struct bedrock_adaptation a;
    adaptation(&a, BEDROCK_MANTLE, 1);
    sbuf out = SBUF_INIT, removed = SBUF_INIT;
    body("{\"tools\":[ {\"name\":\"A\"} , 7,{\"n\\u0061me\":\"esc\",\"strict\":true},\n{\"name\":\"B\"},"
         "{\"name\":\"C\",\"strict\":false},{\"type\":\"web_fetch_20250910\"},{\"name\":\"D\",\"strict\":1}]}",
         BEDROCK_MANTLE, &a, NULL, 0, &out, &removed);
    CHECK_STR_EQ(out.data, "{\"model\":\"us.anthropic.claude-x\",\"tools\":[{\"name\":\"A\"},7,{\"n\\u0061me\":\"esc\","
                           "\"strict\":true},{\"name\":\"B\"},{\"name\":\"C\"},{\"name\":\"D\"}]}");
    CHECK_STR_EQ(removed.data, "tools[].strict, web_fetch_20250910");
    sbuf_reset(&out);
    sbuf_reset(&removed);
    /* many tools, none changed: the member passes byte for byte */
    sbuf many = SBUF_INIT;
    sbuf_puts(&many, "{\"tools\":[");
    for (int i = 0; i < 300; i++)
        sbuf_printf(&many, "%s{\"name\":\"t%d\", \"input_schema\":{\"type\":\"object\"}}", i ? " ," : "", i);
    sbuf_puts(&many, "]}");
    body(many.data, BEDROCK_MANTLE, &a, NULL, 0, &out, &removed);
    CHECK(strncmp(out.data + strlen("{\"model\":\"us.anthropic.claude-x\","), many.data + 1, many.len - 1) == 0);
    CHECK_INT_EQ(removed.len, 0);
    sbuf_reset(&out);
    /* ... and the last one changed: all are written out */
    many.len -= 2;
    sbuf_puts(&many, ",{\"name\":\"last\",\"strict\":true}]}");
    body(many.data, BEDROCK_MANTLE, &a, NULL, 0, &out, &removed);
    CHECK(strstr(out.data, "{\"name\":\"t0\", \"input_schema\":{\"type\":\"object\"}},{\"name\":\"t1\"") != NULL);
    CHECK(strstr(out.data, "\"input_schema\":{\"type\":\"object\"}},{\"name\":\"last\"}]}") != NULL);
    CHECK_STR_EQ(removed.data, "tools[].strict");
    sbuf_free(&many);
    sbuf_free(&out);
    sbuf_free(&removed);
}

/* The body's stable members first (what the proxy adds, tools, system, the rest), messages last: a
 * session's next body then shares all but its new turn with the last (SigV4's payload hash resumes
 * there). Claude Code's order: model, messages, system, tools, then the small members. */
static void test_stable_members_first(void)
{
    const char *cc = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"q\"}],\"system\":[{\"type\":"
                     "\"text\",\"text\":\"s\"}],\"tools\":[{\"name\":\"Read\"}],\"max_tokens\":32000,\"stream\":true}";
    struct bedrock_adaptation a;
    sbuf out = SBUF_INIT;
    adaptation(&a, BEDROCK_INVOKE, 1);
    body(cc, BEDROCK_INVOKE, &a, NULL, 0, &out, NULL);
    CHECK_STR_EQ(out.data, "{\"anthropic_version\":\"bedrock-2023-05-31\",\"tools\":[{\"name\":\"Read\"}],\"system\":[{"
                           "\"type\":\"text\",\"text\":\"s\"}],\"max_tokens\":32000,\"messages\":[{\"role\":\"user\","
                           "\"content\":\"q\"}]}");
    sbuf_reset(&out);
    adaptation(&a, BEDROCK_RUNTIME, 1);
    body(cc, BEDROCK_RUNTIME, &a, NULL, 0, &out, NULL);
    CHECK_STR_EQ(out.data, "{\"model\":\"us.anthropic.claude-x\",\"tools\":[{\"name\":\"Read\"}],\"system\":[{\"type\":"
                           "\"text\",\"text\":\"s\"}],\"max_tokens\":32000,\"stream\":true,\"messages\":[{\"role\":"
                           "\"user\",\"content\":\"q\"}]}");
    sbuf_reset(&out);
    /* two bodies of a session (the second one turn longer) are the same up to the new turn */
    const char *next = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\","
                       "\"content\":\"a\"}],\"system\":[{\"type\":\"text\",\"text\":\"s\"}],\"tools\":[{\"name\":"
                       "\"Read\"}],\"max_tokens\":32000,\"stream\":true}";
    sbuf second = SBUF_INIT;
    body(cc, BEDROCK_RUNTIME, &a, NULL, 0, &out, NULL);
    body(next, BEDROCK_RUNTIME, &a, NULL, 0, &second, NULL);
    CHECK(memcmp(out.data, second.data, out.len - 2) == 0);
    sbuf_free(&second);
    sbuf_free(&out);
}

/* Claude Code's request as parts, on every route: the long members it keeps (system, tools, messages)
 * go by reference, so that what is written is a small part of the body, and the parts join into the
 * body built in one piece (which body() checks too). */
static void test_parts_real_body(void)
{
    size_t real_len = 0;
    char *real = check_read_data("claude-code-request.json", &real_len);
    CHECK(real != NULL);
    static const enum bedrock_route routes[] = {BEDROCK_INVOKE, BEDROCK_RUNTIME, BEDROCK_MANTLE};
    for (size_t r = 0; r < 3; r++) {
        struct bedrock_adaptation a;
        adaptation(&a, routes[r], 1);
        sbuf flat = SBUF_INIT, owned = SBUF_INIT;
        body(real, routes[r], &a, NULL, 0, &flat, NULL);
        struct json_object_scan o;
        scan(real, &o);
        struct body_parts parts;
        body_parts_begin(&parts, &owned);
        bedrock_request_body(&o, routes[r], &a, "us.anthropic.claude-x", NULL, 0, 0, &owned, &parts, NULL);
        struct iovec v[BODY_PARTS_MAX];
        unsigned long stamps[BODY_PARTS_MAX];
        size_t total, n = body_parts_iovecs(&parts, v, stamps, &total), spans = 0;
        for (size_t i = 0; i < n; i++)
            spans += (const char *)v[i].iov_base >= real && (const char *)v[i].iov_base < real + real_len;
        CHECK_INT_EQ(total, flat.len);
        CHECK(spans >= 2);
        CHECK(owned.len < flat.len / 10);
        sbuf_free(&flat), sbuf_free(&owned);
    }
    free(real);
}

/* The kept outcome for the last tools array gives what adapting them again gives: the body and the
 * removed list, for tools that change and tools that do not, alternating, with and without a list. */
static void test_tools_memo(void)
{
    size_t real_len = 0;
    char *real = check_read_data("claude-code-request.json", &real_len);
    CHECK(real != NULL);
    const char *bodies[] = {
        real,
        "{\"fallbacks\":[1],\"tools\":[{\"name\":\"A\",\"strict\":true},{\"type\":\"web_search_20250305\"}]}",
        "{\"tools\":[{\"type\":\"code_execution_20250825\"}],\"messages\":[]}",
        "{\"tools\":[{\"name\":\"A\",\"strict\":true},{\"type\":\"web_search_20250305\"}]}",
        "{\"tools\":[{\"name\":\"A\"}]}",
        "{\"tools\":[{\"name\":\"A\"}],\"x\":1}",
        "{\"tools\":[{\"name\":\"A\"},]}",
    };
    const size_t n = sizeof(bodies) / sizeof(bodies[0]);
    static const enum bedrock_route routes[] = {BEDROCK_INVOKE, BEDROCK_MANTLE};
    for (size_t r = 0; r < 2; r++) {
        struct bedrock_adaptation a;
        adaptation(&a, routes[r], 1);
        for (int strict = 0; strict < 2; strict++) {
            a.drop_tool_strict = strict;
            sbuf want[7][2], got[2];
            bedrock_request_tools_memo(0);
            for (size_t i = 0; i < n; i++) {
                want[i][0] = (sbuf)SBUF_INIT, want[i][1] = (sbuf)SBUF_INIT;
                struct json_object_scan o;
                const char *err;
                if (json_scan_object(bodies[i], strlen(bodies[i]), &o, &err) == 0)
                    bedrock_request_body(&o, routes[r], &a, "us.anthropic.claude-x", NULL, 0, 0, &want[i][0], NULL,
                                         &want[i][1]);
            }
            bedrock_request_tools_memo(1);
            for (int round = 0; round < 3; round++)
                for (size_t k = 0; k < 2 * n; k++) {
                    size_t i = round == 1 ? k % n : k / 2; /* each twice in a row, or alternating */
                    got[0] = (sbuf)SBUF_INIT, got[1] = (sbuf)SBUF_INIT;
                    struct json_object_scan o;
                    const char *err;
                    if (json_scan_object(bodies[i], strlen(bodies[i]), &o, &err) != 0)
                        continue;
                    bedrock_request_body(&o, routes[r], &a, "us.anthropic.claude-x", NULL, 0, 0, &got[0], NULL,
                                         k % 3 ? &got[1] : NULL);
                    CHECK_STR_EQ(got[0].data, want[i][0].data);
                    if (k % 3)
                        CHECK_STR_EQ(got[1].data ? got[1].data : "", want[i][1].data ? want[i][1].data : "");
                    sbuf_free(&got[0]);
                    sbuf_free(&got[1]);
                }
            for (size_t i = 0; i < n; i++)
                sbuf_free(&want[i][0]), sbuf_free(&want[i][1]);
        }
    }
    free(real);
}

/* The history's thinking blocks go through the Bedrock body only when the map chose another model
 * than the one that signed them (thinking_blocks.c does the stripping; tested in core/). */
static void test_thinking_blocks(void)
{
    static const char *const history =
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":["
        "{\"type\":\"thinking\",\"thinking\":\"hm\",\"signature\":\"c2ln\"},{\"type\":\"redacted_thinking\",\"data\":"
        "\"x\"},"
        "{\"type\":\"text\",\"text\":\"a\"}]}]}";
    sbuf out = SBUF_INIT;
    struct bedrock_adaptation a;
    adaptation(&a, BEDROCK_INVOKE, 1);
    body(history, BEDROCK_INVOKE, &a, NULL, 0, &out, NULL);
    CHECK(strstr(out.data, "\"signature\":\"c2ln\"") != NULL);
    sbuf_reset(&out);
    a.drop_thinking_blocks = 1;
    body(history, BEDROCK_INVOKE, &a, NULL, 0, &out, NULL);
    CHECK(strstr(out.data, "c2ln") == NULL && strstr(out.data, "redacted_thinking") == NULL);
    CHECK(strstr(out.data, "{\"type\":\"text\",\"text\":\"a\"}") != NULL);
    sbuf_free(&out);
}

int main(void)
{
    test_count_tokens_body();
    test_invoke_body();
    test_messages_body();
    test_refused_members();
    test_tools_changed_late();
    test_stable_members_first();
    test_tools_memo();
    test_parts_real_body();
    test_thinking_blocks();
    CHECK_DONE();
}
