#include "bedrock_request.h"
#include <cjson/cJSON.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "anthropic_auth.h"

static int in_list(const char *item, size_t len, const char *const *list)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++)
        if (strlen(list[i]) == len && memcmp(list[i], item, len) == 0)
            return 1;
    return 0;
}

struct beta_filter {
    const char *const *list;
    int deny; /* 1: list names the betas to leave out; 0: the only ones to keep */
    sbuf *out;
    int json; /* 1: JSON array items, 0: comma-separated */
    int count;
};

static void keep_beta(void *ud, const char *item, size_t len)
{
    struct beta_filter *f = ud;
    if (in_list(item, len, f->list) == f->deny)
        return;
    if (f->count++)
        sbuf_putc(f->out, ',');
    if (f->json)
        sbuf_json_string(f->out, item, len);
    else
        sbuf_append(f->out, item, len);
}

void bedrock_filter_betas(const char *beta, size_t beta_len, const char *const *allowed, sbuf *out)
{
    struct beta_filter f = {allowed, 0, out, 0, 0};
    beta_each(beta, beta_len, keep_beta, &f);
}

void bedrock_filter_betas_denied(const char *beta, size_t beta_len, const char *const *denied, sbuf *out)
{
    struct beta_filter f = {denied, 1, out, 0, 0};
    beta_each(beta, beta_len, keep_beta, &f);
}

/* {"type":"adaptive"} -> {"type":"enabled","budget_tokens":N}, N below max_tokens as Bedrock
 * requires. Returns 1 if replaced (value written), 0 to keep as is, -1 to drop thinking. */
static int adapt_thinking(const struct json_object_scan *scan, unsigned budget, sbuf *value)
{
    const struct json_member *t = json_scan_find(scan, "thinking");
    if (t == NULL)
        return 0;
    cJSON *obj = cJSON_ParseWithLength(t->value.p, t->value.len);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(obj, "type");
    int adaptive = cJSON_IsString(type) && strcmp(type->valuestring, "adaptive") == 0;
    cJSON_Delete(obj);
    if (!adaptive || budget == BEDROCK_THINKING_KEEP)
        return 0;
    const struct json_member *mt = json_scan_find(scan, "max_tokens");
    long max_tokens = mt ? strtol(mt->value.p, NULL, 10) : 0;
    long b = (long)budget;
    if (max_tokens > 0 && b >= max_tokens)
        b = max_tokens - 1;
    if (budget == 0 || b < 1024) /* Bedrock's minimum thinking budget */
        return -1;
    sbuf_printf(value, "{\"type\":\"enabled\",\"budget_tokens\":%ld}", b);
    return 1;
}

/* budget_tokens of an enabled thinking value, 0 if none. */
static long thinking_budget_of(const char *json, size_t len)
{
    cJSON *obj = cJSON_ParseWithLength(json, len);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(obj, "budget_tokens");
    long r = cJSON_IsNumber(b) && b->valuedouble > 0 && b->valuedouble < 1e9 ? (long)b->valuedouble : 0;
    cJSON_Delete(obj);
    return r;
}

/* A count_tokens request has no max_tokens, which InvokeModel bodies require (and CountTokens
 * validates): the smallest value Bedrock accepts, above the thinking budget when there is one.
 * It does not change the count of input tokens. */
static void add_count_max_tokens(const struct json_object_scan *scan, const char *thinking, int thinking_dropped,
                                 sbuf *extra)
{
    if (json_scan_find(scan, "max_tokens") != NULL)
        return;
    long budget = 0;
    const struct json_member *t = json_scan_find(scan, "thinking");
    if (thinking != NULL)
        budget = thinking_budget_of(thinking, strlen(thinking));
    else if (t != NULL && !thinking_dropped)
        budget = thinking_budget_of(t->value.p, t->value.len);
    sbuf_printf(extra, ",\"max_tokens\":%ld", budget + 1);
}

static void invoke_body(const struct json_object_scan *scan, const char *beta, size_t beta_len,
                        const struct bedrock_adaptation *a, int count_tokens, sbuf *out)
{
    const char *drop[64];
    size_t ndrop = 0;
    drop[ndrop++] = "model";
    drop[ndrop++] = "stream";
    drop[ndrop++] = "anthropic_version";
    drop[ndrop++] = "anthropic_beta";
    for (size_t i = 0; a->drop_fields != NULL && a->drop_fields[i] != NULL && ndrop < 60; i++)
        drop[ndrop++] = a->drop_fields[i];

    sbuf thinking = SBUF_INIT;
    const char *keys[1] = {"thinking"}, *values[1] = {NULL};
    size_t nreplace = 0;
    int thinking_dropped = 0;
    switch (adapt_thinking(scan, a->adaptive_thinking_budget, &thinking)) {
    case 1:
        values[0] = thinking.data;
        nreplace = 1;
        break;
    case -1:
        drop[ndrop++] = "thinking";
        thinking_dropped = 1;
        break;
    }

    sbuf extra = SBUF_INIT;
    sbuf_puts(&extra, "\"anthropic_version\":\"" BEDROCK_ANTHROPIC_VERSION "\"");
    sbuf betas = SBUF_INIT;
    struct beta_filter f = {a->betas_allowed, 0, &betas, 1, 0};
    beta_each(beta, beta_len, keep_beta, &f);
    if (f.count)
        sbuf_printf(&extra, ",\"anthropic_beta\":[%s]", betas.data);
    if (count_tokens)
        add_count_max_tokens(scan, values[0], thinking_dropped, &extra);
    json_splice(scan, drop, ndrop, keys, values, nreplace, extra.data, out);
    sbuf_free(&thinking);
    sbuf_free(&extra);
    sbuf_free(&betas);
}

