/* Incremental decoder for AWS event-stream framing (application/vnd.amazon.eventstream):
 *   [total_len u32][headers_len u32][prelude_crc u32][headers][payload][message_crc u32]
 * big-endian, CRC32 (zlib) over the prelude and over everything before the message CRC.
 * Frames may be split at any byte boundary across feeds; at most one frame is buffered. */
#ifndef CP_EVENTSTREAM_H
#define CP_EVENTSTREAM_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum es_header_type {
    ES_BOOL_TRUE = 0,
    ES_BOOL_FALSE,
    ES_BYTE,
    ES_SHORT,
    ES_INT,
    ES_LONG,
    ES_BYTES,
    ES_STRING,
    ES_TIMESTAMP,
    ES_UUID,
};

struct es_header {
    const char *name;
    size_t name_len;
    enum es_header_type type;
    const uint8_t *value; /* bytes, string, uuid */
    size_t value_len;
    int64_t int_value; /* bool, byte, short, int, long, timestamp */
};

#define ES_MAX_HEADERS 64

struct es_message {
    struct es_header headers[ES_MAX_HEADERS];
    size_t num_headers;
    const uint8_t *payload;
    size_t payload_len;
    /* 1 when the header block is byte for byte the one of the message this decoder delivered just
     * before (a stream's events all carry the same three headers): what the callback concluded from
     * the headers then holds now. Always 0 from es_decode_frame. */
    int same_headers;
};

/* Return nonzero to stop decoding (es_decoder_feed then returns that value). */
typedef int (*es_message_cb)(void *ud, const struct es_message *msg);

#define ES_REPEAT_BLOCK 256 /* header blocks up to this size are kept to be recognised when repeated */
#define ES_REPEAT_HEADERS 16

struct es_decoder {
    uint8_t *buf; /* the incomplete frame being assembled */
    size_t len, cap;
    size_t max_message_len;
    const char *error; /* set once the stream is corrupt; the decoder stays failed */
    /* a copy of the last delivered message's header block, and its headers pointing into the copy
     * (so a decoder in use is not to be copied or moved); the length 0 when there is none to reuse */
    uint8_t last_block[ES_REPEAT_BLOCK];
    size_t last_block_len;
    struct es_header last_headers[ES_REPEAT_HEADERS];
    size_t last_num_headers;
};

#define ES_ERR_CORRUPT (-1)

void es_decoder_init(struct es_decoder *d, size_t max_message_len);
/* Returns 0, ES_ERR_CORRUPT (see d->error), or the callback's nonzero value. */
int es_decoder_feed(struct es_decoder *d, const uint8_t *data, size_t len, es_message_cb cb, void *ud);
int es_decoder_has_partial(const struct es_decoder *d);
void es_decoder_free(struct es_decoder *d);

/* Decodes exactly one whole frame (for tests and fuzzing). Returns 0 or ES_ERR_CORRUPT. */
int es_decode_frame(const uint8_t *frame, size_t len, size_t max_message_len, struct es_message *out,
                    const char **error);

/* The header of that name, or NULL. Inline, as is es_header_is: the names and values asked for are
 * literals, whose lengths the compiler then knows (they are asked twice per stream event). */
static inline const struct es_header *es_message_header(const struct es_message *m, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < m->num_headers; i++)
        if (m->headers[i].name_len == n && memcmp(m->headers[i].name, name, n) == 0)
            return &m->headers[i];
    return NULL;
}

/* 1 if the header is a string equal to value. */
static inline int es_header_is(const struct es_message *m, const char *name, const char *value)
{
    const struct es_header *h = es_message_header(m, name);
    size_t n = strlen(value);
    return h != NULL && h->type == ES_STRING && h->value_len == n && memcmp(h->value, value, n) == 0;
}

#endif
