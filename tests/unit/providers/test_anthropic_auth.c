/* Credential selection and anthropic-beta merging. */
#include "providers/anthropic_auth.h"
#include "check.h"

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

int main(void)
{
    test_credentials();
    test_beta_merge();
    CHECK_DONE();
}
