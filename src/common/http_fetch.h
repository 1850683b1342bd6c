/* One upstream request whose whole answer is wanted (small control-plane calls: listings,
 * identity checks), on the pooled HTTP client. */
#ifndef CP_HTTP_FETCH_H
#define CP_HTTP_FETCH_H
#include <h2o.h>
#include "common/sbuf.h"

struct upstream;
struct http_fetch;

/* The answer: status 0 and err set when none came (connect, TLS, timeout, a body over the
 * limit...). headers are lowercased; everything is valid only during the call. */
struct http_fetch_result {
    int status;
    const char *err;
    const h2o_header_t *headers;
    size_t num_headers;
    const char *body;
    size_t body_len;
};
typedef void (*http_fetch_cb)(void *ud, const struct http_fetch_result *r);

/* Sends head (request line and headers, ending with the blank line) and body (may be empty) to
 * u. cb runs once, from the loop, unless the fetch is cancelled first. */
struct http_fetch *http_fetch_start(struct upstream *u, const char *head, size_t head_len, const char *body,
                                    size_t body_len, size_t max_body, http_fetch_cb cb, void *ud);
void http_fetch_cancel(struct http_fetch *f);
/* The value of a header of r (name lowercase), or NULL. */
const h2o_iovec_t *http_fetch_header(const struct http_fetch_result *r, const char *name);

#endif
