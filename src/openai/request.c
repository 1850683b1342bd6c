/* OpenAI Chat Completions request -> Anthropic Messages body (see request.h for what is
 * translated and what is refused). No I/O: the endpoint reads the body and sends the result. */
#include "openai/request.h"
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openai/json.h"
#include "core/errors.h"

struct xlate {
    sbuf *err;
    cJSON *messages; /* the Anthropic turns */
    sbuf system;
};

__attribute__((format(printf, 3, 4))) static int fail(sbuf *err, const char *param, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    error_json_openai(err, "invalid_request_error", msg, param, NULL);
    return 400;
}

static cJSON *text_block(const char *text)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "type", "text");
    cJSON_AddStringToObject(b, "text", text);
    return b;
}

/* A base64 data URL "data:<media type>;base64,<data>" -> a base64 source, or NULL. */
static cJSON *base64_source(const char *url)
{
    if (strncmp(url, "data:", 5) != 0)
        return NULL;
    const char *media = url + 5, *semi = strchr(media, ';');
    if (semi == NULL || semi == media || semi - media > 100 || strncmp(semi, ";base64,", 8) != 0)
        return NULL;
    char type[128];
    snprintf(type, sizeof(type), "%.*s", (int)(semi - media), media);
    cJSON *source = cJSON_CreateObject();
    cJSON_AddStringToObject(source, "type", "base64");
    cJSON_AddStringToObject(source, "media_type", type);
    cJSON_AddStringToObject(source, "data", semi + 8);
    return source;
}

/* {"type":"image_url","image_url":{"url":...}} -> an Anthropic image block, or NULL. */
static cJSON *image_block(const cJSON *part)
{
    const cJSON *iu = GET(part, "image_url");
    const char *url = cJSON_IsString(iu) ? iu->valuestring : GET_STR(iu, "url");
    if (url == NULL)
        return NULL;
    cJSON *source;
    if (strncmp(url, "data:", 5) == 0) {
        if (strncmp(url + 5, "image/", 6) != 0 || (source = base64_source(url)) == NULL)
            return NULL;
    } else if (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0) {
        source = cJSON_CreateObject();
        cJSON_AddStringToObject(source, "type", "url");
        cJSON_AddStringToObject(source, "url", url);
    } else {
        return NULL;
    }
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "type", "image");
    cJSON_AddItemToObject(b, "source", source);
    return b;
}

/* {"type":"file","file":{"file_data":"data:application/pdf;base64,..."}} -> a document block. */
static cJSON *file_block(const cJSON *part)
{
    const char *data = GET_STR(GET(part, "file"), "file_data");
    if (data == NULL || strncmp(data, "data:application/pdf;", 21) != 0)
        return NULL;
    cJSON *source = base64_source(data);
    if (source == NULL)
        return NULL;
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "type", "document");
    cJSON_AddItemToObject(b, "source", source);
    return b;
}

enum { PARTS_TEXT = 0, PARTS_USER = 1, PARTS_ASSISTANT = 2 };

/* Message i's content (a string, null, or an array of parts) -> Anthropic blocks appended to
 * blocks. Empty text is dropped (Anthropic rejects empty text blocks). Returns 0 or 400. */
static int content_blocks(struct xlate *x, int i, const cJSON *content, int kind, cJSON *blocks)
{
    if (content == NULL || cJSON_IsNull(content))
        return 0;
    if (cJSON_IsString(content)) {
        if (content->valuestring[0] != '\0')
            cJSON_AddItemToArray(blocks, text_block(content->valuestring));
        return 0;
    }
    if (!cJSON_IsArray(content))
        return fail(x->err, "messages", "messages[%d].content must be a string or an array of content parts", i);
    const cJSON *part;
    int j = 0;
    cJSON_ArrayForEach(part, content)
    {
        const char *type = GET_STR(part, "type");
        cJSON *b = NULL;
        if (streq(type, "text") || (kind == PARTS_ASSISTANT && streq(type, "refusal"))) {
            const char *text = GET_STR(part, type);
            if (text == NULL)
                return fail(x->err, "messages", "messages[%d].content[%d].%s must be a string", i, j, type);
            if (text[0] != '\0')
                b = text_block(text);
        } else if (kind == PARTS_USER && streq(type, "image_url")) {
            if ((b = image_block(part)) == NULL)
                return fail(x->err, "messages",
                            "messages[%d].content[%d].image_url.url must be an http(s) URL or a base64 data URL "
                            "of an image (data:image/...;base64,...)",
                            i, j);
        } else if (kind == PARTS_USER && streq(type, "file")) {
            if ((b = file_block(part)) == NULL)
                return fail(x->err, "messages",
                            "messages[%d].content[%d]: only files given inline as file_data "
                            "\"data:application/pdf;base64,...\" are supported",
                            i, j);
        } else {
            return fail(x->err, "messages", "messages[%d].content[%d]: content part type \"%.40s\" is not supported%s",
                        i, j, type ? type : "(none)", kind == PARTS_TEXT ? " here: only text parts are allowed" : "");
        }
        if (b)
            cJSON_AddItemToArray(blocks, b);
        j++;
    }
    return 0;
}

