/* Bedrock event-stream -> Anthropic SSE, Bedrock errors -> Anthropic errors, and the request
 * adaptation (CountTokens body, Messages-format body and betas). */
#include "check.h"
#include "providers/bedrock_stream.h"
#include "es_encode.h"
#include "core/usage.h"
#include "common/json_scan.h"

static const char *const events[] = {
    "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_bdrk_1\",\"type\":\"message\",\"role\":\"assistant\","
    "\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":9,"
    "\"output_tokens\":1}}}",
    "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}",
    "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello "
    "\\\"w\\u00f6rld\\\"\"}}",
    "{\"type\":\"content_block_stop\",\"index\":0}",
    "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\","
    "\"name\":\"Read\",\"input\":{}}}",
    "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":"
    "\"{\\\"path\\\": \\\"/etc\"}}",
    "{\"type\":\"content_block_stop\",\"index\":1}",
    "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":20}}",
    "{\"type\":\"message_stop\",\"amazon-bedrock-invocationMetrics\":{\"inputTokenCount\":9,\"outputTokenCount\":20,"
    "\"invocationLatency\":812,\"firstByteLatency\":301}}",
};
#define NUM_EVENTS (sizeof(events) / sizeof(events[0]))

static void expected_sse(sbuf *out, size_t upto)
{
    for (size_t i = 0; i < upto; i++) {
        const char *t = strstr(events[i], "\"type\":\"") + 8;
        sbuf_printf(out, "event: %.*s\ndata: %s\n\n", (int)(strchr(t, '"') - t), t, events[i]);
    }
}

static void test_stream(void)
{
    sbuf frames = SBUF_INIT, want = SBUF_INIT, got = SBUF_INIT, bytewise = SBUF_INIT;
    for (size_t i = 0; i < NUM_EVENTS; i++)
        es_chunk(&frames, events[i]);
    expected_sse(&want, NUM_EVENTS);

    struct bedrock_stream *s = bedrock_stream_new();
    CHECK_INT_EQ(bedrock_stream_feed(s, (const uint8_t *)frames.data, frames.len, &got), 0);
    CHECK_INT_EQ(bedrock_stream_finish(s, NULL, &got), 0);
    CHECK(bedrock_stream_saw_message_stop(s));
    CHECK_STR_EQ(got.data, want.data);
    /* usage from message_start (input) and message_delta (output) */
    CHECK(bedrock_stream_usage(s)->seen);
    CHECK_INT_EQ(bedrock_stream_usage(s)->input, 9);
    CHECK_INT_EQ(bedrock_stream_usage(s)->output, 20);
    bedrock_stream_free(s);

    s = bedrock_stream_new();
    for (size_t i = 0; i < frames.len; i++)
        CHECK_INT_EQ(bedrock_stream_feed(s, (const uint8_t *)frames.data + i, 1, &bytewise), 0);
    CHECK_INT_EQ(bedrock_stream_finish(s, NULL, &bytewise), 0);
    CHECK_STR_EQ(bytewise.data, want.data);
    bedrock_stream_free(s);
    sbuf_free(&frames), sbuf_free(&want), sbuf_free(&got), sbuf_free(&bytewise);
}

static void test_exception_mid_stream(void)
{
    sbuf frames = SBUF_INIT, got = SBUF_INIT, want = SBUF_INIT;
    for (size_t i = 0; i < 3; i++)
        es_chunk(&frames, events[i]);
    static const char *const exc[] = {":exception-type",
                                      "throttlingException",
                                      ":content-type",
                                      "application/json",
                                      ":message-type",
                                      "exception",
                                      NULL};
    const char *msg = "{\"message\":\"Too many tokens, please wait before trying again.\"}";
    es_encode(&frames, exc, msg, strlen(msg));
    es_chunk(&frames, events[3]); /* ignored after the exception */
    struct bedrock_stream *s = bedrock_stream_new();
    CHECK_INT_EQ(bedrock_stream_feed(s, (const uint8_t *)frames.data, frames.len, &got), 1);
    CHECK_INT_EQ(bedrock_stream_finish(s, NULL, &got), 0);
    /* cut by the exception after message_start: its counts stay */
    CHECK_INT_EQ(bedrock_stream_usage(s)->input, 9);
    CHECK_INT_EQ(bedrock_stream_usage(s)->output, 1);
    expected_sse(&want, 3);
    sbuf_puts(&want, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":"
                     "\"Too many tokens, please wait before trying again. (throttlingException)\"}}\n\n");
    CHECK_STR_EQ(got.data, want.data);
    bedrock_stream_free(s);
    sbuf_free(&frames), sbuf_free(&got), sbuf_free(&want);
}

