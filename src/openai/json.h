/* What the OpenAI translators (request.c, response.c, stream.c) share, and nothing outside this
 * folder uses: reading Anthropic's JSON and writing the pieces common to OpenAI's answers. */
#ifndef CP_OPENAI_JSON_H
#define CP_OPENAI_JSON_H
#include <cjson/cJSON.h>
#include <stddef.h>
#include <string.h>
#include "common/sbuf.h"

#define GET(obj, key) cJSON_GetObjectItemCaseSensitive((obj), (key))
#define GET_STR(obj, key) cJSON_GetStringValue(GET((obj), (key)))

static inline int streq(const char *a, const char *b) { return a != NULL && strcmp(a, b) == 0; }

/* Parses exactly len bytes as one JSON value (trailing garbage is an error, unlike cJSON's default).
 * NULL if it is none; the caller frees the result with cJSON_Delete. */
cJSON *openai_json_parse(const char *s, size_t len);
/* A token count from an Anthropic usage object: missing, negative or absurd values count as 0. */
long long openai_tokens(const cJSON *v);
/* The prompt tokens of an Anthropic usage object: input plus cache reads and writes. */
long long openai_usage_input(const cJSON *usage);
/* The finish_reason for an Anthropic stop_reason (NULL for NULL). */
const char *openai_finish_reason(const char *stop);
/* Appends an OpenAI usage object. */
void openai_usage_json(sbuf *out, long long input, long long output);
/* "chatcmpl-<message id>" (or chatcmpl-proxy without one) in out. */
void openai_completion_id(char *out, size_t n, const char *msg_id);

#endif
