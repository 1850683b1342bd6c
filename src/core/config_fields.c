/* Reading the config's tables from C: typed fields (string, number in a range, boolean, list of
 * strings) with the error a user sees, and raw access to fields and globals. Providers read their
 * own settings with these in their configure slot; the schema (config.c) and the usage settings
 * (config_usage.c) read theirs. */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include "core/config.h"
#include "core/config_internal.h"
#include "common/memory.h"

/* Why raw access: the config's code runs only inside bounded_pcall (config_lua.c: a protected call with the memory
 * budget and the instruction and time limits on). What it leaves, the config table and the results of route() and of
 * the models functions, the C side reads with raw access only (lua_rawget, lua_rawgeti, lua_rawlen, lua_next), outside
 * any protected call: no metamethod runs there, so a table whose __index or __len errors or loops (a "strict table"
 * config, a hostile route() result) can neither raise an unprotected error, which aborts the process, nor freeze the
 * event loop. Raw reads are simpler than running every reader inside a protected call (where an error could strike
 * between any two API calls, leaking what the C side had copied so far), and they cover every reader at once. The
 * price: values a metatable would supply (__index defaults) are not seen; the tables must hold them. */

int config_rawfield(lua_State *L, int idx, const char *key)
{
    idx = lua_absindex(L, idx);
    if (!lua_istable(L, idx)) {
        lua_pushnil(L);
        return LUA_TNIL;
    }
    lua_pushstring(L, key);
    return lua_rawget(L, idx);
}

int config_rawglobal(lua_State *L, const char *name)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    int t = config_rawfield(L, -1, name);
    lua_remove(L, -2);
    return t;
}

int config_field_string(lua_State *L, int idx, const char *key, char **out, const char *def, char *err, size_t errlen)
{
    int t = config_rawfield(L, idx, key);
    if (t == LUA_TNIL) {
        *out = def ? xstrdup(def) : NULL;
    } else if (t == LUA_TSTRING) {
        *out = xstrdup(lua_tostring(L, -1));
    } else {
        snprintf(err, errlen, "config: '%s' must be a string, not %s", key, lua_typename(L, t));
        lua_pop(L, 1);
        return -1;
    }
    lua_pop(L, 1);
    return 0;
}

int config_field_number(lua_State *L, int idx, const char *key, double *out, double def, double min, double max,
                        char *err, size_t errlen)
{
    config_rawfield(L, idx, key);
    if (lua_isnil(L, -1)) {
        *out = def;
    } else if (lua_type(L, -1) == LUA_TNUMBER) {
        *out = lua_tonumber(L, -1);
    } else {
        snprintf(err, errlen, "config: '%s' must be a number, not %s", key, luaL_typename(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    lua_pop(L, 1);
    if (*out < min || *out > max) {
        snprintf(err, errlen, "config: '%s' = %g is out of range [%g, %g]", key, *out, min, max);
        return -1;
    }
    return 0;
}

int config_field_bool(lua_State *L, int idx, const char *key, int *out, int def, char *err, size_t errlen)
{
    config_rawfield(L, idx, key);
    int t = lua_type(L, -1);
    if (t == LUA_TNIL) {
        *out = def;
    } else if (t == LUA_TBOOLEAN) {
        *out = lua_toboolean(L, -1);
    } else {
        snprintf(err, errlen, "config: '%s' must be true or false, not %s", key, lua_typename(L, t));
        lua_pop(L, 1);
        return -1;
    }
    lua_pop(L, 1);
    return 0;
}

int config_field_list(lua_State *L, int idx, const char *key, char **out, const char *const *def, char *err,
                      size_t errlen)
{
    config_rawfield(L, idx, key);
    size_t n = 0;
    out[0] = NULL;
    if (lua_isnil(L, -1)) {
        for (; def != NULL && def[n] != NULL && n < CONFIG_MAX_LIST; n++)
            out[n] = xstrdup(def[n]);
    } else if (lua_istable(L, -1)) {
        lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
        for (lua_Integer i = 1; i <= len && n < CONFIG_MAX_LIST; i++) {
            lua_rawgeti(L, -1, i);
            if (lua_type(L, -1) != LUA_TSTRING) {
                snprintf(err, errlen, "config: %s[%d] must be a string", key, (int)i);
                lua_pop(L, 2);
                out[n] = NULL;
                return -1;
            }
            out[n++] = xstrdup(lua_tostring(L, -1));
            lua_pop(L, 1);
        }
    } else {
        snprintf(err, errlen, "config: %s must be a list of strings", key);
        lua_pop(L, 1);
        return -1;
    }
    out[n] = NULL;
    lua_pop(L, 1);
    return 0;
}

void config_free_list(char **list)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        free_secret(list[i]); /* client keys are secrets */
        list[i] = NULL;
    }
}