static void test_corrupt_and_truncated(void)
{
    sbuf frames = SBUF_INIT, got = SBUF_INIT;
    es_chunk(&frames, events[0]);
    size_t first = frames.len;
    es_chunk(&frames, events[1]);
    frames.data[frames.len - 1] ^= 0x55; /* message CRC of the second frame */
    struct bedrock_stream *s = bedrock_stream_new();
    CHECK_INT_EQ(bedrock_stream_feed(s, (const uint8_t *)frames.data, frames.len, &got), 1);
    CHECK(strncmp(got.data, "event: message_start\n", 21) == 0);
    CHECK(strstr(got.data,
                 "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"the "
                 "Bedrock stream was corrupt (event-stream message checksum mismatch)\"}}\n\n") != NULL);
    CHECK(strstr(got.data, "content_block_start") == NULL);
    bedrock_stream_free(s);

    /* truncated in the middle of a frame, and ended before message_stop */
    sbuf_reset(&got);
    s = bedrock_stream_new();
    CHECK_INT_EQ(bedrock_stream_feed(s, (const uint8_t *)frames.data, first + 10, &got), 0);
    CHECK_INT_EQ(bedrock_stream_finish(s, NULL, &got), 1);
    CHECK(strstr(got.data, "ended early (in the middle of a frame)") != NULL);
    bedrock_stream_free(s);
    sbuf_reset(&got);
    s = bedrock_stream_new();
    CHECK_INT_EQ(bedrock_stream_feed(s, (const uint8_t *)frames.data, first, &got), 0);
    CHECK_INT_EQ(bedrock_stream_finish(s, "I/O timeout", &got), 1);
    CHECK(strstr(got.data, "\"type\":\"timeout_error\"") != NULL);
    bedrock_stream_free(s);

    /* "bytes" that are not base64 */
    sbuf_reset(&frames);
    sbuf_reset(&got);
    static const char *const hdr[] = {":event-type", "chunk", ":message-type", "event", NULL};
    const char *bad = "{\"bytes\":\"not base64!\"}";
    es_encode(&frames, hdr, bad, strlen(bad));
    s = bedrock_stream_new();
    CHECK_INT_EQ(bedrock_stream_feed(s, (const uint8_t *)frames.data, frames.len, &got), 1);
    CHECK(strstr(got.data, "event: error") != NULL);
    bedrock_stream_free(s);
    sbuf_free(&frames), sbuf_free(&got);
}

