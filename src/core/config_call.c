/* The calls into the config's Lua made at request time: the models functions (the Anthropic name
 * of a model, the list /v1/models answers) and route(req), with the read-only view of the request
 * and each provider's last known quota it gets. Each runs bounded (config_pcall) and its results
 * are read raw; a failure is logged and the request goes on with the static answer. */
#include <lauxlib.h>
#include <string.h>
#include "core/config.h"
#include "core/config_internal.h"
#include "core/provider.h"
#include "core/provider_state.h"

int config_call_models(struct proxy_config *c, const char *fn, int nargs, int nresults)
{
    lua_State *L = c->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->models_ref);
    config_rawfield(L, -1, fn);
    lua_remove(L, -2);
    lua_insert(L, -(nargs + 1));
    return config_pcall(c, nargs, nresults, 0) == LUA_OK ? 0 : -1;
}

int config_model_for_anthropic(struct proxy_config *c, const char *model, char *out, size_t outsize)
{
    lua_State *L = c->L;
    lua_pushstring(L, model);
    if (config_call_models(c, "for_anthropic", 1, 1) != 0) {
        log_warn("models.for_anthropic(\"%s\") failed: %s", model, config_error_text(L));
        lua_settop(L, 0);
        return -1;
    }
    const char *r = lua_tostring(L, -1);
    int changed = 0;
    if (r != NULL && strcmp(r, model) != 0 && strlen(r) < outsize) {
        snprintf(out, outsize, "%s", r);
        changed = 1;
    }
    lua_settop(L, 0);
    return changed;
}

size_t config_model_list(struct proxy_config *c, sbuf *out)
{
    lua_State *L = c->L;
    size_t n = 0;
    int failed = config_call_models(c, "list", 0, 1) != 0;
    if (failed || !lua_istable(L, -1)) {
        log_warn("models.list() failed: %s", failed ? config_error_text(L) : "it returned no list");
        lua_settop(L, 0);
        return 0;
    }
    lua_Integer len = (lua_Integer)lua_rawlen(L, -1); /* raw: see "reading typed fields" */
    for (lua_Integer i = 1; i <= len; i++) {
        lua_rawgeti(L, -1, i);
        size_t l;
        const char *id = lua_tolstring(L, -1, &l);
        if (id != NULL) {
            sbuf_puts(out, n++ ? ",{\"id\":" : "{\"id\":");
            sbuf_json_string(out, id, l);
            sbuf_puts(out, ",\"object\":\"model\",\"created\":0,\"owned_by\":\"anthropic\"}");
        }
        lua_pop(L, 1);
    }
    lua_settop(L, 0);
    return n;
}

static void set_number(lua_State *L, const char *key, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, key);
}

static void set_status(lua_State *L, enum quota_status st)
{
    if (quota_status_name(st) != NULL) {
        lua_pushstring(L, quota_status_name(st));
        lua_setfield(L, -2, "status");
    }
}

/* { status=, representative_claim=, reset=, seen=, windows = { ["5h"] = { utilization=, reset=,
 * status= }, ... }, extra_usage = { status=, in_use=, utilization=, reset= } } */
static void push_quota(lua_State *L, const struct quota *q)
{
    lua_createtable(L, 0, 6);
    set_status(L, q->status);
    if (q->representative_claim[0] != '\0') {
        lua_pushstring(L, q->representative_claim);
        lua_setfield(L, -2, "representative_claim");
    }
    if (q->reset > 0)
        set_number(L, "reset", (double)q->reset);
    set_number(L, "seen", (double)q->seen);
    lua_createtable(L, 0, (int)q->num_windows);
    for (size_t i = 0; i < q->num_windows; i++) {
        const struct quota_window *w = &q->windows[i];
        lua_createtable(L, 0, 3);
        if (w->has_utilization)
            set_number(L, "utilization", w->utilization);
        if (w->reset > 0)
            set_number(L, "reset", (double)w->reset);
        set_status(L, w->status);
        lua_setfield(L, -2, w->name);
    }
    lua_setfield(L, -2, "windows");
    if (q->extra_usage.present) {
        lua_createtable(L, 0, 4);
        set_status(L, q->extra_usage.status);
        lua_pushboolean(L, quota_serving_extra_usage(q));
        lua_setfield(L, -2, "in_use");
        if (q->extra_usage.has_utilization)
            set_number(L, "utilization", q->extra_usage.utilization);
        if (q->extra_usage.reset > 0)
            set_number(L, "reset", (double)q->extra_usage.reset);
        lua_setfield(L, -2, "extra_usage");
    }
}

size_t config_route(struct proxy_config *c, const struct route_view *view, size_t *order, char *model_override,
                    size_t model_override_size)
{
    if (c->route_ref == LUA_NOREF)
        return 0;
    lua_State *L = c->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->route_ref);
    lua_createtable(L, 0, 7);
    lua_pushstring(L, view->path);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, view->model);
    lua_setfield(L, -2, "model");
    lua_pushboolean(L, view->stream);
    lua_setfield(L, -2, "stream");
    lua_pushstring(L, view->client_addr);
    lua_setfield(L, -2, "client");
    lua_newtable(L);
    for (size_t i = 0; view->header_names && view->header_names[i] != NULL; i++) {
        lua_pushstring(L, view->header_values[i]);
        lua_setfield(L, -2, view->header_names[i]);
    }
    lua_setfield(L, -2, "headers");
    /* req.quota[provider]: what that provider's answers last said of its quota (absent until
     * one did: Bedrock's never do) */
    lua_createtable(L, 0, (int)c->num_providers);
    for (size_t i = 0; i < c->num_providers; i++) {
        const struct provider_state *s = c->providers[i]->state;
        if (s != NULL && s->quota.present) {
            push_quota(L, &s->quota);
            lua_setfield(L, -2, c->providers[i]->name);
        }
    }
    lua_setfield(L, -2, "quota");
    int status = config_pcall(c, 1, 2, 0);
    size_t n = 0;
    if (status != LUA_OK) {
        if (c->route_errors_logged++ == 0)
            log_error("route() failed, using the static order: %s", config_error_text(L));
        lua_settop(L, 0);
        return 0;
    }
    if (lua_istable(L, -2)) {
        lua_Integer len = (lua_Integer)lua_rawlen(L, -2); /* raw: a __len of the result must not run here */
        for (lua_Integer i = 1; i <= len && n < CONFIG_MAX_PROVIDERS; i++) {
            lua_rawgeti(L, -2, i);
            const char *name = lua_tostring(L, -1);
            int idx = name ? config_provider_index(c, name) : -1;
            if (idx >= 0)
                order[n++] = (size_t)idx;
            else if (c->route_errors_logged++ == 0)
                log_error("route() returned unknown provider \"%s\"", name ? name : "?");
            lua_pop(L, 1);
        }
    }
    if (lua_type(L, -1) == LUA_TSTRING && model_override != NULL)
        snprintf(model_override, model_override_size, "%s", lua_tostring(L, -1));
    lua_settop(L, 0);
    return n;
}
