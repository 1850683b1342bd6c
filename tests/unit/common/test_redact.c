/* Token-shaped secrets are masked in any text, and log.c masks every message it writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "common/log.h"
#include "common/redact.h"

static void check_redacted(const char *in, const char *want)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", in);
    redact_tokens_in_text(buf);
    CHECK_STR_EQ(buf, want);
}

static void test_anthropic_tokens(void)
{
    check_redacted("POST /v1/messages?beta=true&key=sk-ant-api03-abcdefghijklmnop model=x",
                   "POST /v1/messages?beta=true&key=sk-ant-******************mnop model=x");
    /* glued to other text: a client chooses what precedes it */
    check_redacted("model=xsk-ant-oat01-abcdefghijklmnop", "model=xsk-ant-******************mnop");
    check_redacted("sk-ant-short", "sk-ant-*****"); /* too short to keep a tail */
    check_redacted("sk-ant-", "sk-ant-");
    check_redacted("claude-sonnet-4-5-20250929 us.anthropic.claude", "claude-sonnet-4-5-20250929 us.anthropic.claude");
}

/* A path or query may carry a token with its '-' percent-encoded, in either case. */
static void test_percent_encoded_dashes(void)
{
    check_redacted("GET /v1/models?key=sk%2Dant%2Doat01%2DabcdefghijklmnopQRST x",
                   "GET /v1/models?key=sk%2Dant%2D************************QRST x");
    check_redacted("?k=sk%2dant-api03-abcdefghijklmnop&z=1", "?k=sk%2dant-******************mnop&z=1");
    check_redacted("?k=sk-ant%2Doat01-abcd%2defghijklmnop", "?k=sk-ant%2D*********************mnop");
    check_redacted("xsk%2Dant%2Dapi03_abcdefghijklmnop", "xsk%2Dant%2D******************mnop"); /* glued */
    check_redacted("sk%2Dant%2D", "sk%2Dant%2D");
    check_redacted("sk%2Dantelope sk%2", "sk%2Dantelope sk%2"); /* not the prefix; cut short */
    check_redacted("sk%2Eant%2Dabcdefghijklmnop sk%2Dant%", "sk%2Eant%2Dabcdefghijklmnop sk%2Dant%");
}

static void test_aws_key_ids(void)
{
    check_redacted("key AKIAIOSFODNN7EXAMPLE used", "key AKIA************MPLE used");
    check_redacted("model=ASIAQWERTYUIOPASDFGH", "model=ASIA************DFGH");
    check_redacted("XAKIAIOSFODNN7EXAMPLE", "XAKIAIOSFODNN7EXAMPLE"); /* not the start of a word */
    check_redacted("AKIAIOSFODNN7EXAMPLEX", "AKIAIOSFODNN7EXAMPLEX"); /* 17 characters: not a key id */
    check_redacted("AKIAIOSFODNN7EXAMPL", "AKIAIOSFODNN7EXAMPL");     /* 15 */
    check_redacted("AKIAIOSFODNN7EXAMPLE", "AKIA************MPLE");   /* at the very start */
    /* Bedrock API keys, long-term and short-term */
    check_redacted("key=ABSKQmVkcm9ja0FQSUtleS1leGFtcGxlOmFiYw== end",
                   "key=ABSK********************************Yw== end");
    check_redacted("bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29tLw&X",
                   "bedrock-api-key-**************************9tLw&X");
    check_redacted("ABSKshort", "ABSKshort"); /* too short to be one */
}

static void test_bearer_values(void)
{
    check_redacted("Authorization: Bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl",
                   "Authorization: Bearer ******************************dXJl");
    check_redacted("bearer   gateway-key-0123456789", "bearer   ******************6789");
    check_redacted("Bearer abc", "Bearer ***");
    check_redacted("Bearer", "Bearer");
    check_redacted("unbearer abcdefghijklmnop", "unbearer abcdefghijklmnop");
}

/* Writes one message through log.c to a file and returns what it wrote. */
static char *logged(int json, const char *model)
{
    char path[] = "/tmp/cp-test-log-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_INT_EQ(log_set_file(path), 0);
    log_set_json(json);
    log_info("POST %s model=%s status=%d", "/v1/messages?key=sk-ant-api03-PATHLEAKabcdefgh1234", model, 200);
    log_set_file(NULL);
    FILE *f = fopen(path, "r");
    static char text[1024];
    size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    unlink(path);
    return text;
}

static void test_log_masks_every_message(void)
{
    for (int json = 0; json <= 1; json++) {
        const char *text = logged(json, "sk-ant-oat01-MODELLEAKabcdefgh5678");
        CHECK(strstr(text, "LEAK") == NULL);
        CHECK(strstr(text, "key=sk-ant-**********************1234") != NULL);
        CHECK(strstr(text, "model=sk-ant-***********************5678") != NULL);
        CHECK(strstr(text, "status=200") != NULL);
        CHECK(!json || strncmp(text, "{\"time\":", 8) == 0);
    }
}

/* A secret shown by its last characters, the headers that carry one, and tokens inside a message. */
static void test_secret_values(void)
{
    char buf[REDACT_BUFSZ];
    CHECK_STR_EQ(redact_secret("sk-ant-oat01-abcdefghijklmnop", 29, buf), "...mnop");
    CHECK_STR_EQ(redact_secret("short", 5, buf), "[redacted]");
    CHECK_STR_EQ(redact_secret(NULL, 0, buf), "(none)");
    /* buf holds the answer in every case: the doctor prints buf */
    redact_secret("short", 5, buf);
    CHECK_STR_EQ(buf, "[redacted]");
    redact_secret(NULL, 0, buf);
    CHECK_STR_EQ(buf, "(none)");
    CHECK(redact_header_is_secret("Authorization", 13));
    CHECK(redact_header_is_secret("X-API-KEY", 9));
    CHECK(redact_header_is_secret("x-amz-security-token", 20));
    CHECK(!redact_header_is_secret("anthropic-beta", 14));
    char msg[] = "x.lua:3: unexpected symbol near '\"sk-ant-oat01-abcdefghijklmnop\"' and sk-ant-api03-XYZ12345";
    redact_tokens_in_text(msg);
    CHECK_STR_EQ(msg, "x.lua:3: unexpected symbol near '\"sk-ant-******************mnop\"' and sk-ant-**********2345");
}

int main(void)
{
    test_anthropic_tokens();
    test_percent_encoded_dashes();
    test_aws_key_ids();
    test_bearer_values();
    test_log_masks_every_message();
    test_secret_values();
    CHECK_DONE();
}
