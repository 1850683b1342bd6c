#include "common/memory.h"
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static void *or_abort(void *p)
{
    if (p == NULL)
        abort();
    return p;
}

/* A size of 0 is asked as 1: malloc(0) and realloc(p, 0) may return NULL, which is no failure. */
void *xmalloc(size_t size) { return or_abort(malloc(size ? size : 1)); }
void *xcalloc(size_t n, size_t size) { return or_abort(n && size ? calloc(n, size) : calloc(1, 1)); }
void *xrealloc(void *p, size_t size) { return or_abort(realloc(p, size ? size : 1)); }
char *xstrdup(const char *s) { return or_abort(strdup(s)); }

/* Claude Code sends its whole conversation with every turn. H2O reads a request body into a
 * buffer that doubles as it fills (to 4 MiB for a 2 MiB body), and glibc serves each of those
 * blocks with a fresh mmap by default: the page faults cost more than the proxying itself.
 * With the thresholds raised, freed blocks are reused by the next request. */
#define LARGE_BLOCK_LIMIT (64 * 1024 * 1024)
#define IDLE_TRIM_INTERVAL_MS 5000

void memory_tune(void)
{
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK_LIMIT);
    mallopt(M_TRIM_THRESHOLD, LARGE_BLOCK_LIMIT);
#endif
}

static uv_timer_t trim_timer;
static int (*loop_is_idle)(void);
static uint64_t (*requests_started)(void);
static struct memory_trim_state trim_state;

int memory_trim_due(struct memory_trim_state *s, int idle, uint64_t requests)
{
    if (!idle)
        return 0;
    if (requests != s->requests_at_last) {
        s->requests_at_last = requests;
        s->due = 2;
    }
    if (s->due == 0)
        return 0;
    s->due--;
    return 1;
}

static void on_trim_timer(uv_timer_t *t)
{
    (void)t;
    if (!memory_trim_due(&trim_state, loop_is_idle(), requests_started()))
        return;
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

void memory_trim_when_idle(uv_loop_t *loop, int (*is_idle)(void), uint64_t (*requests)(void))
{
    loop_is_idle = is_idle;
    requests_started = requests;
    uv_timer_init(loop, &trim_timer);
    uv_timer_start(&trim_timer, on_trim_timer, IDLE_TRIM_INTERVAL_MS, IDLE_TRIM_INTERVAL_MS);
    uv_unref((uv_handle_t *)&trim_timer);
}

void free_secret(char *s)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}
