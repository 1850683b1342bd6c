/* OpenAI Chat Completions <-> Anthropic Messages translation. */
#ifndef CP_OPENAI_H
#define CP_OPENAI_H
#include <stddef.h>
#include "sbuf.h"

struct openai_request_info {
    int stream;
    int include_usage;
    char model[256];
};

/* Translates a Chat Completions request into an Anthropic Messages body. Returns 0, or the HTTP
 * status of an error (400) with err_json set to an OpenAI error object. */
int openai_request_to_anthropic(const char *body, size_t len, int default_max_tokens, sbuf *out,
                                struct openai_request_info *info, sbuf *err_json);

/* An Anthropic message (non-streaming) -> a chat.completion. Returns 0 or -1 if unreadable. */
int openai_response_from_anthropic(const char *json, size_t len, const char *model, sbuf *out);

/* An Anthropic error body (or anything else) -> an OpenAI error object. */
void openai_error_from_anthropic(int status, const char *body, size_t len, sbuf *out);

/* Streaming: one Anthropic SSE event in, zero or more "data: {chunk}\n\n" lines out. */
struct openai_stream;
struct openai_stream *openai_stream_new(const char *model, int include_usage);
/* Returns 0, or -1 after an Anthropic error event (an error chunk was written; the stream is over). */
int openai_stream_event(struct openai_stream *s, const char *event, size_t event_len, const char *data,
                        size_t data_len, sbuf *out);
/* The usage chunk if asked and not yet sent, then "data: [DONE]" (once). */
void openai_stream_finish(struct openai_stream *s, sbuf *out);
void openai_stream_free(struct openai_stream *s);

#endif
