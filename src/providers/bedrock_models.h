/* Resolving a model for Bedrock through the config's models table: the routes to try, each with
 * its model id and its body adaptation (bedrock_request.h applies it), and the `listed` table of
 * the account's inference profiles that models.bedrock_routes chooses among. These run the
 * config's Lua (bounded, through config_call_models); the body adapter does not. */
#ifndef CP_BEDROCK_MODELS_H
#define CP_BEDROCK_MODELS_H
#include <stddef.h>
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

/* Builds models.bedrock_routes' `listed` table from inference profile ids ("us.anthropic.claude-...")
 * in the config's state: base id -> the list of prefixes the account has for it; ids of other
 * vendors are left out. Returns a registry reference (luaL_unref it when replaced). */
int bedrock_listed_table(struct proxy_config *c, const char *const *ids, size_t n);

#endif
