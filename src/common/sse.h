/* Incremental Server-Sent Events parser (the subset the Anthropic and Bedrock streams use) and
 * an event writer.
 *
 * Lines may be split anywhere across feeds and end in "\n" or "\r\n". "event:" names the event
 * (default "message"), "data:" lines are joined with '\n', lines starting with ':' are comments,
 * other fields (id:, retry:) are ignored, and a blank line dispatches the event if it had data.
 * Memory is bounded: an event whose name and data exceed max_event bytes, or a single line longer
 * than that, is an error. Comment lines are skipped without being buffered. */
#ifndef CP_SSE_H
#define CP_SSE_H
#include <stddef.h>
#include "common/sbuf.h"

/* event and data are NUL-terminated for convenience; the lengths are authoritative.
 * Return nonzero to stop parsing (sse_parser_feed returns that value). */
typedef int (*sse_event_cb)(void *ud, const char *event, size_t event_len, const char *data, size_t data_len);

struct sse_parser {
    sbuf line;      /* the current, incomplete line */
    sbuf event;     /* the event name of the event being assembled */
    sbuf data;      /* its data lines, joined with '\n' */
    int has_data;   /* a data: line was seen (the data may still be empty) */
    int in_comment; /* discarding the rest of a comment line that spans feeds */
    int stopped;    /* sticky result once an error or a callback stopped the parser */
    size_t max_event;
};

void sse_parser_init(struct sse_parser *p, size_t max_event);
/* Returns 0, -1 when an event or line exceeds max_event, or the callback's nonzero value. Once it
 * has returned nonzero, later feeds return the same value and parse nothing. */
int sse_parser_feed(struct sse_parser *p, const char *data, size_t len, sse_event_cb cb, void *ud);
void sse_parser_free(struct sse_parser *p);

/* Appends "event: NAME\ndata: DATA\n\n". A data containing line breaks becomes several data:
 * lines (which a parser joins back with '\n'); event may be NULL for a nameless event. */
void sse_append_event(sbuf *out, const char *event, const char *data, size_t data_len);

/* Follows the framing of a relayed SSE stream without keeping its data, to tell whether an event
 * of interest was dispatched (its name, at an event boundary, with a data line: what a client's
 * parser acts on), never matching a name that only appears inside data. Same line rules as the
 * parser; only the start of each line and the current event's name are kept. */
struct sse_event_watch {
    char line[48];   /* the start of the current line */
    size_t line_len; /* the bytes of the current line so far (may exceed sizeof(line)) */
    char name[32];   /* the current event's name */
    size_t name_len; /* SIZE_MAX when too long for any name of interest */
    int has_data;    /* the current event has a data: line */
    int has_fields;  /* the current event has any line */
};

void sse_event_watch_init(struct sse_event_watch *w);
/* Returns 1 if an event named one of names (NULL-terminated) was dispatched within these bytes. */
int sse_event_watch_feed(struct sse_event_watch *w, const char *data, size_t len, const char *const *names);
/* Whether the bytes so far end between events (none yet, or a blank line after the last one). */
int sse_event_watch_at_boundary(const struct sse_event_watch *w);

#endif
