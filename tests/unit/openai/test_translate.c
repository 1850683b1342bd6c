/* OpenAI Chat Completions <-> Anthropic Messages translation.
 * JSON in these tests is written with single quotes for readability; dq() turns them into double
 * quotes (\' becomes \", for quotes inside strings). Outputs are compared as parsed JSON, exactly. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "check.h"
#include "openai/translate.h"

static char *dq(const char *s)
{
    char *d = strdup(s);
    for (char *c = d; *c; c++)
        if (*c == '\'')
            *c = '"';
    return d;
}

/* got and expected (single-quoted) are the same JSON value; prints both otherwise. */
static int json_equal(const char *got, size_t got_len, const char *expected_sq, int line)
{
    char *exp = dq(expected_sq);
    cJSON *g = got ? cJSON_ParseWithLength(got, got_len) : NULL, *e = cJSON_Parse(exp);
    int ok = g != NULL && e != NULL && cJSON_Compare(g, e, 1);
    if (!ok)
        fprintf(stderr, "line %d: JSON differs%s\n  got:      %.*s\n  expected: %s\n", line,
                e == NULL ? " (expected is not JSON!)" : "", (int)got_len, got ? got : "(null)", exp);
    cJSON_Delete(g);
    cJSON_Delete(e);
    free(exp);
    return ok;
}

#define CHECK_JSON_EQ(got, got_len, expected)                                                      \
    do {                                                                                           \
        check_count++;                                                                             \
        if (!json_equal((got), (got_len), (expected), __LINE__))                                   \
            check_failures++;                                                                      \
    } while (0)

