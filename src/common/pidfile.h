/* The pid file lets `claude-proxy reload` find the running instance. It is trusted only when it is
 * this user's own file, and its pid only when that process is a claude-proxy: a pid someone else
 * planted is never signalled. */
#ifndef CP_PIDFILE_H
#define CP_PIDFILE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* configured (may be NULL) or <dir>/claude-proxy-<port>.pid, where <dir> is
 * ${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}/claude-proxy-<uid>, a directory of this user's only (0700) */
void pidfile_path(const char *configured, uint16_t port, char *out, size_t outsize);
/* Creates that directory if need be; -1 (errno EPERM) if it is not this user's alone. */
int pidfile_private_dir(char *out, size_t outsize);
/* Writes this process's pid through a new temp file (O_EXCL|O_NOFOLLOW) renamed into place;
 * is_default: path is the default one, whose directory is made and checked first. */
int pidfile_write(const char *path, int is_default);
/* The pid of the running claude-proxy the file names; -1 if the file is absent, not a regular
 * file of this user's that only they may write, or names a process that is gone or not a
 * claude-proxy (Linux: /proc/PID/exe, macOS: proc_pidpath). */
pid_t pidfile_read(const char *path);
int pidfile_is_claude_proxy(pid_t pid);
void pidfile_remove(const char *path);
/* The live instances of this user with a pid file in the default place, whatever their port
 * (the service may run with a PROXY_PORT this shell does not have). Returns how many (<= max). */
size_t pidfile_find_running(pid_t *pids, char (*paths)[4200], size_t max);

#endif
