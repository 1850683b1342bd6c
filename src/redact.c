#include "redact.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *redact_secret(const char *s, size_t len, char buf[REDACT_BUFSZ])
{
    if (s == NULL || len == 0)
        return "(none)";
    if (len < 12)
        return "[redacted]";
    snprintf(buf, REDACT_BUFSZ, "...%.4s", s + len - 4);
    return buf;
}

static int token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

void redact_tokens_in_text(char *text)
{
    char *p = text;
    while ((p = strstr(p, "sk-ant-")) != NULL) {
        char *start = p + 7, *end = start;
        while (token_char(*end))
            end++;
        for (char *q = start; q + 4 < end; q++)
            *q = '*';
        p = end;
    }
}

int redact_header_is_secret(const char *name, size_t len)
{
    static const char *const secret_headers[] = {"authorization", "x-api-key", "proxy-authorization",
                                                 "x-amz-security-token", "cookie", "set-cookie"};
    for (size_t i = 0; i < sizeof(secret_headers) / sizeof(secret_headers[0]); i++) {
        size_t n = strlen(secret_headers[i]);
        if (n == len && strncasecmp(name, secret_headers[i], len) == 0)
            return 1;
    }
    return 0;
}
