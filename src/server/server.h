/* The HTTP front: H2O in library mode on libuv, the endpoints, and config reloads. */
#ifndef CP_SERVER_H
#define CP_SERVER_H
#include <h2o.h>
#include <time.h>
#include <uv.h>

struct proxy_config;

struct server {
    h2o_globalconf_t globalconf;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    uv_loop_t *loop;
    uv_tcp_t listener;
    struct proxy_config *config; /* the live generation */
    char *config_path;           /* NULL: built-in default */
    char *last_reload_error;     /* shown in /health until a reload succeeds */
    time_t started_at, last_reload_at;
    uint64_t reloads;
};

/* Binds the listener and starts serving with cfg (taking its reference). */
int server_start(struct server *s, uv_loop_t *loop, struct proxy_config *cfg, const char *config_path, char *err,
                 size_t errlen);
/* Re-reads the config file into a fresh generation. On error the old one keeps serving, the
 * error is logged and kept for /health. Returns 0 on success. */
int server_reload(struct server *s);
/* Stops accepting; in-flight requests finish. */
void server_stop_listening(struct server *s);

#endif
