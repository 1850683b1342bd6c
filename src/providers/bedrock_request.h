/* Adapting an Anthropic Messages request (written for the direct API) to one Bedrock route.
 *
 * What changes comes from lua/models.lua (models.adapt, per route, and the model's map entry),
 * read into a struct bedrock_adaptation by bedrock_models.c; here no Lua runs and no config is
 * read: a scanned body in, bytes out. The body is rebuilt by splicing, so every member not
 * named there passes byte for byte (tools, system blocks, cache_control, messages...):
 *   InvokeModel: `model` and `stream` leave the body (they are in the URL), `anthropic_version`
 *     is added, the anthropic-beta header becomes the `anthropic_beta` array (an allowlist);
 *   Messages routes: `model` is the route's id, betas and version stay headers;
 *   every route: refused fields dropped, output_config.format, tools[].strict and server tools
 *     removed, adaptive thinking becomes a budget for models before 4.6, metadata.user_id fitted
 *     to Bedrock's pattern where it is checked, thinking blocks of earlier turns left out when
 *     another model wrote them.
 * Members are written stable ones first (what the proxy adds, tools, system, the rest) and messages
 * last, for SigV4's payload hash (see splice_stable_first). */
#ifndef CP_BEDROCK_REQUEST_H
#define CP_BEDROCK_REQUEST_H
#include <limits.h>
#include <stddef.h>
#include "providers/bedrock_routes.h"
#include "common/json_scan.h"
#include "common/body_parts.h"
#include "common/sbuf.h"

/* The most entries of an adaptation's lists (each is NULL-terminated after them). */
#define BEDROCK_MAX_LIST 64
/* thinking_budget for a model that takes adaptive thinking as written */
#define BEDROCK_THINKING_KEEP UINT_MAX

struct bedrock_adaptation {
    char body_version[40]; /* InvokeModel: anthropic_version in the body ("": none) */
    int version_header;    /* Messages routes: anthropic-version header */
    int version_2026;      /* the model takes anthropic-version 2026-10-21 */
    int has_allowlist;     /* betas_allowed applies; else betas_denied */
    char *betas_allowed[BEDROCK_MAX_LIST + 1];
    char *betas_denied[BEDROCK_MAX_LIST + 1];
    char *server_tool_betas[BEDROCK_MAX_LIST + 1]; /* left out with drop_server_tools */
    char *drop_fields[BEDROCK_MAX_LIST + 1];
    int drop_output_format, drop_tool_strict, drop_server_tools, hash_user_id;
    unsigned thinking_budget; /* adaptive thinking -> this budget (0: drop it), or BEDROCK_THINKING_KEEP */
    int drop_thinking_blocks; /* another model wrote the history's thinking blocks */
};

/* The body for route r into out. id: the model id (the body's `model` on the Messages routes);
 * beta: the client's anthropic-beta header (may be NULL); count_tokens: a count_tokens request
 * (InvokeModel: CountTokens' inner body, which needs a max_tokens). What was removed because
 * Bedrock refuses it (server tools, output_config.format...) is listed in removed. With parts (begun
 * on out), the members kept as the client sent them are parts of their own, not copied (the scanned
 * body must then outlive the parts); NULL: the whole body in out. */
void bedrock_request_body(const struct json_object_scan *scan, enum bedrock_route r, const struct bedrock_adaptation *a,
                          const char *id, const char *beta, size_t beta_len, int count_tokens, sbuf *out,
                          struct body_parts *parts, sbuf *removed);

/* The outcome for the last tools array is kept (Claude Code sends the same tools in every request):
 * for tests, on 0 adapts every time, 1 keeps it again; both empty it. */
void bedrock_request_tools_memo(int on);

/* The anthropic-beta header of a Messages route, comma-separated, filtered by a. */
void bedrock_header_betas(const char *beta, size_t beta_len, const struct bedrock_adaptation *a, sbuf *out);

/* metadata.user_id on the Messages routes must match [a-zA-Z0-9\s:_@$#=/+,-.]{0,256}: a value
 * that does not (Claude Code's is JSON) becomes the hex SHA-256 of it, the same for the same
 * user. json: the string's JSON text (quotes included). Returns 1 if out holds a new value. */
int bedrock_fit_user_id(const char *json, size_t len, char out[65]);

#endif
