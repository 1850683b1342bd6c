#include "core/config.h"
#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "core/embedded.h"
#include "core/provider.h"
#include "core/provider_state.h"
#include "common/redact.h"

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
#define DEFAULT_CONFIG_NAME "claude-proxy.lua"
#define CONFIG_SCAN_MAX (1024 * 1024) /* configs are small; a bigger one is scanned in part */

const struct embedded_file *embedded_find(const char *name)
{
    for (const struct embedded_file *f = embedded_files; f->name != NULL; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

static int readable_at(char *buf, size_t bufsize, const char *dir, const char *sub)
{
    if (dir == NULL || dir[0] == '\0')
        return 0;
    int n = snprintf(buf, bufsize, "%s%s/claude-proxy/%s", dir, sub, DEFAULT_CONFIG_NAME);
    return n > 0 && (size_t)n < bufsize && access(buf, R_OK) == 0;
}

/* $CLAUDE_PROXY_CONFIG, then the user's file ($XDG_CONFIG_HOME/claude-proxy/ when set, then
 * ~/.config/claude-proxy/ either way: setting XDG_CONFIG_HOME for other programs must not hide
 * a config kept in the usual place), then the installed one; NULL: the built-in default. */
const char *config_default_path(char *buf, size_t bufsize)
{
    const char *env = getenv("CLAUDE_PROXY_CONFIG");
    if (env != NULL && env[0] != '\0')
        return env;
    if (readable_at(buf, bufsize, getenv("XDG_CONFIG_HOME"), "") || readable_at(buf, bufsize, getenv("HOME"), "/.config") ||
        readable_at(buf, bufsize, CP_INSTALL_SYSCONFDIR, ""))
        return buf;
    buf[0] = '\0';
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

/* proxy.check_secret_file(path): a file holding a secret must not be readable by others. */
static int lua_check_secret_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077) != 0) {
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s holds a secret but is readable by other users (mode %04o); run: chmod 600 %s",
                 path, (unsigned)(st.st_mode & 07777), path);
        lua_pushstring(L, msg);
        return lua_error(L);
    }
    return 0;
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
    lua_pushcfunction(L, lua_check_secret_file);
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

/* The error a failed call left on top of the stack, as text (an error value need not be a string). */
static const char *error_text(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    return msg != NULL ? msg : "(an error that is not a string)";
}

/* ---- reading typed fields from the config table at the top of the stack ----
 * The config's code runs only inside bounded_pcall (a protected call with the memory budget and
 * the instruction and time limits on). What it leaves, the config table and the results of
 * route() and of the models functions, the C side reads with raw access only (lua_rawget,
 * lua_rawgeti, lua_rawlen, lua_next), outside any protected call: no metamethod runs there, so a
 * table whose __index or __len errors or loops (a "strict table" config, a hostile route()
 * result) can neither raise an unprotected error, which aborts the process, nor freeze the event
 * loop. Raw reads are simpler than running every reader inside a protected call (where an error
 * could strike between any two API calls, leaking what the C side had copied so far), and they
 * cover every reader at once. The price: values a metatable would supply (__index defaults) are
 * not seen; the tables must hold them. */

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

static int get_field_string(lua_State *L, int idx, const char *key, char **out, const char *def, char *err,
                            size_t errlen)
{
    int t = config_rawfield(L, idx, key);
    if (t == LUA_TNIL) {
        *out = def ? strdup(def) : NULL;
    } else if (t == LUA_TSTRING) {
        *out = strdup(lua_tostring(L, -1));
    } else {
        snprintf(err, errlen, "config: '%s' must be a string, not %s", key, lua_typename(L, t));
        lua_pop(L, 1);
        return -1;
    }
    lua_pop(L, 1);
    return 0;
}

