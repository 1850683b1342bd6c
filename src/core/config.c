/* A config generation's lifecycle and schema: where the file is, loading it (the Lua sandbox of
 * config_lua.c runs it), reading and validating the table it returns (top-level settings, who gets
 * in, the providers with their fallback rules, the order, the models table and route()), starting
 * the providers, the reference count that frees a generation when its last request ends, and what
 * --check prints. The readers it uses are config_fields.c's, the usage settings config_usage.c's,
 * the secret checks config_secrets.c's. */
#include "core/config.h"
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/config_internal.h"
#include "core/provider.h"
#include "core/provider_state.h"
#include "common/netaddr.h"
#include "common/memory.h"

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
    if (readable_at(buf, bufsize, getenv("XDG_CONFIG_HOME"), "") ||
        readable_at(buf, bufsize, getenv("HOME"), "/.config") || readable_at(buf, bufsize, CP_INSTALL_SYSCONFDIR, ""))
        return buf;
    buf[0] = '\0';
    return NULL;
}

static int read_access(struct proxy_config *c, lua_State *L, int cidx, char *err, size_t errlen)
{
    char *keys_file = NULL;
    double header_timeout;
    if (config_field_list(L, cidx, "allowed_hosts", c->allowed_hosts, NULL, err, errlen) != 0 ||
        config_field_list(L, cidx, "allowed_origins", c->allowed_origins, NULL, err, errlen) != 0 ||
        config_field_list(L, cidx, "client_keys", c->client_keys, NULL, err, errlen) != 0 ||
        config_field_string(L, cidx, "client_keys_file", &keys_file, NULL, err, errlen) != 0 ||
        config_field_number(L, cidx, "header_timeout", &header_timeout, 10, 0.1, 3600, err, errlen) != 0)
        return -1;
    c->header_timeout_ms = (uint64_t)(header_timeout * 1000);
    int r = keys_file != NULL ? config_read_client_keys_file(c, keys_file, err, errlen) : 0;
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
    {"connect", FALLBACK_CONNECT},   {"timeout", FALLBACK_TIMEOUT},
    {"5xx", FALLBACK_5XX},           {"plan_limit", FALLBACK_PLAN_LIMIT},
    {"throttle", FALLBACK_THROTTLE}, {"extra_usage_required", FALLBACK_EXTRA_USAGE_REQUIRED},
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
                snprintf(err, errlen,
                         "config: providers.%s.fallback_on: unknown outcome \"%s\" (use a status, "
                         "\"plan_limit\", \"throttle\", \"extra_usage_required\", \"connect\", \"timeout\" or "
                         "\"5xx\")",
                         p->name, s);
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
    if (config_field_string(L, idx, "extra_usage", &mode, "use", err, errlen) != 0)
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
    if (config_field_string(L, tidx, "type", &type, name, err, errlen) != 0)
        return -1;
    const struct provider_ops *ops = provider_ops_find(type);
    if (ops == NULL) {
        snprintf(err, errlen, "config: provider \"%s\" has unknown type \"%s\" (known: anthropic, bedrock)", name,
                 type);
        free(type);
        return -1;
    }
    free(type);
    struct provider *p = xcalloc(1, sizeof(*p));
    p->ops = ops;
    p->name = xstrdup(name);
    p->config = c;
    c->providers[c->num_providers++] = p;
    double cooldown;
    if (config_field_number(L, tidx, "cooldown", &cooldown, 300, 0, 7 * 86400, err, errlen) != 0)
        return -1;
    p->cooldown_s = (unsigned)cooldown;
    double throttle;
    if (config_field_number(L, tidx, "throttle_cooldown", &throttle, 5, 0, 3600, err, errlen) != 0)
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
            if (!lua_istable(L, -1) || config_field_string(L, -1, "name", &name, NULL, err, errlen) != 0 ||
                name == NULL) {
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

int config_provider_index(const struct proxy_config *c, const char *name)
{
    for (size_t i = 0; i < c->num_providers; i++)
        if (strcmp(c->providers[i]->name, name) == 0)
            return (int)i;
    return -1;
}

struct provider *config_find_provider(const struct proxy_config *c, const char *name)
{
    int i = config_provider_index(c, name);
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
        int idx = name ? config_provider_index(c, name) : -1;
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
    return netaddr_is_loopback(host, strlen(host)) || netaddr_is_wildcard(host, strlen(host));
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
    if (config_field_string(L, cidx, "listen", &c->listen_host, "127.0.0.1", err, errlen) != 0 ||
        config_field_number(L, cidx, "port", &port, 47000, 1, 65535, err, errlen) != 0 ||
        config_field_number(L, cidx, "request_timeout", &timeout, 60, 0.05, 86400, err, errlen) != 0 ||
        config_field_number(L, cidx, "ping_interval", &ping, 15, 0.05, 3600, err, errlen) != 0 ||
        config_field_number(L, cidx, "stalled_client_timeout", &stalled, 300, 0.05, 86400, err, errlen) != 0 ||
        config_field_number(L, cidx, "max_body", &max_body, 32.0 * 1024 * 1024, 1024, 1024.0 * 1024 * 1024, err,
                            errlen) != 0 ||
        config_field_number(L, cidx, "cooldown_min", &cmin, 1, 0, 7 * 86400, err, errlen) != 0 ||
        config_field_number(L, cidx, "cooldown_max", &cmax, 6 * 3600, 0, 30 * 86400, err, errlen) != 0 ||
        config_field_string(L, cidx, "log_level", &level, "info", err, errlen) != 0 ||
        config_field_string(L, cidx, "log_format", &format, "text", err, errlen) != 0 ||
        config_field_string(L, cidx, "log_file", &c->log_file, NULL, err, errlen) != 0 ||
        config_field_string(L, cidx, "pid_file", &c->pid_file, NULL, err, errlen) != 0 ||
        config_field_bool(L, cidx, "http2", &c->http2, 0, err, errlen) != 0) {
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
struct proxy_config *config_load(const char *path, char *err, size_t errlen)
{
    struct proxy_config *c = xcalloc(1, sizeof(*c));
    c->refcount = 1;
    c->models_ref = c->route_ref = LUA_NOREF;
    c->source = xstrdup(path ? path : "(built-in default)");
    err[0] = '\0';
    config_lua_open(c);
    lua_State *L = c->L;
    if (config_lua_run(c, path, err, errlen) != 0)
        goto Error;
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        config_rawglobal(L, "config");
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
        config_warn_if_secret_readable(c, path);
    return c;
Error:
    config_hide_secrets_in_error(err, errlen);
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
void config_describe(const struct proxy_config *c, FILE *out)
{
    fprintf(out, "config: %s\n", c->source);
    char url[300];
    netaddr_http_url(url, sizeof(url), c->listen_host, c->port);
    fprintf(out, "listen: %s (HTTP/1.1%s)\n", url, c->http2 ? " and HTTP/2" : "");
    fprintf(out,
            "request_timeout: %.3gs, ping_interval: %.3gs, stalled_client_timeout: %.3gs, max_body: %zu bytes, "
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
        const char *problem = provider_problem(p);
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
