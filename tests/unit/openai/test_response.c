/* Anthropic answers -> OpenAI's (openai/response.c): a message as a chat.completion, error bodies
 * as OpenAI error objects, a 2xx body that is no message as the error a 502 sends. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "check.h"
#include "json_check.h"
#include "openai/response.h"

/* Translates an Anthropic message; checks "created" is now-ish and the rest is exactly expected. */
static void expect_response_at(int line, const char *msg_sq, const char *expected_sq)
{
    char *msg = dq(msg_sq);
    sbuf out = SBUF_INIT;
    long long before = (long long)time(NULL);
    int r = openai_response_from_anthropic(msg, strlen(msg), "gpt-4o", &out);
    CHECK_INT_EQ(r, 0);
    cJSON *j = out.data ? cJSON_Parse(out.data) : NULL;
    const cJSON *created = cJSON_GetObjectItemCaseSensitive(j, "created");
    CHECK(cJSON_IsNumber(created) && created->valuedouble >= before && created->valuedouble <= before + 5);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "created");
    char *rest = j ? cJSON_PrintUnformatted(j) : NULL;
    check_count++;
    if (!json_equal(rest, rest ? strlen(rest) : 0, expected_sq, line))
        check_failures++;
    free(rest);
    cJSON_Delete(j);
    sbuf_free(&out);
    free(msg);
}
#define expect_response(msg, expected) expect_response_at(__LINE__, (msg), (expected))

static void test_response(void)
{
    /* thinking hidden, text blocks joined, tool_use -> tool_calls with arguments as a JSON string,
     * usage with cache tokens counted as prompt tokens */
    expect_response("{'id':'msg_01','type':'message','role':'assistant','model':'claude-sonnet-4-5','content':["
                    "{'type':'thinking','thinking':'hmm','signature':'sig'},{'type':'text','text':'Let me '},"
                    "{'type':'text','text':'check.'},"
                    "{'type':'tool_use','id':'toolu_1','name':'get_weather','input':{'city':'Paris','days':[1,2]}},"
                    "{'type':'tool_use','id':'toolu_2','name':'now','input':{}}],"
                    "'stop_reason':'tool_use','stop_sequence':null,'usage':{'input_tokens':20,"
                    "'cache_read_input_tokens':5,'cache_creation_input_tokens':3,'output_tokens':7}}",
                    "{'id':'chatcmpl-msg_01','object':'chat.completion','model':'gpt-4o','choices':[{'index':0,"
                    "'message':{'role':'assistant','content':'Let me check.','tool_calls':["
                    "{'id':'toolu_1','type':'function','function':{'name':'get_weather',"
                    "'arguments':'{\\'city\\':\\'Paris\\',\\'days\\':[1,2]}'}},"
                    "{'id':'toolu_2','type':'function','function':{'name':'now','arguments':'{}'}}],'refusal':null},"
                    "'finish_reason':'tool_calls','logprobs':null}],"
                    "'usage':{'prompt_tokens':28,'completion_tokens':7,'total_tokens':35}}");
    /* only a tool call: content is null */
    expect_response(
        "{'id':'msg_02','type':'message','content':[{'type':'tool_use','id':'t','name':'f','input':{}}],"
        "'stop_reason':'tool_use','usage':{'input_tokens':1,'output_tokens':2}}",
        "{'id':'chatcmpl-msg_02','object':'chat.completion','model':'gpt-4o','choices':[{'index':0,"
        "'message':{'role':'assistant','content':null,'tool_calls':[{'id':'t','type':'function',"
        "'function':{'name':'f','arguments':'{}'}}],'refusal':null},'finish_reason':'tool_calls','logprobs':null}],"
        "'usage':{'prompt_tokens':1,'completion_tokens':2,'total_tokens':3}}");

    /* finish_reason for each stop_reason */
    static const char *const stops[][2] = {
        {"end_turn", "stop"},          {"stop_sequence", "stop"}, {"max_tokens", "length"}, {"tool_use", "tool_calls"},
        {"refusal", "content_filter"}, {"pause_turn", "stop"},    {"something_new", "stop"}};
    for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
        char msg[300], exp[600];
        snprintf(msg, sizeof(msg),
                 "{'id':'m','type':'message','content':[{'type':'text','text':'x'}],'stop_reason':'%s',"
                 "'usage':{'input_tokens':1,'output_tokens':1}}",
                 stops[i][0]);
        snprintf(exp, sizeof(exp),
                 "{'id':'chatcmpl-m','object':'chat.completion','model':'gpt-4o','choices':[{'index':0,"
                 "'message':{'role':'assistant','content':'x','refusal':null},'finish_reason':'%s','logprobs':null}],"
                 "'usage':{'prompt_tokens':1,'completion_tokens':1,'total_tokens':2}}",
                 stops[i][1]);
        expect_response(msg, exp);
    }

    /* not a message: -1 and nothing written (the endpoint then converts it as an error) */
    static const char *const bad[] = {"{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"x\"}}",
                                      "not json", "[]", "{\"id\":\"m\"}", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sbuf out = SBUF_INIT;
        CHECK_INT_EQ(openai_response_from_anthropic(bad[i], strlen(bad[i]), "m", &out), -1);
        CHECK_INT_EQ(out.len, 0);
        sbuf_free(&out);
    }
}

