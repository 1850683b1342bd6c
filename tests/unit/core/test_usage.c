/* Token usage read from Anthropic SSE streams and JSON answers as they pass, in any split. */
#include "check.h"
#include "core/usage.h"
#include "common/json_scan.h"

static const char stream[] =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\","
    "\"model\":\"claude-sonnet-5-5\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":1234,"
    "\"cache_creation_input_tokens\":200,\"cache_read_input_tokens\":5000,\"output_tokens\":1}}}\n\n"
    "event: ping\ndata: {\"type\": \"ping\"}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
    /* text that looks like a usage event must not be read as one */
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"event: "
    "message_delta\\ndata: {\\\"type\\\":\\\"message_delta\\\",\\\"usage\\\":{\\\"output_tokens\\\":999999}}\"}}\n\n"
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":321}}\n\n"
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

static struct usage_counts read_in_pieces(const char *data, size_t len, int is_sse, size_t piece)
{
    struct usage_reader r;
    usage_reader_init(&r, is_sse);
    for (size_t off = 0; off < len; off += piece)
        usage_reader_feed(&r, data + off, len - off < piece ? len - off : piece);
    usage_reader_finish(&r);
    struct usage_counts c = r.counts;
    usage_reader_dispose(&r);
    return c;
}

static void check_full_stream(const char *data, size_t len)
{
    static const size_t pieces[] = {1, 2, 3, 7, 47, 48, 49, 100, 4096};
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        struct usage_counts c = read_in_pieces(data, len, 1, pieces[i]);
        CHECK(c.seen);
        CHECK_INT_EQ(c.input, 1234);
        CHECK_INT_EQ(c.output, 321);
        CHECK_INT_EQ(c.cache_write, 200);
        CHECK_INT_EQ(c.cache_read, 5000);
    }
}

static void test_sse(void) { check_full_stream(stream, sizeof(stream) - 1); }

static void test_sse_crlf(void)
{
    sbuf crlf = SBUF_INIT;
    for (const char *p = stream; *p; p++) {
        if (*p == '\n')
            sbuf_putc(&crlf, '\r');
        sbuf_putc(&crlf, *p);
    }
    check_full_stream(crlf.data, crlf.len);
    sbuf_free(&crlf);
}

/* Cut after some text: what message_start said is kept, the output count is the last one seen. */
static void test_sse_cut_midway(void)
{
    const char *cut = strstr(stream, "event: content_block_stop");
    for (size_t piece = 1; piece <= 64; piece *= 4) {
        struct usage_counts c = read_in_pieces(stream, (size_t)(cut - stream), 1, piece);
        CHECK(c.seen);
        CHECK_INT_EQ(c.input, 1234);
        CHECK_INT_EQ(c.output, 1);
        CHECK_INT_EQ(c.cache_read, 5000);
    }
    /* cut inside message_delta's data line: that event is not read (its JSON is incomplete) */
    const char *inside = strstr(stream, "\"output_tokens\":321");
    struct usage_counts c = read_in_pieces(stream, (size_t)(inside - stream), 1, 5);
    CHECK_INT_EQ(c.output, 1);
    /* cut inside message_start: nothing */
    c = read_in_pieces(stream, 60, 1, 5);
    CHECK(!c.seen);
}

/* Newer streams repeat every count in message_delta (cumulative): the last value wins. */
static void test_sse_cumulative_delta(void)
{
    static const char s[] =
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":10,"
        "\"output_tokens\":1}}}\n\n"
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"input_tokens\":12,\"output_tokens\":5,"
        "\"cache_read_input_tokens\":3}}\n\n"
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":9}}\n\n";
    struct usage_counts c = read_in_pieces(s, sizeof(s) - 1, 1, 3);
    CHECK_INT_EQ(c.input, 12);
    CHECK_INT_EQ(c.output, 9);
    CHECK_INT_EQ(c.cache_read, 3);
    CHECK_INT_EQ(c.cache_write, 0);
}

