/* The incremental SSE parser and the event writer. */
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "common/sse.h"

/* Records every callback as "<len>:<event>|<len>:<data>\n", so that splits can be compared. */
struct log {
    sbuf text;
    int calls;
    int stop_after; /* return 7 from this call on (0: never) */
    int terminated; /* every event and data pointer was NUL-terminated at its length */
};

static int on_event(void *ud, const char *event, size_t event_len, const char *data, size_t data_len)
{
    struct log *l = ud;
    l->calls++;
    if (event[event_len] != '\0' || data[data_len] != '\0')
        l->terminated = 0;
    sbuf_printf(&l->text, "%zu:", event_len);
    sbuf_append(&l->text, event, event_len);
    sbuf_printf(&l->text, "|%zu:", data_len);
    sbuf_append(&l->text, data, data_len);
    sbuf_putc(&l->text, '\n');
    return l->stop_after && l->calls >= l->stop_after ? 7 : 0;
}

static void log_init(struct log *l)
{
    memset(l, 0, sizeof(*l));
    l->terminated = 1;
}

static const char *text_of(const struct log *l) { return l->text.data ? l->text.data : ""; }

/* Feeds s in one piece; returns the parser's result and leaves the log in l. */
static int parse_whole(const char *s, size_t len, size_t max, struct log *l)
{
    struct sse_parser p;
    sse_parser_init(&p, max);
    log_init(l);
    int r = sse_parser_feed(&p, s, len, on_event, l);
    sse_parser_free(&p);
    return r;
}

/* Feeds s split at every pair of boundaries (three pieces, some empty) and one byte at a time;
 * each must give exactly the callbacks and the result of feeding it whole, which must be expected. */
static void check_all_splits(const char *s, size_t max, const char *expected_log, int expected_r)
{
    size_t len = strlen(s);
    struct log whole;
    int r = parse_whole(s, len, max, &whole);
    CHECK_INT_EQ(r, expected_r);
    CHECK_STR_EQ(text_of(&whole), expected_log);
    CHECK(whole.terminated);
    int mismatches = 0;
    for (size_t a = 0; a <= len; a++) {
        for (size_t b = a; b <= len; b++) {
            struct sse_parser p;
            struct log l;
            sse_parser_init(&p, max);
            log_init(&l);
            int rr = sse_parser_feed(&p, s, a, on_event, &l);
            if (rr == 0)
                rr = sse_parser_feed(&p, s + a, b - a, on_event, &l);
            if (rr == 0)
                rr = sse_parser_feed(&p, s + b, len - b, on_event, &l);
            if (rr != r || strcmp(text_of(&l), text_of(&whole)) != 0 || !l.terminated) {
                if (mismatches++ == 0)
                    fprintf(stderr, "split at %zu,%zu differs: r=%d log=%s\n", a, b, rr, text_of(&l));
            }
            sbuf_free(&l.text);
            sse_parser_free(&p);
        }
    }
    CHECK_INT_EQ(mismatches, 0);

    struct sse_parser p;
    struct log l;
    sse_parser_init(&p, max);
    log_init(&l);
    int rr = 0;
    for (size_t i = 0; i < len && rr == 0; i++)
        rr = sse_parser_feed(&p, s + i, 1, on_event, &l);
    CHECK_INT_EQ(rr, r);
    CHECK_STR_EQ(text_of(&l), text_of(&whole));
    sbuf_free(&l.text);
    sse_parser_free(&p);
    sbuf_free(&whole.text);
}

static const char anthropic_stream[] = "event: message_start\n"
                                       "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\"}}\n"
                                       "\n"
                                       "event: ping\n"
                                       "data: {\"type\": \"ping\"}\n"
                                       "\n"
                                       "event: content_block_delta\n"
                                       "data: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"a:b\"}}\n"
                                       "\n";

static const char anthropic_log[] =
    "13:message_start|49:{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\"}}\n"
    "4:ping|16:{\"type\": \"ping\"}\n"
    "19:content_block_delta|53:{\"type\":\"content_block_delta\",\"delta\":{\"text\":\"a:b\"}}\n";

static void test_splits_lf(void) { check_all_splits(anthropic_stream, 1 << 20, anthropic_log, 0); }

static void test_splits_crlf(void)
{
    /* the same stream with CRLF line ends gives the same events, wherever "\r" and "\n" are split */
    sbuf crlf = SBUF_INIT;
    for (const char *c = anthropic_stream; *c; c++) {
        if (*c == '\n')
            sbuf_putc(&crlf, '\r');
        sbuf_putc(&crlf, *c);
    }
    check_all_splits(crlf.data, 1 << 20, anthropic_log, 0);
    sbuf_free(&crlf);
}

