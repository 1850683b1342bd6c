#include "openai.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- request ------------------------------------------------------------------------------ */

static int fail(sbuf *err, const char *param, const char *fmt, const char *arg)
{
    char msg[400];
    snprintf(msg, sizeof(msg), fmt, arg ? arg : "");
    sbuf_puts(err, "{\"error\":{\"message\":");
    sbuf_json_string(err, msg, strlen(msg));
    sbuf_puts(err, ",\"type\":\"invalid_request_error\",\"param\":");
    if (param)
        sbuf_json_string(err, param, strlen(param));
    else
        sbuf_puts(err, "null");
    sbuf_puts(err, ",\"code\":null}}");
    return 400;
}

/* "data:image/png;base64,AAAA" -> image block; http(s) -> url source */
static cJSON *image_block(const char *url)
{
    cJSON *block = cJSON_CreateObject(), *source = cJSON_CreateObject();
    cJSON_AddStringToObject(block, "type", "image");
    if (strncmp(url, "data:", 5) == 0) {
        const char *semi = strchr(url, ';'), *comma = strchr(url, ',');
        if (semi == NULL || comma == NULL || comma < semi || strncmp(semi, ";base64,", 8) != 0) {
            cJSON_Delete(block);
            cJSON_Delete(source);
            return NULL;
        }
        char media[100];
        snprintf(media, sizeof(media), "%.*s", (int)(semi - url - 5), url + 5);
        cJSON_AddStringToObject(source, "type", "base64");
        cJSON_AddStringToObject(source, "media_type", media);
        cJSON_AddStringToObject(source, "data", comma + 1);
    } else {
        cJSON_AddStringToObject(source, "type", "url");
        cJSON_AddStringToObject(source, "url", url);
    }
    cJSON_AddItemToObject(block, "source", source);
    return block;
}

/* OpenAI content (string or parts) -> an array of Anthropic blocks, or NULL with err. */
static cJSON *content_blocks(const cJSON *content, sbuf *err, int *status)
{
    cJSON *blocks = cJSON_CreateArray();
    if (cJSON_IsString(content)) {
        if (content->valuestring[0] != '\0') {
            cJSON *b = cJSON_CreateObject();
            cJSON_AddStringToObject(b, "type", "text");
            cJSON_AddStringToObject(b, "text", content->valuestring);
            cJSON_AddItemToArray(blocks, b);
        }
        return blocks;
    }
    if (content == NULL || cJSON_IsNull(content))
        return blocks;
    if (!cJSON_IsArray(content)) {
        *status = fail(err, "messages", "message content must be a string or an array of parts%s", NULL);
        cJSON_Delete(blocks);
        return NULL;
    }
    const cJSON *part;
    cJSON_ArrayForEach(part, content)
    {
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(part, "type"));
        if (type && strcmp(type, "text") == 0) {
            const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(part, "text"));
            cJSON *b = cJSON_CreateObject();
            cJSON_AddStringToObject(b, "type", "text");
            cJSON_AddStringToObject(b, "text", text ? text : "");
            cJSON_AddItemToArray(blocks, b);
        } else if (type && strcmp(type, "image_url") == 0) {
            const cJSON *iu = cJSON_GetObjectItemCaseSensitive(part, "image_url");
            const char *url = cJSON_IsString(iu) ? iu->valuestring
                                                 : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(iu, "url"));
            cJSON *b = url ? image_block(url) : NULL;
            if (b == NULL) {
                *status = fail(err, "messages", "image_url must be an http(s) URL or a base64 data URL%s", NULL);
                cJSON_Delete(blocks);
                return NULL;
            }
            cJSON_AddItemToArray(blocks, b);
        } else {
            *status = fail(err, "messages", "content part type \"%s\" is not supported", type ? type : "(none)");
            cJSON_Delete(blocks);
            return NULL;
        }
    }
    return blocks;
}

/* Appends blocks to the last Anthropic message if it has this role, else a new message. */
static void add_turn(cJSON *messages, const char *role, cJSON *blocks)
{
    cJSON *last = cJSON_GetArrayItem(messages, cJSON_GetArraySize(messages) - 1);
    const char *last_role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(last, "role"));
    if (last_role && strcmp(last_role, role) == 0) {
        cJSON *content = cJSON_GetObjectItemCaseSensitive(last, "content");
        cJSON *b;
        while ((b = cJSON_DetachItemFromArray(blocks, 0)) != NULL)
            cJSON_AddItemToArray(content, b);
        cJSON_Delete(blocks);
        return;
    }
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", role);
    cJSON_AddItemToObject(m, "content", blocks);
    cJSON_AddItemToArray(messages, m);
}