/* Message i's content as plain text (system, developer and tool messages): text parts joined by sep. */
static int content_text(struct xlate *x, int i, const cJSON *content, const char *sep, sbuf *text)
{
    cJSON *blocks = cJSON_CreateArray();
    int status = content_blocks(x, i, content, PARTS_TEXT, blocks);
    const cJSON *b;
    cJSON_ArrayForEach(b, blocks)
    {
        if (text->len)
            sbuf_puts(text, sep);
        sbuf_puts(text, GET_STR(b, "text"));
    }
    cJSON_Delete(blocks);
    return status;
}

static int is_tool_result(const cJSON *b) { return streq(GET_STR(b, "type"), "tool_result"); }

/* Moves the items of src that are (or are not) tool results to the end of dst, in order. */
static void move_blocks(cJSON *dst, cJSON *src, int tool_results)
{
    cJSON *b = src->child;
    while (b != NULL) {
        cJSON *next = b->next;
        if (is_tool_result(b) == tool_results)
            cJSON_AddItemToArray(dst, cJSON_DetachItemViaPointer(src, b));
        b = next;
    }
}

/* Adds blocks as a turn of this role: appended to the last turn if it has the same role (Anthropic
 * requires alternation), else a new turn. Within a user turn tool results go ahead of other
 * content, as Anthropic requires. An empty block list adds nothing. Takes ownership of blocks.
 * (Not cJSON_InsertItemInArray: in cJSON 1.7.15 a second insertion after one at the head is lost.) */
static void add_turn(cJSON *messages, const char *role, cJSON *blocks)
{
    if (cJSON_GetArraySize(blocks) == 0) {
        cJSON_Delete(blocks);
        return;
    }
    cJSON *last = cJSON_GetArrayItem(messages, cJSON_GetArraySize(messages) - 1);
    if (!streq(GET_STR(last, "role"), role)) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", role);
        cJSON_AddItemToObject(m, "content", blocks);
        cJSON_AddItemToArray(messages, m);
        return;
    }
    cJSON *content = GET(last, "content"), *old = cJSON_CreateArray();
    move_blocks(old, content, 1);
    move_blocks(old, content, 0);
    move_blocks(content, old, 1);
    move_blocks(content, blocks, 1);
    move_blocks(content, old, 0);
    move_blocks(content, blocks, 0);
    cJSON_Delete(old);
    cJSON_Delete(blocks);
}

/* An assistant message's tool_calls -> tool_use blocks appended to blocks. */
static int tool_use_blocks(struct xlate *x, int i, const cJSON *calls, cJSON *blocks)
{
    if (calls == NULL || cJSON_IsNull(calls))
        return 0;
    if (!cJSON_IsArray(calls))
        return fail(x->err, "messages", "messages[%d].tool_calls must be an array", i);
    const cJSON *call;
    int j = 0;
    cJSON_ArrayForEach(call, calls)
    {
        const cJSON *fn = GET(call, "function");
        const char *type = GET_STR(call, "type"), *id = GET_STR(call, "id"), *name = GET_STR(fn, "name");
        const cJSON *args = GET(fn, "arguments");
        if (type != NULL && strcmp(type, "function") != 0)
            return fail(x->err, "messages", "messages[%d].tool_calls[%d]: tool call type \"%.40s\" is not supported", i,
                        j, type);
        if (id == NULL || id[0] == '\0')
            return fail(x->err, "messages", "messages[%d].tool_calls[%d].id is required", i, j);
        if (name == NULL || name[0] == '\0')
            return fail(x->err, "messages", "messages[%d].tool_calls[%d].function.name is required", i, j);
        cJSON *input;
        if (args == NULL || cJSON_IsNull(args) || (cJSON_IsString(args) && args->valuestring[0] == '\0'))
            input = cJSON_CreateObject();
        else if (cJSON_IsString(args))
            input = openai_json_parse(args->valuestring, strlen(args->valuestring));
        else
            input = NULL;
        if (!cJSON_IsObject(input)) {
            cJSON_Delete(input);
            return fail(x->err, "messages",
                        "messages[%d].tool_calls[%d].function.arguments must be a string holding a JSON object", i, j);
        }
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "type", "tool_use");
        cJSON_AddStringToObject(b, "id", id);
        cJSON_AddStringToObject(b, "name", name);
        cJSON_AddItemToObject(b, "input", input);
        cJSON_AddItemToArray(blocks, b);
        j++;
    }
    return 0;
}

