/* The event-stream decoder against aws-sdk-go's vectors (tests/data/eventstream), and split
 * feeding: one byte at a time and random splits must give the same messages. */
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include "check.h"
#include <zlib.h>
#include "aws/eventstream.h"
#include "common/sbuf.h"
#include "es_encode.h"

#define MAX (16 * 1024 * 1024)

static size_t b64(const char *in, unsigned char *out)
{
    size_t n = strlen(in);
    int r = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
    if (r < 0)
        return (size_t)-1;
    if (n && in[n - 1] == '=')
        r--;
    if (n > 1 && in[n - 2] == '=')
        r--;
    return (size_t)r;
}

static char *read_vector(const char *kind, const char *name, size_t *len)
{
    char rel[256];
    snprintf(rel, sizeof(rel), "eventstream/%s/%s", kind, name);
    return check_read_data(rel, len);
}

static const char *const positive[] = {"all_headers", "empty_message", "int32_header", "payload_no_headers",
                                       "payload_one_str_header"};
static const char *const negative[] = {"corrupted_header_len", "corrupted_headers", "corrupted_length",
                                       "corrupted_payload"};

static void compare_with_decoded(const char *name, const struct es_message *m)
{
    char *json = read_vector("decoded/positive", name, NULL);
    cJSON *d = cJSON_Parse(json);
    CHECK(d != NULL);
    const cJSON *headers = cJSON_GetObjectItem(d, "headers");
    CHECK_INT_EQ(m->num_headers, cJSON_GetArraySize(headers));
    int i = 0;
    const cJSON *h;
    cJSON_ArrayForEach(h, headers)
    {
        if ((size_t)i >= m->num_headers)
            break;
        const struct es_header *got = &m->headers[i++];
        const char *hname = cJSON_GetStringValue(cJSON_GetObjectItem(h, "name"));
        CHECK_MEM_EQ(got->name, got->name_len, hname, strlen(hname));
        int type = cJSON_GetObjectItem(h, "type")->valueint;
        CHECK_INT_EQ(got->type, type);
        const cJSON *v = cJSON_GetObjectItem(h, "value");
        unsigned char buf[256];
        switch (type) {
        case ES_BOOL_TRUE:
        case ES_BOOL_FALSE: CHECK_INT_EQ(got->int_value, cJSON_IsTrue(v)); break;
        case ES_BYTES:
        case ES_STRING:
        case ES_UUID: {
            size_t n = b64(cJSON_GetStringValue(v), buf);
            CHECK_MEM_EQ(got->value, got->value_len, buf, n);
            break;
        }
        default: CHECK_INT_EQ(got->int_value, (long long)v->valuedouble); break;
        }
    }
    unsigned char payload[256];
    size_t n = b64(cJSON_GetStringValue(cJSON_GetObjectItem(d, "payload")), payload);
    CHECK_MEM_EQ(m->payload, m->payload_len, payload, n);
    cJSON_Delete(d);
    free(json);
}

static void test_vectors(void)
{
    for (size_t i = 0; i < sizeof(positive) / sizeof(positive[0]); i++) {
        size_t len = 0;
        char *frame = read_vector("encoded/positive", positive[i], &len);
        CHECK(frame != NULL);
        struct es_message m;
        const char *err = NULL;
        CHECK_INT_EQ(es_decode_frame((const uint8_t *)frame, len, MAX, &m, &err), 0);
        if (err == NULL)
            compare_with_decoded(positive[i], &m);
        else
            fprintf(stderr, "%s: %s\n", positive[i], err);
        free(frame);
    }
    for (size_t i = 0; i < sizeof(negative) / sizeof(negative[0]); i++) {
        size_t len = 0;
        char *frame = read_vector("encoded/negative", negative[i], &len);
        CHECK(frame != NULL);
        struct es_message m;
        const char *err = NULL;
        CHECK_INT_EQ(es_decode_frame((const uint8_t *)frame, len, MAX, &m, &err), ES_ERR_CORRUPT);
        CHECK(err != NULL);
        /* the streaming decoder refuses it too */
        struct es_decoder d;
        es_decoder_init(&d, MAX);
        int r = es_decoder_feed(&d, (const uint8_t *)frame, len, NULL, NULL);
        CHECK(r == ES_ERR_CORRUPT || es_decoder_has_partial(&d));
        es_decoder_free(&d);
        free(frame);
    }
}

/* Records every message as "name=...;...|payload" lines to compare runs. */
static int record(void *ud, const struct es_message *m)
{
    sbuf *out = ud;
    for (size_t i = 0; i < m->num_headers; i++) {
        const struct es_header *h = &m->headers[i];
        sbuf_printf(out, "%.*s:%d:%lld:%zu:", (int)h->name_len, h->name, h->type, (long long)h->int_value,
                    h->value_len);
        for (size_t k = 0; k < h->value_len; k++)
            sbuf_printf(out, "%02x", h->value[k]);
        sbuf_putc(out, ';');
    }
    sbuf_putc(out, '|');
    sbuf_append(out, m->payload, m->payload_len);
    sbuf_putc(out, '\n');
    return 0;
}

