/* OpenAI Chat Completions request -> Anthropic Messages body (openai/request.c): what is
 * translated, and the 400s for what cannot be honoured. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "json_check.h"
#include "openai/request.h"

/* Translates req (single-quoted) and checks the Anthropic body is exactly expected. */
static void expect_request_at(int line, const char *req, const char *expected)
{
    char *body = dq(req);
    sbuf out = SBUF_INIT, err = SBUF_INIT;
    struct openai_request_info info;
    int status = openai_request_to_anthropic(body, strlen(body), 1000, &out, &info, &err);
    if (status != 0)
        fprintf(stderr, "line %d: status %d: %s\n", line, status, err.data);
    CHECK_INT_EQ(status, 0);
    CHECK_INT_EQ(err.len, 0);
    check_count++;
    if (!json_equal(out.data, out.len, expected, line))
        check_failures++;
    sbuf_free(&out);
    sbuf_free(&err);
    free(body);
}
#define expect_request(req, expected) expect_request_at(__LINE__, (req), (expected))

/* req is refused with a 400 in OpenAI's error shape, naming param (NULL: null) and saying what. */
static void expect_400_at(int line, const char *req_sq, const char *param, const char *says)
{
    char *body = req_sq ? dq(req_sq) : NULL;
    sbuf out = SBUF_INIT, err = SBUF_INIT;
    struct openai_request_info info;
    int status = openai_request_to_anthropic(body, body ? strlen(body) : 0, 1000, &out, &info, &err);
    int ok = status == 400 && out.len == 0;
    cJSON *e = err.data ? cJSON_Parse(err.data) : NULL;
    const cJSON *eo = cJSON_GetObjectItemCaseSensitive(e, "error");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(eo, "param");
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(eo, "message"));
    ok = ok && cJSON_GetArraySize(e) == 1 && cJSON_GetArraySize(eo) == 4;
    ok = ok && msg != NULL && strstr(msg, says) != NULL;
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(eo, "type"));
    ok = ok && type != NULL && strcmp(type, "invalid_request_error") == 0;
    ok = ok && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(eo, "code"));
    ok = ok && (param ? cJSON_IsString(p) && strcmp(p->valuestring, param) == 0 : cJSON_IsNull(p));
    check_count++;
    if (!ok) {
        check_failures++;
        fprintf(stderr, "line %d: expected a 400 on param %s saying \"%s\"; got %d: %s (out: %s)\n", line,
                param ? param : "null", says, status, err.data ? err.data : "", out.data ? out.data : "");
    }
    cJSON_Delete(e);
    sbuf_free(&out);
    sbuf_free(&err);
    free(body);
}
#define expect_400(req, param, says) expect_400_at(__LINE__, (req), (param), (says))