static int get_field_number(lua_State *L, int idx, const char *key, double *out, double def, double min, double max,
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

static int get_field_bool(lua_State *L, int idx, const char *key, int *out, int def, char *err, size_t errlen)
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

int config_field_string(lua_State *L, int idx, const char *key, char **out, const char *def, char *err, size_t errlen)
{
    return get_field_string(L, idx, key, out, def, err, errlen);
}

int config_field_number(lua_State *L, int idx, const char *key, double *out, double def, double min, double max,
                        char *err, size_t errlen)
{
    return get_field_number(L, idx, key, out, def, min, max, err, errlen);
}

int config_field_list(lua_State *L, int idx, const char *key, char **out, const char *const *def, char *err,
                      size_t errlen)
{
    config_rawfield(L, idx, key);
    size_t n = 0;
    out[0] = NULL;
    if (lua_isnil(L, -1)) {
        for (; def != NULL && def[n] != NULL && n < CONFIG_MAX_LIST; n++)
            out[n] = strdup(def[n]);
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
            out[n++] = strdup(lua_tostring(L, -1));
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
        OPENSSL_cleanse(list[i], strlen(list[i])); /* client keys are secrets */
        free(list[i]);
        list[i] = NULL;
    }
}

/* Client keys from a file, one per line (the file must be private: it holds secrets). */
static int read_client_keys_file(struct proxy_config *c, const char *path, char *err, size_t errlen)
{
    struct stat st;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "config: cannot read client_keys_file %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0) {
        snprintf(err, errlen, "config: %s holds client keys but is readable by other users; run: chmod 600 %s", path,
                 path);
        fclose(f);
        return -1;
    }
    size_t n = 0;
    while (c->client_keys[n] != NULL)
        n++;
    char line[512];
    while (n < CONFIG_MAX_LIST && fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] != '\0' && line[0] != '#')
            c->client_keys[n++] = strdup(line);
    }
    c->client_keys[n] = NULL;
    OPENSSL_cleanse(line, sizeof(line));
    fclose(f);
    return 0;
}

static int read_access(struct proxy_config *c, lua_State *L, int cidx, char *err, size_t errlen)
{
    char *keys_file = NULL;
    double header_timeout;
    if (config_field_list(L, cidx, "allowed_hosts", c->allowed_hosts, NULL, err, errlen) != 0 ||
        config_field_list(L, cidx, "allowed_origins", c->allowed_origins, NULL, err, errlen) != 0 ||
        config_field_list(L, cidx, "client_keys", c->client_keys, NULL, err, errlen) != 0 ||
        get_field_string(L, cidx, "client_keys_file", &keys_file, NULL, err, errlen) != 0 ||
        get_field_number(L, cidx, "header_timeout", &header_timeout, 10, 0.1, 3600, err, errlen) != 0)
        return -1;
    c->header_timeout_ms = (uint64_t)(header_timeout * 1000);
    int r = keys_file != NULL ? read_client_keys_file(c, keys_file, err, errlen) : 0;
    free(keys_file);
    return r;
}

/* fallback_on = { "plan_limit", "throttle", "extra_usage_required", 529, "connect", "timeout", "5xx" }.
 * A numeric 429 stands for the three kinds of 429 (plan_limit, throttle, extra_usage_required),
 * which is what it meant before they were told apart: a config that lists 429 falls back on every
 * 429 as it did, each kind now cooling as long as it means. */
static const struct {
    const char *name;
    unsigned flag;
} fallback_names[] = {
    {"connect", FALLBACK_CONNECT},
    {"timeout", FALLBACK_TIMEOUT},
    {"5xx", FALLBACK_5XX},
    {"plan_limit", FALLBACK_PLAN_LIMIT},
    {"throttle", FALLBACK_THROTTLE},
    {"extra_usage_required", FALLBACK_EXTRA_USAGE_REQUIRED},
};

static int read_fallback_on(lua_State *L, int idx, struct provider *p, char *err, size_t errlen)
{
    config_rawfield(L, idx, "fallback_on");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        p->fallback_flags = FALLBACK_CONNECT | FALLBACK_429_KINDS;
        p->fallback_statuses[0] = 529;
        p->num_fallback_statuses = 1;
        return 0;
    }
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "config: providers.%s.fallback_on must be a list", p->name);
        lua_pop(L, 1);
        return -1;
    }
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        if (lua_type(L, -1) == LUA_TNUMBER && lua_tointeger(L, -1) == 429) {
            p->fallback_flags |= FALLBACK_429_KINDS;
        } else if (lua_type(L, -1) == LUA_TNUMBER && p->num_fallback_statuses < FALLBACK_MAX_STATUSES) {
            p->fallback_statuses[p->num_fallback_statuses++] = (int)lua_tointeger(L, -1);
        } else if (lua_type(L, -1) == LUA_TSTRING) {
            const char *s = lua_tostring(L, -1);
            size_t k = 0, count = sizeof(fallback_names) / sizeof(fallback_names[0]);
            while (k < count && strcmp(s, fallback_names[k].name) != 0)
                k++;
            if (k == count) {
                snprintf(err, errlen, "config: providers.%s.fallback_on: unknown outcome \"%s\" (use a status, "
                         "\"plan_limit\", \"throttle\", \"extra_usage_required\", \"connect\", \"timeout\" or "
                         "\"5xx\")", p->name, s);
                lua_pop(L, 2);
                return -1;
            }
            p->fallback_flags |= fallback_names[k].flag;
        } else {
            snprintf(err, errlen, "config: providers.%s.fallback_on: entries must be statuses or names", p->name);
            lua_pop(L, 2);
            return -1;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 0;
}

