#include "common/body_parts.h"

void body_parts_begin(struct body_parts *b, sbuf *owned)
{
    b->owned = owned;
    b->mark = owned->len;
    b->n = 0;
}

static void add_owned(struct body_parts *b)
{
    if (b->owned->len > b->mark) {
        b->part[b->n].p = NULL;
        b->part[b->n].off = b->mark;
        b->part[b->n].len = b->owned->len - b->mark;
        b->part[b->n].stamp = 0;
        b->n++;
        b->mark = b->owned->len;
    }
}

void body_parts_span(struct body_parts *b, sbuf *out, const char *p, size_t len, unsigned long stamp)
{
    /* a span takes at most two parts (the written bytes before it, and itself), and one more is
     * kept for the written bytes after the last span */
    if (b == NULL || out != b->owned || len < BODY_PARTS_MIN_SPAN || b->n + 3 > BODY_PARTS_MAX) {
        sbuf_append(out, p, len);
        return;
    }
    add_owned(b);
    b->part[b->n].p = p;
    b->part[b->n].off = 0;
    b->part[b->n].len = len;
    b->part[b->n].stamp = stamp;
    b->n++;
}

size_t body_parts_iovecs(struct body_parts *b, struct iovec *v, unsigned long *stamps, size_t *total)
{
    add_owned(b);
    *total = 0;
    for (size_t i = 0; i < b->n; i++) {
        v[i].iov_base = (void *)(b->part[i].p != NULL ? b->part[i].p : b->owned->data + b->part[i].off);
        v[i].iov_len = b->part[i].len;
        stamps[i] = b->part[i].stamp;
        *total += b->part[i].len;
    }
    return b->n;
}
