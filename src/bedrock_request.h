/* Adapting an Anthropic Messages request (written for the direct API) to Bedrock's InvokeModel
 * body: `model` and `stream` leave the body (they go into the URL), `anthropic_version` is
 * added, the anthropic-beta header becomes the `anthropic_beta` array restricted to the betas
 * Bedrock accepts, fields Bedrock refuses are dropped, and adaptive thinking becomes a budget.
 * Everything else (tools, system blocks, cache_control, metadata...) passes byte for byte. */
#ifndef CP_BEDROCK_REQUEST_H
#define CP_BEDROCK_REQUEST_H
#include <stddef.h>
#include "json_scan.h"
#include "sbuf.h"

#define BEDROCK_ANTHROPIC_VERSION "bedrock-2023-05-31"

struct bedrock_adaptation {
    const char *const *betas_allowed; /* NULL-terminated */
    const char *const *drop_fields;   /* NULL-terminated */
    unsigned adaptive_thinking_budget; /* 0: drop adaptive thinking instead */
};

/* Writes the InvokeModel body to out. beta may be NULL. Returns 0, or -1 with err. */
int bedrock_invoke_body(const struct json_object_scan *scan, const char *beta, size_t beta_len,
                        const struct bedrock_adaptation *a, sbuf *out, char *err, size_t errlen);

/* The anthropic-beta list restricted to allowed ones, comma-separated (for the Messages-format
 * endpoint, which takes the header). */
void bedrock_filter_betas(const char *beta, size_t beta_len, const char *const *allowed, sbuf *out);

#endif
