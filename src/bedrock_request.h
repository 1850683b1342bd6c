/* Adapting an Anthropic Messages request (written for the direct API) to Bedrock.
 *
 * InvokeModel body: `model` and `stream` leave the body (they go into the URL),
 * `anthropic_version` is added, the anthropic-beta header becomes the `anthropic_beta` array
 * restricted to the betas Bedrock accepts, fields Bedrock refuses are dropped, and adaptive
 * thinking becomes a budget. Everything else (tools, system blocks, cache_control, metadata...)
 * passes byte for byte.
 *
 * Messages-format (mantle) body: the request as written with the Bedrock model id; betas go in
 * the header minus a denylist, since body fields and their betas travel in pairs.
 *
 * Which model id, route and adaptation apply comes from lua/models.lua (per-model overrides in
 * the map entry, falling back to the provider's settings). */
#ifndef CP_BEDROCK_REQUEST_H
#define CP_BEDROCK_REQUEST_H
#include <limits.h>
#include <stddef.h>
#include "config.h"
#include "json_scan.h"
#include "sbuf.h"

#define BEDROCK_ANTHROPIC_VERSION "bedrock-2023-05-31"

/* adaptive_thinking_budget for a model that takes adaptive thinking as written */
#define BEDROCK_THINKING_KEEP UINT_MAX

struct bedrock_adaptation {
    const char *const *betas_allowed; /* NULL-terminated */
    const char *const *drop_fields;   /* NULL-terminated */
    unsigned adaptive_thinking_budget; /* 0: drop adaptive thinking instead; or BEDROCK_THINKING_KEEP */
};

/* Writes the InvokeModel body to out. beta may be NULL. */
void bedrock_invoke_body(const struct json_object_scan *scan, const char *beta, size_t beta_len,
                         const struct bedrock_adaptation *a, sbuf *out);
/* The same for CountTokens' inner body: a count_tokens request has no max_tokens, which every
 * InvokeModel body needs, so one is added when absent. */
void bedrock_count_tokens_body(const struct json_object_scan *scan, const char *beta, size_t beta_len,
                               const struct bedrock_adaptation *a, sbuf *out);

/* The Messages-format body: the request with `model` set to id and drop_fields (may be NULL)
 * left out. */
void bedrock_mantle_body(const struct json_object_scan *scan, const char *id, const char *const *drop_fields,
                         sbuf *out);

/* The anthropic-beta list, comma-separated, restricted to `allowed` (for a model with its own
 * list) or without the `denied` ones (the Messages-format endpoint's default). */
void bedrock_filter_betas(const char *beta, size_t beta_len, const char *const *allowed, sbuf *out);
void bedrock_filter_betas_denied(const char *beta, size_t beta_len, const char *const *denied, sbuf *out);

/* A model resolved through models.to_bedrock, with the per-model overrides of its map entry. */
struct bedrock_model {
    char id[256];
    int mantle;                             /* route "mantle": the Messages-format endpoint */
    int has_betas, has_drop_fields;         /* the entry replaces these lists */
    char *betas[CONFIG_MAX_LIST + 1];       /* allowlist (either route) */
    char *betas_add[CONFIG_MAX_LIST + 1];   /* allowed on InvokeModel besides the provider's list */
    char *drop_fields[CONFIG_MAX_LIST + 1];
    int has_thinking_budget;
    unsigned thinking_budget; /* or BEDROCK_THINKING_KEEP (entry: adaptive_thinking = true) */
};

/* models.to_bedrock(model, region, prefer) with prefer (a profile prefix, may be NULL). Returns
 * 0, or -1 with err (unknown model, a broken models table or a malformed override). */
int bedrock_model_resolve(struct proxy_config *c, const char *model, const char *region, const char *prefer,
                          struct bedrock_model *out, char *err, size_t errlen);
/* The same with the account's listing: listed_ref is a registry reference to the table
 * bedrock_listed_table made (passed as models.to_bedrock's 4th argument), or LUA_NOREF. */
int bedrock_model_resolve_listed(struct proxy_config *c, const char *model, const char *region, const char *prefer,
                                 int listed_ref, struct bedrock_model *out, char *err, size_t errlen);
void bedrock_model_free(struct bedrock_model *m);

/* Builds models.to_bedrock's `listed` table from inference profile ids ("us.anthropic.claude-...")
 * in the config's state: base id -> the list of prefixes the account has for it; ids of other
 * vendors are left out. Returns a registry reference (luaL_unref it when replaced). */
int bedrock_listed_table(struct proxy_config *c, const char *const *ids, size_t n);

#endif