static void expect_error_at(int line, int status, const char *body, const char *expected_sq)
{
    sbuf out = SBUF_INIT;
    openai_error_from_anthropic(status, body, body ? strlen(body) : 0, &out);
    check_count++;
    if (!json_equal(out.data, out.len, expected_sq, line))
        check_failures++;
    sbuf_free(&out);
}
#define expect_error(status, body, expected) expect_error_at(__LINE__, (status), (body), (expected))

static void test_error_conversion(void)
{
    expect_error(429, "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"slow down\"}}",
                 "{'error':{'message':'slow down','type':'rate_limit_error','param':null,'code':'rate_limit_error'}}");
    expect_error(529,
                 "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"},\"request_"
                 "id\":\"r\"}",
                 "{'error':{'message':'Overloaded','type':'overloaded_error','param':null,'code':'overloaded_error'}}");
    /* not Anthropic JSON: a generic message with the status, a type from the status, no code */
    expect_error(502, "<html>bad gateway</html>",
                 "{'error':{'message':'upstream error (HTTP 502)','type':'api_error','param':null,'code':null}}");
    expect_error(503, NULL,
                 "{'error':{'message':'upstream error (HTTP 503)','type':'api_error','param':null,'code':null}}");
    expect_error(
        401, "",
        "{'error':{'message':'upstream error (HTTP 401)','type':'authentication_error','param':null,'code':null}}");
    expect_error(
        429, "{}",
        "{'error':{'message':'upstream error (HTTP 429)','type':'rate_limit_error','param':null,'code':null}}");
    expect_error(
        400, "{\"error\":\"x\"}",
        "{'error':{'message':'upstream error (HTTP 400)','type':'invalid_request_error','param':null,'code':null}}");
    /* Bedrock's {"message": ...} keeps its message */
    expect_error(
        403, "{\"message\":\"The security token included in the request is invalid.\"}",
        "{'error':{'message':'The security token included in the request is invalid.','type':'permission_error',"
        "'param':null,'code':null}}");
}

static void expect_bad_answer_at(int line, int status, const char *body, const char *expected_sq)
{
    sbuf out = SBUF_INIT;
    openai_error_for_bad_answer(status, body, strlen(body), &out);
    check_count++;
    if (!json_equal(out.data, out.len, expected_sq, line))
        check_failures++;
    sbuf_free(&out);
}
#define expect_bad_answer(status, body, expected) expect_bad_answer_at(__LINE__, (status), (body), (expected))

static void test_bad_answer(void)
{
    /* a 2xx that is no message: what went wrong, with the upstream's status (the client gets a 502) */
    expect_bad_answer(
        200, "<html>captive portal</html>",
        "{'error':{'message':'the upstream answered HTTP 200 with a body that is not an Anthropic message',"
        "'type':'api_error','param':null,'code':null}}");
    expect_bad_answer(
        200, "{\"id\":\"msg_1\",\"type\":\"message\",\"content\":[{\"type\"",
        "{'error':{'message':'the upstream answered HTTP 200 with a body that is not an Anthropic message',"
        "'type':'api_error','param':null,'code':null}}");
    expect_bad_answer(201, "",
                      "{'error':{'message':'the upstream answered HTTP 201 with a body that is not an Anthropic "
                      "message','type':'api_error','param':null,'code':null}}");
    /* an error object keeps its words */
    expect_bad_answer(
        200, "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}",
        "{'error':{'message':'Overloaded','type':'overloaded_error','param':null,'code':'overloaded_error'}}");
}

int main(void)
{
    test_response();
    test_error_conversion();
    test_bad_answer();
    CHECK_DONE();
}
