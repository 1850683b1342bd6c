/* libFuzzer: the SSE parser must give the same events and result however the input is split, its
 * writer must round-trip, and the OpenAI stream translation of any events must be well-formed
 * "data: <JSON>" / "data: [DONE]" lines.
 * Input: byte 0 picks max_event, byte 1 seeds the split sizes, the rest is the stream. */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "openai/stream.h"
#include "common/sse.h"

struct run {
    sbuf log;                     /* every event as "<len>:<name>|<len>:<data>\n" */
    struct openai_stream *stream; /* the events translated, into out */
    sbuf out;
    int stream_over;
};

static int on_event(void *ud, const char *event, size_t event_len, const char *data, size_t data_len)
{
    struct run *r = ud;
    if (event[event_len] != '\0' || data[data_len] != '\0')
        abort(); /* promised NUL-terminated */
    sbuf_printf(&r->log, "%zu:", event_len);
    sbuf_append(&r->log, event, event_len);
    sbuf_printf(&r->log, "|%zu:", data_len);
    sbuf_append(&r->log, data, data_len);
    sbuf_putc(&r->log, '\n');
    if (r->stream && !r->stream_over && openai_stream_event(r->stream, event, event_len, data, data_len, &r->out) != 0)
        r->stream_over = 1;
    return 0;
}

/* Every "data: X\n\n" record of an OpenAI stream holds a JSON object, and the stream ends with
 * exactly one terminator: [DONE], or an error object (then no [DONE]: it would say "complete"). */
static void check_openai_stream(const sbuf *out)
{
    const char *p = out->data ? out->data : "", *end = p + out->len;
    int ended = 0;
    while (p < end) {
        if (ended || strncmp(p, "data: ", 6) != 0)
            abort();
        const char *rec_end = strstr(p, "\n\n");
        if (rec_end == NULL)
            abort();
        size_t n = (size_t)(rec_end - p - 6);
        if (n == 6 && memcmp(p + 6, "[DONE]", 6) == 0) {
            ended = 1;
        } else {
            cJSON *j = cJSON_ParseWithLength(p + 6, n);
            if (!cJSON_IsObject(j))
                abort();
            ended = cJSON_GetObjectItemCaseSensitive(j, "error") != NULL;
            cJSON_Delete(j);
        }
        p = rec_end + 2;
    }
    if (!ended)
        abort();
}

static int on_roundtrip(void *ud, const char *event, size_t event_len, const char *data, size_t data_len)
{
    sbuf *log = ud;
    sbuf_printf(log, "%zu:", event_len);
    sbuf_append(log, event, event_len);
    sbuf_printf(log, "|%zu:", data_len);
    sbuf_append(log, data, data_len);
    sbuf_putc(log, '\n');
    return 0;
}

/* Writes each logged event back with sse_append_event and parses it again: the same events. */
static void check_roundtrip(const sbuf *log)
{
    const char *p = log->data ? log->data : "", *end = p + log->len;
    sbuf written = SBUF_INIT;
    while (p < end) {
        char *e;
        size_t elen = strtoul(p, &e, 10);
        const char *name = e + 1;
        size_t dlen = strtoul(name + elen + 1, &e, 10);
        const char *data = e + 1;
        p = data + dlen + 1;
        if (memchr(name, '\r', elen) || memchr(data, '\r', dlen) || memchr(name, '\0', elen)) {
            sbuf_free(&written);
            return; /* a lone CR would end the line for SSE clients; the name is a C string */
        }
        char *n = strndup(name, elen);
        sse_append_event(&written, n, data, dlen);
        free(n);
    }
    struct sse_parser parser;
    sse_parser_init(&parser, log->len + 1);
    sbuf again = SBUF_INIT;
    if (sse_parser_feed(&parser, written.data ? written.data : "", written.len, on_roundtrip, &again) != 0 ||
        again.len != log->len || (log->len && memcmp(again.data, log->data, log->len) != 0))
        abort();
    sse_parser_free(&parser);
    sbuf_free(&again);
    sbuf_free(&written);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    if (size < 2)
        return 0;
    size_t max = in[0] < 128 ? (size_t)in[0] : (size_t)1 << 20;
    uint32_t seed = in[1] * 2654435761u + 1;
    const char *data = (const char *)in + 2;
    size_t len = size - 2;

    struct run whole = {SBUF_INIT, openai_stream_new("m", in[1] & 1), SBUF_INIT, 0};
    struct sse_parser p;
    sse_parser_init(&p, max);
    int r_whole = sse_parser_feed(&p, data, len, on_event, &whole);
    sse_parser_free(&p);
    openai_stream_finish(whole.stream, &whole.out);
    check_openai_stream(&whole.out);
    openai_stream_free(whole.stream);
    if (r_whole != 0 && r_whole != -1)
        abort();

    struct run split = {SBUF_INIT, NULL, SBUF_INIT, 0};
    sse_parser_init(&p, max);
    int r_split = 0;
    for (size_t off = 0; off < len && r_split == 0;) {
        seed = seed * 1103515245u + 12345u;
        size_t n = (seed >> 16) % 9; /* pieces of 0..8 bytes */
        if (n > len - off)
            n = len - off;
        r_split = sse_parser_feed(&p, data + off, n, on_event, &split);
        off += n;
    }
    sse_parser_free(&p);
    if (r_split != r_whole || split.log.len != whole.log.len ||
        (whole.log.len && memcmp(split.log.data, whole.log.data, whole.log.len) != 0))
        abort();

    check_roundtrip(&whole.log);
    sbuf_free(&whole.log);
    sbuf_free(&whole.out);
    sbuf_free(&split.log);
    return 0;
}
