/* Bedrock's routes (bedrock_routes.c): what says a route does not serve a model, and the route
 * memory (what the process has learnt, per provider, region and model). */
#include <string.h>
#include "providers/bedrock_routes.h"
#include "check.h"

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
        {404, NULL,
         "{\"Output\":{\"__type\":\"com.amazon.coral.service#UnknownOperationException\"},\"Version\":\"1.0\"}", 1},
        {200, NULL,
         "{\"Output\":{\"__type\":\"com.amazon.coral.service#UnknownOperationException\"},\"Version\":\"1.0\"}", 1},
        {404, NULL,
         "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"message\":\"model: anthropic.claude-fable-5 "
         "is not available in this region\"}}",
         1},
        /* not about the route */
        {400, "ValidationException", "{\"message\":\"messages.0.content: Field required\"}", 0},
        {400, "ValidationException", "{\"message\":\"tools.0: tool type 'web_search_20250305' is not supported\"}", 0},
        {429, "ThrottlingException", "{\"message\":\"Too many requests\"}", 0},
        {400, NULL,
         "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Invalid `signature` in "
         "`thinking` block\"}}",
         0},
        {403, "AccessDeniedException",
         "{\"message\":\"You don't have access to the model with the specified model ID.\"}", 0},
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
    CHECK_INT_EQ(bedrock_route_known("bedrock", "ap-northeast-1", "claude-fable-5", BEDROCK_INVOKE),
                 BEDROCK_ROUTE_UNKNOWN);
    bedrock_route_note("bedrock", "ap-northeast-1", "claude-fable-5", BEDROCK_INVOKE, BEDROCK_ROUTE_REFUSED, "400 x");
    bedrock_route_note("bedrock", "ap-northeast-1", "claude-fable-5", BEDROCK_RUNTIME, BEDROCK_ROUTE_SERVES,
                       "jp.anthropic");
    CHECK_INT_EQ(bedrock_route_known("bedrock", "ap-northeast-1", "claude-fable-5", BEDROCK_INVOKE),
                 BEDROCK_ROUTE_REFUSED);
    CHECK_INT_EQ(bedrock_route_known("bedrock", "us-west-2", "claude-fable-5", BEDROCK_INVOKE), BEDROCK_ROUTE_UNKNOWN);
    CHECK_INT_EQ(bedrock_route_known("other", "ap-northeast-1", "claude-fable-5", BEDROCK_INVOKE),
                 BEDROCK_ROUTE_UNKNOWN);
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
    test_route_refusals();
    test_route_memory();
    CHECK_DONE();
}
