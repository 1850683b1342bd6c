/* What the OpenAI translators share: reading Anthropic's JSON (one exact value, token counts) and
 * writing the pieces OpenAI's answers have in common (completion ids, usage, finish_reason, error
 * objects), so that a response and a stream say the same thing in the same words. */
#include "openai/json.h"
#include <stdio.h>
#include <string.h>

cJSON *openai_json_parse(const char *s, size_t len)
{
    if (s == NULL || len == 0)
        return NULL;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(s, len, &end, 0);
    if (j == NULL)
        return NULL;
    while (end < s + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (end != s + len) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

long long openai_tokens(const cJSON *v)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 1e15)
        return 0;
    return (long long)v->valuedouble;
}

long long openai_usage_input(const cJSON *usage)
{
    return openai_tokens(GET(usage, "input_tokens")) + openai_tokens(GET(usage, "cache_read_input_tokens")) +
           openai_tokens(GET(usage, "cache_creation_input_tokens"));
}

const char *openai_finish_reason(const char *stop)
{
    if (stop == NULL)
        return NULL;
    if (strcmp(stop, "max_tokens") == 0 || strcmp(stop, "model_context_window_exceeded") == 0)
        return "length";
    if (strcmp(stop, "tool_use") == 0)
        return "tool_calls";
    if (strcmp(stop, "refusal") == 0)
        return "content_filter";
    return "stop"; /* end_turn, stop_sequence, pause_turn, anything new */
}

void openai_usage_json(sbuf *out, long long input, long long output)
{
    sbuf_printf(out, "{\"prompt_tokens\":%lld,\"completion_tokens\":%lld,\"total_tokens\":%lld}", input, output,
                input + output);
}

void openai_completion_id(char *out, size_t n, const char *msg_id)
{
    snprintf(out, n, "chatcmpl-%s", msg_id && msg_id[0] ? msg_id : "proxy");
}