/* extra_usage = "use" (default) | "avoid" */
static int read_extra_usage(lua_State *L, int idx, struct provider *p, char *err, size_t errlen)
{
    char *mode = NULL;
    if (get_field_string(L, idx, "extra_usage", &mode, "use", err, errlen) != 0)
        return -1;
    int ok = strcmp(mode, "use") == 0 || strcmp(mode, "avoid") == 0;
    p->extra_usage_avoid = strcmp(mode, "avoid") == 0;
    if (!ok)
        snprintf(err, errlen, "config: providers.%s.extra_usage = \"%s\" is not \"use\" or \"avoid\"", p->name, mode);
    free(mode);
    return ok ? 0 : -1;
}

static int add_provider(struct proxy_config *c, lua_State *L, const char *name, int tidx, char *err, size_t errlen)
{
    if (c->num_providers == CONFIG_MAX_PROVIDERS) {
        snprintf(err, errlen, "config: too many providers (at most %d)", CONFIG_MAX_PROVIDERS);
        return -1;
    }
    for (size_t i = 0; i < c->num_providers; i++) {
        if (strcmp(c->providers[i]->name, name) == 0) {
            snprintf(err, errlen, "config: provider \"%s\" is defined twice", name);
            return -1;
        }
    }
    char *type = NULL;
    if (get_field_string(L, tidx, "type", &type, name, err, errlen) != 0)
        return -1;
    const struct provider_ops *ops = provider_ops_find(type);
    if (ops == NULL) {
        snprintf(err, errlen, "config: provider \"%s\" has unknown type \"%s\" (known: anthropic, bedrock)", name, type);
        free(type);
        return -1;
    }
    free(type);
    struct provider *p = calloc(1, sizeof(*p));
    if (p == NULL)
        abort();
    p->ops = ops;
    p->name = strdup(name);
    p->config = c;
    c->providers[c->num_providers++] = p;
    double cooldown;
    if (get_field_number(L, tidx, "cooldown", &cooldown, 300, 0, 7 * 86400, err, errlen) != 0)
        return -1;
    p->cooldown_s = (unsigned)cooldown;
    double throttle;
    if (get_field_number(L, tidx, "throttle_cooldown", &throttle, 5, 0, 3600, err, errlen) != 0)
        return -1;
    p->throttle_cooldown_s = (unsigned)throttle;
    if (read_fallback_on(L, tidx, p, err, errlen) != 0 || read_extra_usage(L, tidx, p, err, errlen) != 0 ||
        config_read_provider_usage(c, p, L, tidx, err, errlen) != 0)
        return -1;
    char perr[400];
    perr[0] = '\0';
    if (ops->configure(p, L, tidx, perr, sizeof(perr)) != 0) {
        snprintf(err, errlen, "config: providers.%s: %s", name, perr);
        return -1;
    }
    return 0;
}

