/* Minimal assertion helpers for the C unit tests (one binary per module, run by CTest). */
#ifndef CP_TEST_CHECK_H
#define CP_TEST_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        check_count++;                                                                                                 \
        if (!(cond)) {                                                                                                 \
            check_failures++;                                                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                                   \
        }                                                                                                              \
    } while (0)

#define CHECK_INT_EQ(a, b)                                                                                             \
    do {                                                                                                               \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                                                \
        check_count++;                                                                                                 \
        if (check_a_ != check_b_) {                                                                                    \
            check_failures++;                                                                                          \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b, check_a_, check_b_); \
        }                                                                                                              \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                                                             \
    do {                                                                                                               \
        const char *check_a_ = (a), *check_b_ = (b);                                                                   \
        check_count++;                                                                                                 \
        if (check_a_ == NULL || check_b_ == NULL || strcmp(check_a_, check_b_) != 0) {                                 \
            check_failures++;                                                                                          \
            fprintf(stderr, "%s:%d: %s == %s failed:\n  got:      %s\n  expected: %s\n", __FILE__, __LINE__, #a, #b,   \
                    check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)");                                   \
        }                                                                                                              \
    } while (0)

#define CHECK_MEM_EQ(a, alen, b, blen)                                                                                 \
    do {                                                                                                               \
        size_t check_al_ = (alen), check_bl_ = (blen);                                                                 \
        check_count++;                                                                                                 \
        if (check_al_ != check_bl_ || memcmp((a), (b), check_al_) != 0) {                                              \
            check_failures++;                                                                                          \
            fprintf(stderr, "%s:%d: %s == %s failed (lengths %zu, %zu)\n", __FILE__, __LINE__, #a, #b, check_al_,      \
                    check_bl_);                                                                                        \
        }                                                                                                              \
    } while (0)

#define CHECK_DONE()                                                                                                   \
    do {                                                                                                               \
        fprintf(stderr, "%d checks, %d failed\n", check_count, check_failures);                                        \
        return check_failures ? 1 : 0;                                                                                 \
    } while (0)

/* Reads a whole file under $CP_TEST_DATA (tests/data); returns malloc'd, NUL-terminated, or NULL. */
static inline char *check_read_data(const char *rel, size_t *len_out)
{
    const char *dir = getenv("CP_TEST_DATA");
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/data", rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    if (len_out)
        *len_out = (size_t)n;
    return buf;
}

#endif