static void test_fields(void)
{
    /* multi-line data joined with \n; "data" with no colon is an empty line of data; one space after
     * the colon is dropped, a second kept; no event name -> "message" */
    check_all_splits("data: first\ndata:second\ndata\ndata:  spaced\n\n", 100,
                     "7:message|21:first\nsecond\n\n spaced\n", 0);
    /* id, retry and unknown fields are ignored */
    check_all_splits("id: 5\nretry: 10\nfoo: bar\nevent: e\ndata: x\n\n", 100, "1:e|1:x\n", 0);
    /* the event name does not carry over to the next event; the last event: line wins */
    check_all_splits("event: a\nevent: b\ndata: 1\n\ndata: 2\n\n", 100, "1:b|1:1\n7:message|1:2\n", 0);
    /* an event with no data line is not dispatched; blank lines alone do nothing; empty data is */
    check_all_splits("event: lonely\n\n\n\ndata: \n\n", 100, "7:message|0:\n", 0);
    /* an unterminated last event is not dispatched */
    check_all_splits("data: done\n\ndata: partial\n", 100, "7:message|4:done\n", 0);
    /* "event:x" without a space, data containing colons, a CR inside a line, CRLF blank line */
    check_all_splits("event:x\ndata: a: b\rc\r\n\r\n", 100, "1:x|6:a: b\rc\n", 0);
}

static void test_comments(void)
{
    check_all_splits(": hello\ndata: a\n:\n: another\ndata: b\n\n", 100, "7:message|3:a\nb\n", 0);
    /* a comment longer than max_event is skipped, not buffered, even across feeds */
    sbuf s = SBUF_INIT;
    sbuf_puts(&s, ":");
    for (int i = 0; i < 500; i++)
        sbuf_putc(&s, 'x');
    sbuf_puts(&s, "\r\ndata: ok\n\n");
    check_all_splits(s.data, 16, "7:message|2:ok\n", 0);
    sbuf_free(&s);
}

static void test_oversize(void)
{
    /* an event of exactly max_event bytes (name + data) passes, one byte more fails */
    check_all_splits("event: abc\ndata: 1234567\n\n", 10, "3:abc|7:1234567\n", 0);
    check_all_splits("event: abc\ndata: 12345678\n\n", 10, "", -1);
    /* data lines that are each small but add up */
    check_all_splits("data: 12345\ndata: 12345\n\n", 10, "", -1);
    /* events before the big one are delivered */
    check_all_splits("data: ok\n\ndata: 0123456789abcdef\n\n", 10, "7:message|2:ok\n", -1);
    /* a very long line of an ignored field is an error too, complete or not */
    sbuf s = SBUF_INIT;
    sbuf_puts(&s, "data: ok\n\nid: ");
    for (int i = 0; i < 80; i++)
        sbuf_putc(&s, '9');
    check_all_splits(s.data, 10, "7:message|2:ok\n", -1);
    sbuf_puts(&s, "\n");
    check_all_splits(s.data, 10, "7:message|2:ok\n", -1);
    sbuf_free(&s);

    /* a line that never ends cannot grow the buffer without bound */
    struct sse_parser p;
    struct log l;
    sse_parser_init(&p, 100);
    log_init(&l);
    char chunk[50];
    memset(chunk, 'y', sizeof(chunk));
    int r = sse_parser_feed(&p, "data: ", 6, on_event, &l);
    for (int i = 0; i < 100 && r == 0; i++)
        r = sse_parser_feed(&p, chunk, sizeof(chunk), on_event, &l);
    CHECK_INT_EQ(r, -1);
    CHECK(p.line.len <= 100 + 64 + 1);
    /* the error is sticky */
    CHECK_INT_EQ(sse_parser_feed(&p, "\n\ndata: x\n\n", 11, on_event, &l), -1);
    CHECK_INT_EQ(l.calls, 0);
    sse_parser_free(&p);
    sbuf_free(&l.text);
}