/* Chunks and events are read with the request scanner, not parsed into trees: what each accepts. */
static void test_chunk_forms(void)
{
    static const char *const hdr[] = {":event-type", "chunk", ":message-type", "event", NULL};
    /* an event whose base64 has a '/', which this chunk's JSON writes as "\/" */
    const char *ev = "{\"type\":\"ping\",\"x\":\"\xff\xfe?\"}";
    char b64[128];
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)ev, (int)strlen(ev));
    CHECK(strchr(b64, '/') != NULL);
    sbuf escaped = SBUF_INIT;
    sbuf_puts(&escaped, "{\"p\":\"ab\", \"bytes\" : \"");
    for (const char *c = b64; *c; c++) {
        if (*c == '/')
            sbuf_putc(&escaped, '\\');
        sbuf_putc(&escaped, *c);
    }
    sbuf_puts(&escaped, "\"}");
    struct {
        const char *payload;
        int ok;
    } cases[] = {
        {escaped.data, 1},
        {"{\"bytes\":\"eyJ0eXBlIjoicGluZyJ9\"}", 1},                    /* {"type":"ping"} */
        {"{\"bytes\":\"eyJ0eXBlIjoicGluZyJ9\",\"bytes\":\"e30=\"}", 0}, /* two of them */
        {"{\"bytes\":\"eyJ0eXBlIjoicGluZyJ9\\u0041\"}", 0},             /* an escape that is not "\/" */
        {"{\"bytes\":\"eyJ0eXBlIjoicGluZyJ9\\\"}", 0},                  /* a backslash at the end */
        {"{\"bytes\":12}", 0},
        {"{\"bytes\":\"e30=\"}", 0},                     /* {}: no type */
        {"{\"bytes\":\"eyJ0eXBlIjoicGluZ1xuIn0=\"}", 0}, /* {"type":"ping\n"} */
        {"{\"bytes\":\"eyJ0eXBlIjoicGluZyJ9\"", 0},      /* the chunk is not JSON */
        {"{\"bytes\":\"eyJ0eXBlIjoicGluZyJ9IA==\"}", 1}, /* {"type":"ping"} and a space */
        {"{\"bytes\":\"eyJ0eXBlIjoicGluZyJ9fQ==\"}", 0}, /* {"type":"ping"}}: trailing */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sbuf frames = SBUF_INIT, got = SBUF_INIT;
        es_encode(&frames, hdr, cases[i].payload, strlen(cases[i].payload));
        struct bedrock_stream *s = bedrock_stream_new();
        int ended = bedrock_stream_feed(s, (const uint8_t *)frames.data, frames.len, &got);
        if (ended != !cases[i].ok)
            fprintf(stderr, "chunk case %zu: %s\n", i, got.data ? got.data : "");
        CHECK_INT_EQ(ended, !cases[i].ok);
        if (cases[i].ok)
            CHECK(strncmp(got.data, "event: ping\ndata: {\"type\":\"ping\"", 32) == 0);
        else
            CHECK(strstr(got.data, "event: error") != NULL);
        bedrock_stream_free(s);
        sbuf_free(&frames), sbuf_free(&got);
    }
    sbuf_free(&escaped);
}

/* Whether EVP_DecodeBlock takes a base64 text as the stream decodes it (a length of four). */
static int decodes(const char *p, size_t n)
{
    unsigned char out[256];
    return n % 4 == 0 && n / 4 * 3 <= sizeof(out) && EVP_DecodeBlock(out, (const unsigned char *)p, (int)n) >= 0;
}

/* The fast chunk reader against the full one: wherever the fast one takes a payload and
 * EVP_DecodeBlock its base64, the full one takes it too and finds the same base64; elsewhere the
 * full one still decides. Returns what the fast one said; *decoded whether its text decodes. */
static int fast_and_full(const char *payload, size_t len, int *decoded)
{
    struct json_span fast, full;
    static struct json_object_scan scan;
    sbuf unescaped = SBUF_INIT;
    int f = bedrock_chunk_base64_fast(payload, len, &fast);
    int d = f && decodes(fast.p, fast.len);
    if (d) {
        int r = bedrock_chunk_base64_full(payload, len, &scan, &unescaped, &full);
        CHECK_INT_EQ(r, 0);
        if (r == 0) {
            CHECK(fast.p == full.p);
            CHECK_INT_EQ(fast.len, full.len);
        }
        if (r != 0)
            fprintf(stderr, "fast chunk reader took what the full one does not: %.*s\n", (int)len, payload);
    }
    if (decoded != NULL)
        *decoded = d;
    sbuf_free(&unescaped);
    return f;
}

static int base64_byte(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
           c == '=';
}