static int translate_message(struct xlate *x, int i, const cJSON *m)
{
    const char *role = GET_STR(m, "role");
    const cJSON *content = GET(m, "content");
    int status;
    if (!cJSON_IsObject(m) || role == NULL)
        return fail(x->err, "messages", "messages[%d] must be an object with a string role", i);
    if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
        sbuf text = SBUF_INIT;
        status = content_text(x, i, content, "\n\n", &text);
        if (status == 0 && text.len) {
            if (x->system.len)
                sbuf_puts(&x->system, "\n\n");
            sbuf_append(&x->system, text.data, text.len);
        }
        sbuf_free(&text);
        return status;
    }
    cJSON *blocks = cJSON_CreateArray();
    if (strcmp(role, "user") == 0) {
        status = content_blocks(x, i, content, PARTS_USER, blocks);
    } else if (strcmp(role, "assistant") == 0) {
        status = content_blocks(x, i, content, PARTS_ASSISTANT, blocks);
        if (status == 0)
            status = tool_use_blocks(x, i, GET(m, "tool_calls"), blocks);
    } else if (strcmp(role, "tool") == 0) {
        const char *id = GET_STR(m, "tool_call_id");
        sbuf text = SBUF_INIT;
        if (id == NULL || id[0] == '\0')
            status = fail(x->err, "messages", "messages[%d].tool_call_id is required for role \"tool\"", i);
        else
            status = content_text(x, i, content, "\n", &text);
        if (status == 0) {
            cJSON *b = cJSON_CreateObject();
            cJSON_AddStringToObject(b, "type", "tool_result");
            cJSON_AddStringToObject(b, "tool_use_id", id);
            cJSON_AddStringToObject(b, "content", text.data ? text.data : "");
            cJSON_AddItemToArray(blocks, b);
        }
        sbuf_free(&text);
        role = "user"; /* tool results are a user turn; consecutive ones merge into one */
    } else {
        status =
            fail(x->err, "messages",
                 "messages[%d].role \"%.40s\" is not supported (system, developer, user, assistant, tool)", i, role);
    }
    if (status != 0) {
        cJSON_Delete(blocks);
        return status;
    }
    add_turn(x->messages, role, blocks);
    return 0;
}

