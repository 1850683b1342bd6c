/* The Lua configuration: one lua_State per loaded generation. A reload builds a new
 * generation; requests hold a reference to the one they started with, so in-flight requests
 * finish on the old config while new ones use the new.
 * Implemented by config.c (lifecycle and schema), config_lua.c (the sandbox: bounded calls,
 * embedded modules), config_fields.c (field readers, raw access), config_secrets.c (secret files,
 * what a load error may show), config_call.c (models functions and route() at request time) and
 * config_usage.c (prices, ledger, budgets); core/config_internal.h is what they share. */
#ifndef CP_CONFIG_H
#define CP_CONFIG_H
#include <lua.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include "common/log.h"
#include "core/prices.h"
#include "common/sbuf.h"

struct provider;
struct provider_state;

#define CONFIG_MAX_PROVIDERS 16
#define CONFIG_MAX_LIST 64

/* The call into the config's code under way, and its limits (bounded_pcall in config_lua.c). */
enum { LUA_LIMIT_INSTRUCTIONS = 1, LUA_LIMIT_CPU, LUA_LIMIT_WALL };
struct lua_call_limits {
    int active;                              /* inside a call: the memory budget and these limits apply */
    int stopping;                            /* the LUA_LIMIT_* passed: every further instruction fails */
    uint64_t instructions, max_instructions; /* max 0: no count */
    uint64_t start_wall_ms, start_cpu_ms;    /* CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID */
    unsigned cpu_limit_ms, wall_limit_ms;
};

struct proxy_config {
    int refcount;
    lua_State *L;
    size_t lua_bytes; /* what L holds (bounded while its code runs, see config_lua.c) */
    struct lua_call_limits lua_limits;
    char *source; /* file path, or "(built-in default)" */
    char *listen_host;
    uint16_t port;
    uint64_t timeout_ms;
    uint64_t ping_interval_ms;          /* silence after which a translated stream gets a ping */
    uint64_t stalled_client_timeout_ms; /* how long a client that reads nothing holds the upstream */
    size_t max_body;
    enum log_level log_level;
    int log_json;
    char *log_file;
    char *pid_file;
    unsigned cooldown_min_s, cooldown_max_s;
    struct provider *providers[CONFIG_MAX_PROVIDERS];
    size_t num_providers;
    size_t order[CONFIG_MAX_PROVIDERS]; /* indexes into providers */
    size_t order_len;
    int models_ref;               /* the `models` table (for_anthropic, to_bedrock, list) */
    int route_ref;                /* route(req) or LUA_NOREF */
    unsigned route_errors_logged; /* a broken route() is logged once per config generation */
    int started;
    /* who gets in (see README, SECURITY) */
    char *allowed_hosts[CONFIG_MAX_LIST + 1];   /* Host names besides loopback ones */
    char *allowed_origins[CONFIG_MAX_LIST + 1]; /* browser Origins allowed (none by default) */
    char *client_keys[CONFIG_MAX_LIST + 1];     /* when set, clients must present one */
    uint64_t header_timeout_ms;                 /* to receive a request's headers and body */
    /* usage and cost (config_usage.c) */
    struct price_table prices; /* lua/prices.lua with the config's `prices` over it */
    char *usage_db;            /* the ledger's file; NULL: the default place */
    int usage_db_off;          /* usage_db = false */
    unsigned usage_retention_days;
    int http2; /* accept HTTP/2 (prior knowledge, h2c upgrade) */
};

/* Where the config comes from when --config is absent: $CLAUDE_PROXY_CONFIG,
 * $XDG_CONFIG_HOME/claude-proxy/claude-proxy.lua, ~/.config/claude-proxy/claude-proxy.lua, the
 * installed etc file; NULL means the built-in default. The result is in buf or from getenv. */
const char *config_default_path(char *buf, size_t bufsize);
/* lua_pcall on the config's state for a call into its code at request time: within the memory
 * budget, a million instructions, 1 s of CPU time and 10 s in all (config_lua.c says what these
 * bound). */
int config_pcall(struct proxy_config *c, int nargs, int nresults, int msgh);
/* Pushes require(module) at load time (e.g. "models": lua/models.lua or the user's own), in a
 * bounded protected call; -1 with err if it fails. */
int config_require(struct proxy_config *c, const char *module, char *err, size_t errlen);
/* Pushes t[key] of the table at idx, read raw (no metamethod runs; nil if idx is no table), and
 * returns its type. The C side reads the config's tables and its functions' results this way. */
int config_rawfield(lua_State *L, int idx, const char *key);
/* Calls models.<fn> (the config's models table) with the nargs arguments on top of the stack,
 * through config_pcall. Returns 0 with nresults results in their place, or -1 with the error
 * message there. */
int config_call_models(struct proxy_config *c, const char *fn, int nargs, int nresults);

/* Loads and validates a config (path NULL: built-in default). On error returns NULL and err
 * holds a message with file:line for Lua errors. */
struct proxy_config *config_load(const char *path, char *err, size_t errlen);
/* Starts providers (connection pools). Returns 0 or -1 with err. */
int config_start(struct proxy_config *c, void *h2o_context, char *err, size_t errlen);
void config_retain(struct proxy_config *c);
void config_release(struct proxy_config *c);

struct provider *config_find_provider(const struct proxy_config *c, const char *name);

/* Model mapping through lua/models.lua (or the config's override). */
/* The model name to send to Anthropic: Bedrock-form ids become Anthropic names. Writes out and
 * returns 1 if it differs from `model`, 0 if unchanged, -1 on a Lua error (logged). */
int config_model_for_anthropic(struct proxy_config *c, const char *model, char *out, size_t outsize);

/* Appends the models the map knows as OpenAI model objects (comma-separated); returns the count. */
size_t config_model_list(struct proxy_config *c, sbuf *out);

/* The read-only view route() gets. */
struct route_view {
    const char *path;
    const char *model;
    int stream;
    const char *client_addr;
    const char *const *header_names; /* NULL-terminated */
    const char *const *header_values;
};
/* Calls route(req) if the config has one. Fills order (provider indexes) and returns its length,
 * or 0 to use the static order. An error or a runaway loop logs once and yields 0. */
size_t config_route(struct proxy_config *c, const struct route_view *view, size_t *order, char *model_override,
                    size_t model_override_size);

/* The prices that apply to a provider's requests. */
const struct price_table *config_prices(const struct proxy_config *c, const struct provider *p);

/* Field readers for providers' configure(): the table is at stack index idx. */
int config_field_string(lua_State *L, int idx, const char *key, char **out, const char *def, char *err, size_t errlen);
int config_field_number(lua_State *L, int idx, const char *key, double *out, double def, double min, double max,
                        char *err, size_t errlen);
int config_field_bool(lua_State *L, int idx, const char *key, int *out, int def, char *err, size_t errlen);
/* A list of strings (NULL-terminated, at most CONFIG_MAX_LIST); def when the key is absent. */
int config_field_list(lua_State *L, int idx, const char *key, char **out, const char *const *def, char *err,
                      size_t errlen);
void config_free_list(char **list);
/* 1 if host:port is the proxy's own listen address (a provider must never call the proxy). */
int config_url_points_at_proxy(const struct proxy_config *c, const char *host, uint16_t port);

/* Prints what the config would do (for --check), never a secret. */
void config_describe(const struct proxy_config *c, FILE *out);

#endif
