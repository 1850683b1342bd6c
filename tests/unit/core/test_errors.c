/* Error bodies in the caller's format: Anthropic's, OpenAI's (with param and code when given, null
 * otherwise, escaped), the SSE error event, and the type and reason phrase for a status. */
#include "check.h"
#include "core/errors.h"

static const char *json(enum api_format api, const char *type, const char *message)
{
    static sbuf out = SBUF_INIT;
    sbuf_reset(&out);
    error_json(&out, api, type, message);
    return out.data;
}

static const char *openai(const char *type, const char *message, const char *param, const char *code)
{
    static sbuf out = SBUF_INIT;
    sbuf_reset(&out);
    error_json_openai(&out, type, message, param, code);
    return out.data;
}

static void test_bodies(void)
{
    CHECK_STR_EQ(json(API_ANTHROPIC, "rate_limit_error", "slow down"),
                 "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"slow down\"}}");
    CHECK_STR_EQ(json(API_OPENAI, "rate_limit_error", "slow down"),
                 "{\"error\":{\"message\":\"slow down\",\"type\":\"rate_limit_error\",\"param\":null,\"code\":null}}");
    CHECK_STR_EQ(
        openai("invalid_request_error", "bad \"model\"\n", "model", NULL),
        "{\"error\":{\"message\":\"bad \\\"model\\\"\\n\",\"type\":\"invalid_request_error\",\"param\":\"model\","
        "\"code\":null}}");
    CHECK_STR_EQ(openai("overloaded_error", "busy", NULL, "overloaded_error"),
                 "{\"error\":{\"message\":\"busy\",\"type\":\"overloaded_error\",\"param\":null,\"code\":\"overloaded_"
                 "error\"}}");
    sbuf ev = SBUF_INIT;
    sse_error_event(&ev, "api_error", "upstream broke");
    CHECK_STR_EQ(ev.data, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":"
                          "\"upstream broke\"}}\n\n");
    sbuf_free(&ev);
}

static void test_status(void)
{
    CHECK_STR_EQ(error_type_for_status(400), "invalid_request_error");
    CHECK_STR_EQ(error_type_for_status(401), "authentication_error");
    CHECK_STR_EQ(error_type_for_status(429), "rate_limit_error");
    CHECK_STR_EQ(error_type_for_status(504), "timeout_error");
    CHECK_STR_EQ(error_type_for_status(529), "overloaded_error");
    CHECK_STR_EQ(error_type_for_status(502), "api_error");
    CHECK_STR_EQ(error_type_for_status(418), "invalid_request_error");
    CHECK_STR_EQ(http_reason_phrase(200), "OK");
    CHECK_STR_EQ(http_reason_phrase(429), "Too Many Requests");
}

int main(void)
{
    test_bodies();
    test_status();
    CHECK_DONE();
}
