#include "common/sbuf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/memory.h"

void sbuf_reserve(sbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void sbuf_append(sbuf *b, const void *data, size_t len)
{
    sbuf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void sbuf_puts(sbuf *b, const char *s) { sbuf_append(b, s, strlen(s)); }

void sbuf_putc(sbuf *b, char c) { sbuf_append(b, &c, 1); }

void sbuf_put_uint(sbuf *b, unsigned long long v)
{
    char digits[20], *p = digits + sizeof(digits);
    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    sbuf_append(b, p, (size_t)(digits + sizeof(digits) - p));
}

void sbuf_cat(sbuf *b, ...)
{
    va_list ap;
    va_start(ap, b);
    for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
        sbuf_append(b, s, strlen(s));
    va_end(ap);
}

void sbuf_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    sbuf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sbuf_json_string(sbuf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    sbuf_reserve(b, len + 2);
    sbuf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': sbuf_append(b, "\\\"", 2); break;
        case '\\': sbuf_append(b, "\\\\", 2); break;
        case '\n': sbuf_append(b, "\\n", 2); break;
        case '\r': sbuf_append(b, "\\r", 2); break;
        case '\t': sbuf_append(b, "\\t", 2); break;
        default:
            if (c < 0x20) {
                char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                sbuf_append(b, esc, 6);
            } else {
                sbuf_putc(b, (char)c);
            }
        }
    }
    sbuf_putc(b, '"');
}

void sbuf_json_field(sbuf *b, const char *key, const char *value)
{
    if (b->len)
        sbuf_putc(b, ',');
    sbuf_json_string(b, key, strlen(key));
    sbuf_putc(b, ':');
    sbuf_json_string(b, value, strlen(value));
}

void sbuf_reset(sbuf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void sbuf_free(sbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *sbuf_steal(sbuf *b)
{
    char *p = b->data;
    if (p == NULL) {
        p = xmalloc(1);
        p[0] = '\0';
    }
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
