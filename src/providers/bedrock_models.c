/* Resolving a model for Bedrock through the config's models table (lua/models.lua or the user's
 * own): models.bedrock_routes gives the routes to try and each one's model id, models.adaptation
 * what each route must change in the body (read into a struct bedrock_adaptation, which
 * bedrock_request.c applies without Lua), models.canonical whether the map chose another model
 * than the client's. The account's inference profiles reach models.bedrock_routes as its `listed`
 * table, built here. Every call runs bounded (config_call_models) and its results are read raw. */
#include "providers/bedrock_models.h"
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* config_field_list fills up to CONFIG_MAX_LIST entries and a NULL */
_Static_assert(BEDROCK_MAX_LIST >= CONFIG_MAX_LIST, "a bedrock_adaptation list holds what the config's may");

static int lua_bool(lua_State *L, int idx, const char *key)
{
    config_rawfield(L, idx, key);
    int b = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return b;
}

/* models.adaptation's table at idx into a */
static int read_adaptation(lua_State *L, int idx, struct bedrock_adaptation *a, char *err, size_t errlen)
{
    config_rawfield(L, idx, "body_version");
    if (lua_type(L, -1) == LUA_TSTRING)
        snprintf(a->body_version, sizeof(a->body_version), "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    a->version_header = lua_bool(L, idx, "version_header");
    a->version_2026 = lua_bool(L, idx, "version_2026");
    a->drop_output_format = lua_bool(L, idx, "drop_output_format");
    a->drop_tool_strict = lua_bool(L, idx, "drop_tool_strict");
    a->drop_server_tools = lua_bool(L, idx, "drop_server_tools");
    a->hash_user_id = lua_bool(L, idx, "hash_user_id");
    config_rawfield(L, idx, "betas_allowed");
    a->has_allowlist = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (config_field_list(L, idx, "betas_allowed", a->betas_allowed, NULL, err, errlen) != 0 ||
        config_field_list(L, idx, "betas_denied", a->betas_denied, NULL, err, errlen) != 0 ||
        config_field_list(L, idx, "server_tool_betas", a->server_tool_betas, NULL, err, errlen) != 0 ||
        config_field_list(L, idx, "drop_fields", a->drop_fields, NULL, err, errlen) != 0)
        return -1;
    config_rawfield(L, idx, "thinking_budget");
    int type = lua_type(L, -1);
    double b = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (type == LUA_TNIL) {
        a->thinking_budget = BEDROCK_THINKING_KEEP;
    } else if (type != LUA_TNUMBER || b < 0 || b > 1e6) {
        snprintf(err, errlen, "thinking_budget must be a number in [0, 1000000]");
        return -1;
    } else {
        a->thinking_budget = (unsigned)b;
    }
    return 0;
}

static void free_adaptation(struct bedrock_adaptation *a)
{
    config_free_list(a->betas_allowed);
    config_free_list(a->betas_denied);
    config_free_list(a->server_tool_betas);
    config_free_list(a->drop_fields);
}

/* models.canonical(name) when the module has it, else the name */
static void canonical_name(struct proxy_config *c, const char *name, char *out, size_t size)
{
    lua_State *L = c->L;
    int top = lua_gettop(L);
    snprintf(out, size, "%s", name);
    lua_pushstring(L, name);
    if (config_call_models(c, "canonical", 1, 1) == 0 && lua_type(L, -1) == LUA_TSTRING)
        snprintf(out, size, "%s", lua_tostring(L, -1));
    lua_settop(L, top);
}

/* routes (table at -3), entry (-2), served name (-1) on the stack */
static int take_routes(struct proxy_config *c, const char *model, struct bedrock_plan *out, char *err, size_t errlen)
{
    lua_State *L = c->L;
    int routes = lua_gettop(L) - 2, entry = routes + 1, served = routes + 2;
    if (!lua_istable(L, routes)) {
        const char *why = lua_tostring(L, entry);
        snprintf(err, errlen, "no Bedrock model for \"%s\"%s%s", model, why ? ": " : "", why ? why : "");
        return -1;
    }
    snprintf(out->model, sizeof(out->model), "%s",
             lua_type(L, served) == LUA_TSTRING ? lua_tostring(L, served) : model);
    lua_pushvalue(L, entry);
    lua_pushstring(L, out->model);
    int adaptive = config_call_models(c, "is_adaptive", 2, 1) == 0 && lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_Integer n = (lua_Integer)lua_rawlen(L, routes); /* raw, as every read of the config's values */
    for (lua_Integer i = 1; i <= n && out->num_routes < BEDROCK_NUM_ROUTES; i++) {
        lua_rawgeti(L, routes, i);
        config_rawfield(L, -1, "route");
        config_rawfield(L, -2, "id");
        int route = bedrock_route_parse(lua_tostring(L, -2));
        const char *id = lua_tostring(L, -1);
        if (route < 0 || id == NULL || strlen(id) >= sizeof(out->routes[0].id)) {
            snprintf(err, errlen,
                     "models.bedrock_routes(\"%s\"): route %d needs a route (invoke, runtime or mantle) "
                     "and an id",
                     model, (int)i);
            return -1;
        }
        struct bedrock_route_plan *rp = &out->routes[out->num_routes++];
        rp->route = (enum bedrock_route)route;
        snprintf(rp->id, sizeof(rp->id), "%s", id);
        lua_pop(L, 3);
        lua_pushstring(L, bedrock_route_name(rp->route));
        lua_pushvalue(L, entry);
        lua_pushboolean(L, adaptive);
        if (config_call_models(c, "adaptation", 3, 1) != 0) {
            snprintf(err, errlen, "models.map entry for \"%s\": %s", model, lua_tostring(L, -1));
            return -1;
        }
        char why[300];
        if (!lua_istable(L, -1) || read_adaptation(L, lua_gettop(L), &rp->adapt, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "models.map entry for \"%s\": %s", model,
                     lua_istable(L, -1) ? why : "models.adaptation must return a table");
            return -1;
        }
        lua_pop(L, 1);
    }
    if (out->num_routes == 0) {
        snprintf(err, errlen, "no Bedrock route for \"%s\"", model);
        return -1;
    }
    return 0;
}

int bedrock_plan_resolve(struct proxy_config *c, const char *model, const char *client_model, const char *region,
                         const char *prefer, int listed_ref, struct bedrock_plan *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    lua_State *L = c->L;
    int top = lua_gettop(L);
    lua_pushstring(L, model);
    lua_pushstring(L, region);
    if (prefer != NULL)
        lua_pushstring(L, prefer);
    else
        lua_pushnil(L);
    if (listed_ref != LUA_NOREF && listed_ref != LUA_REFNIL)
        lua_rawgeti(L, LUA_REGISTRYINDEX, listed_ref);
    else
        lua_pushnil(L);
    int r = -1;
    if (config_call_models(c, "bedrock_routes", 4, 3) != 0)
        snprintf(err, errlen, "models.bedrock_routes failed: %s", lua_tostring(L, -1));
    else
        r = take_routes(c, model, out, err, errlen);
    lua_settop(L, top);
    if (r != 0) {
        bedrock_plan_free(out);
        return r;
    }
    char asked[256];
    canonical_name(c, client_model != NULL ? client_model : model, asked, sizeof(asked));
    out->same_model = strcmp(asked, out->model) == 0;
    for (size_t i = 0; i < out->num_routes; i++)
        out->routes[i].adapt.drop_thinking_blocks = !out->same_model;
    return 0;
}

void bedrock_plan_free(struct bedrock_plan *p)
{
    for (size_t i = 0; i < BEDROCK_NUM_ROUTES; i++)
        free_adaptation(&p->routes[i].adapt);
}

static int cacheable(const char *s, size_t size) { return s == NULL || strlen(s) < size; }

const struct bedrock_plan *bedrock_plan_cached(struct bedrock_plan_cache *cache, uint64_t listing,
                                               struct proxy_config *c, const char *model, const char *client_model,
                                               const char *region, const char *prefer, int listed_ref, char *err,
                                               size_t errlen)
{
    struct bedrock_plan_entry *lru = NULL;
    int use = cache != NULL && c->route_ref == LUA_NOREF && cacheable(model, sizeof(cache->e[0].model)) &&
              cacheable(client_model, sizeof(cache->e[0].client_model));
    if (use) {
        lru = &cache->e[0];
        for (size_t i = 0; i < BEDROCK_PLAN_CACHE; i++) {
            struct bedrock_plan_entry *e = &cache->e[i];
            if (e->used && e->listing == listing && strcmp(e->model, model) == 0 &&
                e->has_client_model == (client_model != NULL) &&
                (client_model == NULL || strcmp(e->client_model, client_model) == 0)) {
                e->used = ++cache->clock;
                cache->hits++;
                return &e->plan;
            }
            if (e->used < lru->used)
                lru = e;
        }
        cache->misses++;
    }
    struct bedrock_plan *out;
    if (lru != NULL) {
        if (lru->used)
            bedrock_plan_free(&lru->plan);
        lru->used = 0;
        out = &lru->plan;
    } else if (cache != NULL) {
        bedrock_plan_free(&cache->uncached);
        out = &cache->uncached;
    } else {
        return NULL;
    }
    if (bedrock_plan_resolve(c, model, client_model, region, prefer, listed_ref, out, err, errlen) != 0) {
        memset(out, 0, sizeof(*out)); /* resolve freed it; errors are not kept */
        return NULL;
    }
    if (lru != NULL) {
        snprintf(lru->model, sizeof(lru->model), "%s", model);
        snprintf(lru->client_model, sizeof(lru->client_model), "%s", client_model != NULL ? client_model : "");
        lru->has_client_model = client_model != NULL;
        lru->listing = listing;
        lru->used = ++cache->clock;
    }
    return out;
}

void bedrock_plan_cache_free(struct bedrock_plan_cache *cache)
{
    if (cache == NULL)
        return;
    for (size_t i = 0; i < BEDROCK_PLAN_CACHE; i++)
        if (cache->e[i].used)
            bedrock_plan_free(&cache->e[i].plan);
    bedrock_plan_free(&cache->uncached);
    free(cache);
}

int bedrock_listed_table(struct proxy_config *c, const char *const *ids, size_t n)
{
    lua_State *L = c->L;
    lua_newtable(L);
    for (size_t i = 0; i < n; i++) {
        /* "<prefix>.anthropic.<model>": a geography or global profile of a Claude model */
        const char *dot = strchr(ids[i], '.');
        if (dot == NULL || dot == ids[i] || strncmp(dot + 1, "anthropic.", 10) != 0 || dot[11] == '\0')
            continue;
        const char *base = dot + 1;
        if (lua_getfield(L, -1, base) != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushvalue(L, -1);
            lua_setfield(L, -3, base);
        }
        lua_pushlstring(L, ids[i], (size_t)(dot - ids[i]));
        lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
        lua_pop(L, 1);
    }
    return luaL_ref(L, LUA_REGISTRYINDEX);
}
