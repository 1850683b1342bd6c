/* The token usage of one response, read from its Anthropic-format body as it passes: the
 * `message_start` and `message_delta` events of an SSE stream, or the top-level `usage` of a
 * JSON answer. Events that carry no usage are recognised by their name and skipped without being
 * parsed or buffered, so a long stream costs a memchr per line. A stream cut midway keeps what it
 * had read (message_start's input counts, the last output count seen). Pure: no config, no I/O. */
#ifndef CP_USAGE_H
#define CP_USAGE_H
#include <stddef.h>
#include <stdint.h>
#include "common/sbuf.h"

struct usage_counts {
    uint64_t input, output, cache_write, cache_read;
    int seen; /* some usage was read */
};

/* Takes the fields a usage object (JSON text) carries: Anthropic's message_delta repeats the
 * counts cumulatively, so a later value replaces an earlier one. Returns 0, -1 if it is no object. */
int usage_apply_json(struct usage_counts *u, const char *json, size_t len);
/* The same from an event's members as json_scan_object recorded them (message_start's
 * message.usage, message_delta's usage; other types are ignored), without building a tree. For
 * readers that scan every event anyway (Bedrock's event-stream). */
struct json_object_scan;
void usage_apply_event_scan(struct usage_counts *u, const struct json_object_scan *ev);

#define USAGE_PREFIX_LEN 48

struct usage_reader {
    struct usage_counts counts;
    int is_sse;
    /* SSE */
    enum { UR_LINE_START, UR_SKIP_LINE, UR_CAPTURE } state;
    char prefix[USAGE_PREFIX_LEN];
    size_t prefix_len;
    int want_data; /* the current event is message_start or message_delta */
    int named;     /* the current event had an event: line (its data need no look) */
    /* JSON: top-level members only */
    int depth, in_string, escaped, key_pending, armed, capturing;
    char key[8];
    size_t key_len;
    sbuf capture; /* the data of an SSE event with usage, or the JSON usage object */
    int overflow;
};

void usage_reader_init(struct usage_reader *r, int is_sse);
void usage_reader_feed(struct usage_reader *r, const char *data, size_t len);
/* The body ended (or was cut): a JSON answer's usage is parsed now. */
void usage_reader_finish(struct usage_reader *r);
void usage_reader_dispose(struct usage_reader *r);

#endif