static int translate_messages(const cJSON *in, cJSON *out, sbuf *system, sbuf *err)
{
    cJSON *messages = cJSON_AddArrayToObject(out, "messages");
    const cJSON *m;
    int status = 0;
    cJSON_ArrayForEach(m, in)
    {
        const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "role"));
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (role == NULL)
            return fail(err, "messages", "every message needs a role%s", NULL);
        if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
            cJSON *blocks = content_blocks(content, err, &status);
            if (blocks == NULL)
                return status;
            const cJSON *b;
            cJSON_ArrayForEach(b, blocks)
            {
                const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "text"));
                if (t) {
                    if (system->len)
                        sbuf_puts(system, "\n\n");
                    sbuf_puts(system, t);
                }
            }
            cJSON_Delete(blocks);
        } else if (strcmp(role, "user") == 0) {
            cJSON *blocks = content_blocks(content, err, &status);
            if (blocks == NULL)
                return status;
            add_turn(messages, "user", blocks);
        } else if (strcmp(role, "assistant") == 0) {
            cJSON *blocks = content_blocks(content, err, &status);
            if (blocks == NULL)
                return status;
            const cJSON *call;
            cJSON_ArrayForEach(call, cJSON_GetObjectItemCaseSensitive(m, "tool_calls"))
            {
                const cJSON *fn = cJSON_GetObjectItemCaseSensitive(call, "function");
                const char *args = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fn, "arguments"));
                cJSON *input = cJSON_Parse(args && *args ? args : "{}");
                if (!cJSON_IsObject(input)) {
                    cJSON_Delete(input);
                    cJSON_Delete(blocks);
                    return fail(err, "messages", "tool_calls arguments must be a JSON object string%s", NULL);
                }
                cJSON *b = cJSON_CreateObject();
                cJSON_AddStringToObject(b, "type", "tool_use");
                const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(call, "id"));
                const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fn, "name"));
                cJSON_AddStringToObject(b, "id", id ? id : "toolu_missing");
                cJSON_AddStringToObject(b, "name", name ? name : "");
                cJSON_AddItemToObject(b, "input", input);
                cJSON_AddItemToArray(blocks, b);
            }
            add_turn(messages, "assistant", blocks);
        } else if (strcmp(role, "tool") == 0) {
            cJSON *blocks = cJSON_CreateArray(), *b = cJSON_CreateObject();
            const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "tool_call_id"));
            if (id == NULL) {
                cJSON_Delete(blocks);
                cJSON_Delete(b);
                return fail(err, "messages", "a tool message needs tool_call_id%s", NULL);
            }
            cJSON_AddStringToObject(b, "type", "tool_result");
            cJSON_AddStringToObject(b, "tool_use_id", id);
            if (cJSON_IsString(content)) {
                cJSON_AddStringToObject(b, "content", content->valuestring);
            } else {
                cJSON *inner = content_blocks(content, err, &status);
                if (inner == NULL) {
                    cJSON_Delete(blocks);
                    cJSON_Delete(b);
                    return status;
                }
                cJSON_AddItemToObject(b, "content", inner);
            }
            cJSON_AddItemToArray(blocks, b);
            add_turn(messages, "user", blocks); /* consecutive tool results share one user turn */
        } else {
            return fail(err, "messages", "unknown message role \"%s\"", role);
        }
    }
    if (cJSON_GetArraySize(messages) == 0)
        return fail(err, "messages", "messages must contain at least one user or assistant message%s", NULL);
    return 0;
}

