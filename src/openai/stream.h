/* An Anthropic Messages SSE stream -> OpenAI chat.completion.chunk lines (no I/O). */
#ifndef CP_OPENAI_STREAM_H
#define CP_OPENAI_STREAM_H
#include <stddef.h>
#include "common/sbuf.h"

/* Streaming: one Anthropic SSE event in, zero or more "data: {chunk}\n\n" lines out, at once. */
struct openai_stream;
struct openai_stream *openai_stream_new(const char *model, int include_usage);
/* event need not be NUL-terminated. Returns 0, or -1 for an Anthropic `error` event: an OpenAI
 * error chunk "data: {"error":{...}}\n\n" is appended and the stream is over (later events are
 * ignored and return -1 too). */
int openai_stream_event(struct openai_stream *s, const char *event, size_t event_len, const char *data, size_t data_len,
                        sbuf *out);
/* The upstream stream broke (cut off, timed out, unreadable) before message_stop: appends an error
 * chunk {"error":{"message":message,"type":type,"param":null,"code":null}} and ends the stream as an
 * error event does. Nothing once the stream has ended (message_stop, an error, or finish). */
void openai_stream_fail(struct openai_stream *s, const char *type, const char *message, sbuf *out);
/* End of stream: the usage chunk if asked for and not yet sent, then "data: [DONE]\n\n". After an
 * error nothing: [DONE] would tell the client the answer is complete. Only the first call appends. */
void openai_stream_finish(struct openai_stream *s, sbuf *out);
void openai_stream_free(struct openai_stream *s);

#endif