static int read_providers(struct proxy_config *c, lua_State *L, int cidx, char *err, size_t errlen)
{
    config_rawfield(L, cidx, "providers");
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "config: 'providers' must be a table of provider settings");
        lua_pop(L, 1);
        return -1;
    }
    int pidx = lua_gettop(L);
    /* Either a list of tables with `name`, or a map name -> table (visited in sorted order so
     * that loading is deterministic). */
    lua_Integer n = (lua_Integer)lua_rawlen(L, pidx);
    if (n > 0) {
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, pidx, i);
            char *name = NULL;
            if (!lua_istable(L, -1) || get_field_string(L, -1, "name", &name, NULL, err, errlen) != 0 || name == NULL) {
                if (err[0] == '\0')
                    snprintf(err, errlen, "config: providers[%d] needs a name", (int)i);
                free(name);
                lua_pop(L, 2);
                return -1;
            }
            int r = add_provider(c, L, name, lua_gettop(L), err, errlen);
            free(name);
            lua_pop(L, 1);
            if (r != 0) {
                lua_pop(L, 1);
                return -1;
            }
        }
    } else {
        const char *names[CONFIG_MAX_PROVIDERS];
        size_t count = 0;
        lua_pushnil(L);
        while (lua_next(L, pidx) != 0) {
            if (lua_type(L, -2) == LUA_TSTRING && lua_istable(L, -1) && count < CONFIG_MAX_PROVIDERS)
                names[count++] = lua_tostring(L, -2); /* keys stay alive in the table */
            lua_pop(L, 1);
        }
        for (size_t i = 1; i < count; i++)
            for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
                const char *t = names[j];
                names[j] = names[j - 1];
                names[j - 1] = t;
            }
        for (size_t i = 0; i < count; i++) {
            config_rawfield(L, pidx, names[i]);
            int r = add_provider(c, L, names[i], lua_gettop(L), err, errlen);
            lua_pop(L, 1);
            if (r != 0) {
                lua_pop(L, 1);
                return -1;
            }
        }
    }
    lua_pop(L, 1);
    if (c->num_providers == 0) {
        snprintf(err, errlen, "config: no providers defined");
        return -1;
    }
    return 0;
}

static int find_provider_index(const struct proxy_config *c, const char *name)
{
    for (size_t i = 0; i < c->num_providers; i++)
        if (strcmp(c->providers[i]->name, name) == 0)
            return (int)i;
    return -1;
}

struct provider *config_find_provider(const struct proxy_config *c, const char *name)
{
    int i = find_provider_index(c, name);
    return i < 0 ? NULL : c->providers[i];
}

static int read_order(struct proxy_config *c, lua_State *L, int cidx, char *err, size_t errlen)
{
    config_rawfield(L, cidx, "order");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        for (size_t i = 0; i < c->num_providers; i++)
            c->order[c->order_len++] = i;
        return 0;
    }
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "config: 'order' must be a list of provider names");
        lua_pop(L, 1);
        return -1;
    }
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= n && c->order_len < CONFIG_MAX_PROVIDERS; i++) {
        lua_rawgeti(L, -1, i);
        const char *name = lua_tostring(L, -1);
        int idx = name ? find_provider_index(c, name) : -1;
        if (idx < 0) {
            snprintf(err, errlen, "config: order[%d] = %s is not a defined provider", (int)i, name ? name : "?");
            lua_pop(L, 2);
            return -1;
        }
        c->order[c->order_len++] = (size_t)idx;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (c->order_len == 0) {
        snprintf(err, errlen, "config: 'order' is empty");
        return -1;
    }
    return 0;
}

/* Pushes the global `name`, read raw (a strict _G must not raise outside a protected call). */
static int push_global(lua_State *L, const char *name)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    int t = config_rawfield(L, -1, name);
    lua_remove(L, -2);
    return t;
}

