/* libFuzzer: OpenAI request translation (its output must be valid JSON for the scanner) and
 * response / error translation. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "json_scan.h"
#include "openai.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sbuf out = SBUF_INIT, err = SBUF_INIT;
    struct openai_request_info info;
    if (openai_request_to_anthropic((const char *)data, size, 1024, &out, &info, &err) == 0) {
        struct json_object_scan o;
        const char *e;
        if (json_scan_object(out.data, out.len, &o, &e) != 0)
            abort();
    }
    sbuf_reset(&out);
    openai_response_from_anthropic((const char *)data, size, "m", &out);
    sbuf_reset(&out);
    openai_error_from_anthropic(500, (const char *)data, size, &out);
    sbuf_free(&out);
    sbuf_free(&err);
    return 0;
}
