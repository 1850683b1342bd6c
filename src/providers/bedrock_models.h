/* Resolving a model for Bedrock through the config's models table: the routes to try, each with
 * its model id and its body adaptation (bedrock_request.h applies it), and the `listed` table of
 * the account's inference profiles that models.bedrock_routes chooses among. These run the
 * config's Lua (bounded, through config_call_models); the body adapter does not. */
#ifndef CP_BEDROCK_MODELS_H
#define CP_BEDROCK_MODELS_H
#include <stddef.h>
#include <stdint.h>
#include "core/config.h"
#include "providers/bedrock_request.h"
#include "providers/bedrock_routes.h"

/* A model resolved through models.bedrock_routes: its routes in order, each with its id and
 * adaptation. */
struct bedrock_plan {
    size_t num_routes;
    struct bedrock_route_plan {
        enum bedrock_route route;
        char id[256];
        struct bedrock_adaptation adapt;
    } routes[BEDROCK_NUM_ROUTES];
    char model[200]; /* the Anthropic name of the model the ids serve */
    int same_model;  /* ... is the one the client asked for */
};

/* models.bedrock_routes(model, region, prefer, listed) with prefer (a profile prefix, may be
 * NULL) and listed_ref (a registry reference to the table bedrock_listed_table made, or
 * LUA_NOREF); client_model: what the client asked for (to tell whether the map chose another
 * model). Returns 0, or -1 with err (unknown model, a broken models table or a malformed
 * override). */
int bedrock_plan_resolve(struct proxy_config *c, const char *model, const char *client_model, const char *region,
                         const char *prefer, int listed_ref, struct bedrock_plan *out, char *err, size_t errlen);
void bedrock_plan_free(struct bedrock_plan *p);

/* Plans resolved already, per model: models.bedrock_routes and friends are functions of the model,
 * the region, the prefix and the listing, so the same model under the same listing and config
 * generation (a cache belongs to one provider of one generation) resolves to the same plan, and the
 * config's Lua runs once for it instead of once per request. Not with a route() hook: a config
 * that has one decides per request, and its models functions may read what route() saw, so they are
 * called each time. A few entries, least recently used first. */
#define BEDROCK_PLAN_CACHE 8
struct bedrock_plan_cache {
    struct bedrock_plan_entry {
        char model[200], client_model[200];
        int has_client_model;
        uint64_t listing;   /* the listing's serial, 0: the static table */
        unsigned long used; /* 0: empty */
        struct bedrock_plan plan;
    } e[BEDROCK_PLAN_CACHE];
    struct bedrock_plan uncached; /* what the last call resolved without the cache */
    unsigned long clock;
    unsigned long hits, misses;
};

/* bedrock_plan_resolve through cache (xcalloc'd by the caller, or NULL for none): the plan, owned
 * by the cache and valid until its next call, or NULL with err. listing: the serial of the listing
 * listed_ref was built from (0 for none). */
const struct bedrock_plan *bedrock_plan_cached(struct bedrock_plan_cache *cache, uint64_t listing,
                                               struct proxy_config *c, const char *model, const char *client_model,
                                               const char *region, const char *prefer, int listed_ref, char *err,
                                               size_t errlen);
void bedrock_plan_cache_free(struct bedrock_plan_cache *cache);

/* Builds models.bedrock_routes' `listed` table from inference profile ids ("us.anthropic.claude-...")
 * in the config's state: base id -> the list of prefixes the account has for it; ids of other
 * vendors are left out. Returns a registry reference (luaL_unref it when replaced). */
int bedrock_listed_table(struct proxy_config *c, const char *const *ids, size_t n);

#endif
