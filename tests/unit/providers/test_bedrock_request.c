/* A direct-API request adapted to each Bedrock route (bedrock_request.c), thinking blocks left out
 * (thinking_blocks.c), what says a route does not serve a model and the route memory
 * (bedrock_routes.c). */
#include <string.h>
#include "providers/bedrock_request.h"
#include "providers/bedrock_routes.h"
#include "check.h"
#include "core/thinking_blocks.h"

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
    static const char *const invoke_drop_older[] = {"context_management", "inference_geo", "fallbacks",
                                                    "output_config", NULL};
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

static void body(const char *in, enum bedrock_route r, const struct bedrock_adaptation *a, const char *beta,
                 int count, sbuf *out, sbuf *removed)
{
    struct json_object_scan o;
    scan(in, &o);
    bedrock_request_body(&o, r, a, "us.anthropic.claude-x", beta, beta ? strlen(beta) : 0, count, out, removed);
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
         "{\"messages\":[],\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":1}"},
        {"{\"model\":\"m\",\"max_tokens\":50,\"messages\":[]}",
         "{\"max_tokens\":50,\"messages\":[],\"anthropic_version\":\"bedrock-2023-05-31\"}"},
        /* thinking needs max_tokens above its budget */
        {"{\"thinking\":{\"type\":\"adaptive\"},\"context_management\":{},\"messages\":[]}",
         "{\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":31999},\"messages\":[],\"anthropic_version\":"
         "\"bedrock-2023-05-31\",\"max_tokens\":32000}"},
        {"{\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":2000},\"messages\":[]}",
         "{\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":2000},\"messages\":[],\"anthropic_version\":"
         "\"bedrock-2023-05-31\",\"max_tokens\":2001}"},
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
    const char *in = "{\"model\":\"claude-opus-4-8\",\"max_tokens\":64000,\"stream\":true,\"thinking\":{\"type\":"
                     "\"adaptive\",\"display\":\"omitted\"},\"output_config\":{\"effort\":\"high\"},"
                     "\"context_management\":{\"edits\":[]},\"metadata\":{\"user_id\":\"{\\\"device_id\\\":\\\"d1\\\"}\"},"
                     "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    const char *beta = "claude-code-20250219,oauth-2025-04-20,interleaved-thinking-2025-05-14";
    struct bedrock_adaptation a;
    adaptation(&a, BEDROCK_INVOKE, 1);
    sbuf out = SBUF_INIT;
    body(in, BEDROCK_INVOKE, &a, beta, 0, &out, NULL);
    /* adaptive thinking and effort kept; context_management never; the JSON user_id as it is */
    CHECK_STR_EQ(out.data, "{\"max_tokens\":64000,\"thinking\":{\"type\":\"adaptive\",\"display\":\"omitted\"},"
                           "\"output_config\":{\"effort\":\"high\"},\"metadata\":{\"user_id\":\"{\\\"device_id\\\":"
                           "\\\"d1\\\"}\"},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"anthropic_version\":"
                           "\"bedrock-2023-05-31\",\"anthropic_beta\":[\"interleaved-thinking-2025-05-14\"]}");
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
    CHECK_STR_EQ(out.data, "{\"stream\":true,\"context_management\":{\"edits\":[]},\"metadata\":{\"user_id\":"
                           "\"0d970a14538eec25a86542491f5fd92dd230e1fc685c405b0ad395e1e3d8f348\",\"other\":1},"
                           "\"model\":\"us.anthropic.claude-x\"}");
    CHECK_STR_EQ(removed.data, "inference_geo");
    sbuf_reset(&out);
    /* a user_id that fits already is left alone */
    body("{\"metadata\":{\"user_id\":\"user-42@example.com\"}}", BEDROCK_MANTLE, &a, NULL, 0, &out, NULL);
    CHECK_STR_EQ(out.data, "{\"metadata\":{\"user_id\":\"user-42@example.com\"},\"model\":\"us.anthropic.claude-x\"}");
    sbuf_reset(&out);
    char fitted[65];
    const char *long_id = "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
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
         "{\"name\":\"Read\",\"strict\":true, \"input_schema\":{}},{\"type\":\"web_search_20250305\",\"name\":\"web_search\"},"
         " {\"name\":\"Bash\",\"input_schema\":{ }}],\"fallbacks\":[\"x\"]}",
         BEDROCK_MANTLE, &a, NULL, 0, &out, &removed);
    CHECK_STR_EQ(out.data, "{\"output_config\":{\"effort\":\"high\"},\"tools\":[{\"name\":\"Read\",\"input_schema\":{}},"
                           "{\"name\":\"Bash\",\"input_schema\":{ }}],\"model\":\"us.anthropic.claude-x\"}");
    CHECK_STR_EQ(removed.data, "fallbacks, output_config.format, tools[].strict, web_search_20250305");
    sbuf_reset(&out);
    sbuf_reset(&removed);
    /* nothing left: the member goes */
    body("{\"output_config\":{\"format\":{}},\"tools\":[{\"type\":\"code_execution_20250825\",\"name\":\"c\"}],"
         "\"messages\":[]}",
         BEDROCK_MANTLE, &a, NULL, 0, &out, &removed);
    CHECK_STR_EQ(out.data, "{\"messages\":[],\"model\":\"us.anthropic.claude-x\"}");
    sbuf_reset(&out);
    /* a body with none of them is spliced to the same bytes (model aside) */
    const char *plain = "{\"tools\":[ {\"name\":\"Read\"} ],\"output_config\":{ \"effort\" : \"low\" },\"x\":[1,2]}";
    body(plain, BEDROCK_MANTLE, &a, NULL, 0, &out, NULL);
    CHECK_STR_EQ(out.data, "{\"tools\":[ {\"name\":\"Read\"} ],\"output_config\":{ \"effort\" : \"low\" },\"x\":[1,2],"
                           "\"model\":\"us.anthropic.claude-x\"}");
    sbuf_free(&out);
    sbuf_free(&removed);
}