void bedrock_invoke_body(const struct json_object_scan *scan, const char *beta, size_t beta_len,
                         const struct bedrock_adaptation *a, sbuf *out)
{
    invoke_body(scan, beta, beta_len, a, 0, out);
}

void bedrock_count_tokens_body(const struct json_object_scan *scan, const char *beta, size_t beta_len,
                               const struct bedrock_adaptation *a, sbuf *out)
{
    invoke_body(scan, beta, beta_len, a, 1, out);
}

void bedrock_mantle_body(const struct json_object_scan *scan, const char *id, const char *const *drop_fields,
                         sbuf *out)
{
    const char *drop[64];
    size_t ndrop = 0;
    drop[ndrop++] = "model"; /* set below, also when the client's body had none (route() chose it) */
    for (size_t i = 0; drop_fields != NULL && drop_fields[i] != NULL && ndrop < 64; i++)
        drop[ndrop++] = drop_fields[i];
    sbuf extra = SBUF_INIT;
    sbuf_puts(&extra, "\"model\":");
    sbuf_json_string(&extra, id, strlen(id));
    json_splice(scan, drop, ndrop, NULL, NULL, 0, extra.data, out);
    sbuf_free(&extra);
}

/* ------------------------------------------------------------------------------------------ */
/* Model resolution */

static int optional_list(lua_State *L, int idx, const char *key, int *has, char **out, char *err, size_t errlen)
{
    lua_getfield(L, idx, key);
    *has = !lua_isnil(L, -1);
    lua_pop(L, 1);
    return *has ? config_field_list(L, idx, key, out, NULL, err, errlen) : 0;
}

/* thinking_budget, else adaptive_thinking = true (keep it as written), else the provider's. */
static int read_thinking(lua_State *L, int idx, struct bedrock_model *m, char *err, size_t errlen)
{
    lua_getfield(L, idx, "thinking_budget");
    int type = lua_type(L, -1);
    double v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, idx, "adaptive_thinking");
    int keep = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (type == LUA_TNIL) {
        m->has_thinking_budget = keep;
        m->thinking_budget = BEDROCK_THINKING_KEEP;
        return 0;
    }
    if (type != LUA_TNUMBER || v < 0 || v > 1e6) {
        snprintf(err, errlen, "config: thinking_budget must be a number in [0, 1000000]");
        return -1;
    }
    m->has_thinking_budget = 1;
    m->thinking_budget = (unsigned)v;
    return 0;
}

/* The map entry's overrides of the provider's adaptation (entry table at idx). */
static int read_overrides(lua_State *L, int idx, struct bedrock_model *m, char *err, size_t errlen)
{
    int has_add;
    if (optional_list(L, idx, "betas", &m->has_betas, m->betas, err, errlen) != 0 ||
        optional_list(L, idx, "betas_add", &has_add, m->betas_add, err, errlen) != 0 ||
        optional_list(L, idx, "drop_fields", &m->has_drop_fields, m->drop_fields, err, errlen) != 0)
        return -1;
    return read_thinking(L, idx, m, err, errlen);
}

static int take_result(lua_State *L, const char *model, struct bedrock_model *out, char *err, size_t errlen)
{
    const char *id = lua_tostring(L, -3), *route = lua_tostring(L, -2);
    if (id == NULL) {
        snprintf(err, errlen, "no Bedrock model for \"%s\"%s%s", model, route ? ": " : "", route ? route : "");
        return -1;
    }
    if (route != NULL && strcmp(route, "invoke") != 0 && strcmp(route, "mantle") != 0) {
        snprintf(err, errlen, "models.to_bedrock(\"%s\"): route \"%s\" is not invoke or mantle", model, route);
        return -1;
    }
    if (strlen(id) >= sizeof(out->id)) {
        snprintf(err, errlen, "models.to_bedrock(\"%s\"): the id is too long", model);
        return -1;
    }
    snprintf(out->id, sizeof(out->id), "%s", id);
    out->mantle = route != NULL && strcmp(route, "mantle") == 0;
    if (lua_istable(L, -1) && read_overrides(L, lua_gettop(L), out, err, errlen) != 0) {
        char why[300];
        snprintf(why, sizeof(why), "%s", err);
        snprintf(err, errlen, "models.map entry for \"%s\": %s", model, why);
        return -1;
    }
    return 0;
}

int bedrock_model_resolve(struct proxy_config *c, const char *model, const char *region, const char *prefer,
                          struct bedrock_model *out, char *err, size_t errlen)
{
    return bedrock_model_resolve_listed(c, model, region, prefer, LUA_NOREF, out, err, errlen);
}

int bedrock_model_resolve_listed(struct proxy_config *c, const char *model, const char *region, const char *prefer,
                                 int listed_ref, struct bedrock_model *out, char *err, size_t errlen)
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
    if (config_call_models(c, "to_bedrock", 4, 3) != 0)
        snprintf(err, errlen, "models.to_bedrock failed: %s", lua_tostring(L, -1));
    else
        r = take_result(L, model, out, err, errlen);
    lua_settop(L, top);
    if (r != 0)
        bedrock_model_free(out);
    return r;
}

void bedrock_model_free(struct bedrock_model *m)
{
    config_free_list(m->betas);
    config_free_list(m->betas_add);
    config_free_list(m->drop_fields);
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
