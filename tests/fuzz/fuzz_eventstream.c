/* libFuzzer: the event-stream decoder and the Bedrock -> SSE conversion, fed in two pieces. */
#include <stddef.h>
#include <stdint.h>
#include "providers/bedrock_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
