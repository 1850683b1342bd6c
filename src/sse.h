/* Incremental Server-Sent Events parser: lines may be split anywhere across feeds. */
#ifndef CP_SSE_H
#define CP_SSE_H
#include <stddef.h>
#include "sbuf.h"

/* Return nonzero to stop parsing (sse_parser_feed returns it). */
typedef int (*sse_event_cb)(void *ud, const char *event, size_t event_len, const char *data, size_t data_len);

struct sse_parser {
    sbuf line;  /* the current, incomplete line */
    sbuf event; /* the event name of the event being assembled */
    sbuf data;  /* its data lines, joined with '\n' */
    int has_data;
    size_t max_event;
};

void sse_parser_init(struct sse_parser *p, size_t max_event);
/* Returns 0, -1 when an event exceeds max_event, or the callback's nonzero value. */
int sse_parser_feed(struct sse_parser *p, const char *data, size_t len, sse_event_cb cb, void *ud);
void sse_parser_free(struct sse_parser *p);

#endif
