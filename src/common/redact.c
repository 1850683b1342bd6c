#include "common/redact.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *redact_secret(const char *s, size_t len, char buf[REDACT_BUFSZ])
{
    /* buf holds the answer in every case, for callers that print buf */
    if (s == NULL || len == 0)
        return memcpy(buf, "(none)", sizeof("(none)"));
    if (len < 12)
        return memcpy(buf, "[redacted]", sizeof("[redacted]"));
    snprintf(buf, REDACT_BUFSZ, "...%.4s", s + len - 4);
    return buf;
}

static int is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

static int token_char(char c) { return is_alnum(c) || c == '-' || c == '_'; }

/* Bearer values may be JWTs or base64: wider than an Anthropic token. */
static int bearer_char(char c) { return token_char(c) || c == '.' || c == '~' || c == '+' || c == '/' || c == '='; }

/* A '-' at p, as is or percent-encoded (%2D, %2d: a path or query may carry it so): its length,
 * or 0. */
static size_t dash_at(const char *p)
{
    if (p[0] == '-')
        return 1;
    return p[0] == '%' && p[1] == '2' && (p[2] == 'D' || p[2] == 'd') ? 3 : 0;
}

/* "sk-ant-" at p, each '-' as is or percent-encoded: its length, or 0. */
static size_t anthropic_prefix_at(const char *p)
{
    size_t n, d;
    if (p[0] != 's' || p[1] != 'k' || (d = dash_at(p + 2)) == 0)
        return 0;
    n = 2 + d;
    if (strncmp(p + n, "ant", 3) != 0 || (d = dash_at(p + n + 3)) == 0)
        return 0;
    return n + 3 + d;
}

/* The rest of an Anthropic token: token characters, its '-' as is or percent-encoded. */
static size_t anthropic_token_body(const char *p)
{
    size_t n = 0, d;
    for (;;) {
        if (is_alnum(p[n]) || p[n] == '_')
            n++;
        else if ((d = dash_at(p + n)) != 0)
            n += d;
        else
            return n;
    }
}

/* Masks s[0..len) but its last four characters, which tell secrets apart; a value too short
 * for that is masked whole. Returns len. */
static size_t mask(char *s, size_t len)
{
    memset(s, '*', len >= 12 ? len - 4 : len);
    return len;
}

static size_t span(const char *s, int (*ok)(char))
{
    size_t n = 0;
    while (s[n] != '\0' && ok(s[n]))
        n++;
    return n;
}

/* AWS access key ids: AKIA (long-term) or ASIA (temporary) and 16 upper-case letters or digits. */
static size_t aws_key_id_at(const char *p)
{
    if (strncmp(p, "AKIA", 4) != 0 && strncmp(p, "ASIA", 4) != 0)
        return 0;
    size_t n = 4;
    while (n < 20 && ((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= '0' && p[n] <= '9')))
        n++;
    return n == 20 && !is_alnum(p[20]) ? 20 : 0;
}

static int base64_char(char c) { return is_alnum(c) || c == '+' || c == '/' || c == '=' || c == '-' || c == '_'; }

/* Bedrock API keys: long-term ones are "ABSK" and base64, short-term ones "bedrock-api-key-" and
 * a (URL-safe) base64 token. Returns the length of the prefix kept, 0 if none is at p. */
static size_t bedrock_key_prefix_at(const char *p)
{
    if (strncmp(p, "ABSK", 4) == 0)
        return 4;
    if (strncmp(p, "bedrock-api-key-", 16) == 0)
        return 16;
    return 0;
}

/* If a secret starts at p, masks it and returns how many bytes it covered, else 0.
 * word_start: p does not follow a letter or digit. */
static size_t redact_at(char *p, int word_start)
{
    size_t n, prefix;
    /* anywhere, even glued to other text: a client chooses what precedes it in a path or model */
    if (p[0] == 's' && (prefix = anthropic_prefix_at(p)) != 0 && (n = anthropic_token_body(p + prefix)) > 0)
        return prefix + mask(p + prefix, n);
    if (!word_start)
        return 0;
    if ((prefix = bedrock_key_prefix_at(p)) != 0 && (n = span(p + prefix, base64_char)) >= 16)
        return prefix + mask(p + prefix, n);
    if (p[0] == 'A' && (n = aws_key_id_at(p)) != 0) {
        memset(p + 4, '*', n - 8); /* the prefix says which kind of key, the tail which key */
        return n;
    }
    if ((p[0] == 'B' || p[0] == 'b') && strncasecmp(p, "bearer ", 7) == 0) {
        size_t sp = 7 + strspn(p + 7, " ");
        if ((n = span(p + sp, bearer_char)) > 0)
            return sp + mask(p + sp, n);
    }
    return 0;
}

void redact_tokens_in_text(char *text)
{
    for (char *p = text; *p != '\0';) {
        size_t n = redact_at(p, p == text || !is_alnum(p[-1]));
        p += n ? n : 1;
    }
}

int redact_header_is_secret(const char *name, size_t len)
{
    static const char *const secret_headers[] = {"authorization",        "x-api-key", "proxy-authorization",
                                                 "x-amz-security-token", "cookie",    "set-cookie"};
    for (size_t i = 0; i < sizeof(secret_headers) / sizeof(secret_headers[0]); i++) {
        size_t n = strlen(secret_headers[i]);
        if (n == len && strncasecmp(name, secret_headers[i], len) == 0)
            return 1;
    }
    return 0;
}
