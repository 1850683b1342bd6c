#include "common/pidfile.h"
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __APPLE__
#include <libproc.h>
#endif

/* the directory's path, short enough for it plus a 255-byte name to fit the callers' 4200 bytes */
#define DIR_MAX 3900

/* The default place is a directory of this user's alone, never a file straight in a shared /tmp:
 * there another user could plant a pid for `reload` to signal, or a symlink for the proxy to
 * write through. */
static const char *runtime_base(void)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");
    if (dir == NULL || dir[0] == '\0')
        dir = getenv("TMPDIR"); /* per user on macOS */
    return dir != NULL && dir[0] != '\0' ? dir : "/tmp";
}

static void runtime_dir(char *out, size_t outsize)
{
    snprintf(out, outsize, "%s/claude-proxy-%u", runtime_base(), (unsigned)getuid());
}

/* A directory (not a symlink to one) of this user's that no one else may enter. */
static int dir_is_private(const char *dir)
{
    struct stat st;
    if (lstat(dir, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077) != 0) {
        errno = EPERM;
        return -1;
    }
    return 0;
}

int pidfile_private_dir(char *out, size_t outsize)
{
    runtime_dir(out, outsize);
    if (mkdir(out, 0700) != 0 && errno != EEXIST)
        return -1;
    return dir_is_private(out);
}

void pidfile_path(const char *configured, uint16_t port, char *out, size_t outsize)
{
    if (configured != NULL && configured[0] != '\0') {
        snprintf(out, outsize, "%s", configured);
        return;
    }
    char dir[DIR_MAX];
    runtime_dir(dir, sizeof(dir));
    snprintf(out, outsize, "%s/claude-proxy-%u.pid", dir, (unsigned)port);
}

/* A pid file to trust: a regular file (no symlink followed), of this user's, one link, that no one
 * else may write. -1 if absent or not to be trusted. */
static pid_t read_trusted(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    char buf[32];
    ssize_t n = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == getuid() && st.st_nlink == 1 &&
        (st.st_mode & 022) == 0)
        n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *end;
    long pid = strtol(buf, &end, 10);
    if (end == buf || (*end != '\n' && *end != '\0') || pid <= 0 || pid > 0x3fffffff)
        return -1;
    return (pid_t)pid;
}

int pidfile_is_claude_proxy(pid_t pid)
{
    char exe[4096];
    ssize_t n;
#ifdef __APPLE__
    int r = proc_pidpath(pid, exe, sizeof(exe));
    n = r > 0 ? r : -1;
#else
    char link[64];
    snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
    n = readlink(link, exe, sizeof(exe) - 1); /* fails for another user's process */
#endif
    if (n <= 0)
        return 0;
    exe[n] = '\0';
    /* a binary replaced by `make install` while it runs reads "... (deleted)" */
    static const char deleted[] = " (deleted)";
    size_t len = (size_t)n;
    if (len > sizeof(deleted) - 1 && strcmp(exe + len - (sizeof(deleted) - 1), deleted) == 0)
        exe[len -= sizeof(deleted) - 1] = '\0';
    const char *base = strrchr(exe, '/');
    return strcmp(base != NULL ? base + 1 : exe, "claude-proxy") == 0;
}

size_t pidfile_find_running(pid_t *pids, char (*paths)[4200], size_t max)
{
    char dir[DIR_MAX];
    runtime_dir(dir, sizeof(dir));
    if (dir_is_private(dir) != 0)
        return 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    size_t n = 0;
    for (struct dirent *e; n < max && (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "claude-proxy-", 13) != 0 || len < 4 || strcmp(e->d_name + len - 4, ".pid") != 0)
            continue;
        snprintf(paths[n], sizeof(paths[n]), "%s/%s", dir, e->d_name);
        if ((pids[n] = pidfile_read(paths[n])) > 0)
            n++;
    }
    closedir(d);
    return n;
}

int pidfile_write(const char *path, int is_default)
{
    if (is_default) {
        char dir[DIR_MAX];
        if (pidfile_private_dir(dir, sizeof(dir)) != 0)
            return -1;
    }
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
    /* a new file of its own: never through a symlink or into a file someone left there */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    int ok = write(fd, buf, (size_t)n) == n;
    ok &= close(fd) == 0;
    /* rename replaces whatever is at path, a symlink included, without following it */
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

pid_t pidfile_read(const char *path)
{
    pid_t pid = read_trusted(path);
    if (pid <= 0 || kill(pid, 0) != 0 || !pidfile_is_claude_proxy(pid))
        return -1;
    return pid;
}

void pidfile_remove(const char *path)
{
    /* only our own file: another instance may have replaced it */
    if (read_trusted(path) == getpid())
        unlink(path);
}
