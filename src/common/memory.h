/* Allocation that does not fail, and the allocator's settings for a process whose requests carry
 * 100 KB to several MB each. */
#ifndef CP_MEMORY_H
#define CP_MEMORY_H
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* malloc, calloc, realloc and strdup that abort when memory runs out: a proxy without
 * memory can do nothing useful, and a NULL check at every call would be code no test reaches.
 * A size of 0 still returns a pointer to free (xrealloc(p, 0) does not free p). */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
/* Overwrites a secret string (a token, a key) and frees it; NULL is fine. OPENSSL_cleanse, not
 * memset: a store just before free is one the compiler may drop. */
void free_secret(char *s);

/* Keeps large request buffers in the heap between requests instead of mapping and faulting in
 * fresh pages for each one (glibc; a no-op elsewhere). */
void memory_tune(void);

/* Returns the heap's free pages to the OS when the proxy is idle (is_idle()) and has served
 * requests (requests(), a running count) since the last time, checked every few seconds: a burst
 * of large requests does not pin its peak RSS. The timer does not keep the loop alive. */
void memory_trim_when_idle(uv_loop_t *loop, int (*is_idle)(void), uint64_t (*requests)(void));
/* The timer's decision, each tick: 1 to trim. It trims on the first idle tick after requests and on
 * the one after it, for what the ledger's writer gives back a round or two after a burst
 * (ledger.c) and the first trim came too early for. */
struct memory_trim_state {
    uint64_t requests_at_last;
    int due;
};
int memory_trim_due(struct memory_trim_state *s, int idle, uint64_t requests);

#endif
