/* libFuzzer: header handling: credential choice, anthropic-beta merging, cooldown parsing, the
 * access decision (Host, Origin, Content-Type, client keys) and the redaction of log messages. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "server/access.h"
#include "providers/anthropic_auth.h"
#include <h2o.h>
#include "core/config.h"
#include "core/cooldown.h"
#include "common/redact.h"

/* Splits the input at its first bytes into up to n header values; each points into the input
 * and is not NUL-terminated, like the values H2O hands out. */
static void split(const char *s, size_t size, h2o_iovec_t *out, size_t n)
{
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = at < size ? (unsigned char)s[at++] % 64 : 0;
        if (len > size - at)
            len = size - at;
        /* length 63: the header is absent */
        out[i] = len == 63 ? h2o_iovec_init(NULL, 0) : h2o_iovec_init(s + at, len);
        at += len;
    }
}

static void fuzz_access(const char *s, size_t size)
{
    static struct proxy_config cfg;
    static char listen[] = "127.0.0.1", host[] = "proxy.internal", origin[] = "https://ok.example",
                key[] = "ck-local-0123456789";
    cfg.listen_host = listen;
    cfg.allowed_hosts[0] = host;
    cfg.allowed_origins[0] = origin;
    cfg.client_keys[0] = size % 2 ? key : NULL;
    h2o_iovec_t v[5];
    split(s, size, v, 5);
    struct access_request r = {v[0], v[1], v[2], v[3], v[4], (int)(size & 4), (int)(size & 8)};
    struct access_refusal no;
    if (access_decide(&r, &cfg, (int)(size & 16), &no) != 0 && (no.status < 400 || no.message == NULL))
        abort();
    if (v[0].base != NULL)
        access_host_allowed(v[0].base, v[0].len, &cfg);
    if (v[2].base != NULL)
        access_type_is_json(v[2].base, v[2].len);
}

/* Masking keeps the length and touches only secrets: no sk-ant- token survives it whole. */
static void fuzz_redact(const char *s, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, s, size);
    text[size] = '\0';
    size_t len = strlen(text);
    redact_tokens_in_text(text);
    if (strlen(text) != len)
        abort();
    for (const char *p = text; (p = strstr(p, "sk-ant-")) != NULL; p += 7) {
        size_t n = strspn(p + 7, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");
        if (n > 4)
            abort(); /* more than a four-character tail left in clear */
    }
    free(text);
}

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
    fuzz_access(s, size);
    fuzz_redact(s, size);
    return 0;
}
