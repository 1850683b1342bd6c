/* The Lua sandbox a config runs in: one state per config generation, its allocator with a memory
 * budget, the hook that bounds each call into the config's code by instructions, CPU time and wall
 * time, the lua/ helpers compiled into the binary (package.preload) and the `proxy` table. Every
 * call into the config's code goes through bounded_pcall, here; what its code leaves, the C side
 * reads raw (config_fields.c). */
#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/config.h"
#include "core/config_internal.h"
#include "core/embedded.h"
#include "core/provider_state.h"

/* What one call into the config's code may spend (see bounded_pcall): instructions, the CPU time
 * the proxy spends in it, and wall time, which also counts waiting (a blocking os.execute, io) and
 * so gets more room, as does a busy machine. route() and the models functions run on the event
 * loop for each request and are small: a loop is a bug. The config file itself runs once per load
 * or reload and may build big tables: time alone bounds it (an endless loop fails the reload). */
struct lua_limits {
    uint64_t instructions; /* 0: not counted */
    unsigned cpu_ms, wall_ms;
};
static const struct lua_limits CALL_LIMITS = {1000000, 1000, 10000}, LOAD_LIMITS = {0, 3000, 30000};
#define HOOK_EVERY 1000 /* instructions between two checks (and a check at every function call) */
/* All a config's Lua may hold while its code runs: the model map and route() need little, and a
 * runaway string.rep() in route() must fail inside Lua, not exhaust the machine. */
#define LUA_MEMORY_LIMIT (64u * 1024 * 1024)

const struct embedded_file *embedded_find(const char *name)
{
    for (const struct embedded_file *f = embedded_files; f->name != NULL; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

/* package.preload loader for the embedded lua/ helpers. */
static int load_embedded_module(lua_State *L)
{
    const struct embedded_file *f = lua_touserdata(L, lua_upvalueindex(1));
    char chunkname[128];
    snprintf(chunkname, sizeof(chunkname), "@lua/%s", f->name);
    if (luaL_loadbufferx(L, f->data, f->len, chunkname, "t") != LUA_OK)
        return lua_error(L);
    lua_call(L, 0, 1);
    return 1;
}

static int lua_log(lua_State *L)
{
    log_info("config: %s", luaL_checkstring(L, 1));
    return 0;
}

static void install_helpers(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    for (const struct embedded_file *f = embedded_files; f->name != NULL; f++) {
        size_t n = strlen(f->name);
        if (n < 5 || strcmp(f->name + n - 4, ".lua") != 0 || strcmp(f->name, DEFAULT_CONFIG_NAME) == 0)
            continue;
        lua_pushlightuserdata(L, (void *)f);
        lua_pushcclosure(L, load_embedded_module, 1);
        char modname[64];
        snprintf(modname, sizeof(modname), "%.*s", (int)(n - 4), f->name);
        lua_setfield(L, -2, modname);
    }
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushcfunction(L, config_lua_check_secret_file);
    lua_setfield(L, -2, "check_secret_file");
    lua_pushcfunction(L, lua_log);
    lua_setfield(L, -2, "log");
    lua_pushstring(L, CP_VERSION);
    lua_setfield(L, -2, "version");
    lua_setglobal(L, "proxy");
}

static int traceback_handler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL)
        msg = luaL_tolstring(L, 1, NULL);
    lua_pushstring(L, msg); /* keep it short: file:line: message */
    return 1;
}

/* lua_Alloc with a budget: while the config's own code runs (bounded_pcall), a request over it
 * fails like malloc, which Lua turns into a "not enough memory" error that the pcall catches.
 * Outside (the C side pushing arguments, converting results) nothing fails: an allocation error
 * there would be unprotected and abort the process. */
static void *budget_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct proxy_config *c = ud;
    size_t old = ptr != NULL ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        c->lua_bytes -= old;
        return NULL;
    }
    if (c->lua_limits.active && nsize > old && c->lua_bytes - old + nsize > LUA_MEMORY_LIMIT)
        return NULL;
    void *p = realloc(ptr, nsize);
    if (p != NULL)
        c->lua_bytes = c->lua_bytes - old + nsize;
    return p;
}

static uint64_t thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Which limit the running call has passed, if any. The CPU clock costs a system call, the
 * monotonic one does not: the CPU time is read only once the wall time could have passed it. */
static int limit_passed(struct proxy_config *c)
{
    struct lua_call_limits *l = &c->lua_limits;
    if (l->max_instructions != 0 && l->instructions > l->max_instructions)
        return LUA_LIMIT_INSTRUCTIONS;
    uint64_t wall = monotonic_ms() - l->start_wall_ms;
    if (wall < l->cpu_limit_ms)
        return 0;
    if (wall >= l->wall_limit_ms)
        return LUA_LIMIT_WALL;
    return thread_cpu_ms() - l->start_cpu_ms >= l->cpu_limit_ms ? LUA_LIMIT_CPU : 0;
}

