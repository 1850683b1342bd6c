/* A small HTTP/1.1 client for upstream requests, on H2O's sockets.
 *
 * H2O 2.2.5's own client (h2o_http1client with h2o_socketpool) exports every idle keep-alive
 * socket from the event loop and imports it again for the next request: six system calls per
 * request (dup, close, ioctl, two epoll_ctl, a recv probe) that dominate a proxy's cost. This
 * client keeps idle sockets attached, watching them for a close by the upstream, and otherwise
 * follows h2o_http1client's callback contract so the relay code reads the same. */
#ifndef CP_HTTP_CLIENT_H
#define CP_HTTP_CLIENT_H
#include <h2o.h>

struct upstream;
struct http_client;

extern const char *const http_client_error_is_eos;

/* Body data waits in client->sock->input (take it, consume it, or swap the buffer). errstr:
 * NULL while the body goes on, http_client_error_is_eos at its end, else why it broke (the last
 * call). Return nonzero to stop (the connection is then closed). */
typedef int (*http_client_body_cb)(struct http_client *client, const char *errstr);
/* errstr: NULL with a response head, http_client_error_is_eos for a head without a body, else why
 * no response came (client->failure says which kind). Return the body callback, or NULL to stop.
 * The headers are valid only during the call (names lowercased). */
typedef http_client_body_cb (*http_client_head_cb)(struct http_client *client, const char *errstr, int status,
                                                   h2o_header_t *headers, size_t num_headers);

/* Why a request got no response to relay. */
enum http_client_failure {
    /* no connection, TLS or send failure, or the connection closed before any byte of an answer */
    HTTP_CLIENT_NO_CONNECTION,
    /* no complete response head within the timeout after the request was written */
    HTTP_CLIENT_TIMEOUT,
    /* the upstream answered, but with a head that is not a response to relay: unparseable, too
     * large, ambiguous framing (RFC 9112 6.3), an unsolicited 101, a status outside 100..599. It
     * had the request, so this counts as its failure (like a 502), not as no connection. */
    HTTP_CLIENT_INVALID_RESPONSE,
};

struct http_client {
    h2o_socket_t *sock;
    void *data;
    enum http_client_failure failure; /* in on_head with an error */
    /* in on_head with a head: the body's length when a Content-Length frames it (for a HEAD, the
     * declared one), else SIZE_MAX (chunked, until close, 204, 304) */
    size_t content_length;
};

/* At most this many buffers per request: a head and a body in up to 12 parts (common/body_parts.h). */
#define HTTP_CLIENT_MAX_BUFS 16

/* Sends bufs (request head and body; at most HTTP_CLIENT_MAX_BUFS, which must stay valid until the
 * response is done, for a retry on a fresh connection) to the upstream on a pooled or new connection. */
struct http_client *http_client_request(struct upstream *u, h2o_iovec_t *bufs, size_t nbufs, int is_head,
                                        http_client_head_cb on_head, void *data);
/* Abandons the request: no more callbacks. */
void http_client_cancel(struct http_client *client);
/* Backpressure: stop and restart reading the response body. */
void http_client_pause(struct http_client *client);
void http_client_resume(struct http_client *client);

/* Reading the response headers the callbacks get: the value of the first header called name
 * (lower case; any case in the headers), or NULL. */
const h2o_iovec_t *http_header_find(const h2o_header_t *headers, size_t num_headers, const char *name);
/* A header value as a C string in buf: 0, or -1 (buf untouched) if it does not fit. */
int http_header_copy(const h2o_iovec_t *value, char *buf, size_t size);

#endif