/* Decodes stream with a fresh decoder fed pieces of 1..max_piece bytes (sizes from rand()), the
 * messages recorded by cb into out; returns whether a frame was left partial. */
static int feed_in_pieces(const sbuf *stream, size_t max_piece, es_message_cb cb, sbuf *out)
{
    struct es_decoder d;
    es_decoder_init(&d, MAX);
    for (size_t pos = 0; pos < stream->len;) {
        size_t n = (size_t)rand() % max_piece + 1;
        if (n > stream->len - pos)
            n = stream->len - pos;
        CHECK_INT_EQ(es_decoder_feed(&d, (const uint8_t *)stream->data + pos, n, cb, out), 0);
        pos += n;
    }
    int partial = es_decoder_has_partial(&d);
    es_decoder_free(&d);
    return partial;
}

/* Fed byte by byte, and in rounds of random pieces of 1..max_piece bytes (srand(seed)), stream gives
 * what cb records as expected, with no frame left partial. */
static void feeds_alike(const sbuf *stream, es_message_cb cb, const char *expected, size_t max_piece, int rounds,
                        unsigned seed)
{
    sbuf bytewise = SBUF_INIT;
    CHECK(!feed_in_pieces(stream, 1, cb, &bytewise));
    CHECK_STR_EQ(bytewise.data, expected);
    sbuf_free(&bytewise);
    srand(seed);
    for (int iter = 0; iter < rounds; iter++) {
        sbuf split = SBUF_INIT;
        CHECK(!feed_in_pieces(stream, max_piece, cb, &split));
        int same = strcmp(split.data, expected) == 0;
        CHECK_STR_EQ(split.data, expected);
        sbuf_free(&split);
        if (!same)
            break;
    }
}

static void test_split_feeding(void)
{
    sbuf stream = SBUF_INIT;
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof(positive) / sizeof(positive[0]); i++) {
            size_t len = 0;
            char *frame = read_vector("encoded/positive", positive[i], &len);
            sbuf_append(&stream, frame, len);
            free(frame);
        }
    sbuf whole = SBUF_INIT;
    struct es_decoder d;
    es_decoder_init(&d, MAX);
    CHECK_INT_EQ(es_decoder_feed(&d, (const uint8_t *)stream.data, stream.len, record, &whole), 0);
    CHECK(!es_decoder_has_partial(&d));
    es_decoder_free(&d);
    feeds_alike(&stream, record, whole.data, 97, 200, 42);
    /* a truncated stream leaves a partial frame */
    es_decoder_init(&d, MAX);
    sbuf tmp = SBUF_INIT;
    es_decoder_feed(&d, (const uint8_t *)stream.data, stream.len - 3, record, &tmp);
    CHECK(es_decoder_has_partial(&d));
    es_decoder_free(&d);
    sbuf_free(&tmp);
    sbuf_free(&stream), sbuf_free(&whole);
}

static void test_length_bounds(void)
{
    /* a prelude announcing a frame larger than the limit is refused before anything is buffered */
    unsigned char prelude[12] = {0x10, 0, 0, 0, 0, 0, 0, 0};
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, prelude, 8);
    prelude[8] = (unsigned char)(c >> 24), prelude[9] = (unsigned char)(c >> 16), prelude[10] = (unsigned char)(c >> 8),
    prelude[11] = (unsigned char)c;
    struct es_decoder d;
    es_decoder_init(&d, 1024);
    CHECK_INT_EQ(es_decoder_feed(&d, prelude, sizeof(prelude), record, NULL), ES_ERR_CORRUPT);
    CHECK(d.cap < 1024);
    es_decoder_free(&d);
}

/* Records as record does, with whether the decoder said the headers were the last message's. */
static int record_same(void *ud, const struct es_message *m)
{
    sbuf_printf(ud, "%d ", m->same_headers);
    /* every header's bytes lie in this frame's header block, just before its payload (a parse reused
     * from the decoder's copy must have been moved onto this frame) */
    uintptr_t payload = (uintptr_t)m->payload;
    for (size_t i = 0; i < m->num_headers; i++) {
        uintptr_t name = (uintptr_t)m->headers[i].name, value = (uintptr_t)m->headers[i].value;
        CHECK(name < payload && payload - name < 4096);
        CHECK(value == 0 || (value < payload && payload - value < 4096));
    }
    return record(ud, m);
}

/* A frame of n bool-true headers named "h00".., each 5 bytes: 16 of them fit the decoder's kept
 * block and headers, 17 fit the block but not the headers. */