static int translate_tools(const cJSON *req, cJSON *out, sbuf *err)
{
    const cJSON *tools = GET(req, "tools");
    if (tools != NULL && !cJSON_IsNull(tools) && !cJSON_IsArray(tools))
        return fail(err, "tools", "tools must be an array");
    cJSON *arr = cJSON_GetArraySize(tools) > 0 ? cJSON_AddArrayToObject(out, "tools") : NULL;
    const cJSON *t, *list = arr ? tools : (const cJSON *)NULL;
    int j = 0;
    cJSON_ArrayForEach(t, list)
    {
        const cJSON *fn = GET(t, "function"), *params = GET(fn, "parameters");
        const char *type = GET_STR(t, "type"), *name = GET_STR(fn, "name"), *desc = GET_STR(fn, "description");
        if (!streq(type, "function"))
            return fail(err, "tools", "tools[%d].type must be \"function\"", j);
        if (name == NULL || name[0] == '\0')
            return fail(err, "tools", "tools[%d].function.name is required", j);
        if (params != NULL && !cJSON_IsNull(params) && !cJSON_IsObject(params))
            return fail(err, "tools", "tools[%d].function.parameters must be a JSON Schema object", j);
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "name", name);
        if (desc)
            cJSON_AddStringToObject(a, "description", desc);
        cJSON *schema;
        if (cJSON_IsObject(params)) {
            schema = cJSON_Duplicate(params, 1);
        } else {
            schema = cJSON_CreateObject();
            cJSON_AddStringToObject(schema, "type", "object");
            cJSON_AddObjectToObject(schema, "properties");
        }
        cJSON_AddItemToObject(a, "input_schema", schema);
        cJSON_AddItemToArray(arr, a);
        j++;
    }

    const cJSON *choice = GET(req, "tool_choice");
    const char *type = NULL, *name = NULL;
    if (cJSON_IsString(choice)) {
        const char *c = choice->valuestring;
        type = strcmp(c, "auto") == 0       ? "auto"
               : strcmp(c, "required") == 0 ? "any"
               : strcmp(c, "none") == 0     ? "none"
                                            : NULL;
        if (type == NULL)
            return fail(err, "tool_choice", "tool_choice must be \"auto\", \"required\", \"none\" or a function");
    } else if (cJSON_IsObject(choice)) {
        name = GET_STR(GET(choice, "function"), "name");
        if (!streq(GET_STR(choice, "type"), "function") || name == NULL || name[0] == '\0')
            return fail(err, "tool_choice", "tool_choice must be {\"type\":\"function\",\"function\":{\"name\":...}}");
        type = "tool";
    } else if (choice != NULL && !cJSON_IsNull(choice)) {
        return fail(err, "tool_choice", "tool_choice must be a string or an object");
    }
    if (arr == NULL) {
        /* Anthropic refuses a tool_choice without tools; "auto" and "none" mean nothing then */
        if (type != NULL && strcmp(type, "auto") != 0 && strcmp(type, "none") != 0)
            return fail(err, "tool_choice", "tool_choice requires tools");
        return 0;
    }
    int serial = cJSON_IsFalse(GET(req, "parallel_tool_calls"));
    if (type == NULL && serial)
        type = "auto";
    if (type == NULL)
        return 0;
    cJSON *tc = cJSON_AddObjectToObject(out, "tool_choice");
    cJSON_AddStringToObject(tc, "type", type);
    if (name)
        cJSON_AddStringToObject(tc, "name", name);
    if (serial && strcmp(type, "none") != 0)
        cJSON_AddBoolToObject(tc, "disable_parallel_tool_use", 1);
    return 0;
}

static int present(const cJSON *v) { return v != NULL && !cJSON_IsNull(v); }

/* Request parameters that cannot be honoured: a 400 rather than a silently different answer. */
static int check_unsupported(const cJSON *req, sbuf *err)
{
    const cJSON *n = GET(req, "n");
    if (present(n) && !(cJSON_IsNumber(n) && n->valuedouble == 1))
        return fail(err, "n", "n must be 1: only one choice per request is supported");
    if (cJSON_IsTrue(GET(req, "logprobs")))
        return fail(err, "logprobs", "logprobs are not supported");
    const cJSON *rf = GET(req, "response_format");
    if (present(rf) && !streq(GET_STR(rf, "type"), "text"))
        return fail(err, "response_format",
                    "response_format of type \"%.40s\" is not supported; describe the format in a message instead",
                    GET_STR(rf, "type") ? GET_STR(rf, "type") : "?");
    const cJSON *bias = GET(req, "logit_bias");
    if (present(bias) && !(cJSON_IsObject(bias) && bias->child == NULL))
        return fail(err, "logit_bias", "logit_bias is not supported");
    if (present(GET(req, "audio")))
        return fail(err, "audio", "audio output is not supported");
    const cJSON *mod;
    cJSON_ArrayForEach(mod, GET(req, "modalities"))
    {
        if (!streq(cJSON_GetStringValue(mod), "text"))
            return fail(err, "modalities", "only the \"text\" modality is supported");
    }
    if (present(GET(req, "functions")) || present(GET(req, "function_call")))
        return fail(err, present(GET(req, "functions")) ? "functions" : "function_call",
                    "functions and function_call are deprecated and not supported; use tools and tool_choice");
    return 0;
}

/* max_completion_tokens, else max_tokens, else the default; a present value must be a positive integer. */
static int max_tokens(const cJSON *req, int default_max_tokens, double *out, sbuf *err)
{
    static const char *const keys[] = {"max_completion_tokens", "max_tokens"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *v = GET(req, keys[i]);
        if (!present(v))
            continue;
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 1 && v->valuedouble <= 2147483647.0) ||
            v->valuedouble != (double)(long long)v->valuedouble)
            return fail(err, keys[i], "%s must be a positive integer", keys[i]);
        *out = v->valuedouble;
        return 0;
    }
    *out = default_max_tokens;
    return 0;
}

