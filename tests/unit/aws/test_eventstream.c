/* The event-stream decoder against aws-sdk-go's vectors (tests/data/eventstream), and split
 * feeding: one byte at a time and random splits must give the same messages. */
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include "check.h"
#include <zlib.h>
#include "aws/eventstream.h"
#include "common/sbuf.h"

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
    for (size_t i = 0; i < m->num_headers; i++)
        sbuf_printf(out, "%.*s:%d:%lld:%zu;", (int)m->headers[i].name_len, m->headers[i].name, m->headers[i].type,
                    (long long)m->headers[i].int_value, m->headers[i].value_len);
    sbuf_putc(out, '|');
    sbuf_append(out, m->payload, m->payload_len);
    sbuf_putc(out, '\n');
    return 0;
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
    sbuf whole = SBUF_INIT, bytewise = SBUF_INIT;
    struct es_decoder d;
    es_decoder_init(&d, MAX);
    CHECK_INT_EQ(es_decoder_feed(&d, (const uint8_t *)stream.data, stream.len, record, &whole), 0);
    CHECK(!es_decoder_has_partial(&d));
    es_decoder_free(&d);
    es_decoder_init(&d, MAX);
    for (size_t i = 0; i < stream.len; i++)
        CHECK_INT_EQ(es_decoder_feed(&d, (const uint8_t *)stream.data + i, 1, record, &bytewise), 0);
    es_decoder_free(&d);
    CHECK_STR_EQ(bytewise.data, whole.data);
    srand(42);
    for (int iter = 0; iter < 200; iter++) {
        sbuf split = SBUF_INIT;
        es_decoder_init(&d, MAX);
        size_t pos = 0;
        while (pos < stream.len) {
            size_t n = (size_t)rand() % 97 + 1;
            if (n > stream.len - pos)
                n = stream.len - pos;
            es_decoder_feed(&d, (const uint8_t *)stream.data + pos, n, record, &split);
            pos += n;
        }
        CHECK(!es_decoder_has_partial(&d));
        es_decoder_free(&d);
        if (strcmp(split.data, whole.data) != 0) {
            CHECK_STR_EQ(split.data, whole.data);
            sbuf_free(&split);
            break;
        }
        sbuf_free(&split);
    }
    /* a truncated stream leaves a partial frame */
    es_decoder_init(&d, MAX);
    sbuf tmp = SBUF_INIT;
    es_decoder_feed(&d, (const uint8_t *)stream.data, stream.len - 3, record, &tmp);
    CHECK(es_decoder_has_partial(&d));
    es_decoder_free(&d);
    sbuf_free(&tmp);
    sbuf_free(&stream), sbuf_free(&whole), sbuf_free(&bytewise);
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

int main(void)
{
    test_vectors();
    test_split_feeding();
    test_length_bounds();
    CHECK_DONE();
}