int config_require(struct proxy_config *c, const char *module, char *err, size_t errlen)
{
    lua_State *L = c->L;
    push_global(L, "require");
    lua_pushstring(L, module);
    if (bounded_pcall(c, 1, 1, 0, &LOAD_LIMITS) != LUA_OK) {
        snprintf(err, errlen, "config: cannot load %s: %s", module, error_text(L));
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

static int read_models_and_route(struct proxy_config *c, lua_State *L, int cidx, char *err, size_t errlen)
{
    config_rawfield(L, cidx, "models");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        if (config_require(c, "models", err, errlen) != 0)
            return -1;
    }
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "config: 'models' must be a table (see lua/models.lua)");
        lua_pop(L, 1);
        return -1;
    }
    static const char *const required[] = {"for_anthropic", "bedrock_routes", "adaptation"};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        config_rawfield(L, -1, required[i]);
        int ok = lua_isfunction(L, -1);
        lua_pop(L, 1);
        if (!ok) {
            snprintf(err, errlen, "config: models.%s must be a function", required[i]);
            lua_pop(L, 1);
            return -1;
        }
    }
    c->models_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    config_rawfield(L, cidx, "route");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        c->route_ref = LUA_NOREF;
    } else if (lua_isfunction(L, -1)) {
        c->route_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    } else {
        snprintf(err, errlen, "config: 'route' must be a function");
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

static int is_loopback_or_any(const char *host)
{
    return strcmp(host, "127.0.0.1") == 0 || strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
           strcmp(host, "[::1]") == 0 || strcmp(host, "0.0.0.0") == 0 || strncmp(host, "127.", 4) == 0;
}

int config_url_points_at_proxy(const struct proxy_config *c, const char *host, uint16_t port)
{
    if (port != c->port)
        return 0;
    return strcmp(host, c->listen_host) == 0 || (is_loopback_or_any(host) && is_loopback_or_any(c->listen_host));
}

static int read_top_level(struct proxy_config *c, lua_State *L, int cidx, char *err, size_t errlen)
{
    double port, timeout, max_body, cmin, cmax, ping, stalled;
    char *level = NULL, *format = NULL;
    if (get_field_string(L, cidx, "listen", &c->listen_host, "127.0.0.1", err, errlen) != 0 ||
        get_field_number(L, cidx, "port", &port, 47000, 1, 65535, err, errlen) != 0 ||
        get_field_number(L, cidx, "request_timeout", &timeout, 60, 0.05, 86400, err, errlen) != 0 ||
        get_field_number(L, cidx, "ping_interval", &ping, 15, 0.05, 3600, err, errlen) != 0 ||
        get_field_number(L, cidx, "stalled_client_timeout", &stalled, 300, 0.05, 86400, err, errlen) != 0 ||
        get_field_number(L, cidx, "max_body", &max_body, 32.0 * 1024 * 1024, 1024, 1024.0 * 1024 * 1024, err, errlen) !=
            0 ||
        get_field_number(L, cidx, "cooldown_min", &cmin, 1, 0, 7 * 86400, err, errlen) != 0 ||
        get_field_number(L, cidx, "cooldown_max", &cmax, 6 * 3600, 0, 30 * 86400, err, errlen) != 0 ||
        get_field_string(L, cidx, "log_level", &level, "info", err, errlen) != 0 ||
        get_field_string(L, cidx, "log_format", &format, "text", err, errlen) != 0 ||
        get_field_string(L, cidx, "log_file", &c->log_file, NULL, err, errlen) != 0 ||
        get_field_string(L, cidx, "pid_file", &c->pid_file, NULL, err, errlen) != 0 ||
        get_field_bool(L, cidx, "http2", &c->http2, 0, err, errlen) != 0) {
        free(level);
        free(format);
        return -1;
    }
    c->port = (uint16_t)port;
    c->timeout_ms = (uint64_t)(timeout * 1000);
    c->ping_interval_ms = (uint64_t)(ping * 1000);
    c->stalled_client_timeout_ms = (uint64_t)(stalled * 1000);
    c->max_body = (size_t)max_body;
    c->cooldown_min_s = (unsigned)cmin;
    c->cooldown_max_s = (unsigned)cmax;
    int bad_level = log_parse_level(level, &c->log_level) != 0;
    if (bad_level)
        snprintf(err, errlen, "config: log_level \"%s\" is not one of debug, info, warn, error", level);
    c->log_json = strcmp(format, "json") == 0;
    if (!bad_level && !c->log_json && strcmp(format, "text") != 0) {
        snprintf(err, errlen, "config: log_format \"%s\" is not text or json", format);
        bad_level = 1;
    }
    free(level);
    free(format);
    return bad_level ? -1 : 0;
}

/* 1 if a line of Lua code (not a comment) holds an Anthropic token. */
static int line_has_token(const char *line)
{
    const char *code = line + strspn(line, " \t");
    return strncmp(code, "--", 2) != 0 && strstr(code, "sk-ant-") != NULL;
}

/* 1 if the text of the config holds one of the client keys it configured, literally: keys from
 * client_keys_file or from the environment are not in it, and need no warning. */
static int text_has_client_key(const struct proxy_config *c, FILE *f)
{
    if (c->client_keys[0] == NULL)
        return 0;
    char *text = calloc(1, CONFIG_SCAN_MAX + 1);
    if (text == NULL)
        return 0;
    size_t n = fread(text, 1, CONFIG_SCAN_MAX, f);
    int found = 0;
    for (size_t i = 0; c->client_keys[i] != NULL && !found; i++)
        found = c->client_keys[i][0] != '\0' && strstr(text, c->client_keys[i]) != NULL;
    OPENSSL_cleanse(text, n); /* it may hold secrets */
    free(text);
    return found;
}

/* A config that others can read must not hold a secret itself (keep it in a private file). The
 * warnings name the kind of secret, never the secret. */
static void warn_if_secret_readable(const struct proxy_config *c, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || (st.st_mode & 044) == 0)
        return;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char line[1024];
    int token = 0;
    while (!token && fgets(line, sizeof(line), f) != NULL)
        token = line_has_token(line);
    OPENSSL_cleanse(line, sizeof(line));
    rewind(f);
    int keys = text_has_client_key(c, f);
    fclose(f);
    if (token)
        log_warn("%s contains a token but other users can read it: move the token to ~/.config/claude-proxy/token "
                 "(mode 0600) or run chmod 600 %s", path, path);
    if (keys)
        log_warn("%s contains client keys but other users can read it: move them to a client_keys_file (mode 0600) "
                 "or run chmod 600 %s", path, path);
}

