/* libFuzzer: the request scanner, the model splice and the Bedrock body adaptation. The
 * spliced output of a valid body must itself be valid. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "providers/bedrock_request.h"
#include "common/json_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct json_object_scan o, o2;
    const char *err;
    if (json_scan_object((const char *)data, size, &o, &err) != 0)
        return 0;
    sbuf out = SBUF_INIT;
    const char *keys[] = {"model"}, *values[] = {"\"claude-sonnet-4-5\""};
    const char *drop[] = {"stream", "x"}; /* "x" is added back: top-level names are unique */
    json_splice(&o, drop, 2, keys, values, 1, "\"x\":1", &out);
    /* the splice may add two members: a body already at the scanner's limit may not re-scan */
    int room = o.count + 2 <= JSON_SCAN_MAX_MEMBERS;
    if (json_scan_object(out.data, out.len, &o2, &err) != 0 && room)
        abort();
    sbuf_reset(&out);
    static const char *const betas[] = {"interleaved-thinking-2025-05-14", NULL};
    static const char *const fields[] = {"context_management", NULL};
    struct bedrock_adaptation a = {betas, fields, 31999};
    bedrock_invoke_body(&o, "oauth-2025-04-20, interleaved-thinking-2025-05-14", 48, &a, &out);
    if (json_scan_object(out.data, out.len, &o2, &err) != 0 && room)
        abort();
    sbuf_free(&out);
    return 0;
}
