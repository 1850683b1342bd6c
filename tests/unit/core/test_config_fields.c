/* Reading the config's tables from C (core/config_fields.c): each typed reader's value, default
 * and error, a list's bound, and raw access, which lets a config with hostile metatables load and
 * run without aborting or hanging the process. */
#include <lauxlib.h>
#include <unistd.h>
#include "check.h"
#include "config_file.h"
#include "core/config.h"
#include "core/provider.h"
#include "core/provider_state.h"
#include "providers/registry.h"

/* The readers on a plain state: values, defaults when absent, the error for a wrong type, and the
 * stack as it was after each. */
static void test_readers(void)
{
    lua_State *L = luaL_newstate();
    CHECK_INT_EQ(luaL_dostring(L,
                               "local big = {} for i = 1, 100 do big[i] = 'x' .. i end\n"
                               "return { s = 'str', n = 5, b = true, l = { 'p', 'q' }, bad = { 'p', 3 }, big = big }"),
                 LUA_OK);
    int t = lua_gettop(L);
    char err[200], *s = NULL, *list[CONFIG_MAX_LIST + 1];
    double n;
    int b;
    CHECK_INT_EQ(config_field_string(L, t, "s", &s, "def", err, sizeof(err)), 0);
    CHECK_STR_EQ(s, "str");
    free(s);
    CHECK_INT_EQ(config_field_string(L, t, "absent", &s, "def", err, sizeof(err)), 0);
    CHECK_STR_EQ(s, "def");
    free(s);
    CHECK_INT_EQ(config_field_string(L, t, "absent", &s, NULL, err, sizeof(err)), 0);
    CHECK(s == NULL);
    CHECK_INT_EQ(config_field_string(L, t, "n", &s, NULL, err, sizeof(err)), -1);
    CHECK_STR_EQ(err, "config: 'n' must be a string, not number");
    CHECK_INT_EQ(config_field_number(L, t, "n", &n, 1, 0, 10, err, sizeof(err)), 0);
    CHECK(n == 5);
    CHECK_INT_EQ(config_field_number(L, t, "absent", &n, 1.5, 0, 10, err, sizeof(err)), 0);
    CHECK(n == 1.5);
    CHECK_INT_EQ(config_field_number(L, t, "n", &n, 1, 0, 4, err, sizeof(err)), -1);
    CHECK_STR_EQ(err, "config: 'n' = 5 is out of range [0, 4]");
    CHECK_INT_EQ(config_field_number(L, t, "s", &n, 1, 0, 10, err, sizeof(err)), -1);
    CHECK_STR_EQ(err, "config: 's' must be a number, not string");
    CHECK_INT_EQ(config_field_bool(L, t, "b", &b, 0, err, sizeof(err)), 0);
    CHECK_INT_EQ(b, 1);
    CHECK_INT_EQ(config_field_bool(L, t, "absent", &b, 0, err, sizeof(err)), 0);
    CHECK_INT_EQ(b, 0);
    CHECK_INT_EQ(config_field_bool(L, t, "n", &b, 0, err, sizeof(err)), -1);
    CHECK_STR_EQ(err, "config: 'n' must be true or false, not number");
    CHECK_INT_EQ(config_field_list(L, t, "l", list, NULL, err, sizeof(err)), 0);
    CHECK(strcmp(list[0], "p") == 0 && strcmp(list[1], "q") == 0 && list[2] == NULL);
    config_free_list(list);
    CHECK(list[0] == NULL);
    static const char *const def[] = {"d1", "d2", NULL};
    CHECK_INT_EQ(config_field_list(L, t, "absent", list, def, err, sizeof(err)), 0);
    CHECK(strcmp(list[0], "d1") == 0 && strcmp(list[1], "d2") == 0 && list[2] == NULL);
    config_free_list(list);
    CHECK_INT_EQ(config_field_list(L, t, "big", list, NULL, err, sizeof(err)), 0); /* at most CONFIG_MAX_LIST */
    CHECK(strcmp(list[CONFIG_MAX_LIST - 1], "x64") == 0 && list[CONFIG_MAX_LIST] == NULL);
    config_free_list(list);
    CHECK_INT_EQ(config_field_list(L, t, "bad", list, NULL, err, sizeof(err)), -1);
    CHECK_STR_EQ(err, "config: bad[2] must be a string");
    config_free_list(list); /* what was read before the error */
    CHECK_INT_EQ(config_field_list(L, t, "s", list, NULL, err, sizeof(err)), -1);
    CHECK_STR_EQ(err, "config: s must be a list of strings");
    CHECK_INT_EQ(lua_gettop(L), t);
    /* raw access: a field of something that is no table is nil */
    CHECK_INT_EQ(config_rawfield(L, t, "n"), LUA_TNUMBER);
    CHECK_INT_EQ(config_rawfield(L, -1, "x"), LUA_TNIL);
    lua_pop(L, 2);
    CHECK_INT_EQ(lua_gettop(L), t);
    lua_close(L);
}

