/* The pid file: a private directory, a safe write, and a file and pid trusted only when they are
 * this user's own and a claude-proxy's (this test binary is not one). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "common/pidfile.h"

static char base[256];

static void put(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    CHECK(fd >= 0);
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    chmod(path, mode);
}

static void test_default_place(void)
{
    char path[4200], dir[4096], want[4200];
    unsetenv("XDG_RUNTIME_DIR");
    setenv("TMPDIR", base, 1); /* macOS has no XDG_RUNTIME_DIR: this is the case that was /tmp */
    pidfile_path(NULL, 47001, path, sizeof(path));
    snprintf(want, sizeof(want), "%s/claude-proxy-%u/claude-proxy-47001.pid", base, (unsigned)getuid());
    CHECK_STR_EQ(path, want);
    CHECK_INT_EQ(pidfile_private_dir(dir, sizeof(dir)), 0);
    struct stat st;
    CHECK(lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700 && st.st_uid == getuid());
    CHECK_INT_EQ(pidfile_write(path, 1), 0);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 022) == 0);
    /* our own pid, but this is not a claude-proxy: read refuses it, remove still knows it as ours */
    CHECK_INT_EQ(pidfile_read(path), -1);
    pidfile_remove(path);
    CHECK(access(path, F_OK) != 0);

    /* a directory others may enter, or a symlink in its place, is not private: nothing is written */
    chmod(dir, 0755);
    CHECK_INT_EQ(pidfile_private_dir(dir, sizeof(dir)), -1);
    CHECK_INT_EQ(pidfile_write(path, 1), -1);
    CHECK(access(path, F_OK) != 0);
    rmdir(dir);
    char elsewhere[300];
    snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere", base);
    mkdir(elsewhere, 0700);
    CHECK(symlink(elsewhere, dir) == 0);
    CHECK_INT_EQ(pidfile_write(path, 1), -1);
    unlink(dir);
    CHECK_INT_EQ(pidfile_private_dir(dir, sizeof(dir)), 0);

    setenv("XDG_RUNTIME_DIR", elsewhere, 1);
    pidfile_path(NULL, 5, path, sizeof(path));
    snprintf(want, sizeof(want), "%s/claude-proxy-%u/claude-proxy-5.pid", elsewhere, (unsigned)getuid());
    CHECK_STR_EQ(path, want);
}

static void test_write_does_not_follow(void)
{
    char path[300], tmp[400], victim[300];
    snprintf(path, sizeof(path), "%s/configured.pid", base);
    snprintf(victim, sizeof(victim), "%s/victim", base);
    put(victim, "precious\n", 0600);
    /* a symlink planted at the temp name is not written through */
    snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
    CHECK(symlink(victim, tmp) == 0);
    CHECK_INT_EQ(pidfile_write(path, 0), -1);
    unlink(tmp);
    /* a symlink at the pid file's own name is replaced, not followed */
    CHECK(symlink(victim, path) == 0);
    CHECK_INT_EQ(pidfile_write(path, 0), 0);
    char buf[32] = {0};
    int fd = open(victim, O_RDONLY);
    CHECK(read(fd, buf, sizeof(buf) - 1) > 0);
    close(fd);
    CHECK_STR_EQ(buf, "precious\n");
    struct stat st;
    CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode));
    unlink(path);
}

static void test_read_trusts_only_own_claude_proxy(void)
{
    char path[300], num[32], alias[300];
    snprintf(path, sizeof(path), "%s/read.pid", base);
    snprintf(alias, sizeof(alias), "%s/read-link.pid", base);
    /* a live process of this user's that is not a claude-proxy: a planted pid for reload to kill */
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    snprintf(num, sizeof(num), "%d\n", (int)child);
    put(path, num, 0644);
    CHECK_INT_EQ(pidfile_is_claude_proxy(child), 0);
    CHECK_INT_EQ(pidfile_read(path), -1);
    CHECK_INT_EQ(pidfile_is_claude_proxy(1), 0); /* init, or another user's process */
    put(path, "1\n", 0644);
    CHECK_INT_EQ(pidfile_read(path), -1);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);

    /* the file itself: mode, owner, links and content, checked before any pid is believed (this
     * process's own pid goes through read_trusted, which pidfile_remove uses) */
    snprintf(num, sizeof(num), "%d\n", (int)getpid());
    put(path, num, 0666);
    pidfile_remove(path);
    CHECK(access(path, F_OK) == 0); /* others may write it: not trusted, not removed */
    put(path, num, 0644);
    CHECK(symlink(path, alias) == 0);
    pidfile_remove(alias);
    CHECK(access(path, F_OK) == 0 && access(alias, F_OK) == 0); /* a symlink is not followed */
    unlink(alias);
    CHECK(link(path, alias) == 0);
    pidfile_remove(alias);
    CHECK(access(alias, F_OK) == 0); /* two links: not trusted */
    unlink(alias);
    if (getuid() == 0) { /* a file of another user's (only root can make one here) */
        CHECK(chown(path, 65534, 65534) == 0);
        pidfile_remove(path);
        CHECK(access(path, F_OK) == 0);
        CHECK(chown(path, 0, 0) == 0);
    }
    put(path, "12abc\n", 0644);
    CHECK_INT_EQ(pidfile_read(path), -1);
    pidfile_remove(path);
    CHECK(access(path, F_OK) == 0);
    put(path, num, 0644);
    pidfile_remove(path);
    CHECK(access(path, F_OK) != 0);
}

int main(void)
{
    snprintf(base, sizeof(base), "/tmp/cp-pidfile-test-XXXXXX");
    CHECK(mkdtemp(base) != NULL);
    test_default_place();
    test_write_does_not_follow();
    test_read_trusts_only_own_claude_proxy();
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    CHECK(system(cmd) == 0);
    CHECK_DONE();
}
