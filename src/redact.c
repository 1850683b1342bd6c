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