static void bool_frame(sbuf *out, int n, const char *payload)
{
    sbuf block = SBUF_INIT;
    for (int i = 0; i < n; i++) {
        char h[5] = {3, 'h', (char)('0' + i / 10), (char)('0' + i % 10), ES_BOOL_TRUE};
        sbuf_append(&block, h, sizeof(h));
    }
    size_t at = out->len, plen = strlen(payload);
    uint32_t total = (uint32_t)(16 + block.len + plen);
    es_put32(out, total);
    es_put32(out, (uint32_t)block.len);
    es_put32(out, (uint32_t)crc32(0, (const Bytef *)out->data + at, 8));
    sbuf_append(out, block.data, block.len);
    sbuf_append(out, payload, plen);
    es_put32(out, (uint32_t)crc32(0, (const Bytef *)out->data + at, total - 4));
    sbuf_free(&block);
}

/* Frames that repeat the last one's header block are given its parse, moved onto their own bytes,
 * and said to repeat it; anything else is parsed afresh: the same messages as each frame decoded on
 * its own, whole, byte by byte and in random pieces. */
static void test_repeated_headers(void)
{
    static const char *const x[] = {":event-type", "chunk", ":content-type", "application/json", ":message-type",
                                    "event",       NULL};
    static const char *const y[] = {":event-type", "chunX", ":content-type", "application/json", ":message-type",
                                    "event",       NULL}; /* as long as x, one byte different */
    static const char *const none[] = {NULL};
    char big_value[300];
    memset(big_value, 'v', sizeof(big_value) - 1);
    big_value[sizeof(big_value) - 1] = '\0';
    const char *const big[] = {":event-type", big_value, NULL}; /* longer than the decoder keeps */
    const char *const *seq[] = {x, x, y, x, x, none, none, x, big, big, x};
    const char expect_same[] = {0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    sbuf stream = SBUF_INIT, alone = SBUF_INIT;
    for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
        char payload[32];
        int n = snprintf(payload, sizeof(payload), "payload %zu", i);
        size_t at = stream.len;
        es_encode(&stream, seq[i], payload, (size_t)n);
        struct es_message m;
        const char *err = NULL;
        CHECK_INT_EQ(es_decode_frame((const uint8_t *)stream.data + at, stream.len - at, MAX, &m, &err), 0);
        CHECK_INT_EQ(m.same_headers, 0);
        m.same_headers = expect_same[i];
        record_same(&alone, &m);
    }
    /* as many headers as the decoder keeps, and one more, each block twice */
    const int counts[] = {16, 16, 17, 17};
    const char counts_same[] = {0, 1, 0, 0};
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        size_t at = stream.len;
        bool_frame(&stream, counts[i], "bools");
        struct es_message m;
        const char *err = NULL;
        CHECK_INT_EQ(es_decode_frame((const uint8_t *)stream.data + at, stream.len - at, MAX, &m, &err), 0);
        CHECK_INT_EQ(m.num_headers, (size_t)counts[i]);
        m.same_headers = counts_same[i];
        record_same(&alone, &m);
    }
    /* the vectors' frame with every header type, twice: bool, integer and UUID headers reused too */
    size_t len = 0;
    char *frame = read_vector("encoded/positive", "all_headers", &len);
    for (int k = 0; k < 2; k++) {
        sbuf_append(&stream, frame, len);
        struct es_message m;
        const char *err = NULL;
        CHECK_INT_EQ(es_decode_frame((const uint8_t *)frame, len, MAX, &m, &err), 0);
        m.same_headers = k;
        record_same(&alone, &m);
    }
    free(frame);
    struct es_decoder d;
    sbuf whole = SBUF_INIT;
    es_decoder_init(&d, MAX);
    CHECK_INT_EQ(es_decoder_feed(&d, (const uint8_t *)stream.data, stream.len, record_same, &whole), 0);
    es_decoder_free(&d);
    CHECK_STR_EQ(whole.data, alone.data);
    feeds_alike(&stream, record_same, alone.data, 61, 100, 7);
    /* a repeated block does not excuse a bad message checksum: the second frame's payload changed */
    const unsigned char *u = (const unsigned char *)stream.data;
    size_t second = (size_t)u[0] << 24 | (size_t)u[1] << 16 | (size_t)u[2] << 8 | u[3];
    size_t second_len =
        (size_t)u[second] << 24 | (size_t)u[second + 1] << 16 | (size_t)u[second + 2] << 8 | u[second + 3];
    stream.data[second + second_len - 5] ^= 1; /* the payload's last byte */
    sbuf bad = SBUF_INIT;
    es_decoder_init(&d, MAX);
    CHECK_INT_EQ(es_decoder_feed(&d, (const uint8_t *)stream.data, stream.len, record_same, &bad), ES_ERR_CORRUPT);
    CHECK_STR_EQ(d.error, "event-stream message checksum mismatch");
    es_decoder_free(&d);
    CHECK(bad.data != NULL && strchr(bad.data, '\n') == bad.data + bad.len - 1); /* the first message only */
    sbuf_free(&bad);
    sbuf_free(&stream), sbuf_free(&alone), sbuf_free(&whole);
}

int main(void)
{
    test_vectors();
    test_split_feeding();
    test_length_bounds();
    test_repeated_headers();
    CHECK_DONE();
}
