#include "pidfile.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void pidfile_path(const char *configured, uint16_t port, char *out, size_t outsize)
{
    if (configured != NULL && configured[0] != '\0') {
        snprintf(out, outsize, "%s", configured);
        return;
    }
    const char *dir = getenv("XDG_RUNTIME_DIR");
    if (dir == NULL || dir[0] == '\0')
        dir = "/tmp";
    snprintf(out, outsize, "%s/claude-proxy-%u-%u.pid", dir, (unsigned)getuid(), (unsigned)port);
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