static void test_chunk_fast(void)
{
    static const struct {
        const char *payload;
        int fast;
    } cases[] = {
        {"{\"bytes\":\"eyJ0eXBlIjoicGluZyJ9\"}", 1},
        {"{\"bytes\":\"eyJ0eXBlIjoicGluZyJ9\",\"p\":\"abcdefghijklmnopqrstuvwxyz\"}", 1},
        {"{\"bytes\":\"\",\"p\":\"\"}", 1},
        {"{\"bytes\":\"a+/=\"}", 1},
        {"{\"bytes\":\"not base64 at all ~!\"}", 0},  /* its last byte is not base64's */
        {"{\"bytes\":\"not base64 at all ~ok\"}", 1}, /* base64 is EVP_DecodeBlock's to judge */
        {"{\"bytes\":\"e3\\n0\"}", 1},
        {"{\"bytes\":\" e30=\"}", 0}, /* EVP_DecodeBlock would trim the space */
        {"{\"bytes\":\"e30=\\\"}", 0},
        {"{\"p\":\"ab\",\"bytes\":\"e30=\"}", 0},
        {"{\"bytes\": \"e30=\"}", 0},
        {"{\"bytes\":\"e30=\" }", 0},
        {"{\"bytes\":\"e30=\"} ", 0},
        {"{\"bytes\":\"e3\\/0=\"}",
         1}, /* left to EVP_DecodeBlock, which refuses the escape; the full reader takes it */
        {"{\"bytes\":\"e30=\",\"p\":\"a\\\"b\"}", 0},
        {"{\"bytes\":\"e30=\",\"q\":\"ab\"}", 0},
        {"{\"bytes\":\"e30=\",\"p\":\"ab\",\"p\":\"ab\"}", 0},
        {"{\"bytes\":\"e30=\",\"p\":1}", 0},
        {"{\"bytes\":\"e30=\"", 0},
        {"{\"bytes\":\"e30=", 0},
        {"{\"bytes\":\"", 0},
        {"{\"bytes\":12}", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int f = fast_and_full(cases[i].payload, strlen(cases[i].payload), NULL);
        if (f != cases[i].fast)
            fprintf(stderr, "fast chunk case %zu: %d\n", i, f);
        CHECK_INT_EQ(f, cases[i].fast);
    }
    /* every byte at every offset of both strings, around the eight-byte words. The padding stays on
     * the fast path with printable ASCII but the backslash and the quote. The base64 stays on it with
     * anything but the quote inside and base64's own bytes at its ends, and then decodes only with
     * base64's own bytes throughout: what EVP_DecodeBlock takes needs no escape in JSON, so that the
     * fast reader may leave the text to it. */
    for (size_t n = 0; n <= 40; n++) {
        for (size_t at = 0; at < n; at++) {
            for (int c = 0; c < 256; c++) {
                for (int member = 0; member < 2; member++) {
                    char text[48];
                    memset(text, 'A', n);
                    text[at] = (char)c;
                    sbuf payload = SBUF_INIT;
                    sbuf_puts(&payload, member ? "{\"bytes\":\"QUJD\",\"p\":\"" : "{\"bytes\":\"");
                    sbuf_append(&payload, text, n);
                    sbuf_puts(&payload, "\"}");
                    int want, want_decoded;
                    if (member) {
                        want = c >= 0x20 && c < 0x80 && c != '\\' && c != '"';
                        want_decoded = want;
                    } else {
                        want = c != '"' && ((at != 0 && at != n - 1) || base64_byte(c));
                        want_decoded = n % 4 == 0 && base64_byte(c);
                    }
                    int decoded;
                    int f = fast_and_full(payload.data, payload.len, &decoded);
                    if (f != want || decoded != want_decoded)
                        fprintf(stderr, "fast chunk: length %zu, byte %#x at %zu, member %d: %d, decoded %d\n", n, c,
                                at, member, f, decoded);
                    CHECK_INT_EQ(f, want);
                    CHECK_INT_EQ(decoded, want_decoded);
                    sbuf_free(&payload);
                }
            }
        }
    }
    /* the same bytes through a stream: a fast chunk and a slow one read alike */
    static const char *const hdr[] = {":event-type", "chunk", ":message-type", "event", NULL};
    const char *forms[] = {"{\"bytes\":\"eyJ0eXBlIjoicGluZyJ9\",\"p\":\"abc\"}",
                           "{\"p\":\"abc\",\"bytes\":\"eyJ0eXBlIjoicGluZyJ9\"}",
                           "{ \"bytes\" : \"eyJ0eXBlIjoicGluZyJ9\" }"};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        sbuf frames = SBUF_INIT, got = SBUF_INIT;
        es_encode(&frames, hdr, forms[i], strlen(forms[i]));
        struct bedrock_stream *s = bedrock_stream_new();
        CHECK_INT_EQ(bedrock_stream_feed(s, (const uint8_t *)frames.data, frames.len, &got), 0);
        CHECK_STR_EQ(got.data, "event: ping\ndata: {\"type\":\"ping\"}\n\n");
        bedrock_stream_free(s);
        sbuf_free(&frames), sbuf_free(&got);
    }
    /* a "\/" inside base64 of the fast reader's shape: EVP_DecodeBlock refuses the span, and the full
     * reader, which unescapes it, decodes the event (twice: the second frame repeats the headers) */
    static const char escaped[] = "{\"bytes\":\"eyJ0eXBlIjoicGluZyIsInAiOiI\\/In0=\"}";
    struct json_span span;
    CHECK(bedrock_chunk_base64_fast(escaped, strlen(escaped), &span));
    sbuf frames = SBUF_INIT, got = SBUF_INIT;
    es_encode(&frames, hdr, escaped, strlen(escaped));
    es_encode(&frames, hdr, escaped, strlen(escaped));
    struct bedrock_stream *s = bedrock_stream_new();
    CHECK_INT_EQ(bedrock_stream_feed(s, (const uint8_t *)frames.data, frames.len, &got), 0);
    CHECK_STR_EQ(got.data, "event: ping\ndata: {\"type\":\"ping\",\"p\":\"?\"}\n\n"
                           "event: ping\ndata: {\"type\":\"ping\",\"p\":\"?\"}\n\n");
    bedrock_stream_free(s);
    sbuf_free(&frames), sbuf_free(&got);
}