/* Metatables the proxy must survive: a "strict table" config (__index errors on unknown keys, a
 * common Lua idiom) loads with its defaults, and an erroring or endless __len on the config's
 * lists, route()'s result or models.list()'s result neither aborts nor hangs the process. */
static void test_hostile_metatables(void)
{
    char err[1024];
    char *path = write_temp(
        "local strict = { __index = function(_, k) error('unknown config key ' .. tostring(k), 2) end }\n"
        "local function S(t) return setmetatable(t, strict) end\n"
        "local forever = { __len = function() while true do end end }\n"
        "local failing = { __len = function() error('hostile __len') end }\n"
        "setmetatable(_G, strict)\n"
        "local models = require 'models'\n"
        "models.list = function() return setmetatable({ 'm1', 'm2' }, failing) end\n"
        "return S({ models = models,\n"
        "  client_keys = setmetatable({ 'ck-one' }, failing),\n"
        "  order = setmetatable({ 'b', 'a' }, forever),\n"
        "  providers = S(setmetatable({ a = S({ type = 'anthropic', fallback_on = setmetatable({ 503 }, failing) }),\n"
        "                               b = S({ type = 'anthropic' }) }, failing)),\n"
        "  route = function(req)\n"
        "    if req.path == '/fail' then return setmetatable({ 'a' }, failing) end\n"
        "    if req.path == '/loop' then return setmetatable({}, forever) end\n"
        "    return S({ 'a' }), nil\n"
        "  end })\n");
    struct proxy_config *c = config_load(path, err, sizeof(err));
    CHECK(c != NULL);
    if (c == NULL) {
        fprintf(stderr, "strict config: %s\n", err);
    } else {
        CHECK_INT_EQ(c->port, 47000); /* absent keys take their defaults */
        CHECK_INT_EQ(c->num_providers, 2);
        CHECK_INT_EQ(c->order_len, 2);
        CHECK_STR_EQ(c->providers[c->order[0]]->name, "b");
        CHECK_STR_EQ(c->client_keys[0], "ck-one");
        struct provider *a = config_find_provider(c, "a");
        CHECK(a != NULL && provider_should_fallback_status(a, 503));
        size_t order[CONFIG_MAX_PROVIDERS];
        char model[64] = "";
        struct route_view view = {"/fail", "claude-sonnet-5", 0, "127.0.0.1", NULL, NULL};
        CHECK_INT_EQ(config_route(c, &view, order, model, sizeof(model)), 1); /* read raw: { 'a' } */
        CHECK_STR_EQ(c->providers[order[0]]->name, "a");
        view.path = "/loop";
        CHECK_INT_EQ(config_route(c, &view, order, model, sizeof(model)), 0);
        view.path = "/";
        CHECK_INT_EQ(config_route(c, &view, order, model, sizeof(model)), 1);
        CHECK_INT_EQ(c->route_errors_logged, 0);
        sbuf list = SBUF_INIT;
        CHECK_INT_EQ(config_model_list(c, &list), 2);
        sbuf_free(&list);
        config_release(c);
    }
    unlink(path);

    /* a strict table that misses a key the config needs: a clear load error */
    path = write_temp("return setmetatable({}, { __index = function(_, k) error('unknown key ' .. k) end })\n");
    c = config_load(path, err, sizeof(err));
    CHECK(c == NULL);
    CHECK(strstr(err, "'providers' must be a table") != NULL);
    config_release(c);
    unlink(path);
}

int main(void)
{
    provider_types_register(provider_types);
    test_readers();
    test_hostile_metatables();
    provider_state_free_all();
    CHECK_DONE();
}