static int translate_tools(const cJSON *req, cJSON *out, sbuf *err)
{
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(req, "tools");
    if (cJSON_IsArray(tools) && cJSON_GetArraySize(tools) > 0) {
        cJSON *arr = cJSON_AddArrayToObject(out, "tools");
        const cJSON *t;
        cJSON_ArrayForEach(t, tools)
        {
            const cJSON *fn = cJSON_GetObjectItemCaseSensitive(t, "function");
            const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fn, "name"));
            if (name == NULL)
                return fail(err, "tools", "every tool needs function.name%s", NULL);
            cJSON *a = cJSON_CreateObject();
            cJSON_AddStringToObject(a, "name", name);
            const char *desc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fn, "description"));
            if (desc)
                cJSON_AddStringToObject(a, "description", desc);
            const cJSON *params = cJSON_GetObjectItemCaseSensitive(fn, "parameters");
            cJSON_AddItemToObject(a, "input_schema", params ? cJSON_Duplicate(params, 1)
                                                            : cJSON_Parse("{\"type\":\"object\",\"properties\":{}}"));
            cJSON_AddItemToArray(arr, a);
        }
    }
    const cJSON *choice = cJSON_GetObjectItemCaseSensitive(req, "tool_choice");
    const cJSON *parallel = cJSON_GetObjectItemCaseSensitive(req, "parallel_tool_calls");
    cJSON *tc = NULL;
    if (cJSON_IsString(choice)) {
        const char *c = choice->valuestring;
        tc = cJSON_CreateObject();
        cJSON_AddStringToObject(tc, "type", strcmp(c, "required") == 0 ? "any" : strcmp(c, "none") == 0 ? "none" : "auto");
    } else if (cJSON_IsObject(choice)) {
        const char *name =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(choice, "function"), "name"));
        if (name == NULL)
            return fail(err, "tool_choice", "tool_choice needs function.name%s", NULL);
        tc = cJSON_CreateObject();
        cJSON_AddStringToObject(tc, "type", "tool");
        cJSON_AddStringToObject(tc, "name", name);
    }
    if (cJSON_IsFalse(parallel) && cJSON_GetObjectItemCaseSensitive(out, "tools") != NULL) {
        if (tc == NULL) {
            tc = cJSON_CreateObject();
            cJSON_AddStringToObject(tc, "type", "auto");
        }
        cJSON_AddBoolToObject(tc, "disable_parallel_tool_use", 1);
    }
    if (tc)
        cJSON_AddItemToObject(out, "tool_choice", tc);
    return 0;
}

int openai_request_to_anthropic(const char *body, size_t len, int default_max_tokens, sbuf *out,
                                struct openai_request_info *info, sbuf *err_json)
{
    memset(info, 0, sizeof(*info));
    cJSON *req = cJSON_ParseWithLength(body, len);
    if (req == NULL)
        return fail(err_json, NULL, "request body is not valid JSON%s", NULL);
    int status = 0;
    cJSON *o = cJSON_CreateObject();
    sbuf system = SBUF_INIT;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(req, "model");
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(req, "messages");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(req, "n");
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(req, "response_format");
    const char *rf_type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rf, "type"));
    if (!cJSON_IsObject(req))
        status = fail(err_json, NULL, "request body must be a JSON object%s", NULL);
    else if (!cJSON_IsString(model) || model->valuestring[0] == '\0')
        status = fail(err_json, "model", "model is required%s", NULL);
    else if (!cJSON_IsArray(messages) || cJSON_GetArraySize(messages) == 0)
        status = fail(err_json, "messages", "messages is required and must be a non-empty array%s", NULL);
    else if (cJSON_IsNumber(n) && n->valueint != 1)
        status = fail(err_json, "n", "n must be 1: one choice per request is supported%s", NULL);
    else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "logprobs")))
        status = fail(err_json, "logprobs", "logprobs are not supported%s", NULL);
    else if (rf != NULL && !cJSON_IsNull(rf) && (rf_type == NULL || strcmp(rf_type, "text") != 0))
        status = fail(err_json, "response_format", "response_format \"%s\" is not supported", rf_type ? rf_type : "?");
    if (status)
        goto Done;
    snprintf(info->model, sizeof(info->model), "%s", model->valuestring);
    cJSON_AddStringToObject(o, "model", model->valuestring);
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(req, "max_completion_tokens");
    if (!cJSON_IsNumber(mt))
        mt = cJSON_GetObjectItemCaseSensitive(req, "max_tokens");
    cJSON_AddNumberToObject(o, "max_tokens", cJSON_IsNumber(mt) && mt->valuedouble >= 1 ? mt->valuedouble : default_max_tokens);
    if ((status = translate_messages(messages, o, &system, err_json)) != 0)
        goto Done;
    if (system.len)
        cJSON_AddStringToObject(o, "system", system.data);
    if ((status = translate_tools(req, o, err_json)) != 0)
        goto Done;
    static const char *const numbers[] = {"temperature", "top_p"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, numbers[i]);
        if (cJSON_IsNumber(v))
            cJSON_AddNumberToObject(o, numbers[i], v->valuedouble);
    }
    const cJSON *stop = cJSON_GetObjectItemCaseSensitive(req, "stop");
    if (cJSON_IsString(stop)) {
        cJSON *arr = cJSON_AddArrayToObject(o, "stop_sequences");
        cJSON_AddItemToArray(arr, cJSON_CreateString(stop->valuestring));
    } else if (cJSON_IsArray(stop) && cJSON_GetArraySize(stop) > 0) {
        cJSON_AddItemToObject(o, "stop_sequences", cJSON_Duplicate(stop, 1));
    }
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(req, "user");
    if (cJSON_IsString(user)) {
        cJSON *meta = cJSON_AddObjectToObject(o, "metadata");
        cJSON_AddStringToObject(meta, "user_id", user->valuestring);
    }
    info->stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "stream"));
    if (info->stream)
        cJSON_AddBoolToObject(o, "stream", 1);
    info->include_usage =
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(req, "stream_options"), "include_usage"));
    char *printed = cJSON_PrintUnformatted(o);
    sbuf_puts(out, printed);
    free(printed);