static void test_request_basics(void)
{
    /* model passed through, default max_tokens, user text as a block, system and developer joined */
    expect_request(
        "{'model':'claude-x','messages':[{'role':'system','content':'Be brief.'},"
        "{'role':'developer','content':[{'type':'text','text':'No emojis.'},{'type':'text','text':'Plain.'}]},"
        "{'role':'user','content':'Hi'}]}",
        "{'model':'claude-x','max_tokens':1000,'system':'Be brief.\\n\\nNo emojis.\\n\\nPlain.',"
        "'messages':[{'role':'user','content':[{'type':'text','text':'Hi'}]}]}");
    /* a system message later in the conversation joins the same system prompt */
    expect_request("{'model':'m','messages':[{'role':'user','content':'a'},{'role':'system','content':'late'}]}",
                   "{'model':'m','max_tokens':1000,'system':'late','messages':[{'role':'user','content':[{'type':'text'"
                   ",'text':'a'}]}]}");

    /* max_completion_tokens wins over max_tokens; either is used; sampling, stop, user, stream */
    expect_request("{'model':'m','max_tokens':5,'max_completion_tokens':7,'messages':[{'role':'user','content':'a'}]}",
                   "{'model':'m','max_tokens':7,'messages':[{'role':'user','content':[{'type':'text','text':'a'}]}]}");
    expect_request("{'model':'m','max_tokens':5,'temperature':0.25,'top_p':0.5,'stop':'END','user':'u-1',"
                   "'messages':[{'role':'user','content':'a'}]}",
                   "{'model':'m','max_tokens':5,'temperature':0.25,'top_p':0.5,'stop_sequences':['END'],"
                   "'metadata':{'user_id':'u-1'},'messages':[{'role':'user','content':[{'type':'text','text':'a'}]}]}");
    /* the ends of the range pass as they are */
    expect_request("{'model':'m','temperature':1,'top_p':0,'messages':[{'role':'user','content':'a'}]}",
                   "{'model':'m','max_tokens':1000,'temperature':1,'top_p':0,"
                   "'messages':[{'role':'user','content':[{'type':'text','text':'a'}]}]}");
    expect_request("{'model':'m','temperature':0,'top_p':1,'messages':[{'role':'user','content':'a'}]}",
                   "{'model':'m','max_tokens':1000,'temperature':0,'top_p':1,"
                   "'messages':[{'role':'user','content':[{'type':'text','text':'a'}]}]}");
    expect_request("{'model':'m','stop':['a','b'],'stream':true,'messages':[{'role':'user','content':'a'}]}",
                   "{'model':'m','max_tokens':1000,'stop_sequences':['a','b'],'stream':true,"
                   "'messages':[{'role':'user','content':[{'type':'text','text':'a'}]}]}");

    /* parameters without an Anthropic equivalent that do not change the answer's shape are dropped */
    expect_request(
        "{'model':'m','frequency_penalty':0.5,'presence_penalty':0.1,'seed':7,'logit_bias':{},"
        "'service_tier':'auto','store':false,'metadata':{'k':'v'},'reasoning_effort':'low','n':1,"
        "'logprobs':false,'response_format':{'type':'text'},'stop':null,'tools':[],'stream':false,"
        "'stream_options':null,'parallel_tool_calls':false,'tool_choice':'auto','modalities':['text'],"
        "'messages':[{'role':'user','content':'a','name':'bob'}]}",
        "{'model':'m','max_tokens':1000,'messages':[{'role':'user','content':[{'type':'text','text':'a'}]}]}");

    /* info: the model, stream and include_usage (only meaningful when streaming) */
    struct openai_request_info info;
    sbuf out = SBUF_INIT, err = SBUF_INIT;
    char *body = dq("{'model':'gpt-4o','stream':true,'stream_options':{'include_usage':true},"
                    "'messages':[{'role':'user','content':'a'}]}");
    CHECK_INT_EQ(openai_request_to_anthropic(body, strlen(body), 10, &out, &info, &err), 0);
    CHECK_INT_EQ(info.stream, 1);
    CHECK_INT_EQ(info.include_usage, 1);
    CHECK_STR_EQ(info.model, "gpt-4o");
    free(body);
    sbuf_reset(&out);
    body = dq("{'model':'gpt-4o-mini','messages':[{'role':'user','content':'a'}]}");
    CHECK_INT_EQ(openai_request_to_anthropic(body, strlen(body), 10, &out, &info, &err), 0);
    CHECK_INT_EQ(info.stream, 0);
    CHECK_INT_EQ(info.include_usage, 0);
    CHECK_STR_EQ(info.model, "gpt-4o-mini");
    free(body);
    sbuf_free(&out);
    sbuf_free(&err);
}

static void test_request_content(void)
{
    /* text parts, a base64 data URL image, an http(s) image URL, a PDF file part */
    expect_request(
        "{'model':'m','messages':[{'role':'user','content':[{'type':'text','text':'What is this?'},"
        "{'type':'image_url','image_url':{'url':'data:image/png;base64,iVBORw0KGgo=','detail':'high'}},"
        "{'type':'image_url','image_url':{'url':'https://example.com/cat.jpg'}},"
        "{'type':'file','file':{'filename':'a.pdf','file_data':'data:application/pdf;base64,JVBERi0='}}]}]}",
        "{'model':'m','max_tokens':1000,'messages':[{'role':'user','content':["
        "{'type':'text','text':'What is this?'},"
        "{'type':'image','source':{'type':'base64','media_type':'image/png','data':'iVBORw0KGgo='}},"
        "{'type':'image','source':{'type':'url','url':'https://example.com/cat.jpg'}},"
        "{'type':'document','source':{'type':'base64','media_type':'application/pdf','data':'JVBERi0='}}]}]}");
    /* consecutive same-role messages merge into one turn; empty text and empty messages vanish
     * (Anthropic refuses empty text blocks); an assistant refusal part is kept as text */
    expect_request(
        "{'model':'m','messages':[{'role':'user','content':'a'},{'role':'user','content':[{'type':'text','text':''},"
        "{'type':'text','text':'b'}]},{'role':'assistant','content':'c'},{'role':'user','content':''},"
        "{'role':'assistant','content':[{'type':'refusal','refusal':'no'}]},{'role':'user','content':'d'}]}",
        "{'model':'m','max_tokens':1000,'messages':["
        "{'role':'user','content':[{'type':'text','text':'a'},{'type':'text','text':'b'}]},"
        "{'role':'assistant','content':[{'type':'text','text':'c'},{'type':'text','text':'no'}]},"
        "{'role':'user','content':[{'type':'text','text':'d'}]}]}");
}

