/* The allocation helpers: a size of 0 still gives a pointer to free (malloc(0) and realloc(p, 0)
 * may return NULL, which must not read as running out), contents are kept or zeroed, and a request
 * that cannot be met ends the process instead of returning NULL. */
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "common/memory.h"

static void test_sizes(void)
{
    void *p = xmalloc(0);
    CHECK(p != NULL);
    p = xrealloc(p, 0);
    CHECK(p != NULL);
    free(p);
    p = xcalloc(0, 16);
    CHECK(p != NULL);
    free(p);
    p = xcalloc(16, 0);
    CHECK(p != NULL);
    free(p);
    p = xrealloc(NULL, 0);
    CHECK(p != NULL);
    free(p);
}

static void test_contents(void)
{
    unsigned char *z = xcalloc(100, 3);
    int all_zero = 1;
    for (size_t i = 0; i < 300; i++)
        all_zero &= z[i] == 0;
    CHECK(all_zero);
    memcpy(z, "kept", 5);
    z = xrealloc(z, 1 << 20);
    CHECK_STR_EQ((char *)z, "kept");
    free(z);
    char *s = xstrdup("claude-proxy");
    CHECK_STR_EQ(s, "claude-proxy");
    free(s);
    s = xstrdup("");
    CHECK_STR_EQ(s, "");
    free(s);
}

/* The idle trim: on the first two idle ticks after requests, never while busy, not again until
 * there are more requests. */
static void test_trim_decision(void)
{
    struct memory_trim_state st = {0};
    CHECK_INT_EQ(memory_trim_due(&st, 1, 0), 0); /* idle from the start: nothing to give back */
    CHECK_INT_EQ(memory_trim_due(&st, 0, 5), 0); /* busy */
    CHECK_INT_EQ(memory_trim_due(&st, 1, 5), 1); /* the first idle tick after requests */
    CHECK_INT_EQ(memory_trim_due(&st, 1, 5), 1); /* and the one after it */
    CHECK_INT_EQ(memory_trim_due(&st, 1, 5), 0);
    CHECK_INT_EQ(memory_trim_due(&st, 1, 5), 0);
    CHECK_INT_EQ(memory_trim_due(&st, 0, 9), 0); /* busy again */
    CHECK_INT_EQ(memory_trim_due(&st, 1, 9), 1);
    CHECK_INT_EQ(memory_trim_due(&st, 1, 12), 1); /* requests between two idle ticks: two more */
    CHECK_INT_EQ(memory_trim_due(&st, 1, 12), 1);
    CHECK_INT_EQ(memory_trim_due(&st, 1, 12), 0);
}

/* 1 if f() ended the child process abnormally (abort, or the sanitizer's report) instead of returning. */
static int dies(void (*f)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0}); /* no core file for the aborts */
        f();
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static volatile size_t huge = SIZE_MAX / 2; /* volatile: the compiler must not see the overflow */
static void calloc_overflow(void) { free(xcalloc(huge, 4)); }
static void malloc_too_much(void) { free(xmalloc(huge)); }
static void realloc_too_much(void) { free(xrealloc(NULL, huge)); }
static void no_failure(void) { free(xmalloc(64)); }

int main(void)
{
    test_sizes();
    test_contents();
    test_trim_decision();
    /* under ASan the child's report is the sanitizer's, not abort(): either way none returns */
    CHECK(!dies(no_failure));
    CHECK(dies(calloc_overflow));
    CHECK(dies(malloc_too_much));
    CHECK(dies(realloc_too_much));
    CHECK_DONE();
}