Done:
    sbuf_free(&system);
    cJSON_Delete(o);
    cJSON_Delete(req);
    return status;
}

/* ---- responses ----------------------------------------------------------------------------- */

static const char *finish_reason(const char *stop)
{
    if (stop == NULL)
        return NULL;
    if (strcmp(stop, "max_tokens") == 0)
        return "length";
    if (strcmp(stop, "tool_use") == 0)
        return "tool_calls";
    if (strcmp(stop, "refusal") == 0)
        return "content_filter";
    return "stop";
}

static double usage_input(const cJSON *usage)
{
    double n = 0;
    static const char *const keys[] = {"input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(usage, keys[i]);
        if (cJSON_IsNumber(v))
            n += v->valuedouble;
    }
    return n;
}

static cJSON *usage_object(double input, double output)
{
    cJSON *u = cJSON_CreateObject();
    cJSON_AddNumberToObject(u, "prompt_tokens", input);
    cJSON_AddNumberToObject(u, "completion_tokens", output);
    cJSON_AddNumberToObject(u, "total_tokens", input + output);
    return u;
}

static void completion_id(char *out, size_t n, const char *msg_id)
{
    snprintf(out, n, "chatcmpl-%s", msg_id ? msg_id : "proxy");
}

int openai_response_from_anthropic(const char *json, size_t len, const char *model, sbuf *out)
{
    cJSON *msg = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsObject(msg)) {
        cJSON_Delete(msg);
        return -1;
    }
    char id[300];
    completion_id(id, sizeof(id), cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "id")));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "object", "chat.completion");
    cJSON_AddNumberToObject(o, "created", (double)time(NULL));
    cJSON_AddStringToObject(o, "model", model);
    cJSON *choices = cJSON_AddArrayToObject(o, "choices");
    cJSON *choice = cJSON_CreateObject();
    cJSON_AddNumberToObject(choice, "index", 0);
    cJSON *message = cJSON_AddObjectToObject(choice, "message");
    cJSON_AddStringToObject(message, "role", "assistant");
    sbuf text = SBUF_INIT;
    cJSON *calls = cJSON_CreateArray();
    const cJSON *block;
    cJSON_ArrayForEach(block, cJSON_GetObjectItemCaseSensitive(msg, "content"))
    {
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(block, "type"));
        if (type && strcmp(type, "text") == 0) {
            const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(block, "text"));
            sbuf_puts(&text, t ? t : "");
        } else if (type && strcmp(type, "tool_use") == 0) {
            cJSON *c = cJSON_CreateObject();
            cJSON_AddStringToObject(c, "id", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(block, "id")));
            cJSON_AddStringToObject(c, "type", "function");
            cJSON *fn = cJSON_AddObjectToObject(c, "function");
            cJSON_AddStringToObject(fn, "name", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(block, "name")));
            char *args = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(block, "input"));
            cJSON_AddStringToObject(fn, "arguments", args ? args : "{}");
            free(args);
            cJSON_AddItemToArray(calls, c);
        }
    }
    if (text.len || cJSON_GetArraySize(calls) == 0)
        cJSON_AddStringToObject(message, "content", text.data ? text.data : "");
    else
        cJSON_AddNullToObject(message, "content");
    if (cJSON_GetArraySize(calls) > 0)
        cJSON_AddItemToObject(message, "tool_calls", calls);
    else
        cJSON_Delete(calls);
    cJSON_AddNullToObject(message, "refusal");
    const char *fr = finish_reason(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "stop_reason")));
    cJSON_AddStringToObject(choice, "finish_reason", fr ? fr : "stop");
    cJSON_AddNullToObject(choice, "logprobs");
    cJSON_AddItemToArray(choices, choice);
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(msg, "usage");
    const cJSON *output = cJSON_GetObjectItemCaseSensitive(usage, "output_tokens");
    cJSON_AddItemToObject(o, "usage", usage_object(usage_input(usage), cJSON_IsNumber(output) ? output->valuedouble : 0));
    char *printed = cJSON_PrintUnformatted(o);
    sbuf_puts(out, printed);
    free(printed);
    sbuf_free(&text);
    cJSON_Delete(o);
    cJSON_Delete(msg);
    return 0;
}