/* ---- requests ----------------------------------------------------------------------------- */

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
    expect_request("{'model':'claude-x','messages':[{'role':'system','content':'Be brief.'},"
                   "{'role':'developer','content':[{'type':'text','text':'No emojis.'},{'type':'text','text':'Plain.'}]},"
                   "{'role':'user','content':'Hi'}]}",
                   "{'model':'claude-x','max_tokens':1000,'system':'Be brief.\\n\\nNo emojis.\\n\\nPlain.',"
                   "'messages':[{'role':'user','content':[{'type':'text','text':'Hi'}]}]}");
    /* a system message later in the conversation joins the same system prompt */
    expect_request("{'model':'m','messages':[{'role':'user','content':'a'},{'role':'system','content':'late'}]}",
                   "{'model':'m','max_tokens':1000,'system':'late','messages':[{'role':'user','content':[{'type':'text','text':'a'}]}]}");

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
    expect_request("{'model':'m','frequency_penalty':0.5,'presence_penalty':0.1,'seed':7,'logit_bias':{},"
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
    expect_request("{'model':'m','messages':[{'role':'user','content':[{'type':'text','text':'What is this?'},"
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
    expect_request("{'model':'m','messages':[{'role':'user','content':'a'},{'role':'user','content':[{'type':'text','text':''},"
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
    expect_request("{'model':'m','tool_choice':'required','messages':[{'role':'user','content':'w'}],'tools':["
                   "{'type':'function','function':{'name':'get_weather','description':'Weather',"
                   "'parameters':{'type':'object','properties':{'city':{'type':'string'}},'required':['city']},'strict':true}},"
                   "{'type':'function','function':{'name':'now'}}]}",
                   "{'model':'m','max_tokens':1000,'messages':[{'role':'user','content':[{'type':'text','text':'w'}]}],'tools':["
                   "{'name':'get_weather','description':'Weather','input_schema':{'type':'object',"
                   "'properties':{'city':{'type':'string'}},'required':['city']}},"
                   "{'name':'now','input_schema':{'type':'object','properties':{}}}],'tool_choice':{'type':'any'}}");

#define TOOL_REQ(extra)                                                                            \
    "{'model':'m','messages':[{'role':'user','content':'w'}]," extra                              \
    ",'tools':[{'type':'function','function':{'name':'f','parameters':{'type':'object'}}}]}"
#define TOOL_OUT(extra)                                                                            \
    "{'model':'m','max_tokens':1000,'messages':[{'role':'user','content':[{'type':'text','text':'w'}]}]," \
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
    expect_request(TOOL_REQ("'parallel_tool_calls':false,'tool_choice':'none'"), TOOL_OUT(",'tool_choice':{'type':'none'}"));
    expect_request(TOOL_REQ("'parallel_tool_calls':true"), TOOL_OUT(""));
    /* without tools, "auto" and "none" mean nothing (Anthropic refuses tool_choice without tools) */
    expect_request("{'model':'m','tool_choice':'none','messages':[{'role':'user','content':'w'}]}",
                   "{'model':'m','max_tokens':1000,'messages':[{'role':'user','content':[{'type':'text','text':'w'}]}]}");

    /* a tool round trip: assistant tool_calls -> tool_use with parsed input (empty arguments -> {}),
     * consecutive tool messages -> one user turn of tool_results, and the user message that follows
     * joins that same turn; text-part tool content is joined into a string */
    expect_request("{'model':'m','messages':[{'role':'user','content':'Weather in Paris and Rome?'},"
                   "{'role':'assistant','content':'Checking.','tool_calls':["
                   "{'id':'call_1','type':'function','function':{'name':'get_weather','arguments':'{\\'city\\':\\'Paris\\'}'}},"
                   "{'id':'call_2','type':'function','function':{'name':'now','arguments':''}}]},"
                   "{'role':'tool','tool_call_id':'call_1','content':'sunny'},"
                   "{'role':'tool','tool_call_id':'call_2','content':[{'type':'text','text':'12:00'},{'type':'text','text':'UTC'}]},"
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
    expect_request("{'model':'m','messages':[{'role':'assistant','content':null,'tool_calls':[{'id':'c1','type':'function',"
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
    expect_400("{'model':'m','messages':[{'role':'function','name':'f','content':'hi'}]}", "messages", "role \"function\"");
    expect_400("{'model':'m','messages':['hi']}", "messages", "messages[0] must be an object");
    expect_400("{'model':'m','messages':[{'role':'system','content':'only system'}]}", "messages",
               "a user or assistant message");

    snprintf(req, sizeof(req), "{'model':'m','n':2,%s}", user);
    expect_400(req, "n", "n must be 1");
    snprintf(req, sizeof(req), "{'model':'m','logprobs':true,'top_logprobs':2,%s}", user);
    expect_400(req, "logprobs", "logprobs");
    snprintf(req, sizeof(req), "{'model':'m','response_format':{'type':'json_object'},%s}", user);
    expect_400(req, "response_format", "\"json_object\" is not supported");
    snprintf(req, sizeof(req), "{'model':'m','response_format':{'type':'json_schema','json_schema':{'name':'x'}},%s}", user);
    expect_400(req, "response_format", "\"json_schema\" is not supported");
    snprintf(req, sizeof(req), "{'model':'m','logit_bias':{'50256':-100},%s}", user);
    expect_400(req, "logit_bias", "logit_bias");
    snprintf(req, sizeof(req), "{'model':'m','audio':{'voice':'alloy','format':'wav'},'modalities':['text','audio'],%s}", user);
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
    snprintf(req, sizeof(req), "{'model':'m','tools':[{'type':'function','function':{'name':'f','parameters':'x'}}],%s}", user);
    expect_400(req, "tools", "parameters");
    snprintf(req, sizeof(req), "{'model':'m','tools':[{'type':'function','function':{'name':'f'}}],'tool_choice':'sometimes',%s}", user);
    expect_400(req, "tool_choice", "tool_choice must be");
    snprintf(req, sizeof(req), "{'model':'m','tools':[{'type':'function','function':{'name':'f'}}],'tool_choice':{'type':'function'},%s}", user);
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
    expect_400("{'model':'m','messages':[{'role':'assistant','tool_calls':[{'type':'function','function':{'name':'f'}}]}]}",
               "messages", "tool_calls[0].id is required");
    expect_400("{'model':'m','messages':[{'role':'assistant','tool_calls':{}}]}", "messages", "tool_calls must be an array");
    expect_400("{'model':'m','messages':[{'role':'tool','content':'r'}]}", "messages", "tool_call_id is required");
    expect_400("{'model':'m','messages':[{'role':'user','content':[{'type':'input_audio','input_audio':{'data':'AA==',"
               "'format':'wav'}}]}]}",
               "messages", "content part type \"input_audio\" is not supported");
    expect_400("{'model':'m','messages':[{'role':'user','content':[{'type':'file','file':{'file_id':'file-1'}}]}]}",
               "messages", "file_data");
    expect_400("{'model':'m','messages':[{'role':'user','content':[{'type':'image_url','image_url':{'url':'ftp://x/y.png'}}]}]}",
               "messages", "image_url.url");
    expect_400("{'model':'m','messages':[{'role':'user','content':[{'type':'image_url','image_url':{'url':'data:text/plain;base64,AA=='}}]}]}",
               "messages", "image_url.url");
    expect_400("{'model':'m','messages':[{'role':'user','content':[{'type':'image_url','image_url':{'url':'data:image/png,raw'}}]}]}",
               "messages", "image_url.url");
    expect_400("{'model':'m','messages':[{'role':'user','content':[{'type':'text'}]}]}", "messages",
               "content[0].text must be a string");
    expect_400("{'model':'m','messages':[{'role':'system','content':[{'type':'image_url','image_url':{'url':'https://x/y.png'}}]},"
               "{'role':'user','content':'hi'}]}",
               "messages", "only text parts");
    expect_400("{'model':'m','messages':[{'role':'user','content':42}]}", "messages", "content must be a string or an array");
}

/* ---- responses ---------------------------------------------------------------------------- */

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
    expect_response("{'id':'msg_02','type':'message','content':[{'type':'tool_use','id':'t','name':'f','input':{}}],"
                    "'stop_reason':'tool_use','usage':{'input_tokens':1,'output_tokens':2}}",
                    "{'id':'chatcmpl-msg_02','object':'chat.completion','model':'gpt-4o','choices':[{'index':0,"
                    "'message':{'role':'assistant','content':null,'tool_calls':[{'id':'t','type':'function',"
                    "'function':{'name':'f','arguments':'{}'}}],'refusal':null},'finish_reason':'tool_calls','logprobs':null}],"
                    "'usage':{'prompt_tokens':1,'completion_tokens':2,'total_tokens':3}}");

    /* finish_reason for each stop_reason */
    static const char *const stops[][2] = {{"end_turn", "stop"},         {"stop_sequence", "stop"},
                                           {"max_tokens", "length"},     {"tool_use", "tool_calls"},
                                           {"refusal", "content_filter"}, {"pause_turn", "stop"},
                                           {"something_new", "stop"}};
    for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
        char msg[300], exp[600];
        snprintf(msg, sizeof(msg), "{'id':'m','type':'message','content':[{'type':'text','text':'x'}],'stop_reason':'%s',"
                 "'usage':{'input_tokens':1,'output_tokens':1}}", stops[i][0]);
        snprintf(exp, sizeof(exp), "{'id':'chatcmpl-m','object':'chat.completion','model':'gpt-4o','choices':[{'index':0,"
                 "'message':{'role':'assistant','content':'x','refusal':null},'finish_reason':'%s','logprobs':null}],"
                 "'usage':{'prompt_tokens':1,'completion_tokens':1,'total_tokens':2}}", stops[i][1]);
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
    expect_error(529, "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"},\"request_id\":\"r\"}",
                 "{'error':{'message':'Overloaded','type':'overloaded_error','param':null,'code':'overloaded_error'}}");
    /* not Anthropic JSON: a generic message with the status, a type from the status, no code */
    expect_error(502, "<html>bad gateway</html>",
                 "{'error':{'message':'upstream error (HTTP 502)','type':'api_error','param':null,'code':null}}");
    expect_error(503, NULL, "{'error':{'message':'upstream error (HTTP 503)','type':'api_error','param':null,'code':null}}");
    expect_error(401, "", "{'error':{'message':'upstream error (HTTP 401)','type':'authentication_error','param':null,'code':null}}");
    expect_error(429, "{}", "{'error':{'message':'upstream error (HTTP 429)','type':'rate_limit_error','param':null,'code':null}}");
    expect_error(400, "{\"error\":\"x\"}", "{'error':{'message':'upstream error (HTTP 400)','type':'invalid_request_error','param':null,'code':null}}");
    /* Bedrock's {"message": ...} keeps its message */
    expect_error(403, "{\"message\":\"The security token included in the request is invalid.\"}",
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
    expect_bad_answer(200, "<html>captive portal</html>",
                      "{'error':{'message':'the upstream answered HTTP 200 with a body that is not an Anthropic message',"
                      "'type':'api_error','param':null,'code':null}}");
    expect_bad_answer(200, "{\"id\":\"msg_1\",\"type\":\"message\",\"content\":[{\"type\"",
                      "{'error':{'message':'the upstream answered HTTP 200 with a body that is not an Anthropic message',"
                      "'type':'api_error','param':null,'code':null}}");
    expect_bad_answer(201, "", "{'error':{'message':'the upstream answered HTTP 201 with a body that is not an Anthropic "
                               "message','type':'api_error','param':null,'code':null}}");
    /* an error object keeps its words */
    expect_bad_answer(200, "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}",
                      "{'error':{'message':'Overloaded','type':'overloaded_error','param':null,'code':'overloaded_error'}}");
}

/* ---- streaming ---------------------------------------------------------------------------- */

/* Replaces every "@T" in the single-quoted text by created and quotes it. */
static char *expand(const char *sq, long long created)
{
    char *d = dq(sq);
    sbuf out = SBUF_INIT;
    for (const char *c = d; *c; c++) {
        if (c[0] == '@' && c[1] == 'T') {
            sbuf_printf(&out, "%lld", created);
            c++;
        } else {
            sbuf_putc(&out, *c);
        }
    }
    free(d);
    return sbuf_steal(&out);
}

struct step {
    const char *event; /* NULL: openai_stream_finish, or openai_stream_fail if data is set */
    const char *data;  /* single-quoted; for openai_stream_fail the message, as is */
    int result;
    const char *out; /* what this one event must append, single-quoted, "@T" for created */
};

static long long created_of(const char *out)
{
    const char *c = out ? strstr(out, "\"created\":") : NULL;
    return c ? strtoll(c + 10, NULL, 10) : -1;
}

/* Runs the steps through one stream, checking each event's output as soon as it is fed. */
static void run_stream_at(int line, const char *model, int include_usage, const struct step *steps, size_t n)
{
    long long before = (long long)time(NULL);
    struct openai_stream *s = openai_stream_new(model, include_usage);
    long long created = -1;
    for (size_t i = 0; i < n; i++) {
        sbuf out = SBUF_INIT;
        int r = 0;
        if (steps[i].event) {
            char *data = dq(steps[i].data);
            r = openai_stream_event(s, steps[i].event, strlen(steps[i].event), data, strlen(data), &out);
            free(data);
        } else if (steps[i].data) {
            openai_stream_fail(s, "api_error", steps[i].data, &out);
        } else {
            openai_stream_finish(s, &out);
        }
        if (created < 0 && created_of(out.data) >= 0) {
            created = created_of(out.data);
            CHECK(created >= before && created <= before + 5);
        }
        char *exp = expand(steps[i].out, created);
        check_count++;
        if (r != steps[i].result || strcmp(out.data ? out.data : "", exp) != 0) {
            check_failures++;
            fprintf(stderr, "line %d, step %zu (%s): result %d (expected %d)\n  got:      %s\n  expected: %s\n", line,
                    i, steps[i].event ? steps[i].event : steps[i].data ? "fail" : "finish", r, steps[i].result, out.data ? out.data : "", exp);
        }
        free(exp);
        sbuf_free(&out);
    }
    openai_stream_free(s);
}
#define run_stream(model, usage, steps) run_stream_at(__LINE__, (model), (usage), (steps), sizeof(steps) / sizeof((steps)[0]))

#define HEAD "data: {'id':'chatcmpl-msg_1','object':'chat.completion.chunk','created':@T,'model':'gpt-4o','choices':["
#define NOFIN ",'finish_reason':null,'logprobs':null}]"

static void test_stream_text_and_tools(void)
{
    static const struct step steps[] = {
        {"message_start",
         "{'type':'message_start','message':{'id':'msg_1','type':'message','role':'assistant','content':[],"
         "'model':'claude-x','stop_reason':null,'usage':{'input_tokens':20,'cache_read_input_tokens':5,"
         "'cache_creation_input_tokens':3,'output_tokens':1}}}",
         0, HEAD "{'index':0,'delta':{'role':'assistant','content':''}" NOFIN ",'usage':null}\n\n"},
        {"ping", "{'type': 'ping'}", 0, ""},
        {"content_block_start", "{'type':'content_block_start','index':0,'content_block':{'type':'thinking','thinking':''}}", 0, ""},
        {"content_block_delta", "{'type':'content_block_delta','index':0,'delta':{'type':'thinking_delta','thinking':'hmm'}}", 0, ""},
        {"content_block_delta", "{'type':'content_block_delta','index':0,'delta':{'type':'signature_delta','signature':'s'}}", 0, ""},
        {"content_block_stop", "{'type':'content_block_stop','index':0}", 0, ""},
        {"content_block_start", "{'type':'content_block_start','index':1,'content_block':{'type':'text','text':''}}", 0, ""},
        {"content_block_delta", "{'type':'content_block_delta','index':1,'delta':{'type':'text_delta','text':'Hello'}}",
         0, HEAD "{'index':0,'delta':{'content':'Hello'}" NOFIN ",'usage':null}\n\n"},
        {"content_block_delta", "{'type':'content_block_delta','index':1,'delta':{'type':'text_delta','text':' \\'world\\'\\n'}}",
         0, HEAD "{'index':0,'delta':{'content':' \\'world\\'\\n'}" NOFIN ",'usage':null}\n\n"},
        {"content_block_stop", "{'type':'content_block_stop','index':1}", 0, ""},
        {"content_block_start",
         "{'type':'content_block_start','index':2,'content_block':{'type':'tool_use','id':'toolu_9','name':'get_weather','input':{}}}",
         0, HEAD "{'index':0,'delta':{'tool_calls':[{'index':0,'id':'toolu_9','type':'function','function':"
                 "{'name':'get_weather','arguments':''}}]}" NOFIN ",'usage':null}\n\n"},
        {"content_block_delta", "{'type':'content_block_delta','index':2,'delta':{'type':'input_json_delta','partial_json':''}}", 0, ""},
        {"content_block_delta",
         "{'type':'content_block_delta','index':2,'delta':{'type':'input_json_delta','partial_json':'{\\'city\\':'}}",
         0, HEAD "{'index':0,'delta':{'tool_calls':[{'index':0,'function':{'arguments':'{\\'city\\':'}}]}" NOFIN ",'usage':null}\n\n"},
        {"content_block_delta",
         "{'type':'content_block_delta','index':2,'delta':{'type':'input_json_delta','partial_json':' \\'Paris\\'}'}}",
         0, HEAD "{'index':0,'delta':{'tool_calls':[{'index':0,'function':{'arguments':' \\'Paris\\'}'}}]}" NOFIN ",'usage':null}\n\n"},
        {"content_block_stop", "{'type':'content_block_stop','index':2}", 0, ""},
        {"content_block_start",
         "{'type':'content_block_start','index':3,'content_block':{'type':'tool_use','id':'toolu_10','name':'now','input':{}}}",
         0, HEAD "{'index':0,'delta':{'tool_calls':[{'index':1,'id':'toolu_10','type':'function','function':"
                 "{'name':'now','arguments':''}}]}" NOFIN ",'usage':null}\n\n"},
        {"content_block_delta", "{'type':'content_block_delta','index':3,'delta':{'type':'input_json_delta','partial_json':'{}'}}",
         0, HEAD "{'index':0,'delta':{'tool_calls':[{'index':1,'function':{'arguments':'{}'}}]}" NOFIN ",'usage':null}\n\n"},
        {"content_block_stop", "{'type':'content_block_stop','index':3}", 0, ""},
        {"message_delta", "{'type':'message_delta','delta':{'stop_reason':'tool_use','stop_sequence':null},'usage':{'output_tokens':42}}",
         0, HEAD "{'index':0,'delta':{},'finish_reason':'tool_calls','logprobs':null}],'usage':null}\n\n"},
        {"message_stop", "{'type':'message_stop'}",
         0, HEAD "],'usage':{'prompt_tokens':28,'completion_tokens':42,'total_tokens':70}}\n\n"},
        {NULL, NULL, 0, "data: [DONE]\n\n"},
        {NULL, NULL, 0, ""}, /* finish is idempotent */
        {"message_stop", "{'type':'message_stop'}", 0, ""}, /* nothing after the end */
    };
    run_stream("gpt-4o", 1, steps);
}

#define HEAD2 "data: {'id':'chatcmpl-msg_2','object':'chat.completion.chunk','created':@T,'model':'m','choices':["

static void test_stream_without_usage(void)
{
    /* no "usage" members and no usage chunk; max_tokens -> length */
    static const struct step steps[] = {
        {"message_start", "{'type':'message_start','message':{'id':'msg_2','usage':{'input_tokens':3,'output_tokens':1}}}",
         0, HEAD2 "{'index':0,'delta':{'role':'assistant','content':''}" NOFIN "}\n\n"},
        {"content_block_delta", "{'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':'Hi'}}",
         0, HEAD2 "{'index':0,'delta':{'content':'Hi'}" NOFIN "}\n\n"},
        {"message_delta", "{'type':'message_delta','delta':{'stop_reason':'max_tokens'},'usage':{'output_tokens':9}}",
         0, HEAD2 "{'index':0,'delta':{},'finish_reason':'length','logprobs':null}]}\n\n"},
        {"message_stop", "{'type':'message_stop'}", 0, ""},
        {NULL, NULL, 0, "data: [DONE]\n\n"},
    };
    run_stream("m", 0, steps);
}

static void test_stream_error(void)
{
    /* an Anthropic error event mid-stream: an OpenAI error chunk, -1, and nothing after it, not even
     * [DONE] (which would say the answer is complete) */
    static const struct step steps[] = {
        {"message_start", "{'type':'message_start','message':{'id':'msg_2','usage':{'input_tokens':3,'output_tokens':1}}}",
         0, HEAD2 "{'index':0,'delta':{'role':'assistant','content':''}" NOFIN ",'usage':null}\n\n"},
        {"content_block_delta", "{'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':'Hi'}}",
         0, HEAD2 "{'index':0,'delta':{'content':'Hi'}" NOFIN ",'usage':null}\n\n"},
        {"error", "{'type':'error','error':{'type':'overloaded_error','message':'Overloaded'}}", -1,
         "data: {'error':{'message':'Overloaded','type':'overloaded_error','param':null,'code':'overloaded_error'}}\n\n"},
        {"content_block_delta", "{'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':'more'}}", -1, ""},
        {"message_stop", "{'type':'message_stop'}", -1, ""},
        {NULL, NULL, 0, ""}, /* no usage chunk and no [DONE] after an error */
    };
    run_stream("m", 1, steps);

    /* an error event whose data is not JSON: by the event name, with a generic message */
    static const struct step garbled[] = {
        {"error", "upstream went away", -1,
         "data: {'error':{'message':'the upstream stream failed','type':'api_error','param':null,'code':null}}\n\n"},
    };
    run_stream("m", 0, garbled);
}

#define HEADP "data: {'id':'chatcmpl-proxy','object':'chat.completion.chunk','created':@T,'model':'m','choices':["

static void test_stream_fail(void)
{
    /* cut off after a text delta: an error chunk, no finish_reason, no usage, no [DONE] */
    static const struct step cut[] = {
        {"message_start", "{'type':'message_start','message':{'id':'msg_2','usage':{'input_tokens':3,'output_tokens':1}}}",
         0, HEAD2 "{'index':0,'delta':{'role':'assistant','content':''}" NOFIN ",'usage':null}\n\n"},
        {"content_block_delta", "{'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':'Hi'}}",
         0, HEAD2 "{'index':0,'delta':{'content':'Hi'}" NOFIN ",'usage':null}\n\n"},
        {NULL, "cut off", 0, "data: {'error':{'message':'cut off','type':'api_error','param':null,'code':null}}\n\n"},
        {NULL, "again", 0, ""}, /* one error only */
        {"content_block_delta", "{'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':'more'}}", -1, ""},
        {NULL, NULL, 0, ""},
    };
    run_stream("m", 1, cut);

    /* after message_stop the answer is whole: a late failure changes nothing */
    static const struct step late[] = {
        {"message_stop", "{'type':'message_stop'}", 0,
         HEADP "{'index':0,'delta':{'role':'assistant','content':''}" NOFIN "}\n\n"
         HEADP "{'index':0,'delta':{},'finish_reason':'stop','logprobs':null}]}\n\n"},
        {NULL, "too late", 0, ""},
        {NULL, NULL, 0, "data: [DONE]\n\n"},
        {NULL, "after the end", 0, ""},
    };
    run_stream("m", 0, late);
}

static void test_stream_odd_orders(void)
{
    /* deltas before any message_start still get the role chunk first; data without a type goes by
     * the event name; a stream cut before message_stop still gets its usage chunk from finish, with
     * the larger (cumulative) input count of message_delta */
    static const struct step steps[] = {
        {"content_block_delta", "{'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':'x'}}", 0,
         HEADP "{'index':0,'delta':{'role':'assistant','content':''}" NOFIN ",'usage':null}\n\n"
         HEADP "{'index':0,'delta':{'content':'x'}" NOFIN ",'usage':null}\n\n"},
        {"content_block_delta", "{'type':'content_block_delta','index':0,'delta':{'type':'input_json_delta','partial_json':'{}'}}", 0, ""},
        {"message_delta", "{'delta':{'stop_reason':'end_turn'},'usage':{'input_tokens':50,'output_tokens':4}}", 0,
         HEADP "{'index':0,'delta':{},'finish_reason':'stop','logprobs':null}],'usage':null}\n\n"},
        {"message_delta", "{'type':'message_delta','delta':{'stop_reason':'max_tokens'}}", 0, ""}, /* one finish only */
        {"bogus", "not json", 0, ""},
        {NULL, NULL, 0, HEADP "],'usage':{'prompt_tokens':50,'completion_tokens':4,'total_tokens':54}}\n\ndata: [DONE]\n\n"},
    };
    run_stream("m", 1, steps);

    /* message_stop without a stop_reason still finishes with "stop" */
    static const struct step bare[] = {
        {"message_stop", "{'type':'message_stop'}", 0,
         HEADP "{'index':0,'delta':{'role':'assistant','content':''}" NOFIN "}\n\n"
         HEADP "{'index':0,'delta':{},'finish_reason':'stop','logprobs':null}]}\n\n"},
        {NULL, NULL, 0, "data: [DONE]\n\n"},
    };
    run_stream("m", 0, bare);
}

int main(void)
{
    test_request_basics();
    test_request_content();
    test_request_tools();
    test_request_errors();
    test_response();
    test_error_conversion();
    test_bad_answer();
    test_stream_text_and_tools();
    test_stream_without_usage();
    test_stream_error();
    test_stream_fail();
    test_stream_odd_orders();
    CHECK_DONE();
}
