/* OpenAI Chat Completions request -> Anthropic Messages body (no I/O: the endpoint does that).
 *
 * System/developer messages become `system`; user, assistant and tool messages become
 * alternating user/assistant turns (consecutive same-role messages and consecutive tool results are
 * merged into one turn); tools, tool_choice, parallel_tool_calls, max_tokens, temperature, top_p,
 * stop, stream and user are translated. Parameters that would change what the client gets but
 * cannot be honoured (n > 1, logprobs, response_format other than text, non-empty logit_bias,
 * audio output, legacy functions, unsupported content parts) are a 400, not silently dropped.
 * The answer comes back through response.h or stream.h. */
#ifndef CP_OPENAI_REQUEST_H
#define CP_OPENAI_REQUEST_H
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

#endif
