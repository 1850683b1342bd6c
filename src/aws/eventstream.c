#include "aws/eventstream.h"
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "common/memory.h"

#define PRELUDE_LEN 12
#define MIN_MESSAGE_LEN 16
#define MAX_HEADERS_LEN (128 * 1024)

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* zlib's CRC-32 from its initial value, which is 0 (what crc32(0, Z_NULL, 0) returns) */
static uint32_t crc(const uint8_t *p, size_t n) { return (uint32_t)crc32(0L, p, (uInt)n); }

void es_decoder_init(struct es_decoder *d, size_t max_message_len)
{
    d->buf = NULL;
    d->len = d->cap = 0;
    d->max_message_len = max_message_len;
    d->error = NULL;
    d->last_block_len = 0; /* the kept block and headers are written before they are read */
    d->last_num_headers = 0;
}

void es_decoder_free(struct es_decoder *d)
{
    free(d->buf);
    d->buf = NULL;
    d->len = d->cap = 0;
    d->last_block_len = 0;
}

int es_decoder_has_partial(const struct es_decoder *d) { return d->len != 0; }

/* Validates the prelude of a frame (12 bytes available); returns the total length or 0. */
static uint32_t check_prelude(const uint8_t *p, size_t max, const char **error)
{
    uint32_t total = be32(p), headers = be32(p + 4);
    if (crc(p, 8) != be32(p + 8)) {
        *error = "event-stream prelude checksum mismatch";
        return 0;
    }
    if (total < MIN_MESSAGE_LEN || total > max || headers > MAX_HEADERS_LEN || headers > total - MIN_MESSAGE_LEN) {
        *error = "event-stream frame length out of bounds";
        return 0;
    }
    return total;
}

static int parse_headers(const uint8_t *p, size_t len, struct es_message *m, const char **error)
{
    size_t i = 0;
    m->num_headers = 0;
    while (i < len) {
        if (m->num_headers == ES_MAX_HEADERS)
            goto Bad;
        struct es_header *h = &m->headers[m->num_headers];
        memset(h, 0, sizeof(*h));
        size_t name_len = p[i++];
        if (name_len == 0 || i + name_len + 1 > len)
            goto Bad;
        h->name = (const char *)p + i;
        h->name_len = name_len;
        i += name_len;
        uint8_t type = p[i++];
        size_t fixed = 0;
        switch (type) {
        case ES_BOOL_TRUE: h->int_value = 1; break;
        case ES_BOOL_FALSE: h->int_value = 0; break;
        case ES_BYTE: fixed = 1; break;
        case ES_SHORT: fixed = 2; break;
        case ES_INT: fixed = 4; break;
        case ES_LONG:
        case ES_TIMESTAMP: fixed = 8; break;
        case ES_UUID: fixed = 16; break;
        case ES_BYTES:
        case ES_STRING:
            if (i + 2 > len)
                goto Bad;
            h->value_len = (size_t)p[i] << 8 | p[i + 1];
            i += 2;
            if (i + h->value_len > len)
                goto Bad;
            h->value = p + i;
            i += h->value_len;
            break;
        default: goto Bad;
        }
        if (fixed) {
            if (i + fixed > len)
                goto Bad;
            h->value = p + i;
            h->value_len = fixed;
            if (type != ES_UUID) {
                uint64_t v = 0;
                for (size_t k = 0; k < fixed; k++)
                    v = v << 8 | p[i + k];
                /* sign-extend the big-endian two's complement value */
                if (fixed < 8 && (v >> (fixed * 8 - 1)) & 1)
                    v |= ~(uint64_t)0 << (fixed * 8);
                h->int_value = (int64_t)v;
            }
            i += fixed;
        }
        h->type = (enum es_header_type)type;
        m->num_headers++;
    }
    return 0;
Bad:
    *error = "event-stream headers are malformed";
    return ES_ERR_CORRUPT;
}

static int decode_checked(const uint8_t *frame, uint32_t total, struct es_decoder *d, struct es_message *out,
                          const char **error);

int es_decode_frame(const uint8_t *frame, size_t len, size_t max, struct es_message *out, const char **error)
{
    if (len < MIN_MESSAGE_LEN) {
        *error = "event-stream frame too short";
        return ES_ERR_CORRUPT;
    }
    uint32_t total = check_prelude(frame, max, error);
    if (total == 0)
        return ES_ERR_CORRUPT;
    if (total != len) {
        *error = "event-stream frame length mismatch";
        return ES_ERR_CORRUPT;
    }
    return decode_checked(frame, total, NULL, out, error);
}

/* The message checksum covers the prelude, whose own checksum check_prelude has verified: zlib's
 * CRC-32 goes on from that value over the rest, so the prelude's bytes are not read twice. */
