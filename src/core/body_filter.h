/* A step that rewrites a response body on its way to the client (Bedrock event-stream -> SSE,
 * Anthropic SSE -> OpenAI chunks, ...). Filters work incrementally: output for each input
 * chunk is produced at once, so streams stay streams. */
#ifndef CP_BODY_FILTER_H
#define CP_BODY_FILTER_H
#include <stddef.h>
#include "common/sbuf.h"

struct usage_counts;

struct body_filter {
    /* Appends output for data to out. Returns 0 to go on, 1 when the stream has ended (the
     * filter has written its final bytes; further input is ignored). */
    int (*feed)(struct body_filter *f, const char *data, size_t len, sbuf *out);
    /* The upstream body ended: err == NULL for a clean end, else why it broke. Appends what the
     * client must still see (an SSE error event, a closing chunk...). */
    void (*finish)(struct body_filter *f, const char *err, sbuf *out);
    void (*destroy)(struct body_filter *f);
    const char *content_type; /* the client-facing Content-Type, or NULL to keep the upstream's */
    /* Set by a filter that answers only once it has the whole upstream body (a JSON
     * translation): the client's response then starts after finish(), with final_status if the
     * filter set one (e.g. 502 for an upstream answer it could not read). */
    int whole_body;
    int final_status;
    /* The token usage a filter that parses the stream's events read from it (Bedrock's
     * event-stream), or NULL: the exchange then reads it from the upstream body itself. */
    const struct usage_counts *usage;
};

/* Runs `first`, then `second` on its output. Takes ownership of both; either may be NULL. */
struct body_filter *body_filter_chain(struct body_filter *first, struct body_filter *second);

#endif
