/* What the files of the Bedrock provider share and nothing outside them uses. bedrock.c holds the
 * ops table and the provider's lifecycle; bedrock_config.c reads its settings (configure);
 * bedrock_prepare.c chooses a model's route and builds and signs the request (prepare);
 * bedrock_response.c reads what Bedrock answered (the body filters, the error conversion, and
 * whether to retry on the next route). Who calls whom (no circle): bedrock.c calls the other three;
 * bedrock_response.c asks bedrock_prepare.c which route a retry would take. */
#ifndef CP_BEDROCK_INTERNAL_H
#define CP_BEDROCK_INTERNAL_H
#include <lua.h>
#include <stddef.h>
#include <stdint.h>
#include "common/upstream.h"
#include "core/provider.h"

struct bedrock_plan;
struct bedrock_route_plan;

struct bedrock {
    char *region, *profile, *ca_file;
    char *region_prefix; /* preferred inference profile prefix, or NULL */
    char *service_tier;  /* default, flex or priority: sent as x-amzn-bedrock-service-tier; NULL: none */
    char *runtime_url, *mantle_url;
    struct upstream_url runtime_parsed, mantle_parsed;
    struct upstream *runtime, *mantle;
    struct aws_cred_source *creds;
    /* model ids from the account's inference profiles (bedrock_profiles.h) */
    char *control_url;
    struct upstream_url control_parsed;
    int list_profiles;
    double list_interval_s, list_wait_s, list_min_refresh_s;
    struct bedrock_profiles *profiles;
    int listed_ref;                   /* models.to_bedrock's `listed` table in this config's state */
    uint64_t listed_serial;           /* the listing it was built from */
    struct bedrock_plan_cache *plans; /* models resolved already (bedrock_models.h) */
    char refused_id[256];             /* refused as invalid; a retry waits for the listing to name another */
    char refused_why[300];            /* what Bedrock said of it */
    char *api_key;                    /* a Bedrock API key: Authorization: Bearer instead of SigV4 */
    const char *api_key_source;       /* where it came from, for /health */
};

/* bedrock_config.c */
/* Reads the provider's table at idx into a new struct bedrock (p->impl, which destroy frees):
 * region, endpoints, listing, credentials (API key or SigV4), region prefix, service tier. */
int bedrock_configure(struct provider *p, lua_State *L, int idx, char *err, size_t errlen);

/* bedrock_prepare.c */
void *bedrock_prepare(struct provider *p, const struct client_request *cr, struct upstream_request *out,
                      provider_prepared_cb done, void *ud);
void bedrock_cancel_prepare(void *handle);
/* What the route memory is keyed by: the model as the client (or route()) named it, per endpoint
 * (CountTokens does not serve every model InvokeModel does). */
void bedrock_memory_key(const struct client_request *cr, char *key, size_t size);
/* The route for this attempt: the first of the model's routes that serves the endpoint and has
 * not refused the model; when every one has, the first (its answer is what the client sees). */
const struct bedrock_route_plan *bedrock_choose_route(struct provider *p, const struct client_request *cr,
                                                      const struct bedrock_plan *plan);
/* models.to_bedrock's `listed` table for the current listing (rebuilt once per listing), or
 * LUA_NOREF for the static table. */
int bedrock_current_listed_ref(struct provider *p);
/* The plan of the model cr asks for (or route() chose), from b->plans or resolved: owned by the
 * cache, valid until the next call; NULL with err. */
const struct bedrock_plan *bedrock_resolve(struct provider *p, const struct client_request *cr, char *err,
                                           size_t errlen);

/* bedrock_response.c */
struct body_filter *bedrock_response_filter(struct provider *p, const struct upstream_request *ur, int status);
int bedrock_convert_error(struct provider *p, int status, const h2o_header_t *headers, size_t num_headers,
                          const char *body, size_t len, int *out_status, sbuf *out_json);
enum provider_retry bedrock_retry_on_error(struct provider *p, const struct client_request *cr,
                                           const struct upstream_request *ur, int status, const h2o_header_t *headers,
                                           size_t num_headers, const char *body, size_t len);

#endif