/* The hook on every thread of the state (set before any of its code runs; coroutines inherit
 * it): every HOOK_EVERY instructions, and as any function (Lua or C) is called, it checks the
 * running call's limits. Past one, it raises an error, and from then on at every instruction, so
 * that a pcall inside the config's code cannot catch it and carry on.
 * What it cannot bound is one call into a C function already running (a string.find that
 * backtracks over a long string, one big string.rep or table.concat, a blocking os.execute): the
 * hook runs between instructions and at calls only, so such a call ends when it ends, and the
 * next check stops the code. */
static void limit_hook(lua_State *L, lua_Debug *ar)
{
    void *ud;
    lua_getallocf(L, &ud);
    struct proxy_config *c = ud;
    struct lua_call_limits *l = &c->lua_limits;
    if (!l->active)
        return;
    if (!l->stopping) {
        if (lua_gethookcount(L) != HOOK_EVERY) { /* a coroutine left at every instruction by an earlier call */
            lua_sethook(L, limit_hook, LUA_MASKCALL | LUA_MASKCOUNT, HOOK_EVERY);
            return;
        }
        if (ar->event == LUA_HOOKCOUNT)
            l->instructions += HOOK_EVERY;
        if ((l->stopping = limit_passed(c)) == 0)
            return;
        lua_sethook(L, limit_hook, LUA_MASKCALL | LUA_MASKCOUNT, 1);
    } else if (ar->event != LUA_HOOKCOUNT) {
        return; /* calls are left alone once stopping: the message handler is one */
    }
    if (l->stopping == LUA_LIMIT_INSTRUCTIONS)
        luaL_error(L, "ran for more than %d instructions (a loop?)", (int)l->max_instructions);
    if (l->stopping == LUA_LIMIT_CPU)
        luaL_error(L, "ran for more than %d ms of CPU time (a loop, or a slow pattern match?)", (int)l->cpu_limit_ms);
    luaL_error(L, "ran for more than %d ms (a slow call, or waiting on something?)", (int)l->wall_limit_ms);
}

/* lua_pcall of the config's code within the memory budget and the limits given. */
static int bounded_pcall(struct proxy_config *c, int nargs, int nresults, int msgh, const struct lua_limits *limits)
{
    struct lua_call_limits outer = c->lua_limits; /* none is expected, but a nested call must not end the outer's */
    c->lua_limits = (struct lua_call_limits){.active = 1,
                                             .max_instructions = limits->instructions,
                                             .cpu_limit_ms = limits->cpu_ms,
                                             .wall_limit_ms = limits->wall_ms,
                                             .start_wall_ms = monotonic_ms(),
                                             .start_cpu_ms = thread_cpu_ms()};
    lua_sethook(c->L, limit_hook, LUA_MASKCALL | LUA_MASKCOUNT, HOOK_EVERY); /* also resets the count */
    int status = lua_pcall(c->L, nargs, nresults, msgh);
    lua_sethook(c->L, limit_hook, LUA_MASKCALL | LUA_MASKCOUNT, HOOK_EVERY);
    c->lua_limits = outer;
    return status;
}

int config_pcall(struct proxy_config *c, int nargs, int nresults, int msgh)
{
    return bounded_pcall(c, nargs, nresults, msgh, &CALL_LIMITS);
}

const char *config_error_text(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    return msg != NULL ? msg : "(an error that is not a string)";
}

int config_require(struct proxy_config *c, const char *module, char *err, size_t errlen)
{
    lua_State *L = c->L;
    config_rawglobal(L, "require");
    lua_pushstring(L, module);
    if (bounded_pcall(c, 1, 1, 0, &LOAD_LIMITS) != LUA_OK) {
        snprintf(err, errlen, "config: cannot load %s: %s", module, config_error_text(L));
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

static int on_lua_panic(lua_State *L)
{
    log_error("Lua error outside a protected call: %s", lua_tostring(L, -1));
    return 0; /* Lua aborts */
}

void config_lua_open(struct proxy_config *c)
{
    lua_State *L = c->L = lua_newstate(budget_alloc, c);
    if (L == NULL)
        abort();
    lua_atpanic(L, on_lua_panic);
    lua_sethook(L, limit_hook, LUA_MASKCALL | LUA_MASKCOUNT, HOOK_EVERY); /* idle outside bounded_pcall */
    luaL_openlibs(L);
    install_helpers(L);
}

int config_lua_run(struct proxy_config *c, const char *path, char *err, size_t errlen)
{
    lua_State *L = c->L;
    lua_pushcfunction(L, traceback_handler);
    int status;
    if (path != NULL) {
        status = luaL_loadfilex(L, path, "t");
    } else {
        const struct embedded_file *f = embedded_find(DEFAULT_CONFIG_NAME);
        status = luaL_loadbufferx(L, f->data, f->len, "@etc/claude-proxy.lua (built-in)", "t");
    }
    if (status == LUA_OK)
        status = bounded_pcall(c, 0, 1, -2, &LOAD_LIMITS);
    if (status != LUA_OK) {
        snprintf(err, errlen, "%s", config_error_text(L));
        return -1;
    }
    return 0;
}
