/* OpenAI Chat Completions <-> Anthropic Messages translation (no I/O: the endpoint does that).
 *
 * Requests: system/developer messages become `system`; user, assistant and tool messages become
 * alternating user/assistant turns (consecutive same-role messages and consecutive tool results are
 * merged into one turn); tools, tool_choice, parallel_tool_calls, max_tokens, temperature, top_p,
 * stop, stream and user are translated. Parameters that would change what the client gets but
 * cannot be honoured (n > 1, logprobs, response_format other than text, non-empty logit_bias,
 * audio output, legacy functions, unsupported content parts) are a 400, not silently dropped.
 * Responses and streams come back as chat.completion / chat.completion.chunk objects. */
#ifndef CP_OPENAI_H
#define CP_OPENAI_H
#include <stddef.h>
#include "common/sbuf.h"

struct openai_request_info {
    int stream;        /* "stream": true */
    int include_usage; /* "stream_options": {"include_usage": true} */
    char model[256];   /* the requested model, echoed in responses */
};

/* Translates a Chat Completions request into an Anthropic Messages body (appended to out).
 * Returns 0, or the HTTP status of an error (400) with an OpenAI error object appended to err_json:
 * {"error":{"message":...,"type":"invalid_request_error","param":<name or null>,"code":null}}.
 * default_max_tokens is used when the request has neither max_completion_tokens nor max_tokens. */
int openai_request_to_anthropic(const char *body, size_t len, int default_max_tokens, sbuf *out,
                                struct openai_request_info *info, sbuf *err_json);

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

/* Streaming: one Anthropic SSE event in, zero or more "data: {chunk}\n\n" lines out, at once. */
struct openai_stream;
struct openai_stream *openai_stream_new(const char *model, int include_usage);
/* event need not be NUL-terminated. Returns 0, or -1 for an Anthropic `error` event: an OpenAI
 * error chunk "data: {"error":{...}}\n\n" is appended and the stream is over (later events are
 * ignored and return -1 too). */
int openai_stream_event(struct openai_stream *s, const char *event, size_t event_len, const char *data,
                        size_t data_len, sbuf *out);
/* The upstream stream broke (cut off, timed out, unreadable) before message_stop: appends an error
 * chunk {"error":{"message":message,"type":type,"param":null,"code":null}} and ends the stream as an
 * error event does. Nothing once the stream has ended (message_stop, an error, or finish). */
void openai_stream_fail(struct openai_stream *s, const char *type, const char *message, sbuf *out);
/* End of stream: the usage chunk if asked for and not yet sent, then "data: [DONE]\n\n". After an
 * error nothing: [DONE] would tell the client the answer is complete. Only the first call appends. */
void openai_stream_finish(struct openai_stream *s, sbuf *out);
void openai_stream_free(struct openai_stream *s);

#endif