/* A Lua syntax error ends by quoting the token it stopped at: "file:3: '}' expected near
 * '"abc"'" (a require()d file's too, inside the error that wraps it). A string literal there may
 * be a secret that is not token-shaped, a client key, and /health shows a reload error to anyone:
 * it becomes "near <string>"; file:line and the message before it stay. */
static void hide_string_near(char *err, size_t errlen)
{
    for (char *p = strstr(err, " near '"); p != NULL; p = strstr(p + 1, " near '")) {
        const char *tok = p + 7;
        if (*tok == '"' || *tok == '\'' || (*tok == '[' && (tok[1] == '[' || tok[1] == '='))) {
            snprintf(p, errlen - (size_t)(p - err), " near <string>"); /* the token ends the message */
            return;
        }
    }
}

static int on_lua_panic(lua_State *L)
{
    log_error("Lua error outside a protected call: %s", lua_tostring(L, -1));
    return 0; /* Lua aborts */
}

struct proxy_config *config_load(const char *path, char *err, size_t errlen)
{
    struct proxy_config *c = calloc(1, sizeof(*c));
    if (c == NULL)
        abort();
    c->refcount = 1;
    c->models_ref = c->route_ref = LUA_NOREF;
    c->source = strdup(path ? path : "(built-in default)");
    err[0] = '\0';
    lua_State *L = c->L = lua_newstate(budget_alloc, c);
    if (L == NULL)
        abort();
    lua_atpanic(L, on_lua_panic);
    lua_sethook(L, limit_hook, LUA_MASKCALL | LUA_MASKCOUNT, HOOK_EVERY); /* idle outside bounded_pcall */
    luaL_openlibs(L);
    install_helpers(L);

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
        snprintf(err, errlen, "%s", error_text(L));
        goto Error;
    }
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        push_global(L, "config");
    }
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "%s: the config must return a table (or set the global 'config')", c->source);
        goto Error;
    }
    int cidx = lua_gettop(L);
    if (read_top_level(c, L, cidx, err, errlen) != 0 || read_access(c, L, cidx, err, errlen) != 0 ||
        config_read_usage(c, L, cidx, err, errlen) != 0 || read_providers(c, L, cidx, err, errlen) != 0 ||
        read_order(c, L, cidx, err, errlen) != 0 || read_models_and_route(c, L, cidx, err, errlen) != 0)
        goto Error;
    for (size_t i = 0; i < c->num_providers; i++)
        c->providers[i]->state = provider_state_get(c->providers[i]->name);
    lua_settop(L, 0);
    if (path != NULL)
        warn_if_secret_readable(c, path);
    return c;
Error:
    hide_string_near(err, errlen); /* Lua quotes the source near a syntax error */
    redact_tokens_in_text(err);
    config_release(c);
    return NULL;
}

int config_start(struct proxy_config *c, void *h2o_context, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->num_providers; i++) {
        struct provider *p = c->providers[i];
        char perr[300];
        if (p->ops->start != NULL && p->ops->start(p, h2o_context, perr, sizeof(perr)) != 0) {
            snprintf(err, errlen, "provider %s: %s", p->name, perr);
            return -1;
        }
    }
    c->started = 1;
    return 0;
}

