/* What the files of the config share and nothing outside them uses. Who calls whom (no circle):
 * config.c (lifecycle and schema) calls the sandbox (config_lua.c), the secret checks
 * (config_secrets.c), the usage settings (config_usage.c) and the field readers (config_fields.c);
 * config_usage.c only the field readers and config_require; config_call.c (request time) the
 * bounded call, the field readers and config_provider_index; config_lua.c the raw reads and the
 * secret-file check it offers the config's code as proxy.check_secret_file. */
#ifndef CP_CONFIG_INTERNAL_H
#define CP_CONFIG_INTERNAL_H
#include <lua.h>
#include <stddef.h>
#include <stdio.h>
#include "core/config.h"

/* The default config's file name, in the lookup directories and among the embedded files (where
 * it is no module). */
#define DEFAULT_CONFIG_NAME "claude-proxy.lua"

/* config_fields.c */
/* Pushes the global `name`, read raw (a strict _G must not raise outside a protected call), and
 * returns its type. */
int config_rawglobal(lua_State *L, const char *name);

/* config_lua.c */
/* Creates c->L: the allocator with the memory budget, the limit hook (idle until a bounded call),
 * the standard libraries, the embedded lua/ modules in package.preload and the `proxy` table. */
void config_lua_open(struct proxy_config *c);
/* Runs the config file (path NULL: the built-in default) under the load limits. Returns 0 with its
 * result on top of the stack (a message handler below it), or -1 with file:line: message in err. */
int config_lua_run(struct proxy_config *c, const char *path, char *err, size_t errlen);
/* The error a failed call left on top of the stack, as text (an error value need not be a string). */
const char *config_error_text(lua_State *L);

/* config_secrets.c */
/* proxy.check_secret_file(path): a file holding a secret must not be readable by others. */
int config_lua_check_secret_file(lua_State *L);
/* Appends client keys from a file, one per line, to c->client_keys; the file must be private.
 * Returns 0, or -1 with err. */
int config_read_client_keys_file(struct proxy_config *c, const char *path, char *err, size_t errlen);
/* A config that others can read must not hold a secret itself (keep it in a private file): logs a
 * warning naming the kind of secret it holds, never the secret. */
void config_warn_if_secret_readable(const struct proxy_config *c, const char *path);
/* Before a load error is kept or logged: a string literal Lua quotes near a syntax error, and any
 * token-shaped text, are hidden. */
void config_hide_secrets_in_error(char *err, size_t errlen);

/* config_usage.c: prices, the ledger's settings (top level) and a provider's prices and budget
 * (its table at tidx). */
int config_read_usage(struct proxy_config *c, lua_State *L, int cidx, char *err, size_t errlen);
int config_read_provider_usage(struct proxy_config *c, struct provider *p, lua_State *L, int tidx, char *err,
                               size_t errlen);
/* For --check: where the ledger is, how many models are priced, budgets. */
void config_describe_usage(const struct proxy_config *c, FILE *out);

/* config.c */
/* The index of the provider called name in c->providers, or -1. */
int config_provider_index(const struct proxy_config *c, const char *name);

#endif
