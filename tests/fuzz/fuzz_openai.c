/* libFuzzer: OpenAI request translation, response translation and error conversion. Whatever the
 * input, each output is well-formed JSON of the promised shape (sampling within 0..1), and exactly
 * one of the request's outputs (translation or error) is written. */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "openai/request.h"
#include "openai/response.h"

/* The deepest nesting in a JSON text (cJSON refuses more than 1000 levels, so translated requests
 * that nest the client's own 1000-level schema a few levels deeper cannot be re-parsed). */
static int depth_of(const char *s, size_t len)
{
    int d = 0, max = 0, in_string = 0;
    for (size_t i = 0; i < len; i++) {
        if (in_string) {
            if (s[i] == '\\')
                i++;
            else if (s[i] == '"')
                in_string = 0;
        } else if (s[i] == '"') {
            in_string = 1;
        } else if (s[i] == '{' || s[i] == '[') {
            if (++d > max)
                max = d;
        } else if (s[i] == '}' || s[i] == ']') {
            d--;
        }
    }
    return max;
}

static cJSON *parse_or_die(const sbuf *b)
{
    if (b->len == 0)
        abort();
    cJSON *j = cJSON_ParseWithLength(b->data, b->len);
    if (j == NULL && depth_of(b->data, b->len) < 1000)
        abort();
    return j;
}

static void check_error_shape(const sbuf *b)
{
    cJSON *j = parse_or_die(b);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "message")) ||
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "type")) ||
        cJSON_GetObjectItemCaseSensitive(e, "param") == NULL || cJSON_GetObjectItemCaseSensitive(e, "code") == NULL)
        abort();
    cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    sbuf out = SBUF_INIT, err = SBUF_INIT;
    struct openai_request_info info;
    int status = openai_request_to_anthropic(in, size, 1024, &out, &info, &err);
    if (status == 0) {
        if (err.len != 0 || info.model[0] == '\0' || (info.include_usage && !info.stream))
            abort();
        cJSON *j = parse_or_die(&out);
        if (j != NULL) {
            const cJSON *messages = cJSON_GetObjectItemCaseSensitive(j, "messages"), *m;
            if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "model")) ||
                !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "max_tokens")) || cJSON_GetArraySize(messages) == 0)
                abort();
            /* sampling stays within Anthropic's 0..1 (OpenAI's temperature up to 2 is a 400) */
            static const char *const sampling[] = {"temperature", "top_p"};
            for (size_t i = 0; i < 2; i++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, sampling[i]);
                if (v != NULL && !(cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 1))
                    abort();
            }
            /* roles alternate and no turn is empty */
            const char *prev = NULL;
            cJSON_ArrayForEach(m, messages)
            {
                const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "role"));
                if (role == NULL || (prev && strcmp(prev, role) == 0) ||
                    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "content")) == 0)
                    abort();
                prev = role;
            }
            cJSON_Delete(j);
        }
    } else {
        if (status != 400 || out.len != 0)
            abort();
        check_error_shape(&err);
    }

    sbuf_reset(&out);
    if (openai_response_from_anthropic(in, size, "m", &out) == 0) {
        cJSON *j = parse_or_die(&out);
        if (j != NULL && !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "choices")))
            abort();
        cJSON_Delete(j);
    } else if (out.len != 0) {
        abort();
    }

    sbuf_reset(&out);
    openai_error_from_anthropic(size ? 400 + data[0] : 500, in, size, &out);
    check_error_shape(&out);

    sbuf_reset(&out);
    openai_error_for_bad_answer(200, in, size, &out);
    check_error_shape(&out);
    sbuf_free(&out);
    sbuf_free(&err);
    return 0;
}