/* temperature and top_p: numbers within Anthropic's range, 0 to 1. */
static int sampling_number(const cJSON *req, const char *name, cJSON *o, sbuf *err)
{
    const cJSON *v = GET(req, name);
    if (!present(v))
        return 0;
    if (!cJSON_IsNumber(v))
        return fail(err, name, "%s must be a number", name);
    /* OpenAI's temperature goes up to 2, Claude's only to 1: forwarding a higher value would be an
     * upstream 400 in Anthropic's words, and clamping it would silently change the sampling */
    if (strcmp(name, "temperature") == 0 && v->valuedouble > 1 && v->valuedouble <= 2)
        return fail(err, name,
                    "temperature %g is not supported: Claude models accept 0 to 1 (OpenAI's range is 0 to 2)",
                    v->valuedouble);
    if (!(v->valuedouble >= 0 && v->valuedouble <= 1))
        return fail(err, name, "%s must be between 0 and 1", name);
    cJSON_AddNumberToObject(o, name, v->valuedouble);
    return 0;
}

static int translate_sampling(const cJSON *req, cJSON *o, sbuf *err)
{
    int status;
    if ((status = sampling_number(req, "temperature", o, err)) != 0 ||
        (status = sampling_number(req, "top_p", o, err)) != 0)
        return status;
    const cJSON *stop = GET(req, "stop");
    if (cJSON_IsString(stop)) {
        cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "stop_sequences"), cJSON_CreateString(stop->valuestring));
    } else if (cJSON_IsArray(stop)) {
        const cJSON *s;
        cJSON_ArrayForEach(s, stop)
        {
            if (!cJSON_IsString(s))
                return fail(err, "stop", "stop must be a string or an array of strings");
        }
        if (cJSON_GetArraySize(stop) > 0)
            cJSON_AddItemToObject(o, "stop_sequences", cJSON_Duplicate(stop, 1));
    } else if (present(stop)) {
        return fail(err, "stop", "stop must be a string or an array of strings");
    }
    return 0;
}

int openai_request_to_anthropic(const char *body, size_t len, int default_max_tokens, sbuf *out,
                                struct openai_request_info *info, sbuf *err_json)
{
    memset(info, 0, sizeof(*info));
    cJSON *req = openai_json_parse(body, len);
    if (req == NULL)
        return fail(err_json, NULL, "the request body is not valid JSON");
    cJSON *o = cJSON_CreateObject();
    struct xlate x = {err_json, NULL, SBUF_INIT};
    const cJSON *model = GET(req, "model"), *messages = GET(req, "messages");
    int status = 0;
    double max = 0;
    if (!cJSON_IsObject(req))
        status = fail(err_json, NULL, "the request body must be a JSON object");
    else if (!cJSON_IsString(model) || model->valuestring[0] == '\0')
        status = fail(err_json, "model", "model is required");
    else if (!cJSON_IsArray(messages) || cJSON_GetArraySize(messages) == 0)
        status = fail(err_json, "messages", "messages is required and must be a non-empty array");
    else if ((status = check_unsupported(req, err_json)) == 0)
        status = max_tokens(req, default_max_tokens, &max, err_json);
    if (status != 0)
        goto Done;

    cJSON_AddStringToObject(o, "model", model->valuestring);
    cJSON_AddNumberToObject(o, "max_tokens", max);
    x.messages = cJSON_AddArrayToObject(o, "messages");
    const cJSON *m;
    int i = 0;
    cJSON_ArrayForEach(m, messages)
    {
        if ((status = translate_message(&x, i++, m)) != 0)
            goto Done;
    }
    if (cJSON_GetArraySize(x.messages) == 0) {
        status = fail(err_json, "messages", "messages must contain a user or assistant message with content");
        goto Done;
    }
    if (x.system.len)
        cJSON_AddStringToObject(o, "system", x.system.data);
    if ((status = translate_tools(req, o, err_json)) != 0 || (status = translate_sampling(req, o, err_json)) != 0)
        goto Done;
    const char *user = GET_STR(req, "user");
    if (user != NULL && user[0] != '\0')
        cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "metadata"), "user_id", user);
    info->stream = cJSON_IsTrue(GET(req, "stream"));
    if (info->stream)
        cJSON_AddBoolToObject(o, "stream", 1);
    info->include_usage = info->stream && cJSON_IsTrue(GET(GET(req, "stream_options"), "include_usage"));
    snprintf(info->model, sizeof(info->model), "%s", model->valuestring);

    char *printed = cJSON_PrintUnformatted(o);
    if (printed == NULL)
        abort(); /* out of memory: nothing else can fail here */
    sbuf_puts(out, printed);
    free(printed);
Done:
    sbuf_free(&x.system);
    cJSON_Delete(o);
    cJSON_Delete(req);
    return status;
}