/* The delta reader against the scanner: wherever it takes an event, the scanner takes it and reads
 * the type content_block_delta. Returns what the delta reader said. */
static int delta_and_full(const char *ev, size_t len)
{
    static struct json_object_scan scan;
    const char *err;
    int f = bedrock_delta_event_fast(ev, len);
    if (f) {
        int r = json_scan_object(ev, len, &scan, &err);
        CHECK_INT_EQ(r, 0);
        const struct json_member *t = r == 0 ? json_scan_find(&scan, "type") : NULL;
        CHECK(t != NULL && json_span_is(t->value, "\"content_block_delta\""));
        if (r != 0 || t == NULL)
            fprintf(stderr, "delta reader took what the scanner does not: %.*s\n", (int)len, ev);
    }
    return f;
}

/* The delta reader takes the deltas Claude Code's streams are made of, and nothing the JSON scanner
 * would not take in the same way: every byte of them changed to each of a few telling bytes, every
 * truncation, and bytes after them. */
static void test_delta_fast(void)
{
    static const char *const taken[] = {
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" the\"}}",
        "{\"type\":\"content_block_delta\",\"index\":12,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":"
        "\"{\\\"path\\\": \\\"/etc\\u00e9\\n\"}}",
        "{\"type\":\"content_block_delta\",\"index\":3,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"\"}}",
        "{\"type\":\"content_block_delta\",\"index\":3,\"delta\":{\"type\":\"signature_delta\",\"signature\":"
        "\"EqQBCkYIBxgCKkB+/=\"}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
        "\"\xc3\xa9\xe2\x82\xac\"}}",
    };
    static const char *const left[] = {
        /* not this shape, whatever the scanner says: another spelling, order or member */
        "{\"type\": \"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\"}}",
        "{\"index\":0,\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"a\"}}",
        "{\"type\":\"content_block_delta\",\"index\":-1,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\"}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":1}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"Text\",\"text\":\"a\"}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\",\"x\":1}}",
        /* and not JSON */
        "{\"type\":\"content_block_delta\",\"index\":01,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\"}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\"}}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\x01\"}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\\x\"}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\\u12\"}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\\\"}}",
    };
    for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
        if (!delta_and_full(taken[i], strlen(taken[i])))
            fprintf(stderr, "delta reader left: %s\n", taken[i]);
        CHECK(delta_and_full(taken[i], strlen(taken[i])));
    }
    for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
        if (delta_and_full(left[i], strlen(left[i])))
            fprintf(stderr, "delta reader took: %s\n", left[i]);
        CHECK(!delta_and_full(left[i], strlen(left[i])));
    }
    static const char bytes[] = {'"', '\\', '\x01', '\x1f', '}', '{', ' ', ',', ':', 'a', 'Z', '0', '9', '-', '\x7f'};
    size_t still_taken = 0;
    for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
        size_t len = strlen(taken[i]);
        char buf[512];
        for (size_t at = 0; at < len; at++)
            for (size_t b = 0; b < sizeof(bytes); b++) {
                memcpy(buf, taken[i], len);
                buf[at] = bytes[b];
                still_taken += (size_t)delta_and_full(buf, len);
            }
        for (size_t cut = 0; cut < len; cut++)
            CHECK(!delta_and_full(taken[i], cut));
        for (size_t b = 0; b < sizeof(bytes); b++) {
            memcpy(buf, taken[i], len);
            buf[len] = bytes[b];
            CHECK(!delta_and_full(buf, len + 1));
        }
    }
    CHECK(still_taken > 100); /* changes inside the names and strings that keep the shape */
    /* through a stream: the event as it came, typed content_block_delta */
    static const char *const hdr[] = {":event-type", "chunk", ":message-type", "event", NULL};
    for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
        char b64[700], payload[800];
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)taken[i], (int)strlen(taken[i]));
        snprintf(payload, sizeof(payload), "{\"bytes\":\"%s\"}", b64);
        sbuf frames = SBUF_INIT, got = SBUF_INIT, want = SBUF_INIT;
        es_encode(&frames, hdr, payload, strlen(payload));
        struct bedrock_stream *st = bedrock_stream_new();
        CHECK_INT_EQ(bedrock_stream_feed(st, (const uint8_t *)frames.data, frames.len, &got), 0);
        sbuf_printf(&want, "event: content_block_delta\ndata: %s\n\n", taken[i]);
        CHECK_STR_EQ(got.data, want.data);
        bedrock_stream_free(st);
        sbuf_free(&frames), sbuf_free(&got), sbuf_free(&want);
    }
}

