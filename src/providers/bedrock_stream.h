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

/* A chunk event's payload {"bytes":"<base64>"} -> where its base64 text is (*b64). The fast
 * reader takes exactly {"bytes":"<text>"} and {"bytes":"<text>","p":"<text>"} (Bedrock's padding
 * member), with no space, where the padding is printable ASCII without a quote or a backslash and the
 * base64 is whatever comes before the next quote, its first and last byte base64's own (letters,
 * digits, '+', '/', '='); it returns 1, else 0 without judging. The base64 text is left unchecked
 * for EVP_DecodeBlock to check as it decodes it: between such ends, that takes only base64's own
 * bytes, which JSON needs no escape for. The full reader takes what the JSON scanner validates, "\/"
 * in the base64 included (unescaped into *unescaped), and returns 0 or -1. Wherever the fast reader
 * returns 1 and EVP_DecodeBlock takes its text, the full one gives the same span (unit test and fuzz
 * target), so that the fast one is only a shortcut. */
struct json_span;
struct json_object_scan;
int bedrock_chunk_base64_fast(const char *p, size_t len, struct json_span *b64);
int bedrock_chunk_base64_full(const char *p, size_t len, struct json_object_scan *scan, sbuf *unescaped,
                              struct json_span *b64);

/* The stream's commonest event by far, one for every few tokens of text, tool input or thinking:
 *   {"type":"content_block_delta","index":N,"delta":{"type":"<name>","<name>":"<string>"}}
 * read in one pass over that shape, names of lower-case letters and '_', no space: returns 1 if the
 * event is exactly that (then it is valid JSON, and of type content_block_delta), else 0 without
 * judging (the full scan decides). Wherever it returns 1 the JSON scanner takes the event and reads
 * the same type (unit test and fuzz target). */
int bedrock_delta_event_fast(const char *p, size_t len);

/* An exception name (throttlingException or ThrottlingException, ...) -> Anthropic error type
 * and the HTTP status that goes with it. */
const char *bedrock_exception_to_anthropic_type(const char *name, size_t len, int *http_status);

/* A Bedrock HTTP error (status, x-amzn-ErrorType value which may carry ":extra", body with
 * "message" or "Message") -> {"type":"error","error":{"type":...,"message":...}} and a status. */
void bedrock_error_to_anthropic(int status, const char *error_type, const char *body, size_t body_len, int *out_status,
                                sbuf *out_json);

#endif
