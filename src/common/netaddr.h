/* Which names and addresses mean "this machine": one answer for the Host check, the warning about
 * the listen address and the check that an upstream URL is not the proxy itself. */
#ifndef CP_NETADDR_H
#define CP_NETADDR_H
#include <stddef.h>

/* 1 if host (len bytes, no port, not NUL-terminated) is a loopback address or name: 127.0.0.0/8
 * in dotted-quad form, ::1 and ::ffff:127.0.0.0/104 in any form inet_pton reads (an IPv6 address
 * with or without its URL brackets), or "localhost" and names under ".localhost" (RFC 6761),
 * in any case. Shorthands such as 127.1 are not addresses here. */
int netaddr_is_loopback(const char *host, size_t len);

/* 1 if host is the any-address a listener binds to for every interface: 0.0.0.0 or :: (any form,
 * brackets or not). */
int netaddr_is_wildcard(const char *host, size_t len);

/* The address a client on this machine dials to reach a listener bound to listen (a config's
 * listen value): the loopback twin of an any-address (0.0.0.0 -> 127.0.0.1, :: -> ::1), an IP
 * address as it is (brackets dropped), and 127.0.0.1 for a name, where the proxy binds localhost.
 * The result is listen, a constant, or written into buf. */
const char *netaddr_dial_host(const char *listen, char *buf, size_t size);

/* "http://host:port" into buf, an IPv6 address in brackets ("http://[::1]:47000"). */
void netaddr_http_url(char *buf, size_t size, const char *host, unsigned port);

#endif
