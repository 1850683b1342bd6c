/* A bounded string copy for fixed-size fields filled per request, where snprintf's format machinery
 * costs more than the copy. */
#ifndef CP_STR_COPY_H
#define CP_STR_COPY_H
#include <stddef.h>
#include <string.h>

/* What snprintf(dst, size, "%.*s", (int)max, src) writes: at most max bytes of src, and no more than
 * size - 1, NUL-terminated (nothing when size is 0). Returns the length written. */
static inline size_t str_copy(char *dst, size_t size, const char *src, size_t max)
{
    if (size == 0)
        return 0;
    size_t n = strnlen(src, max < size - 1 ? max : size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
    return n;
}

#define STR_COPY(dst, src) str_copy((dst), sizeof(dst), (src), (size_t)-1)

#endif