/* The event's type: its own bytes without an escape, json_span_string's copy with one, refused
 * where json_span_string refuses it (too long, an escape it does not take). */
static void test_event_type(void)
{
    static const char *const hdr[] = {":event-type", "chunk", ":message-type", "event", NULL};
    char long_type[200];
    memset(long_type, 'x', sizeof(long_type));
    static const struct {
        const char *event;
        const char *sse_type; /* NULL: refused */
        size_t long_len;      /* else a type of this many x */
    } cases[] = {
        {"{\"type\":\"ping\"}", "ping", 0},
        {"{\"type\":\"pi\\/ng\"}", "pi/ng", 0},
        {"{\"type\":\"pi\\u006eg\"}", NULL, 0},
        {"{\"type\":12}", NULL, 0},
        {NULL, "", 126},
        {NULL, "", 127},
        {NULL, NULL, 128},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char ev[300], b64[500], payload[600];
        if (cases[i].event)
            snprintf(ev, sizeof(ev), "%s", cases[i].event);
        else
            snprintf(ev, sizeof(ev), "{\"type\":\"%.*s\"}", (int)cases[i].long_len, long_type);
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)ev, (int)strlen(ev));
        snprintf(payload, sizeof(payload), "{\"bytes\":\"%s\"}", b64);
        sbuf frames = SBUF_INIT, got = SBUF_INIT, want = SBUF_INIT;
        es_encode(&frames, hdr, payload, strlen(payload));
        struct bedrock_stream *s = bedrock_stream_new();
        int ended = bedrock_stream_feed(s, (const uint8_t *)frames.data, frames.len, &got);
        int ok = cases[i].sse_type != NULL;
        if (ended != !ok)
            fprintf(stderr, "event type case %zu: %s\n", i, got.data ? got.data : "");
        CHECK_INT_EQ(ended, !ok);
        if (ok) {
            if (cases[i].event)
                sbuf_printf(&want, "event: %s\ndata: %s\n\n", cases[i].sse_type, ev);
            else
                sbuf_printf(&want, "event: %.*s\ndata: %s\n\n", (int)cases[i].long_len, long_type, ev);
            CHECK_STR_EQ(got.data, want.data);
        } else {
            CHECK(strstr(got.data, "without a type") != NULL);
        }
        bedrock_stream_free(s);
        sbuf_free(&frames), sbuf_free(&got), sbuf_free(&want);
    }
}

