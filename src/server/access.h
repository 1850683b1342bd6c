/* Who gets in. The proxy spends the user's subscription, so only the user's own clients may:
 *   - the Host must be a loopback name or address, the listen address, or in allowed_hosts
 *     (a page on evil.example re-pointed at 127.0.0.1 by DNS rebinding fails this);
 *   - a request with an Origin header (a browser) is refused unless allowed_origins lists it;
 *   - a POST with a body must say it is JSON (a cross-site form or text/plain POST, or one
 *     with no Content-Type, is refused with 415);
 *   - with client_keys set, a client must present one (x-api-key or Authorization: Bearer),
 *     compared in constant time; the proxy's own token then goes upstream, never the key. */
#ifndef CP_ACCESS_H
#define CP_ACCESS_H
#include <h2o.h>
#include "core/errors.h"

struct proxy_config;

/* Returns 0 when the request may go on; otherwise it has been answered (403, 415 or 401).
 * needs_key: the endpoint spends the subscription (everything but /, /health, /metrics). */
int access_check(h2o_req_t *req, const struct proxy_config *c, enum api_format api, int needs_key);

/* 1 if host (a Host header value, with or without a port) is acceptable for config c. */
int access_host_allowed(const char *host, size_t len, const struct proxy_config *c);

/* 1 if a Content-Type value (not NUL-terminated) is application/json, with any parameters. */
int access_type_is_json(const char *value, size_t len);

/* What access_check looks at, out of the request, so that the decision can be unit-tested and
 * fuzzed without a connection. Absent headers have base == NULL. */
struct access_request {
    h2o_iovec_t host, origin, content_type, api_key, authorization;
    int is_post, has_body;
};
struct access_refusal {
    int status;
    const char *type, *message;
};
/* 0 when the request may go on, else -1 with *out saying how to refuse it. */
int access_decide(const struct access_request *r, const struct proxy_config *c, int needs_key,
                  struct access_refusal *out);

#endif
