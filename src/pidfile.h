/* The pid file lets `claude-proxy reload` find the running instance. */
#ifndef CP_PIDFILE_H
#define CP_PIDFILE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* configured (may be NULL) or ${XDG_RUNTIME_DIR:-/tmp}/claude-proxy-<uid>-<port>.pid */
void pidfile_path(const char *configured, uint16_t port, char *out, size_t outsize);
int pidfile_write(const char *path);
pid_t pidfile_read(const char *path); /* -1 if absent or stale */
void pidfile_remove(const char *path);
/* The live instances of this user with a pid file in the default place, whatever their port
 * (the service may run with a PROXY_PORT this shell does not have). Returns how many (<= max). */
size_t pidfile_find_running(pid_t *pids, char (*paths)[4200], size_t max);

#endif