static const char *const HISTORY =
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":["
    "{\"type\":\"thinking\",\"thinking\":\"hm\",\"signature\":\"c2ln\"},{\"type\":\"redacted_thinking\",\"data\":\"x\"},"
    "{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"Read\",\"input\":{}}]},"
    "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"content\":\"r\"},"
    "{\"type\":\"thinking\",\"thinking\":\"not an assistant's\"}]},"
    "{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"only\",\"signature\":\"s\"}]}]}";

/* Thinking blocks of assistant turns go when another model signed them, nothing else. */
static void test_thinking_blocks(void)
{
    struct json_object_scan o;
    scan(HISTORY, &o);
    sbuf out = SBUF_INIT;
    CHECK_INT_EQ(thinking_blocks_strip_request(&o, &out), 2);
    CHECK_STR_EQ(out.data,
                 "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":"
                 "[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"Read\",\"input\":{}}]},"
                 "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"content\":\"r\"},"
                 "{\"type\":\"thinking\",\"thinking\":\"not an assistant's\"}]},"
                 "{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"only\",\"signature\":\"s\"}]}]}");
    sbuf_reset(&out);
    scan("{\"messages\":[{\"role\":\"assistant\",\"content\":\"text\"}]}", &o);
    CHECK_INT_EQ(thinking_blocks_strip_request(&o, &out), 0);
    CHECK_INT_EQ(out.len, 0);
    /* the same through the Bedrock body when the map chose another model; kept otherwise */
    struct bedrock_adaptation a;
    adaptation(&a, BEDROCK_INVOKE, 1);
    body(HISTORY, BEDROCK_INVOKE, &a, NULL, 0, &out, NULL);
    CHECK(strstr(out.data, "\"signature\":\"c2ln\"") != NULL);
    sbuf_reset(&out);
    a.drop_thinking_blocks = 1;
    body(HISTORY, BEDROCK_INVOKE, &a, NULL, 0, &out, NULL);
    CHECK(strstr(out.data, "c2ln") == NULL && strstr(out.data, "redacted_thinking") == NULL);
    sbuf_free(&out);
    const char *refused = "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":"
                          "\"messages.1.content.0: Invalid `signature` in `thinking` block\"}}";
    CHECK(thinking_blocks_signature_refused(400, refused, strlen(refused)));
    CHECK(!thinking_blocks_signature_refused(429, refused, strlen(refused)));
    CHECK(!thinking_blocks_signature_refused(400, "{\"message\":\"bad\"}", 17));
}

