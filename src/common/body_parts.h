/* A request body built from bytes its builder wrote and spans of memory that outlives the body (the
 * client's request), so that a body rewritten for another API need not copy the members it keeps
 * as they were: Bedrock's keeps Claude Code's tools, system and messages, ~110 KB of a 115 KB
 * request, and is sent, and signed, as parts. */
#ifndef CP_BODY_PARTS_H
#define CP_BODY_PARTS_H
#include <stddef.h>
#include <sys/uio.h>
#include "common/sbuf.h"

#define BODY_PARTS_MAX 12
#define BODY_PARTS_MIN_SPAN 2048 /* shorter spans are copied: a part costs more than their bytes */

struct body_parts {
    sbuf *owned; /* what the builder writes */
    size_t mark; /* owned bytes from here on are not in a part yet */
    size_t n;
    struct {
        const char *p; /* NULL: owned bytes from off */
        size_t off, len;
        unsigned long stamp; /* nonzero: these bytes, whenever a part has this stamp */
    } part[BODY_PARTS_MAX];
};

/* Starts a body whose written bytes go to owned (which may hold no body bytes yet). */
void body_parts_begin(struct body_parts *b, sbuf *owned);
/* Appends len bytes at p to the body: as a part of its own where that pays and a part is left,
 * else copied into out. With b NULL, always copied into out (a body in one piece). stamp: 0, or a
 * number that names these exact bytes (a json_member stamp), kept with the part so that a payload
 * hash cache may know them without comparing them. */
void body_parts_span(struct body_parts *b, sbuf *out, const char *p, size_t len, unsigned long stamp);
/* The body, after its last byte: at most BODY_PARTS_MAX iovecs into v (pointing into owned, which
 * must not change from then on, and into the spans), their number returned; *total its length; the
 * parts' stamps into stamps (0 for written bytes). */
size_t body_parts_iovecs(struct body_parts *b, struct iovec *v, unsigned long *stamps, size_t *total);

#endif