static int message_crc_ok(const uint8_t *frame, uint32_t total)
{
    return (uint32_t)crc32(be32(frame + 8), frame + 8, (uInt)(total - 12)) == be32(frame + total - 4);
}

/* The headers of a block equal to the kept one: the kept parse, moved from the copy onto block. */
static void reuse_headers(const struct es_decoder *d, const uint8_t *block, struct es_message *m)
{
    for (size_t i = 0; i < d->last_num_headers; i++) {
        const struct es_header *h = &d->last_headers[i];
        m->headers[i] = *h;
        m->headers[i].name = (const char *)block + ((const uint8_t *)h->name - d->last_block);
        m->headers[i].value = h->value != NULL ? block + (h->value - d->last_block) : NULL;
    }
    m->num_headers = d->last_num_headers;
    m->same_headers = 1;
}

/* Keeps a copy of m's header block, and m's headers pointing into the copy, to know it again. */
static void keep_headers(struct es_decoder *d, const uint8_t *block, size_t len, const struct es_message *m)
{
    d->last_block_len = 0;
    if (len == 0 || len > sizeof(d->last_block) || m->num_headers > ES_REPEAT_HEADERS)
        return;
    memcpy(d->last_block, block, len);
    for (size_t i = 0; i < m->num_headers; i++) {
        struct es_header *h = &d->last_headers[i];
        *h = m->headers[i];
        h->name = (const char *)d->last_block + ((const uint8_t *)m->headers[i].name - block);
        h->value = h->value != NULL ? d->last_block + (m->headers[i].value - block) : NULL;
    }
    d->last_num_headers = m->num_headers;
    d->last_block_len = len;
}

/* A frame whose prelude check_prelude has taken, and whose length is the prelude's. With a decoder
 * (d), a header block equal to the one it kept takes the kept parse, and any other is kept. */
static int decode_checked(const uint8_t *frame, uint32_t total, struct es_decoder *d, struct es_message *out,
                          const char **error)
{
    if (!message_crc_ok(frame, total)) {
        *error = "event-stream message checksum mismatch";
        return ES_ERR_CORRUPT;
    }
    uint32_t headers_len = be32(frame + 4);
    const uint8_t *block = frame + PRELUDE_LEN;
    if (d != NULL && d->last_block_len != 0 && headers_len == d->last_block_len &&
        memcmp(block, d->last_block, headers_len) == 0) {
        reuse_headers(d, block, out);
    } else {
        if (parse_headers(block, headers_len, out, error) != 0)
            return ES_ERR_CORRUPT;
        out->same_headers = 0;
        if (d != NULL)
            keep_headers(d, block, headers_len, out);
    }
    out->payload = block + headers_len;
    out->payload_len = total - headers_len - MIN_MESSAGE_LEN;
    return 0;
}

static int deliver(struct es_decoder *d, const uint8_t *frame, size_t len, es_message_cb cb, void *ud)
{
    struct es_message m;
    /* both callers took the prelude and gathered the length it gives */
    if (decode_checked(frame, (uint32_t)len, d, &m, &d->error) != 0)
        return ES_ERR_CORRUPT;
    return cb(ud, &m);
}

static int append(struct es_decoder *d, const uint8_t *data, size_t n)
{
    if (d->len + n > d->cap) {
        size_t cap = d->cap ? d->cap : 4096;
        while (cap < d->len + n)
            cap *= 2;
        d->buf = xrealloc(d->buf, cap);
        d->cap = cap;
    }
    memcpy(d->buf + d->len, data, n);
    d->len += n;
    return 0;
}

int es_decoder_feed(struct es_decoder *d, const uint8_t *data, size_t len, es_message_cb cb, void *ud)
{
    if (d->error != NULL)
        return ES_ERR_CORRUPT;
    /* finish the frame begun in an earlier feed */
    while (d->len > 0 && len > 0) {
        size_t need = PRELUDE_LEN;
        if (d->len >= PRELUDE_LEN) {
            need = check_prelude(d->buf, d->max_message_len, &d->error);
            if (need == 0)
                return ES_ERR_CORRUPT;
        }
        size_t take = need - d->len < len ? need - d->len : len;
        append(d, data, take);
        data += take;
        len -= take;
        if (d->len == need && need > PRELUDE_LEN) {
            int r = deliver(d, d->buf, d->len, cb, ud);
            d->len = 0;
            if (r != 0)
                return r;
        }
    }
    /* whole frames straight from the input, without copying */
    while (len >= PRELUDE_LEN) {
        uint32_t total = check_prelude(data, d->max_message_len, &d->error);
        if (total == 0)
            return ES_ERR_CORRUPT;
        if (len < total)
            break;
        int r = deliver(d, data, total, cb, ud);
        if (r != 0)
            return r;
        data += total;
        len -= total;
    }
    if (len > 0)
        append(d, data, len);
    return 0;
}
