/* Secrets (OAuth tokens, API keys, AWS keys, Authorization headers) never reach a log line,
 * /health, / or an error body whole: at most their last four characters, to tell them apart. */
#ifndef CP_REDACT_H
#define CP_REDACT_H
#include <stddef.h>

#define REDACT_BUFSZ 24

/* "…abcd" for values of 12+ characters, "[redacted]" for shorter ones, "(none)" for empty. */
const char *redact_secret(const char *s, size_t len, char buf[REDACT_BUFSZ]);

/* Masks Anthropic keys and tokens (sk-ant-...) found in a message, in place, keeping the last
 * four characters: Lua error messages quote the source text near an error. */
void redact_tokens_in_text(char *text);

/* Header names whose values are secrets (case-insensitive). */
int redact_header_is_secret(const char *name, size_t len);

#endif
