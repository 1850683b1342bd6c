/* A growable byte buffer for building request heads, SSE events and JSON text.
 * Allocation failure aborts: the proxy cannot do anything useful without memory. */
#ifndef CP_SBUF_H
#define CP_SBUF_H
#include <stdarg.h>
#include <stddef.h>

typedef struct sbuf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
} sbuf;

#define SBUF_INIT                                                                                                      \
    {                                                                                                                  \
        NULL, 0, 0                                                                                                     \
    }

void sbuf_reserve(sbuf *b, size_t extra);
void sbuf_append(sbuf *b, const void *data, size_t len);
void sbuf_puts(sbuf *b, const char *s);
void sbuf_putc(sbuf *b, char c);
void sbuf_put_uint(sbuf *b, unsigned long long v); /* in decimal, as %llu */
void sbuf_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends each string up to the NULL that ends the list: what sbuf_printf("%s%s...") does, without
 * the format machinery (request heads and signatures are built per request). */
void sbuf_cat(sbuf *b, ...) __attribute__((sentinel));
void sbuf_json_string(sbuf *b, const char *s, size_t len); /* appends a quoted, escaped JSON string */
/* Appends "key":"value" (JSON-escaped), preceded by a comma unless b is empty. */
void sbuf_json_field(sbuf *b, const char *key, const char *value);
void sbuf_reset(sbuf *b); /* len = 0, keeps memory */
void sbuf_free(sbuf *b);
char *sbuf_steal(sbuf *b); /* returns data (malloc'd, NUL-terminated), leaves b empty */

#endif
