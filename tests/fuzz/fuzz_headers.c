/* libFuzzer: header handling: credential choice, anthropic-beta merging, cooldown parsing. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "anthropic_auth.h"
#include <h2o.h>
#include "cooldown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    size_t half = size / 2;
    struct credential c = credential_select(s, half, s + half, size - half, "sk-ant-oat01-configured");
    (void)c;
    sbuf b = SBUF_INIT;
    beta_merge(&b, s, size, OAUTH_BETA);
    sbuf_free(&b);
    h2o_iovec_t names[2] = {{(char *)"retry-after", 11}, {(char *)"anthropic-ratelimit-tokens-reset", 32}};
    h2o_header_t h[2] = {{&names[0], NULL, {(char *)s, half}}, {&names[1], NULL, {(char *)s + half, size - half}}};
    const char *src;
    cooldown_seconds(h, 2, 1800000000, 300, 1, 3600, &src);
    return 0;
}