void config_retain(struct proxy_config *c) { c->refcount++; }

void config_release(struct proxy_config *c)
{
    if (c == NULL || --c->refcount > 0)
        return;
    for (size_t i = 0; i < c->num_providers; i++) {
        struct provider *p = c->providers[i];
        if (p->ops->destroy != NULL)
            p->ops->destroy(p);
        if (p->prices != NULL) {
            price_table_free(p->prices);
            free(p->prices);
        }
        free(p->name);
        free(p);
    }
    if (c->L != NULL)
        lua_close(c->L);
    config_free_list(c->allowed_hosts);
    config_free_list(c->allowed_origins);
    config_free_list(c->client_keys);
    price_table_free(&c->prices);
    free(c->usage_db);
    free(c->source);
    free(c->listen_host);
    free(c->log_file);
    free(c->pid_file);
    free(c);
}

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
        log_warn("models.for_anthropic(\"%s\") failed: %s", model, error_text(L));
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
        log_warn("models.list() failed: %s", failed ? error_text(L) : "it returned no list");
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
            log_error("route() failed, using the static order: %s", error_text(L));
        lua_settop(L, 0);
        return 0;
    }
    if (lua_istable(L, -2)) {
        lua_Integer len = (lua_Integer)lua_rawlen(L, -2); /* raw: a __len of the result must not run here */
        for (lua_Integer i = 1; i <= len && n < CONFIG_MAX_PROVIDERS; i++) {
            lua_rawgeti(L, -2, i);
            const char *name = lua_tostring(L, -1);
            int idx = name ? find_provider_index(c, name) : -1;
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

void config_describe(const struct proxy_config *c, FILE *out)
{
    fprintf(out, "config: %s\n", c->source);
    fprintf(out, "listen: http://%s:%u (HTTP/1.1%s)\n", c->listen_host, c->port, c->http2 ? " and HTTP/2" : "");
    fprintf(out, "request_timeout: %.3gs, ping_interval: %.3gs, stalled_client_timeout: %.3gs, max_body: %zu bytes, "
                 "log_level: %s\n",
            c->timeout_ms / 1000.0, c->ping_interval_ms / 1000.0, c->stalled_client_timeout_ms / 1000.0, c->max_body,
            log_level_name(c->log_level));
    fprintf(out, "order:");
    for (size_t i = 0; i < c->order_len; i++)
        fprintf(out, " %s", c->providers[c->order[i]]->name);
    fprintf(out, "\nroute(): %s\n", c->route_ref == LUA_NOREF ? "none" : "defined");
    size_t nkeys = 0;
    while (c->client_keys[nkeys] != NULL)
        nkeys++;
    fprintf(out, "client keys: %zu%s\n", nkeys, nkeys ? " (clients must present one)" : " (any local client)");
    for (size_t i = 0; i < c->num_providers; i++) {
        struct provider *p = c->providers[i];
        sbuf d = SBUF_INIT;
        if (p->ops->describe)
            p->ops->describe(p, &d);
        const char *problem = p->ops->problem ? p->ops->problem(p) : NULL;
        /* what moves a request on, by name (a 429's kinds apart) */
        char on[256] = "";
        size_t len = 0;
        for (size_t k = 0; k < sizeof(fallback_names) / sizeof(fallback_names[0]); k++)
            if (p->fallback_flags & fallback_names[k].flag)
                len += (size_t)snprintf(on + len, sizeof(on) - len, "%s%s", len ? "," : "", fallback_names[k].name);
        for (size_t k = 0; k < p->num_fallback_statuses && len < sizeof(on) - 8; k++)
            len += (size_t)snprintf(on + len, sizeof(on) - len, "%s%d", len ? "," : "", p->fallback_statuses[k]);
        fprintf(out, "provider %s (%s): cooldown %us, throttle_cooldown %us, extra_usage %s, fallback_on %s {%s}%s%s\n",
                p->name, p->ops->type, p->cooldown_s, p->throttle_cooldown_s, p->extra_usage_avoid ? "avoid" : "use",
                len ? on : "(nothing)", d.data ? d.data : "", problem ? " -- problem: " : "", problem ? problem : "");
        sbuf_free(&d);
    }
    config_describe_usage(c, out);
}