/* Without event: lines the data's leading type still tells; a last line without newline counts. */
static void test_sse_without_event_lines(void)
{
    static const char s[] = "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":7}}}\n\n"
                            "data: {\"type\":\"content_block_delta\",\"usage\":{\"input_tokens\":1}}\n\n"
                            "data: {\"type\": \"message_delta\", \"usage\": {\"output_tokens\": 4}}";
    struct usage_counts c = read_in_pieces(s, sizeof(s) - 1, 1, 2);
    CHECK_INT_EQ(c.input, 7);
    CHECK_INT_EQ(c.output, 4);
}

/* A data line longer than anything usage needs is skipped whole, never held. */
static void test_sse_long_lines(void)
{
    sbuf s = SBUF_INIT;
    sbuf_puts(&s, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"text\":\"");
    for (int i = 0; i < 100000; i++)
        sbuf_puts(&s, "abcdefghij");
    sbuf_puts(&s, "\"}\n\n");
    sbuf_append(&s, stream, sizeof(stream) - 1);
    struct usage_reader r;
    usage_reader_init(&r, 1);
    usage_reader_feed(&r, s.data, s.len);
    CHECK(r.capture.len < 1024); /* nothing of the long event was kept */
    usage_reader_finish(&r);
    CHECK_INT_EQ(r.counts.output, 321);
    usage_reader_dispose(&r);
    sbuf_free(&s);
}

static void test_json(void)
{
    static const char body[] =
        "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-opus-5-5\","
        "\"content\":[{\"type\":\"text\",\"text\":\"a \\\"usage\\\": {\\\"input_tokens\\\": 5} here\"},"
        "{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"x\",\"input\":{\"usage\":{\"input_tokens\":77}}}],"
        "\"stop_reason\":\"usage\",\"stop_sequence\":null,"
        "\"usage\" : {\"input_tokens\":42,\"cache_creation_input_tokens\":3,\"cache_read_input_tokens\":4,"
        "\"output_tokens\":17,\"server_tool_use\":{\"web_search_requests\":0}}}";
    for (size_t piece = 1; piece < sizeof(body); piece = piece * 2 + 1) {
        struct usage_counts c = read_in_pieces(body, sizeof(body) - 1, 0, piece);
        CHECK(c.seen);
        CHECK_INT_EQ(c.input, 42);
        CHECK_INT_EQ(c.output, 17);
        CHECK_INT_EQ(c.cache_write, 3);
        CHECK_INT_EQ(c.cache_read, 4);
    }
    /* usage first, pretty-printed */
    static const char pretty[] = "{\n  \"usage\": {\n    \"input_tokens\": 8,\n    \"output_tokens\": 2\n  },\n"
                                 "  \"content\": []\n}\n";
    struct usage_counts c = read_in_pieces(pretty, sizeof(pretty) - 1, 0, 1);
    CHECK_INT_EQ(c.input, 8);
    CHECK_INT_EQ(c.output, 2);
    /* an error body or a cut answer: nothing */
    static const char err[] = "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"usage\"}}";
    c = read_in_pieces(err, sizeof(err) - 1, 0, 4);
    CHECK(!c.seen);
    c = read_in_pieces(body, sizeof(body) - 20, 0, 4);
    CHECK(!c.seen);
}

/* Strings are skipped eight bytes at a time: quotes, escapes and a decoy "usage" member at every
 * offset around the words, in every split, never hide or fake the real one. */