static void test_request_tools(void)
{
    /* tools; parameters missing -> an empty object schema; tool_choice "required" -> any */
    expect_request(
        "{'model':'m','tool_choice':'required','messages':[{'role':'user','content':'w'}],'tools':["
        "{'type':'function','function':{'name':'get_weather','description':'Weather',"
        "'parameters':{'type':'object','properties':{'city':{'type':'string'}},'required':['city']},'strict':true}},"
        "{'type':'function','function':{'name':'now'}}]}",
        "{'model':'m','max_tokens':1000,'messages':[{'role':'user','content':[{'type':'text','text':'w'}]}],'tools':["
        "{'name':'get_weather','description':'Weather','input_schema':{'type':'object',"
        "'properties':{'city':{'type':'string'}},'required':['city']}},"
        "{'name':'now','input_schema':{'type':'object','properties':{}}}],'tool_choice':{'type':'any'}}");

#define TOOL_REQ(extra)                                                                                                \
    "{'model':'m','messages':[{'role':'user','content':'w'}]," extra                                                   \
    ",'tools':[{'type':'function','function':{'name':'f','parameters':{'type':'object'}}}]}"
#define TOOL_OUT(extra)                                                                                                \
    "{'model':'m','max_tokens':1000,'messages':[{'role':'user','content':[{'type':'text','text':'w'}]}],"              \
    "'tools':[{'name':'f','input_schema':{'type':'object'}}]" extra "}"
    expect_request(TOOL_REQ("'tool_choice':'auto'"), TOOL_OUT(",'tool_choice':{'type':'auto'}"));
    expect_request(TOOL_REQ("'tool_choice':'none'"), TOOL_OUT(",'tool_choice':{'type':'none'}"));
    expect_request(TOOL_REQ("'tool_choice':{'type':'function','function':{'name':'f'}}"),
                   TOOL_OUT(",'tool_choice':{'type':'tool','name':'f'}"));
    expect_request(TOOL_REQ("'tool_choice':null"), TOOL_OUT(""));
    /* parallel_tool_calls:false -> disable_parallel_tool_use, on "auto" when no choice was given */
    expect_request(TOOL_REQ("'parallel_tool_calls':false"),
                   TOOL_OUT(",'tool_choice':{'type':'auto','disable_parallel_tool_use':true}"));
    expect_request(TOOL_REQ("'parallel_tool_calls':false,'tool_choice':'required'"),
                   TOOL_OUT(",'tool_choice':{'type':'any','disable_parallel_tool_use':true}"));
    expect_request(TOOL_REQ("'parallel_tool_calls':false,'tool_choice':{'type':'function','function':{'name':'f'}}"),
                   TOOL_OUT(",'tool_choice':{'type':'tool','name':'f','disable_parallel_tool_use':true}"));
    expect_request(TOOL_REQ("'parallel_tool_calls':false,'tool_choice':'none'"),
                   TOOL_OUT(",'tool_choice':{'type':'none'}"));
    expect_request(TOOL_REQ("'parallel_tool_calls':true"), TOOL_OUT(""));
    /* without tools, "auto" and "none" mean nothing (Anthropic refuses tool_choice without tools) */
    expect_request(
        "{'model':'m','tool_choice':'none','messages':[{'role':'user','content':'w'}]}",
        "{'model':'m','max_tokens':1000,'messages':[{'role':'user','content':[{'type':'text','text':'w'}]}]}");

    /* a tool round trip: assistant tool_calls -> tool_use with parsed input (empty arguments -> {}),
     * consecutive tool messages -> one user turn of tool_results, and the user message that follows
     * joins that same turn; text-part tool content is joined into a string */
    expect_request(
        "{'model':'m','messages':[{'role':'user','content':'Weather in Paris and Rome?'},"
        "{'role':'assistant','content':'Checking.','tool_calls':["
        "{'id':'call_1','type':'function','function':{'name':'get_weather','arguments':'{\\'city\\':\\'Paris\\'}'}},"
        "{'id':'call_2','type':'function','function':{'name':'now','arguments':''}}]},"
        "{'role':'tool','tool_call_id':'call_1','content':'sunny'},"
        "{'role':'tool','tool_call_id':'call_2','content':[{'type':'text','text':'12:00'},{'type':'text','text':'UTC'}]"
        "},"
        "{'role':'user','content':'Thanks. And tomorrow?'},"
        "{'role':'assistant','content':null,'tool_calls':[{'id':'call_3','type':'function',"
        "'function':{'name':'get_weather','arguments':' {\\'city\\': {\\'n\\': [1, 2.5, null]}} '}}]},"
        "{'role':'tool','tool_call_id':'call_3','content':null}]}",
        "{'model':'m','max_tokens':1000,'messages':["
        "{'role':'user','content':[{'type':'text','text':'Weather in Paris and Rome?'}]},"
        "{'role':'assistant','content':[{'type':'text','text':'Checking.'},"
        "{'type':'tool_use','id':'call_1','name':'get_weather','input':{'city':'Paris'}},"
        "{'type':'tool_use','id':'call_2','name':'now','input':{}}]},"
        "{'role':'user','content':[{'type':'tool_result','tool_use_id':'call_1','content':'sunny'},"
        "{'type':'tool_result','tool_use_id':'call_2','content':'12:00\\nUTC'},"
        "{'type':'text','text':'Thanks. And tomorrow?'}]},"
        "{'role':'assistant','content':[{'type':'tool_use','id':'call_3','name':'get_weather',"
        "'input':{'city':{'n':[1,2.5,null]}}}]},"
        "{'role':'user','content':[{'type':'tool_result','tool_use_id':'call_3','content':''}]}]}");
    /* tool results that come after user text in the same turn still go first */
    expect_request(
        "{'model':'m','messages':[{'role':'assistant','content':null,'tool_calls':[{'id':'c1','type':'function',"
        "'function':{'name':'f','arguments':'{}'}}]},{'role':'user','content':'note'},"
        "{'role':'tool','tool_call_id':'c1','content':'r'}]}",
        "{'model':'m','max_tokens':1000,'messages':["
        "{'role':'assistant','content':[{'type':'tool_use','id':'c1','name':'f','input':{}}]},"
        "{'role':'user','content':[{'type':'tool_result','tool_use_id':'c1','content':'r'},"
        "{'type':'text','text':'note'}]}]}");
    /* several tool results around user text: all tool results first, each kept, in order */
    expect_request("{'model':'m','messages':[{'role':'assistant','content':null,'tool_calls':["
                   "{'id':'c1','type':'function','function':{'name':'f','arguments':'{}'}},"
                   "{'id':'c2','type':'function','function':{'name':'f','arguments':'{}'}}]},"
                   "{'role':'user','content':'note'},{'role':'tool','tool_call_id':'c1','content':'r1'},"
                   "{'role':'user','content':'more'},{'role':'tool','tool_call_id':'c2','content':'r2'}]}",
                   "{'model':'m','max_tokens':1000,'messages':["
                   "{'role':'assistant','content':[{'type':'tool_use','id':'c1','name':'f','input':{}},"
                   "{'type':'tool_use','id':'c2','name':'f','input':{}}]},"
                   "{'role':'user','content':[{'type':'tool_result','tool_use_id':'c1','content':'r1'},"
                   "{'type':'tool_result','tool_use_id':'c2','content':'r2'},"
                   "{'type':'text','text':'note'},{'type':'text','text':'more'}]}]}");
}