/* Answers that say "this route does not serve the model", and ones that say something else. */
static void test_route_refusals(void)
{
    static const struct {
        int status;
        const char *type, *body;
        int refusal;
    } cases[] = {
        {400, "ValidationException", "{\"message\":\"The provided model identifier is invalid.\"}", 1},
        {400, "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/",
         "{\"message\":\"Invocation of model ID anthropic.claude-opus-5-5 with on-demand throughput isn\xe2\x80\x99t "
         "supported. Retry your request with the ID or ARN of an inference profile that contains this model.\"}",
         1},
        {404, "ResourceNotFoundException", "{\"message\":\"Model not found\"}", 1},
        {404, NULL, "{\"Output\":{\"__type\":\"com.amazon.coral.service#UnknownOperationException\"},\"Version\":\"1.0\"}", 1},
        {200, NULL, "{\"Output\":{\"__type\":\"com.amazon.coral.service#UnknownOperationException\"},\"Version\":\"1.0\"}", 1},
        {404, NULL, "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"message\":\"model: anthropic.claude-fable-5 "
                    "is not available in this region\"}}", 1},
        /* not about the route */
        {400, "ValidationException", "{\"message\":\"messages.0.content: Field required\"}", 0},
        {400, "ValidationException", "{\"message\":\"tools.0: tool type 'web_search_20250305' is not supported\"}", 0},
        {429, "ThrottlingException", "{\"message\":\"Too many requests\"}", 0},
        {400, NULL, "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Invalid `signature` in "
                    "`thinking` block\"}}", 0},
        {403, "AccessDeniedException", "{\"message\":\"You don't have access to the model with the specified model ID.\"}", 0},
        {500, "InternalServerException", "{\"message\":\"boom\"}", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char why[300] = "";
        int got = bedrock_error_is_route_refusal(cases[i].status, cases[i].type, cases[i].body, strlen(cases[i].body),
                                                 why, sizeof(why));
        if (got != cases[i].refusal)
            fprintf(stderr, "case %zu: %s\n", i, cases[i].body);
        CHECK_INT_EQ(got, cases[i].refusal);
        if (got)
            CHECK(why[0] != '\0');
    }
}

static void test_route_memory(void)
{
    CHECK_INT_EQ(bedrock_route_known("bedrock", "ap-northeast-1", "claude-fable-5", BEDROCK_INVOKE), BEDROCK_ROUTE_UNKNOWN);
    bedrock_route_note("bedrock", "ap-northeast-1", "claude-fable-5", BEDROCK_INVOKE, BEDROCK_ROUTE_REFUSED, "400 x");
    bedrock_route_note("bedrock", "ap-northeast-1", "claude-fable-5", BEDROCK_RUNTIME, BEDROCK_ROUTE_SERVES, "jp.anthropic");
    CHECK_INT_EQ(bedrock_route_known("bedrock", "ap-northeast-1", "claude-fable-5", BEDROCK_INVOKE), BEDROCK_ROUTE_REFUSED);
    CHECK_INT_EQ(bedrock_route_known("bedrock", "us-west-2", "claude-fable-5", BEDROCK_INVOKE), BEDROCK_ROUTE_UNKNOWN);
    CHECK_INT_EQ(bedrock_route_known("other", "ap-northeast-1", "claude-fable-5", BEDROCK_INVOKE), BEDROCK_ROUTE_UNKNOWN);
    sbuf out = SBUF_INIT;
    bedrock_route_describe("bedrock", &out);
    CHECK_STR_EQ(out.data, ",\"routes\":[{\"model\":\"claude-fable-5\",\"region\":\"ap-northeast-1\",\"invoke\":"
                           "\"refused: 400 x\",\"runtime\":\"serves: jp.anthropic\"}]");
    sbuf_reset(&out);
    bedrock_route_describe("other", &out);
    CHECK_INT_EQ(out.len, 0);
    sbuf_free(&out);
}

int main(void)
{
    test_count_tokens_body();
    test_invoke_body();
    test_messages_body();
    test_refused_members();
    test_thinking_blocks();
    test_route_refusals();
    test_route_memory();
    CHECK_DONE();
}
