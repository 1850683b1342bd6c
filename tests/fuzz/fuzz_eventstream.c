/* libFuzzer: the event-stream decoder and the Bedrock -> SSE conversion, fed in two pieces; and the
 * input as a chunk's payload and as a decoded event, where each fast reader must agree with the full
 * one wherever it takes it (the chunk reader: and EVP_DecodeBlock takes its base64). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <openssl/evp.h>
#include "common/json_scan.h"
#include "providers/bedrock_stream.h"

/* Whether EVP_DecodeBlock takes a base64 text, as the stream decodes it. */
static int decodes(const char *p, size_t n)
{
    static unsigned char out[1 << 16];
    return n % 4 == 0 && n / 4 * 3 <= sizeof(out) && EVP_DecodeBlock(out, (const unsigned char *)p, (int)n) >= 0;
}

static void chunk_readers_agree(const uint8_t *data, size_t size)
{
    static struct json_object_scan scan;
    struct json_span fast, full;
    if (!bedrock_chunk_base64_fast((const char *)data, size, &fast) || !decodes(fast.p, fast.len))
        return;
    sbuf unescaped = SBUF_INIT;
    if (bedrock_chunk_base64_full((const char *)data, size, &scan, &unescaped, &full) != 0 || fast.p != full.p ||
        fast.len != full.len)
        abort();
    sbuf_free(&unescaped);
}

/* The input as a decoded event: wherever the delta reader takes it, the scanner takes it too and
 * reads the type content_block_delta. */
static void delta_readers_agree(const uint8_t *data, size_t size)
{
    static struct json_object_scan scan;
    const char *err;
    if (!bedrock_delta_event_fast((const char *)data, size))
        return;
    const struct json_member *t =
        json_scan_object((const char *)data, size, &scan, &err) == 0 ? json_scan_find(&scan, "type") : NULL;
    if (t == NULL || !json_span_is(t->value, "\"content_block_delta\""))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    chunk_readers_agree(data, size);
    delta_readers_agree(data, size);
    sbuf out = SBUF_INIT;
    struct bedrock_stream *s = bedrock_stream_new();
    size_t cut = size ? data[0] % (size + 1) : 0;
    bedrock_stream_feed(s, data, cut, &out);
    bedrock_stream_feed(s, data + cut, size - cut, &out);
    bedrock_stream_finish(s, NULL, &out);
    bedrock_stream_free(s);
    sbuf_free(&out);
    return 0;
}
