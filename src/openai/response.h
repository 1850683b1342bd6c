/* Anthropic answers -> OpenAI Chat Completions answers (no I/O): a message as a chat.completion,
 * an error body as an OpenAI error object. */
#ifndef CP_OPENAI_RESPONSE_H
#define CP_OPENAI_RESPONSE_H
#include <stddef.h>
#include "common/sbuf.h"

/* An Anthropic message (non-streaming) -> a chat.completion (appended to out). Returns 0, or -1
 * (nothing appended) if json is not an Anthropic message, e.g. an error object. */
int openai_response_from_anthropic(const char *json, size_t len, const char *model, sbuf *out);

/* An Anthropic error body {"type":"error","error":{"type":T,"message":M}} (or anything else, e.g.
 * an empty body) -> {"error":{"message":M,"type":T,"param":null,"code":T or null}}. */
void openai_error_from_anthropic(int status, const char *body, size_t len, sbuf *out);

/* A 2xx answer (HTTP status `status`) that openai_response_from_anthropic could not read (an HTML
 * page, a cut JSON, an error object): the OpenAI error to send with a 502. An error object's
 * message and type are kept; anything else says the upstream's answer was not a message. */
void openai_error_for_bad_answer(int status, const char *body, size_t len, sbuf *out);

#endif
