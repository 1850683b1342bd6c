/* A small event-stream frame encoder for tests (string headers only), using zlib's CRC32. */
#ifndef CP_TEST_ES_ENCODE_H
#define CP_TEST_ES_ENCODE_H
#include <openssl/evp.h>
#include <zlib.h>
#include "common/sbuf.h"

static inline void es_put32(sbuf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                          (unsigned char)v};
    sbuf_append(b, x, 4);
}

/* headers: NULL-terminated name/value pairs */
static inline void es_encode(sbuf *out, const char *const *headers, const char *payload, size_t payload_len)
{
    sbuf h = SBUF_INIT;
    for (size_t i = 0; headers[i] != NULL; i += 2) {
        size_t n = strlen(headers[i]), v = strlen(headers[i + 1]);
        unsigned char nl = (unsigned char)n, t = 7, vl[2] = {(unsigned char)(v >> 8), (unsigned char)v};
        sbuf_append(&h, &nl, 1);
        sbuf_append(&h, headers[i], n);
        sbuf_append(&h, &t, 1);
        sbuf_append(&h, vl, 2);
        sbuf_append(&h, headers[i + 1], v);
    }
    size_t start = out->len;
    uint32_t total = (uint32_t)(16 + h.len + payload_len);
    es_put32(out, total);
    es_put32(out, (uint32_t)h.len);
    es_put32(out, (uint32_t)crc32(crc32(0, Z_NULL, 0), (const Bytef *)out->data + start, 8));
    sbuf_append(out, h.data ? h.data : "", h.len);
    sbuf_append(out, payload, payload_len);
    es_put32(out, (uint32_t)crc32(crc32(0, Z_NULL, 0), (const Bytef *)out->data + start, total - 4));
    sbuf_free(&h);
}

/* A Bedrock chunk event carrying one Anthropic event JSON. */
static inline void es_chunk(sbuf *out, const char *event_json)
{
    static const char *const headers[] = {":event-type", "chunk", ":content-type", "application/json", ":message-type",
                                          "event",       NULL};
    size_t n = strlen(event_json);
    char *b64 = malloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)event_json, (int)n);
    sbuf payload = SBUF_INIT;
    sbuf_printf(&payload, "{\"bytes\":\"%s\",\"p\":\"abcdefghij\"}", b64);
    es_encode(out, headers, payload.data, payload.len);
    sbuf_free(&payload);
    free(b64);
}

#endif
