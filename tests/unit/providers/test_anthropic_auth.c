/* Credential selection, anthropic-beta merging, redaction and cooldown parsing. */
#include "providers/anthropic_auth.h"
#include "check.h"
#include "core/cooldown.h"
#include "common/redact.h"

#define OAT "sk-ant-oat01-abcdefghijklmnop"
#define API "sk-ant-api03-abcdefghijklmnop"

static void test_credentials(void)
{
    struct credential c;
    c = credential_select("Bearer " OAT, strlen("Bearer " OAT), NULL, 0, NULL);
    CHECK_INT_EQ(c.kind, CREDENTIAL_OAUTH);
    CHECK_MEM_EQ(c.value, c.len, OAT, strlen(OAT));
    c = credential_select(NULL, 0, OAT, strlen(OAT), API);
    CHECK_INT_EQ(c.kind, CREDENTIAL_OAUTH);
    c = credential_select(NULL, 0, API, strlen(API), OAT);
    CHECK_INT_EQ(c.kind, CREDENTIAL_API_KEY);
    CHECK_MEM_EQ(c.value, c.len, API, strlen(API));
    c = credential_select(NULL, 0, NULL, 0, OAT);
    CHECK_INT_EQ(c.kind, CREDENTIAL_OAUTH);
    CHECK(c.as_bearer);
    c = credential_select("Bearer dummy", 12, NULL, 0, OAT);
    CHECK_INT_EQ(c.kind, CREDENTIAL_OAUTH); /* a placeholder bearer loses to the configured token */
    CHECK_MEM_EQ(c.value, c.len, OAT, strlen(OAT));
    c = credential_select("Bearer gateway-key", 18, NULL, 0, NULL);
    CHECK_INT_EQ(c.kind, CREDENTIAL_OTHER);
    CHECK(c.as_bearer);
    c = credential_select("Basic abc", 9, NULL, 0, NULL);
    CHECK_INT_EQ(c.kind, CREDENTIAL_NONE);
    c = credential_select("bearer   " OAT "  ", strlen("bearer   " OAT "  "), NULL, 0, NULL);
    CHECK_INT_EQ(c.kind, CREDENTIAL_OAUTH);
    CHECK_MEM_EQ(c.value, c.len, OAT, strlen(OAT));
}

static void test_beta_merge(void)
{
    sbuf b = SBUF_INIT;
    beta_merge(&b, NULL, 0, OAUTH_BETA);
    CHECK_STR_EQ(b.data, "oauth-2025-04-20");
    sbuf_reset(&b);
    const char *client = " claude-code-20250219 ,interleaved-thinking-2025-05-14,, claude-code-20250219";
    beta_merge(&b, client, strlen(client), OAUTH_BETA);
    CHECK_STR_EQ(b.data, "claude-code-20250219,interleaved-thinking-2025-05-14,oauth-2025-04-20");
    sbuf_reset(&b);
    const char *has = "oauth-2025-04-20,x";
    beta_merge(&b, has, strlen(has), OAUTH_BETA);
    CHECK_STR_EQ(b.data, "oauth-2025-04-20,x");
    sbuf_reset(&b);
    const char *prefix = "oauth-2025-04-20-extra";
    beta_merge(&b, prefix, strlen(prefix), OAUTH_BETA);
    CHECK_STR_EQ(b.data, "oauth-2025-04-20-extra,oauth-2025-04-20"); /* whole items, not prefixes */
    sbuf_free(&b);
}

static void test_redaction(void)
{
    char buf[REDACT_BUFSZ];
    CHECK_STR_EQ(redact_secret(OAT, strlen(OAT), buf), "...mnop");
    CHECK_STR_EQ(redact_secret("short", 5, buf), "[redacted]");
    CHECK_STR_EQ(redact_secret(NULL, 0, buf), "(none)");
    CHECK(redact_header_is_secret("Authorization", 13));
    CHECK(redact_header_is_secret("X-API-KEY", 9));
    CHECK(redact_header_is_secret("x-amz-security-token", 20));
    CHECK(!redact_header_is_secret("anthropic-beta", 14));
    char msg[] = "x.lua:3: unexpected symbol near '\"sk-ant-oat01-abcdefghijklmnop\"' and sk-ant-api03-XYZ12345";
    redact_tokens_in_text(msg);
    CHECK_STR_EQ(msg, "x.lua:3: unexpected symbol near '\"sk-ant-******************mnop\"' and sk-ant-**********2345");
}

static h2o_iovec_t name_of(const char *s)
{
    return h2o_iovec_init(s, strlen(s));
}

static void test_cooldown(void)
{
    time_t now = 1800000000;
    const char *src = NULL;
    h2o_iovec_t n1 = name_of("retry-after"), n2 = name_of("anthropic-ratelimit-unified-reset"),
                n3 = name_of("anthropic-ratelimit-tokens-reset");
    h2o_header_t h[3];
    h[0] = (h2o_header_t){&n1, NULL, h2o_iovec_init(H2O_STRLIT("120"))};
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 1, 3600, &src), 120);
    CHECK_STR_EQ(src, "retry-after");
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 1, 60, &src), 60); /* bounded by max */
    h[0].value = h2o_iovec_init(H2O_STRLIT("Fri, 15 Jan 2027 08:00:30 GMT")); /* now + 30 s */
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 1, 3600, &src), 30);
    h[0] = (h2o_header_t){&n2, NULL, h2o_iovec_init(H2O_STRLIT("1800007200"))};
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 1, 86400, &src), 7200);
    CHECK_STR_EQ(src, "anthropic-ratelimit-unified-reset");
    h[0] = (h2o_header_t){&n3, NULL, h2o_iovec_init(H2O_STRLIT("2027-01-15T08:01:00Z"))};
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 1, 3600, &src), 60);
    h[0].value = h2o_iovec_init(H2O_STRLIT("2027-01-15T09:01:00.5+01:00"));
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 1, 3600, &src), 60);
    CHECK_INT_EQ(cooldown_seconds(h, 0, now, 300, 1, 3600, &src), 300);
    CHECK_STR_EQ(src, "configured cooldown");
    h[0] = (h2o_header_t){&n1, NULL, h2o_iovec_init(H2O_STRLIT("1e300"))}; /* found by fuzz_headers: clamped */
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 1, 3600, &src), 3600);
    h[0] = (h2o_header_t){&n1, NULL, h2o_iovec_init(H2O_STRLIT("soon"))};
    CHECK_INT_EQ(cooldown_seconds(h, 1, now, 300, 1, 3600, &src), 300);
}

int main(void)
{
    test_credentials();
    test_beta_merge();
    test_redaction();
    test_cooldown();
    CHECK_DONE();
}
