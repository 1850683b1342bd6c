#include "pidfile.h"
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *runtime_dir(void)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");
    return dir != NULL && dir[0] != '\0' ? dir : "/tmp";
}

void pidfile_path(const char *configured, uint16_t port, char *out, size_t outsize)
{
    if (configured != NULL && configured[0] != '\0') {
        snprintf(out, outsize, "%s", configured);
        return;
    }
    snprintf(out, outsize, "%s/claude-proxy-%u-%u.pid", runtime_dir(), (unsigned)getuid(), (unsigned)port);
}

size_t pidfile_find_running(pid_t *pids, char (*paths)[4200], size_t max)
{
    char prefix[64];
    int plen = snprintf(prefix, sizeof(prefix), "claude-proxy-%u-", (unsigned)getuid());
    DIR *d = opendir(runtime_dir());
    if (d == NULL)
        return 0;
    size_t n = 0;
    for (struct dirent *e; n < max && (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, prefix, (size_t)plen) != 0 || len < 4 || strcmp(e->d_name + len - 4, ".pid") != 0)
            continue;
        snprintf(paths[n], sizeof(paths[n]), "%s/%s", runtime_dir(), e->d_name);
        if ((pids[n] = pidfile_read(paths[n])) > 0)
            n++;
    }
    closedir(d);
    return n;
}

int pidfile_write(const char *path)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    int ok = write(fd, buf, (size_t)n) == n;
    close(fd);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

pid_t pidfile_read(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    int pid = -1;
    if (fscanf(f, "%d", &pid) != 1)
        pid = -1;
    fclose(f);
    if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH))
        return -1;
    return pid;
}

void pidfile_remove(const char *path)
{
    /* only our own file: another instance may have replaced it */
    if (pidfile_read(path) == getpid())
        unlink(path);
}
