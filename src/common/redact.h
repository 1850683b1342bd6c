/* Secrets (OAuth tokens, API keys, AWS keys, Authorization headers) never reach a log line,
 * /health, / or an error body whole: at most their last four characters, to tell them apart. */
#ifndef CP_REDACT_H
#define CP_REDACT_H
#include <stddef.h>

#define REDACT_BUFSZ 24

/* "…abcd" for values of 12+ characters, "[redacted]" for shorter ones, "(none)" for empty. */
const char *redact_secret(const char *s, size_t len, char buf[REDACT_BUFSZ]);

/* Masks token-shaped secrets found in a text, in place, keeping their last four characters:
 * Anthropic keys and tokens (sk-ant-..., anywhere, also with their '-' percent-encoded as a
 * path or query may carry them: sk%2Dant%2D...), AWS access key ids (AKIA.../ASIA...), Bedrock
 * API keys (ABSK..., bedrock-api-key-...) and
 * "Bearer <value>". log.c applies it to every message, so a path, a model name or a Lua error
 * that quotes one cannot leak it. */
void redact_tokens_in_text(char *text);

/* Header names whose values are secrets (case-insensitive). */
int redact_header_is_secret(const char *name, size_t len);

#endif