static void test_http_errors(void)
{
    struct {
        int status;
        const char *type_header, *body;
        int want_status;
        const char *want;
    } cases[] = {
        {429, "ThrottlingException", "{\"message\":\"Too many requests, please wait before trying again.\"}", 429,
         "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"Too many requests, please wait "
         "before trying again. (ThrottlingException)\"}}"},
        {400, "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/",
         "{\"message\":\"messages: Input should be a valid list\"}", 400,
         "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"messages: Input should be a "
         "valid list (ValidationException)\"}}"},
        {403, "AccessDeniedException:extra", "{\"Message\":\"You don't have access to the model\"}", 403,
         "{\"type\":\"error\",\"error\":{\"type\":\"permission_error\",\"message\":\"You don't have access to the "
         "model "
         "(AccessDeniedException)\"}}"},
        {503, "ServiceUnavailableException", "{\"message\":\"Bedrock is unable to process your request.\"}", 529,
         "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Bedrock is unable to process your "
         "request. (ServiceUnavailableException)\"}}"},
        {403, NULL,
         "{\"message\":\"The security token included in the request is invalid.\",\"__type\":"
         "\"com.amazon.coral.service#UnrecognizedClientException\"}",
         403,
         "{\"type\":\"error\",\"error\":{\"type\":\"permission_error\",\"message\":\"The security token included in "
         "the request is invalid. (UnrecognizedClientException)\"}}"},
        {502, NULL, "", 502,
         "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"Bedrock returned HTTP 502\"}}"},
        /* the model is being readied (Bedrock says 429): transient capacity, like Anthropic's 529 */
        {429, "ModelNotReadyException", "{\"message\":\"Model is not ready for inference.\"}", 529,
         "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Model is not ready for "
         "inference. (ModelNotReadyException)\"}}"},
        /* a quota the request exceeds is Bedrock's 400, unless its wording is about a rate */
        {400, "ServiceQuotaExceededException", "{\"message\":\"The maximum number of model units is exceeded.\"}", 400,
         "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"The maximum number of "
         "model units is exceeded. (ServiceQuotaExceededException)\"}}"},
        {400, "ServiceQuotaExceededException", "{\"message\":\"Too many tokens per day, please wait.\"}", 429,
         "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"Too many tokens per day, "
         "please wait. (ServiceQuotaExceededException)\"}}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sbuf out = SBUF_INIT;
        int status = 0;
        bedrock_error_to_anthropic(cases[i].status, cases[i].type_header, cases[i].body, strlen(cases[i].body), &status,
                                   &out);
        CHECK_INT_EQ(status, cases[i].want_status);
        CHECK_STR_EQ(out.data, cases[i].want);
        sbuf_free(&out);
    }
}

/* The exception table, as in-stream (lowerCamel) and HTTP (UpperCamel) names. */
static void test_exception_table(void)
{
    static const struct {
        const char *name, *type;
        int status;
    } cases[] = {
        {"throttlingException", "rate_limit_error", 429},
        {"ModelNotReadyException", "overloaded_error", 529},
        {"serviceUnavailableException", "overloaded_error", 529},
        {"ServiceQuotaExceededException", "invalid_request_error", 400},
        {"validationException", "invalid_request_error", 400},
        {"AccessDeniedException", "permission_error", 403},
        {"ResourceNotFoundException", "not_found_error", 404},
        {"modelTimeoutException", "timeout_error", 504},
        {"internalServerException", "api_error", 500},
        {"modelStreamErrorException", "api_error", 500},
        {"SomethingNewException", "api_error", 500},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int status = 0;
        CHECK_STR_EQ(bedrock_exception_to_anthropic_type(cases[i].name, strlen(cases[i].name), &status), cases[i].type);
        CHECK_INT_EQ(status, cases[i].status);
    }
}

int main(void)
{
    test_chunk_forms();
    test_chunk_fast();
    test_delta_fast();
    test_event_type();
    test_stream();
    test_exception_mid_stream();
    test_corrupt_and_truncated();
    test_http_errors();
    test_exception_table();
    CHECK_DONE();
}
