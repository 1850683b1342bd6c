/* Anthropic answers -> OpenAI's: a message becomes a chat.completion, an error body (Anthropic's
 * or Bedrock's) an OpenAI error object, and a 2xx body that is no message the error a 502 sends. */
#include "openai/response.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "openai/json.h"
#include "core/errors.h"

int openai_response_from_anthropic(const char *json, size_t len, const char *model, sbuf *out)
{
    cJSON *msg = openai_json_parse(json, len);
    const char *type = GET_STR(msg, "type");
    if (!cJSON_IsObject(msg) || (type != NULL && strcmp(type, "message") != 0) || !cJSON_IsArray(GET(msg, "content"))) {
        cJSON_Delete(msg);
        return -1;
    }
    sbuf text = SBUF_INIT;
    int has_text = 0, ncalls = 0;
    sbuf calls = SBUF_INIT;
    const cJSON *block;
    cJSON_ArrayForEach(block, GET(msg, "content"))
    {
        const char *bt = GET_STR(block, "type");
        if (streq(bt, "text")) {
            const char *t = GET_STR(block, "text");
            sbuf_puts(&text, t ? t : "");
            has_text = 1;
        } else if (streq(bt, "tool_use")) {
            const char *id = GET_STR(block, "id"), *name = GET_STR(block, "name");
            const cJSON *input = GET(block, "input");
            char *args = cJSON_IsObject(input) ? cJSON_PrintUnformatted(input) : NULL;
            sbuf_puts(&calls, ncalls++ ? "," : "");
            sbuf_puts(&calls, "{\"id\":");
            sbuf_json_string(&calls, id ? id : "", id ? strlen(id) : 0);
            sbuf_puts(&calls, ",\"type\":\"function\",\"function\":{\"name\":");
            sbuf_json_string(&calls, name ? name : "", name ? strlen(name) : 0);
            sbuf_puts(&calls, ",\"arguments\":");
            sbuf_json_string(&calls, args ? args : "{}", args ? strlen(args) : 2);
            sbuf_puts(&calls, "}}");
            free(args);
        } /* thinking, redacted_thinking and server tool blocks are not part of the answer */
    }
    char id[300];
    openai_completion_id(id, sizeof(id), GET_STR(msg, "id"));
    sbuf_puts(out, "{\"id\":");
    sbuf_json_string(out, id, strlen(id));
    sbuf_printf(out, ",\"object\":\"chat.completion\",\"created\":%lld,\"model\":", (long long)time(NULL));
    sbuf_json_string(out, model, strlen(model));
    sbuf_puts(out, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
    if (has_text)
        sbuf_json_string(out, text.data ? text.data : "", text.len);
    else
        sbuf_puts(out, "null");
    if (ncalls) {
        sbuf_puts(out, ",\"tool_calls\":[");
        sbuf_append(out, calls.data, calls.len);
        sbuf_puts(out, "]");
    }
    const char *fr = openai_finish_reason(GET_STR(msg, "stop_reason"));
    sbuf_printf(out, ",\"refusal\":null},\"finish_reason\":\"%s\",\"logprobs\":null}],\"usage\":", fr ? fr : "stop");
    const cJSON *usage = GET(msg, "usage");
    openai_usage_json(out, openai_usage_input(usage), openai_tokens(GET(usage, "output_tokens")));
    sbuf_puts(out, "}");
    sbuf_free(&text);
    sbuf_free(&calls);
    cJSON_Delete(msg);
    return 0;
}

/* The OpenAI error type for an HTTP status when the body does not say. */
static const char *status_type(int status)
{
    switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 529: return "overloaded_error";
    default: return status >= 500 || status < 400 ? "api_error" : "invalid_request_error";
    }
}

/* The message of an Anthropic error object, or of Bedrock's {"message": ...}; NULL if none. */
static const char *upstream_error_message(const cJSON *j)
{
    const char *message = GET_STR(GET(j, "error"), "message");
    if (message == NULL)
        message = GET_STR(j, "message");
    if (message == NULL)
        message = GET_STR(j, "Message");
    return message != NULL && message[0] != '\0' ? message : NULL;
}

void openai_error_from_anthropic(int status, const char *body, size_t len, sbuf *out)
{
    cJSON *j = openai_json_parse(body, len);
    const char *type = GET_STR(GET(j, "error"), "type"), *message = upstream_error_message(j);
    if (type != NULL && type[0] == '\0')
        type = NULL;
    char fallback[100];
    if (message == NULL) {
        snprintf(fallback, sizeof(fallback), "upstream error (HTTP %d)", status);
        message = fallback;
    }
    error_json_openai(out, type ? type : status_type(status), message, NULL, type);
    cJSON_Delete(j);
}

void openai_error_for_bad_answer(int status, const char *body, size_t len, sbuf *out)
{
    cJSON *j = openai_json_parse(body, len);
    if (upstream_error_message(j) != NULL) {
        openai_error_from_anthropic(502, body, len, out);
    } else {
        char message[120];
        snprintf(message, sizeof(message), "the upstream answered HTTP %d with a body that is not an Anthropic message",
                 status);
        error_json_openai(out, "api_error", message, NULL, NULL);
    }
    cJSON_Delete(j);
}
