/* Bedrock's InvokeModelWithResponseStream body (AWS event-stream) -> Anthropic SSE, and Bedrock
 * errors -> Anthropic errors, so that Claude Code cannot tell Bedrock from Anthropic. */
#ifndef CP_BEDROCK_STREAM_H
#define CP_BEDROCK_STREAM_H
#include <stddef.h>
#include <stdint.h>
#include "common/sbuf.h"

struct bedrock_stream;

struct bedrock_stream *bedrock_stream_new(void);
/* Appends the SSE text of every complete event in data to out. Returns 0 while the stream goes
 * on, 1 once it has ended: an exception, an error frame or a corrupt frame became a final SSE
 * error event (further input is ignored). */
int bedrock_stream_feed(struct bedrock_stream *s, const uint8_t *data, size_t len, sbuf *out);
/* The upstream body is over. If the stream did not end properly (no message_stop, a partial
 * frame pending, or the upstream broke: err), appends an SSE error event and returns 1. */
int bedrock_stream_finish(struct bedrock_stream *s, const char *err, sbuf *out);
int bedrock_stream_saw_message_stop(const struct bedrock_stream *s);
/* The token usage read from the message_start and message_delta events so far. */
struct usage_counts;
const struct usage_counts *bedrock_stream_usage(const struct bedrock_stream *s);
void bedrock_stream_free(struct bedrock_stream *s);

/* An exception name (throttlingException or ThrottlingException, ...) -> Anthropic error type
 * and the HTTP status that goes with it. */
const char *bedrock_exception_to_anthropic_type(const char *name, size_t len, int *http_status);

/* A Bedrock HTTP error (status, x-amzn-ErrorType value which may carry ":extra", body with
 * "message" or "Message") -> {"type":"error","error":{"type":...,"message":...}} and a status. */
void bedrock_error_to_anthropic(int status, const char *error_type, const char *body, size_t body_len, int *out_status,
                                sbuf *out_json);

#endif
