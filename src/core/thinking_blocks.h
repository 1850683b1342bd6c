/* Thinking blocks carry a signature bound to the model that wrote them: replayed to another
 * model (or re-serialised) they are refused with 400 "Invalid `signature` in `thinking` block".
 * These helpers leave out the `thinking` and `redacted_thinking` blocks of a request's assistant
 * turns, every other byte of the request as it was. */
#ifndef CP_THINKING_BLOCKS_H
#define CP_THINKING_BLOCKS_H
#include <stddef.h>
#include "common/json_scan.h"
#include "common/sbuf.h"

/* The `messages` array value without thinking blocks in assistant turns, into out. Returns how
 * many blocks were left out (0: out is left empty, the array is fine as it is). An assistant
 * message made only of thinking blocks keeps them (it would be refused without content). */
size_t thinking_blocks_strip_messages(struct json_span messages, sbuf *out);

/* The whole request (its top-level scan) without them, into out; returns the count (0: out is
 * left empty). */
size_t thinking_blocks_strip_request(const struct json_object_scan *scan, sbuf *out);

/* Whether an error body is the signature refusal (Anthropic's and Bedrock's wording). */
int thinking_blocks_signature_refused(int status, const char *body, size_t len);

#endif