void openai_error_from_anthropic(int status, const char *body, size_t len, sbuf *out)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "type"));
    const char *message = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "message"));
    char fallback[100];
    snprintf(fallback, sizeof(fallback), "upstream error (HTTP %d)", status);
    sbuf_puts(out, "{\"error\":{\"message\":");
    const char *m = message ? message : fallback;
    sbuf_json_string(out, m, strlen(m));
    const char *t = type ? type : status >= 500 ? "api_error" : "invalid_request_error";
    sbuf_puts(out, ",\"type\":");
    sbuf_json_string(out, t, strlen(t));
    sbuf_puts(out, ",\"param\":null,\"code\":");
    if (type)
        sbuf_json_string(out, type, strlen(type));
    else
        sbuf_puts(out, "null");
    sbuf_puts(out, "}}");
    cJSON_Delete(j);
}

/* ---- streaming ------------------------------------------------------------------------------ */

struct openai_stream {
    char model[256];
    char id[300];
    long created;
    int include_usage;
    int tool_index;     /* the next tool call's index */
    int block_is_tool;  /* the current content block is a tool_use */
    int current_tool;   /* its index */
    double input_tokens, output_tokens;
    int finished, done;
};

struct openai_stream *openai_stream_new(const char *model, int include_usage)
{
    struct openai_stream *s = calloc(1, sizeof(*s));
    if (s == NULL)
        abort();
    snprintf(s->model, sizeof(s->model), "%s", model);
    snprintf(s->id, sizeof(s->id), "chatcmpl-proxy");
    s->created = (long)time(NULL);
    s->include_usage = include_usage;
    return s;
}

void openai_stream_free(struct openai_stream *s) { free(s); }

/* data: {"id":..,"object":"chat.completion.chunk",..,"choices":[{"index":0,"delta":DELTA,"finish_reason":FR}]} */
static void chunk(struct openai_stream *s, sbuf *out, cJSON *delta, const char *finish)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "id", s->id);
    cJSON_AddStringToObject(c, "object", "chat.completion.chunk");
    cJSON_AddNumberToObject(c, "created", (double)s->created);
    cJSON_AddStringToObject(c, "model", s->model);
    cJSON *choices = cJSON_AddArrayToObject(c, "choices");
    cJSON *choice = cJSON_CreateObject();
    cJSON_AddNumberToObject(choice, "index", 0);
    cJSON_AddItemToObject(choice, "delta", delta);
    if (finish)
        cJSON_AddStringToObject(choice, "finish_reason", finish);
    else
        cJSON_AddNullToObject(choice, "finish_reason");
    cJSON_AddNullToObject(choice, "logprobs");
    cJSON_AddItemToArray(choices, choice);
    if (s->include_usage)
        cJSON_AddNullToObject(c, "usage");
    char *p = cJSON_PrintUnformatted(c);
    sbuf_printf(out, "data: %s\n\n", p);
    free(p);
    cJSON_Delete(c);
}

static void usage_chunk(struct openai_stream *s, sbuf *out)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "id", s->id);
    cJSON_AddStringToObject(c, "object", "chat.completion.chunk");
    cJSON_AddNumberToObject(c, "created", (double)s->created);
    cJSON_AddStringToObject(c, "model", s->model);
    cJSON_AddArrayToObject(c, "choices");
    cJSON_AddItemToObject(c, "usage", usage_object(s->input_tokens, s->output_tokens));
    char *p = cJSON_PrintUnformatted(c);
    sbuf_printf(out, "data: %s\n\n", p);
    free(p);
    cJSON_Delete(c);
}

