/* Which headers cross the proxy: the hop-by-hop rule (RFC 9110 7.6.1) in one place, for the
 * client's request headers forwarded upstream and the upstream's response headers relayed back.
 * Everything here reads the h2o request or header array it is given and keeps nothing. */
#ifndef CP_HEADERS_H
#define CP_HEADERS_H
#include <h2o.h>
#include "common/sbuf.h"

/* 1 if name (any case) describes one connection, not the message: connection, keep-alive,
 * proxy-connection, transfer-encoding, te, trailer, upgrade. */
int headers_is_hop_by_hop(const char *name, size_t len);

/* Appends "name: value\r\n" for the client's headers worth forwarding (anthropic-*, x-*,
 * user-agent, content-type, accept...): not hop-by-hop, not one the Connection header names,
 * not one the proxy sets itself (host, content-length, expect, accept-encoding,
 * http2-settings, proxy-authorization, proxy-authenticate), and not in skip[]. */
void headers_copy_client(const h2o_req_t *req, sbuf *head, const char *const *skip, size_t nskip);
/* The client's header called name (lower case), or NULL. */
const h2o_iovec_t *headers_client(const h2o_req_t *req, const char *name);

/* 1 if an upstream response header is not relayed: hop-by-hop, or one H2O sets for the client
 * (content-length, date, server). */
int headers_is_not_relayed(const char *name, size_t len);

#endif