static void test_request_errors(void)
{
    const char *user = "'messages':[{'role':'user','content':'hi'}]";
    char req[1024];
    expect_400("{'model':", NULL, "not valid JSON");
    expect_400("{'model':'m','messages':[{'role':'user','content':'hi'}]} trailing", NULL, "not valid JSON");
    expect_400(NULL, NULL, "not valid JSON"); /* empty body */
    expect_400("[1,2]", NULL, "must be a JSON object");
    expect_400("{'model':'m'}", "messages", "messages is required");
    expect_400("{'model':'m','messages':[]}", "messages", "messages is required");
    expect_400("{'model':'m','messages':{}}", "messages", "messages is required");
    expect_400("{'messages':[{'role':'user','content':'hi'}]}", "model", "model is required");
    expect_400("{'model':'','messages':[{'role':'user','content':'hi'}]}", "model", "model is required");
    expect_400("{'model':'m','messages':[{'role':'wizard','content':'hi'}]}", "messages", "role \"wizard\"");
    expect_400("{'model':'m','messages':[{'role':'function','name':'f','content':'hi'}]}", "messages",
               "role \"function\"");
    expect_400("{'model':'m','messages':['hi']}", "messages", "messages[0] must be an object");
    expect_400("{'model':'m','messages':[{'role':'system','content':'only system'}]}", "messages",
               "a user or assistant message");

    snprintf(req, sizeof(req), "{'model':'m','n':2,%s}", user);
    expect_400(req, "n", "n must be 1");
    snprintf(req, sizeof(req), "{'model':'m','logprobs':true,'top_logprobs':2,%s}", user);
    expect_400(req, "logprobs", "logprobs");
    snprintf(req, sizeof(req), "{'model':'m','response_format':{'type':'json_object'},%s}", user);
    expect_400(req, "response_format", "\"json_object\" is not supported");
    snprintf(req, sizeof(req), "{'model':'m','response_format':{'type':'json_schema','json_schema':{'name':'x'}},%s}",
             user);
    expect_400(req, "response_format", "\"json_schema\" is not supported");
    snprintf(req, sizeof(req), "{'model':'m','logit_bias':{'50256':-100},%s}", user);
    expect_400(req, "logit_bias", "logit_bias");
    snprintf(req, sizeof(req),
             "{'model':'m','audio':{'voice':'alloy','format':'wav'},'modalities':['text','audio'],%s}", user);
    expect_400(req, "audio", "audio");
    snprintf(req, sizeof(req), "{'model':'m','modalities':['text','audio'],%s}", user);
    expect_400(req, "modalities", "modality");
    snprintf(req, sizeof(req), "{'model':'m','functions':[{'name':'f'}],%s}", user);
    expect_400(req, "functions", "use tools");
    snprintf(req, sizeof(req), "{'model':'m','max_tokens':0,%s}", user);
    expect_400(req, "max_tokens", "positive integer");
    snprintf(req, sizeof(req), "{'model':'m','max_completion_tokens':'9',%s}", user);
    expect_400(req, "max_completion_tokens", "positive integer");
    snprintf(req, sizeof(req), "{'model':'m','max_tokens':1.5,%s}", user);
    expect_400(req, "max_tokens", "positive integer");
    snprintf(req, sizeof(req), "{'model':'m','temperature':'hot',%s}", user);
    expect_400(req, "temperature", "number");
    /* OpenAI allows temperature up to 2, Claude only to 1: said plainly, not forwarded */
    snprintf(req, sizeof(req), "{'model':'m','temperature':1.5,%s}", user);
    expect_400(req, "temperature", "temperature 1.5 is not supported: Claude models accept 0 to 1");
    snprintf(req, sizeof(req), "{'model':'m','temperature':2,%s}", user);
    expect_400(req, "temperature", "accept 0 to 1");
    snprintf(req, sizeof(req), "{'model':'m','temperature':2.5,%s}", user);
    expect_400(req, "temperature", "temperature must be between 0 and 1");
    snprintf(req, sizeof(req), "{'model':'m','temperature':-0.1,%s}", user);
    expect_400(req, "temperature", "temperature must be between 0 and 1");
    snprintf(req, sizeof(req), "{'model':'m','top_p':1.01,%s}", user);
    expect_400(req, "top_p", "top_p must be between 0 and 1");
    snprintf(req, sizeof(req), "{'model':'m','stop':['a',1],%s}", user);
    expect_400(req, "stop", "array of strings");
    snprintf(req, sizeof(req), "{'model':'m','stop':{},%s}", user);
    expect_400(req, "stop", "array of strings");

    /* tools and tool_choice */
    snprintf(req, sizeof(req), "{'model':'m','tools':{},%s}", user);
    expect_400(req, "tools", "must be an array");
    snprintf(req, sizeof(req), "{'model':'m','tools':[{'type':'custom','custom':{'name':'x'}}],%s}", user);
    expect_400(req, "tools", "tools[0].type");
    snprintf(req, sizeof(req), "{'model':'m','tools':[{'type':'function','function':{'description':'x'}}],%s}", user);
    expect_400(req, "tools", "tools[0].function.name");
    snprintf(req, sizeof(req),
             "{'model':'m','tools':[{'type':'function','function':{'name':'f','parameters':'x'}}],%s}", user);
    expect_400(req, "tools", "parameters");
    snprintf(req, sizeof(req),
             "{'model':'m','tools':[{'type':'function','function':{'name':'f'}}],'tool_choice':'sometimes',%s}", user);
    expect_400(req, "tool_choice", "tool_choice must be");
    snprintf(req, sizeof(req),
             "{'model':'m','tools':[{'type':'function','function':{'name':'f'}}],'tool_choice':{'type':'function'},%s}",
             user);
    expect_400(req, "tool_choice", "tool_choice must be");
    snprintf(req, sizeof(req), "{'model':'m','tool_choice':'required',%s}", user);
    expect_400(req, "tool_choice", "requires tools");

    /* message content */
    expect_400("{'model':'m','messages':[{'role':'assistant','content':null,'tool_calls':[{'id':'c','type':'function',"
               "'function':{'name':'f','arguments':'not json'}}]}]}",
               "messages", "messages[0].tool_calls[0].function.arguments");
    expect_400("{'model':'m','messages':[{'role':'user','content':'x'},{'role':'assistant','tool_calls':[{'id':'c',"
               "'type':'function','function':{'name':'f','arguments':'[1]'}}]}]}",
               "messages", "messages[1].tool_calls[0].function.arguments must be a string holding a JSON object");
    expect_400("{'model':'m','messages':[{'role':'assistant','tool_calls':[{'id':'c','type':'function',"
               "'function':{'name':'f','arguments':'{}x'}}]}]}",
               "messages", "arguments");
    expect_400(
        "{'model':'m','messages':[{'role':'assistant','tool_calls':[{'type':'function','function':{'name':'f'}}]}]}",
        "messages", "tool_calls[0].id is required");
    expect_400("{'model':'m','messages':[{'role':'assistant','tool_calls':{}}]}", "messages",
               "tool_calls must be an array");
    expect_400("{'model':'m','messages':[{'role':'tool','content':'r'}]}", "messages", "tool_call_id is required");
    expect_400("{'model':'m','messages':[{'role':'user','content':[{'type':'input_audio','input_audio':{'data':'AA==',"
               "'format':'wav'}}]}]}",
               "messages", "content part type \"input_audio\" is not supported");
    expect_400("{'model':'m','messages':[{'role':'user','content':[{'type':'file','file':{'file_id':'file-1'}}]}]}",
               "messages", "file_data");
    expect_400("{'model':'m','messages':[{'role':'user','content':[{'type':'image_url','image_url':{'url':'ftp://x/"
               "y.png'}}]}]}",
               "messages", "image_url.url");
    expect_400("{'model':'m','messages':[{'role':'user','content':[{'type':'image_url','image_url':{'url':'data:text/"
               "plain;base64,AA=='}}]}]}",
               "messages", "image_url.url");
    expect_400("{'model':'m','messages':[{'role':'user','content':[{'type':'image_url','image_url':{'url':'data:image/"
               "png,raw'}}]}]}",
               "messages", "image_url.url");
    expect_400("{'model':'m','messages':[{'role':'user','content':[{'type':'text'}]}]}", "messages",
               "content[0].text must be a string");
    expect_400("{'model':'m','messages':[{'role':'system','content':[{'type':'image_url','image_url':{'url':'https://x/"
               "y.png'}}]},"
               "{'role':'user','content':'hi'}]}",
               "messages", "only text parts");
    expect_400("{'model':'m','messages':[{'role':'user','content':42}]}", "messages",
               "content must be a string or an array");
}

int main(void)
{
    test_request_basics();
    test_request_content();
    test_request_tools();
    test_request_errors();
    CHECK_DONE();
}