int openai_stream_event(struct openai_stream *s, const char *event, size_t event_len, const char *data,
                        size_t data_len, sbuf *out)
{
    (void)event_len;
    if (s->done)
        return -1;
    cJSON *ev = cJSON_ParseWithLength(data, data_len);
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "type"));
    if (type == NULL)
        type = event;
    int r = 0;
    if (strcmp(type, "message_start") == 0) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(ev, "message");
        completion_id(s->id, sizeof(s->id), cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "id")));
        s->input_tokens = usage_input(cJSON_GetObjectItemCaseSensitive(msg, "usage"));
        cJSON *delta = cJSON_CreateObject();
        cJSON_AddStringToObject(delta, "role", "assistant");
        cJSON_AddStringToObject(delta, "content", "");
        chunk(s, out, delta, NULL);
    } else if (strcmp(type, "content_block_start") == 0) {
        const cJSON *block = cJSON_GetObjectItemCaseSensitive(ev, "content_block");
        const char *bt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(block, "type"));
        s->block_is_tool = bt && strcmp(bt, "tool_use") == 0;
        if (s->block_is_tool) {
            s->current_tool = s->tool_index++;
            cJSON *delta = cJSON_CreateObject(), *calls = cJSON_AddArrayToObject(delta, "tool_calls");
            cJSON *call = cJSON_CreateObject();
            cJSON_AddNumberToObject(call, "index", s->current_tool);
            cJSON_AddStringToObject(call, "id", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(block, "id")));
            cJSON_AddStringToObject(call, "type", "function");
            cJSON *fn = cJSON_AddObjectToObject(call, "function");
            cJSON_AddStringToObject(fn, "name", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(block, "name")));
            cJSON_AddStringToObject(fn, "arguments", "");
            cJSON_AddItemToArray(calls, call);
            chunk(s, out, delta, NULL);
        }
    } else if (strcmp(type, "content_block_delta") == 0) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(ev, "delta");
        const char *dt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "type"));
        if (dt && strcmp(dt, "text_delta") == 0) {
            cJSON *delta = cJSON_CreateObject();
            const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "text"));
            cJSON_AddStringToObject(delta, "content", t ? t : "");
            chunk(s, out, delta, NULL);
        } else if (dt && strcmp(dt, "input_json_delta") == 0 && s->block_is_tool) {
            const char *pj = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "partial_json"));
            cJSON *delta = cJSON_CreateObject(), *calls = cJSON_AddArrayToObject(delta, "tool_calls");
            cJSON *call = cJSON_CreateObject();
            cJSON_AddNumberToObject(call, "index", s->current_tool);
            cJSON *fn = cJSON_AddObjectToObject(call, "function");
            cJSON_AddStringToObject(fn, "arguments", pj ? pj : "");
            cJSON_AddItemToArray(calls, call);
            chunk(s, out, delta, NULL);
        }
    } else if (strcmp(type, "message_delta") == 0) {
        const cJSON *out_tokens =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev, "usage"), "output_tokens");
        if (cJSON_IsNumber(out_tokens))
            s->output_tokens = out_tokens->valuedouble;
        const char *fr = finish_reason(
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev, "delta"), "stop_reason")));
        if (fr && !s->finished) {
            s->finished = 1;
            chunk(s, out, cJSON_CreateObject(), fr);
        }
    } else if (strcmp(type, "message_stop") == 0) {
        if (!s->finished) {
            s->finished = 1;
            chunk(s, out, cJSON_CreateObject(), "stop");
        }
    } else if (strcmp(type, "error") == 0) {
        sbuf e = SBUF_INIT;
        openai_error_from_anthropic(500, data, data_len, &e);
        sbuf_printf(out, "data: %s\n\n", e.data);
        sbuf_free(&e);
        s->done = 1;
        r = -1;
    }
    cJSON_Delete(ev);
    return r;
}

void openai_stream_finish(struct openai_stream *s, sbuf *out)
{
    if (s->done == 2)
        return;
    if (s->include_usage && s->done == 0)
        usage_chunk(s, out);
    sbuf_puts(out, "data: [DONE]\n\n");
    s->done = 2;
}
