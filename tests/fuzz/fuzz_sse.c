/* libFuzzer: the SSE parser feeding the OpenAI stream translation. */
#include <stddef.h>
#include <stdint.h>
#include "openai.h"
#include "sse.h"

struct ctx {
    struct openai_stream *stream;
    sbuf *out;
};

static int on_event(void *ud, const char *event, size_t event_len, const char *data, size_t data_len)
{
    struct ctx *c = ud;
    return openai_stream_event(c->stream, event, event_len, data, data_len, c->out) != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sbuf out = SBUF_INIT;
    struct sse_parser p;
    sse_parser_init(&p, 1 << 20);
    struct ctx c = {openai_stream_new("m", size & 1), &out};
    size_t cut = size ? data[0] % (size + 1) : 0;
    sse_parser_feed(&p, (const char *)data, cut, on_event, &c);
    sse_parser_feed(&p, (const char *)data + cut, size - cut, on_event, &c);
    openai_stream_finish(c.stream, &out);
    openai_stream_free(c.stream);
    sse_parser_free(&p);
    sbuf_free(&out);
    return 0;
}
