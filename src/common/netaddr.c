#include "common/netaddr.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { NOT_AN_ADDRESS, IPV4, IPV6 };

/* Parses an IPv4 dotted quad or an IPv6 address (bracketed or not) into bytes: 4 for IPv4, 16
 * for IPv6. inet_pton rather than prefix checks: "127.0.0.1.evil" or "127.999.0.1" are names. */
static int parse_ip(const char *host, size_t len, unsigned char bytes[16])
{
    char buf[64]; /* the longest IPv6 text is 45 characters */
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        if (len - 2 >= sizeof(buf))
            return NOT_AN_ADDRESS;
        memcpy(buf, host + 1, len - 2);
        buf[len - 2] = '\0';
        return inet_pton(AF_INET6, buf, bytes) == 1 ? IPV6 : NOT_AN_ADDRESS;
    }
    if (len >= sizeof(buf))
        return NOT_AN_ADDRESS;
    memcpy(buf, host, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, bytes) == 1)
        return IPV4;
    return inet_pton(AF_INET6, buf, bytes) == 1 ? IPV6 : NOT_AN_ADDRESS;
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

static int is_localhost_name(const char *host, size_t len)
{
    static const char suffix[] = ".localhost";
    size_t slen = sizeof(suffix) - 1;
    if (len == slen - 1 && strncasecmp(host, suffix + 1, len) == 0)
        return 1;
    return len > slen && strncasecmp(host + len - slen, suffix, slen) == 0;
}

int netaddr_is_loopback(const char *host, size_t len)
{
    unsigned char b[16];
    switch (parse_ip(host, len, b)) {
    case IPV4: return b[0] == 127;
    case IPV6: {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        return (all_zero(b, 15) && b[15] == 1) || (memcmp(b, mapped, sizeof(mapped)) == 0 && b[12] == 127);
    }
    default: return is_localhost_name(host, len);
    }
}

int netaddr_is_wildcard(const char *host, size_t len)
{
    unsigned char b[16];
    switch (parse_ip(host, len, b)) {
    case IPV4: return all_zero(b, 4);
    case IPV6: return all_zero(b, 16);
    default: return 0;
    }
}

const char *netaddr_dial_host(const char *listen, char *buf, size_t size)
{
    unsigned char b[16];
    size_t len = strlen(listen);
    switch (parse_ip(listen, len, b)) {
    case IPV4: return all_zero(b, 4) ? "127.0.0.1" : listen;
    case IPV6:
        if (all_zero(b, 16))
            return "::1";
        if (listen[0] != '[')
            return listen;
        snprintf(buf, size, "%.*s", (int)(len - 2), listen + 1);
        return buf;
    default: return "127.0.0.1";
    }
}

void netaddr_http_url(char *buf, size_t size, const char *host, unsigned port)
{
    int bracket = strchr(host, ':') != NULL && host[0] != '[';
    snprintf(buf, size, "http://%s%s%s:%u", bracket ? "[" : "", host, bracket ? "]" : "", port);
}