static void test_callback_stops(void)
{
    struct sse_parser p;
    struct log l;
    sse_parser_init(&p, 100);
    log_init(&l);
    l.stop_after = 2;
    const char *s = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
    CHECK_INT_EQ(sse_parser_feed(&p, s, strlen(s), on_event, &l), 7);
    CHECK_INT_EQ(l.calls, 2);
    /* stopped for good: nothing more is parsed */
    CHECK_INT_EQ(sse_parser_feed(&p, "data: 4\n\n", 9, on_event, &l), 7);
    CHECK_INT_EQ(l.calls, 2);
    CHECK_STR_EQ(text_of(&l), "7:message|1:1\n7:message|1:2\n");
    sse_parser_free(&p);
    sbuf_free(&l.text);
}

static void test_append_event(void)
{
    sbuf out = SBUF_INIT;
    sse_append_event(&out, "message_stop", "{\"type\":\"message_stop\"}", 23);
    CHECK_STR_EQ(out.data, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    sbuf_reset(&out);
    sse_append_event(&out, NULL, "", 0);
    CHECK_STR_EQ(out.data, "data: \n\n");
    sbuf_reset(&out);
    /* line breaks in the data become separate data: lines; in the name they would end the field */
    sse_append_event(&out, "a\nevent: b", "x\ny\r\nz\r\n", 8);
    CHECK_STR_EQ(out.data, "event: a\ndata: x\ndata: y\ndata: z\ndata: \n\n");
    /* and it parses back to the same event (CRLF normalised to LF) */
    struct log l;
    CHECK_INT_EQ(parse_whole(out.data, out.len, 100, &l), 0);
    CHECK_STR_EQ(text_of(&l), "1:a|6:x\ny\nz\n\n");
    sbuf_free(&l.text);
    sbuf_free(&out);
}

/* Feeds text split at every position (and byte by byte); returns the hit, checked equal for all. */
static int watch_all_splits(const char *text, int *at_boundary)
{
    static const char *const ends[] = {"message_stop", "error", NULL};
    size_t len = strlen(text);
    int first = -1;
    for (size_t cut = 0; cut <= len + 1; cut++) {
        struct sse_event_watch w;
        sse_event_watch_init(&w);
        int hit = 0;
        if (cut <= len) {
            hit |= sse_event_watch_feed(&w, text, cut, ends);
            hit |= sse_event_watch_feed(&w, text + cut, len - cut, ends);
        } else {
            for (size_t i = 0; i < len; i++)
                hit |= sse_event_watch_feed(&w, text + i, 1, ends);
        }
        if (first == -1) {
            first = hit;
            *at_boundary = sse_event_watch_at_boundary(&w);
        }
        CHECK_INT_EQ(hit, first);
        CHECK_INT_EQ(sse_event_watch_at_boundary(&w), *at_boundary);
    }
    return first;
}

static void test_event_watch(void)
{
    int b;
    CHECK_INT_EQ(watch_all_splits("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", &b), 1);
    CHECK_INT_EQ(b, 1);
    CHECK_INT_EQ(watch_all_splits("event:error\r\ndata: {}\r\n\r\n", &b), 1);
    /* named inside data: text, not an event */
    CHECK_INT_EQ(
        watch_all_splits("event: content_block_delta\ndata: {\"text\":\"\\n\\nevent: message_stop\\n\"}\n\n", &b), 0);
    CHECK_INT_EQ(watch_all_splits("data: event: message_stop\n\n", &b), 0);
    /* not dispatched: no blank line yet, or no data line */
    CHECK_INT_EQ(watch_all_splits("event: message_stop\ndata: {}\n", &b), 0);
    CHECK_INT_EQ(b, 0);
    CHECK_INT_EQ(watch_all_splits("event: message_stop\n\n", &b), 0);
    CHECK_INT_EQ(watch_all_splits("event: message_stopped\ndata: {}\n\n", &b), 0);
    CHECK_INT_EQ(watch_all_splits(": event: message_stop\n\n", &b), 0);
    /* a long data line between does not confuse the framing */
    char big[4096];
    snprintf(big, sizeof(big), "event: ping\ndata: %0*d\n\nevent: message_stop\ndata: {}\n\n", 3000, 7);
    CHECK_INT_EQ(watch_all_splits(big, &b), 1);
    CHECK_INT_EQ(watch_all_splits("event: ping\ndata: {}\n\nevent: mess", &b), 0);
    CHECK_INT_EQ(b, 0);
    CHECK_INT_EQ(watch_all_splits("", &b), 0);
    CHECK_INT_EQ(b, 1);
}

int main(void)
{
    test_event_watch();
    test_splits_lf();
    test_splits_crlf();
    test_fields();
    test_comments();
    test_oversize();
    test_callback_stops();
    test_append_event();
    CHECK_DONE();
}