static void test_json_string_offsets(void)
{
    for (int pad = 0; pad < 24; pad++) {
        for (int escape = 0; escape < 3; escape++) {
            sbuf b = SBUF_INIT;
            sbuf_puts(&b, "{\"id\":\"");
            for (int i = 0; i < pad; i++)
                sbuf_putc(&b, 'a' + i % 26);
            sbuf_puts(&b, escape == 0 ? "" : escape == 1 ? "\\\"" : "\\\\");
            sbuf_puts(&b, "\\\"usage\\\":{\\\"input_tokens\\\":1}\",\"");
            for (int i = 0; i < pad; i++)
                sbuf_putc(&b, 'k');
            sbuf_puts(&b, "\":\"x\\\\\",\"usag\":{\"input_tokens\":2},\"usages\":{\"input_tokens\":3},"
                          "\"usage\":{\"input_tokens\":");
            sbuf_printf(&b, "%d,\"output_tokens\":%d}}", 100 + pad, escape);
            for (size_t piece = 1; piece <= 17; piece++) {
                struct usage_counts c = read_in_pieces(b.data, b.len, 0, piece);
                CHECK(c.seen);
                CHECK_INT_EQ(c.input, (uint64_t)(100 + pad));
                CHECK_INT_EQ(c.output, (uint64_t)escape);
            }
            sbuf_free(&b);
        }
    }
    /* a usage object that is no object of numbers, or malformed: nothing taken from it */
    static const char odd[] =
        "{\"usage\":{\"input_tokens\":\"5\",\"output_tokens\":-1,\"cache_read_input_tokens\":2e3}}";
    struct usage_counts c = read_in_pieces(odd, sizeof(odd) - 1, 0, 5);
    CHECK_INT_EQ(c.input, 0);
    CHECK_INT_EQ(c.output, 0);
    CHECK_INT_EQ(c.cache_read, 2000);
    static const char bad[] = "{\"usage\":{\"input_tokens\":5,}}";
    c = read_in_pieces(bad, sizeof(bad) - 1, 0, 3);
    CHECK(!c.seen);
}

/* An event's members as json_scan_object recorded them (Bedrock's reader scans every event anyway). */
static void test_event_scan(void)
{
    static const struct {
        const char *event;
        int seen;
        uint64_t input, output, cache_write, cache_read;
    } cases[] = {
        {"{\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":9,\"output_tokens\":1,"
         "\"cache_creation_input_tokens\":3,\"cache_read_input_tokens\":4}}}",
         1, 9, 1, 3, 4},
        {"{\"type\":\"message_delta\",\"delta\":{},\"usage\":{\"output_tokens\":20}}", 1, 0, 20, 0, 0},
        {"{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":-1,\"input_tokens\":\"5\"}}", 0, 0, 0, 0, 0},
        {"{\"type\":\"message_start\",\"usage\":{\"input_tokens\":9}}", 0, 0, 0, 0, 0},
        {"{\"type\":\"message_start\",\"message\":[1]}", 0, 0, 0, 0, 0},
        {"{\"type\":\"content_block_delta\",\"usage\":{\"output_tokens\":20}}", 0, 0, 0, 0, 0},
        {"{\"type\":7,\"usage\":{\"output_tokens\":20}}", 0, 0, 0, 0, 0},
        {"{\"usage\":{\"output_tokens\":20}}", 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct json_object_scan ev;
        const char *err;
        struct usage_counts u = {0};
        CHECK_INT_EQ(json_scan_object(cases[i].event, strlen(cases[i].event), &ev, &err), 0);
        usage_apply_event_scan(&u, &ev);
        CHECK_INT_EQ(u.seen, cases[i].seen);
        CHECK_INT_EQ(u.input, cases[i].input);
        CHECK_INT_EQ(u.output, cases[i].output);
        CHECK_INT_EQ(u.cache_write, cases[i].cache_write);
        CHECK_INT_EQ(u.cache_read, cases[i].cache_read);
    }
}

int main(void)
{
    test_sse();
    test_sse_crlf();
    test_sse_cut_midway();
    test_sse_cumulative_delta();
    test_sse_without_event_lines();
    test_sse_long_lines();
    test_json();
    test_json_string_offsets();
    test_event_scan();
    CHECK_DONE();
}
