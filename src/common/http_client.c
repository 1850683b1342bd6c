#include "common/http_client.h"
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include "common/upstream.h"
#include "common/comma_list.h"
#include "common/memory.h"
#include "common/picohttpparser.h"

/* Generous bounds for a response head (Anthropic and Bedrock send a few dozen headers); a head
 * past either is an invalid response. */
#define MAX_HEADERS 256
#define MAX_HEAD_SIZE (64 * 1024)

const char *const http_client_error_is_eos = "end of stream";

enum body_kind { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_UNTIL_CLOSE };

struct client {
    struct http_client super;
    struct upstream *u;
    h2o_iovec_t bufs[HTTP_CLIENT_MAX_BUFS];
    size_t nbufs;
    int is_head;
    http_client_head_cb on_head;
    http_client_body_cb on_body;
    h2o_hostinfo_getaddr_req_t *getaddr;
    h2o_timeout_entry_t timeout;
    enum body_kind body;
    size_t bytes_left;
    struct phr_chunked_decoder chunked;
    int keepalive;
    int reused; /* the connection came from the pool */
    int paused;
    int closed_early;    /* the upstream closed a reused connection while the request was written */
    int got_interim;     /* a 1xx came: the upstream has the request */
    uint64_t written_at; /* when the request was fully written (ms, the loop's clock) */
};

/* an idle pooled connection */
struct idle_conn {
    h2o_socket_t *sock;
    struct upstream *u;
    h2o_linklist_t link;
    h2o_timeout_entry_t timeout;
};

/* ---- the pool ------------------------------------------------------------------------------ */

static void drop_idle(struct idle_conn *ic)
{
    h2o_linklist_unlink(&ic->link);
    if (h2o_timeout_is_linked(&ic->timeout))
        h2o_timeout_unlink(&ic->timeout);
    h2o_socket_close(ic->sock);
    free(ic);
}

/* An idle connection that becomes readable was closed by the upstream (or sent garbage). */
static void on_idle_read(h2o_socket_t *sock, const char *err)
{
    (void)err;
    drop_idle(sock->data);
}

static void on_idle_timeout(h2o_timeout_entry_t *entry)
{
    drop_idle(H2O_STRUCT_FROM_MEMBER(struct idle_conn, timeout, entry));
}

static void pool_put(struct upstream *u, h2o_socket_t *sock)
{
    struct idle_conn *ic = xcalloc(1, sizeof(*ic));
    ic->sock = sock;
    ic->u = u;
    sock->data = ic;
    h2o_buffer_consume(&sock->input, sock->input->size);
    h2o_linklist_insert(&u->idle, &ic->link);
    ic->timeout.cb = on_idle_timeout;
    h2o_timeout_link(u->loop, &u->idle_timeout, &ic->timeout);
    h2o_socket_read_start(sock, on_idle_read);
}

static void on_read_early(h2o_socket_t *sock, const char *err);

static h2o_socket_t *pool_take(struct upstream *u)
{
    if (h2o_linklist_is_empty(&u->idle))
        return NULL;
    /* the most recently used: the least likely to have been closed by the upstream */
    struct idle_conn *ic = H2O_STRUCT_FROM_MEMBER(struct idle_conn, link, u->idle.prev);
    h2o_socket_t *sock = ic->sock;
    h2o_linklist_unlink(&ic->link);
    h2o_timeout_unlink(&ic->timeout);
    /* keep the socket reading and only swap the callback: stopping and restarting reads costs
     * two epoll_ctl calls per request, swapping costs none */
    h2o_socket_read_start(sock, on_read_early);
    free(ic);
    return sock;
}

/* ---- one request ---------------------------------------------------------------------------- */

static void set_timeout(struct client *c, h2o_timeout_cb cb)
{
    if (h2o_timeout_is_linked(&c->timeout))
        h2o_timeout_unlink(&c->timeout);
    if (cb != NULL) {
        c->timeout.cb = cb;
        h2o_timeout_link(c->u->loop, &c->u->io_timeout, &c->timeout);
    }
}

/* Frees the request; the socket goes back to the pool when the response ended cleanly. */
static void finish(struct client *c, int reusable)
{
    set_timeout(c, NULL);
    if (c->getaddr != NULL)
        h2o_hostinfo_getaddr_cancel(c->getaddr);
    if (c->super.sock != NULL) {
        if (reusable && c->keepalive)
            pool_put(c->u, c->super.sock);
        else
            h2o_socket_close(c->super.sock);
    }
    free(c);
}

static void fail_before_head(struct client *c, enum http_client_failure failure, const char *err)
{
    c->super.failure = failure;
    c->on_head(&c->super, err, 0, NULL, 0);
    finish(c, 0);
}

static void fail_in_body(struct client *c, const char *err)
{
    c->on_body(&c->super, err);
    finish(c, 0);
}

static void on_head_timeout(h2o_timeout_entry_t *entry)
{
    fail_before_head(H2O_STRUCT_FROM_MEMBER(struct client, timeout, entry), HTTP_CLIENT_TIMEOUT, "I/O timeout");
}

static void on_connect_timeout(h2o_timeout_entry_t *entry)
{
    struct client *c = H2O_STRUCT_FROM_MEMBER(struct client, timeout, entry);
    /* a resolver that never answers (no DNS server reachable) is not a host that did not accept */
    fail_before_head(c, HTTP_CLIENT_NO_CONNECTION,
                     c->getaddr != NULL ? "host name resolution timeout" : "connection timeout");
}

static void on_body_timeout(h2o_timeout_entry_t *entry)
{
    fail_in_body(H2O_STRUCT_FROM_MEMBER(struct client, timeout, entry), "I/O timeout");
}

/* Hands the body bytes now in sock->input to the callback; returns 0 to keep reading. */
static void deliver(struct client *c, const char *err)
{
    int done = err != NULL;
    if (c->on_body(&c->super, err) != 0 && !done) {
        finish(c, 0);
        return;
    }
    if (done) {
        finish(c, err == http_client_error_is_eos);
        return;
    }
    /* the callback takes what it is given */
    if (c->super.sock->input->size)
        h2o_buffer_consume(&c->super.sock->input, c->super.sock->input->size);
    /* a callback that paused the body (backpressure) waits for a slow client, not the upstream:
     * no silence timeout until it resumes */
    if (!c->paused)
        set_timeout(c, on_body_timeout);
}

static void on_read_body(h2o_socket_t *sock, const char *err)
{
    struct client *c = sock->data;
    h2o_buffer_t *in = sock->input;
    if (err != NULL) {
        /* only a body without length or chunks ends with the connection; a chunked one ends with
         * its zero-length chunk, so a close between chunks is a truncation too */
        if (c->body == BODY_UNTIL_CLOSE) {
            c->keepalive = 0;
            deliver(c, http_client_error_is_eos);
        } else {
            deliver(c, err == h2o_socket_error_closed ? "the upstream closed the connection before the end of the body"
                                                      : "the upstream connection failed mid-body (reset)");
        }
        return;
    }
    switch (c->body) {
    case BODY_LENGTH:
        if (in->size >= c->bytes_left) {
            if (in->size > c->bytes_left) { /* bytes past the body: do not trust this connection */
                in->size = c->bytes_left;
                c->keepalive = 0;
            }
            c->bytes_left = 0;
            deliver(c, http_client_error_is_eos);
            return;
        }
        c->bytes_left -= in->size;
        break;
    case BODY_CHUNKED: {
        size_t n = in->size;
        ssize_t r = phr_decode_chunked(&c->chunked, in->bytes, &n);
        in->size = n;
        if (r == -1) {
            c->keepalive = 0;
            deliver(c, "failed to parse the response (chunked)");
            return;
        }
        if (r >= 0) {
            if (r > 0)
                c->keepalive = 0;
            deliver(c, http_client_error_is_eos);
            return;
        }
        break;
    }
    default: break;
    }
    if (in->size != 0 || c->body != BODY_CHUNKED)
        deliver(c, NULL);
    else
        set_timeout(c, on_body_timeout); /* only chunk framing arrived */
}

static int header_is(const struct phr_header *h, const char *name)
{
    return h->name_len == strlen(name) && strncasecmp(h->name, name, h->name_len) == 0;
}

static void connect_fresh(struct client *c);

/* A pooled connection the upstream closed just as it was reused: nothing was answered, so the
 * request goes again on a new connection (once). Returns 1 if it did.
 *
 * Only a close that raced the request counts: one seen while the request was being written, or
 * within STALE_CLOSE_WINDOW_MS after. An upstream that took the request, worked on it and then
 * dropped the connection has failed; sending the POST again would spend the user's quota twice. */
#define STALE_CLOSE_WINDOW_MS 250
static int retry_if_stale(struct client *c)
{
    if (!c->reused || c->super.sock->input->size != 0)
        return 0;
    if (!c->closed_early && c->written_at != 0 && h2o_now(c->u->loop) - c->written_at > STALE_CLOSE_WINDOW_MS)
        return 0;
    h2o_socket_close(c->super.sock);
    c->super.sock = NULL;
    c->reused = 0;
    connect_fresh(c);
    return 1;
}

static void fail_invalid(struct client *c, const char *why) { fail_before_head(c, HTTP_CLIENT_INVALID_RESPONSE, why); }

/* Reads how the body of a final response is framed, and whether its connection can be reused.
 * Returns NULL, or why the head is not a response to relay. */
static const char *read_framing(struct client *c, int minor, int status, struct phr_header *h, size_t n, size_t extra)
{
    size_t content_length = SIZE_MAX;
    int chunked = 0;
    c->keepalive = minor >= 1;
    for (size_t i = 0; i < n; i++) {
        if (header_is(&h[i], "connection")) {
            c->keepalive =
                comma_list_has(h[i].value, h[i].value_len, H2O_STRLIT("keep-alive"), COMMA_LIST_ANY_CASE) ||
                (minor >= 1 && !comma_list_has(h[i].value, h[i].value_len, H2O_STRLIT("close"), COMMA_LIST_ANY_CASE));
        } else if (header_is(&h[i], "transfer-encoding")) {
            /* chunked only, once: any other coding would have to be undone before relaying */
            if (chunked || !h2o_lcstris(h[i].value, h[i].value_len, H2O_STRLIT("chunked")))
                return "unexpected type of transfer-encoding";
            chunked = 1;
        } else if (header_is(&h[i], "content-length")) {
            size_t len = h2o_strtosize(h[i].value, h[i].value_len);
            if (len == SIZE_MAX)
                return "invalid content-length";
            /* one length given twice is that length (RFC 9110 8.6); two lengths frame nothing */
            if (content_length != SIZE_MAX && len != content_length)
                return "two different content-length headers";
            content_length = len;
        }
    }
    /* the sender of both means one thing and a reader of either another (RFC 9112 6.3: smuggling) */
    if (chunked && content_length != SIZE_MAX)
        return "both content-length and transfer-encoding";

    c->super.content_length = SIZE_MAX;
    if (c->is_head || status == 204 || status == 304) {
        c->body = BODY_NONE;
        if (c->is_head && !chunked)
            c->super.content_length = content_length;
        /* a 204 or 304 that declares a body: whatever follows on this connection may be that body */
        if ((status == 204 || status == 304) && (chunked || (content_length != SIZE_MAX && content_length != 0)))
            c->keepalive = 0;
    } else if (chunked) {
        c->body = BODY_CHUNKED;
        memset(&c->chunked, 0, sizeof(c->chunked));
        c->chunked.consume_trailer = 1;
    } else if (content_length != SIZE_MAX) {
        c->body = content_length == 0 ? BODY_NONE : BODY_LENGTH;
        c->bytes_left = content_length;
        c->super.content_length = content_length;
    } else {
        c->body = BODY_UNTIL_CLOSE;
        c->keepalive = 0;
    }
    /* bytes past a response without a body belong to no response: do not trust the connection */
    if (c->body == BODY_NONE && extra != 0)
        c->keepalive = 0;
    return NULL;
}

/* The response head has one deadline, request_timeout after the request was written (on_written):
 * neither a head trickled in a byte at a time nor interim responses (100 Continue) extend it. */
static void on_read_head(h2o_socket_t *sock, const char *err)
{
    struct client *c = sock->data;
    if (err != NULL) {
        if (sock->input->size != 0 || c->got_interim) /* the upstream had the request and began to answer */
            fail_invalid(c, "the upstream closed the connection inside the response head");
        else if (!retry_if_stale(c))
            fail_before_head(c, HTTP_CLIENT_NO_CONNECTION, "I/O error (head)");
        return;
    }
    for (;;) {
        struct phr_header src[MAX_HEADERS];
        size_t n = MAX_HEADERS, msg_len;
        int minor, status;
        const char *msg;
        int rlen =
            phr_parse_response(sock->input->bytes, sock->input->size, &minor, &status, &msg, &msg_len, src, &n, 0);
        if (rlen == -2) {
            if (sock->input->size > MAX_HEAD_SIZE)
                fail_invalid(c, "failed to parse the response (head too large)");
            return; /* the head's deadline runs on: a head trickled in does not extend it */
        }
        if (rlen < 0) {
            /* picohttpparser stops at the header past its array with the count at the maximum */
            fail_invalid(c, n == MAX_HEADERS ? "failed to parse the response (too many headers)"
                                             : "failed to parse the response");
            return;
        }
        if (status == 101) { /* the proxy never asks to upgrade; what follows would be another protocol */
            fail_invalid(c, "unsolicited 101 Switching Protocols");
            return;
        }
        if (status < 100 || status > 599) { /* RFC 9110 15 */
            fail_invalid(c, "invalid status code");
            return;
        }
        if (status < 200) { /* 100 Continue and friends */
            c->got_interim = 1;
            h2o_buffer_consume(&sock->input, (size_t)rlen);
            continue;
        }
        const char *invalid = read_framing(c, minor, status, src, n, sock->input->size - (size_t)rlen);
        if (invalid != NULL) {
            fail_invalid(c, invalid);
            return;
        }
        h2o_header_t headers[MAX_HEADERS];
        h2o_iovec_t names[MAX_HEADERS];
        for (size_t i = 0; i < n; i++) {
            h2o_strtolower((char *)src[i].name, src[i].name_len);
            names[i] = h2o_iovec_init(src[i].name, src[i].name_len);
            headers[i] = (h2o_header_t){&names[i], NULL, h2o_iovec_init(src[i].value, src[i].value_len)};
        }
        set_timeout(c, NULL);
        int eos = c->body == BODY_NONE;
        c->on_body = c->on_head(&c->super, eos ? http_client_error_is_eos : NULL, status, headers, n);
        h2o_buffer_consume(&sock->input, (size_t)rlen);
        if (eos) {
            finish(c, 1);
            return;
        }
        if (c->on_body == NULL) {
            finish(c, 0);
            return;
        }
        h2o_socket_read_start(sock, on_read_body);
        if (sock->input->size != 0)
            on_read_body(sock, NULL); /* body bytes that came with the head */
        else
            set_timeout(c, on_body_timeout);
        return;
    }
}

/* Something arrived on a reused connection before the request was fully written (an early
 * answer, or the upstream closing it): keep it for on_written, which parses only once the write
 * is complete, so that a response never overtakes its own request. */
static void on_read_early(h2o_socket_t *sock, const char *err)
{
    struct client *c = sock->data;
    if (err != NULL)
        c->closed_early = 1; /* libuv reports an end of stream once: remember it */
    h2o_socket_read_stop(sock);
}

static void on_written(h2o_socket_t *sock, const char *err)
{
    struct client *c = sock->data;
    if (err != NULL) {
        if (!retry_if_stale(c))
            fail_before_head(c, HTTP_CLIENT_NO_CONNECTION, "I/O error (send request)");
        return;
    }
    c->written_at = h2o_now(c->u->loop);
    set_timeout(c, on_head_timeout);
    h2o_socket_read_start(sock, on_read_head);
    if (c->closed_early)
        on_read_head(sock, "closed by the upstream");
    else if (sock->input->size != 0)
        on_read_head(sock, NULL); /* what arrived while the request was being written */
}

/* Writes what the kernel takes now on a plain connection; returns the bytes written (0 when it
 * takes nothing or fails: libuv then writes everything and reports the error). */
static size_t write_directly(struct client *c)
{
    struct iovec iov[HTTP_CLIENT_MAX_BUFS];
    for (size_t i = 0; i != c->nbufs; ++i)
        iov[i] = (struct iovec){c->bufs[i].base, c->bufs[i].len};
    ssize_t n;
    while ((n = writev(h2o_socket_get_fd(c->super.sock), iov, (int)c->nbufs)) < 0 && errno == EINTR)
        ;
    return n > 0 ? (size_t)n : 0;
}

/* libuv re-registers a socket with epoll whenever a uv_write completes (an EPOLL_CTL_MOD even when
 * nothing changed): one system call per request for nothing. A request usually fits in the socket
 * buffer, so on a plain connection it is written directly and libuv gets only what is left. TLS
 * connections go through H2O, which encrypts. The buffers stay untouched for a retry. */
static void send_request(struct client *c)
{
    c->super.sock->data = c;
    set_timeout(c, on_head_timeout);
    size_t done = c->u->is_tls ? 0 : write_directly(c);
    h2o_iovec_t rest[HTTP_CLIENT_MAX_BUFS];
    size_t nrest = 0;
    for (size_t i = 0; i != c->nbufs; ++i) {
        if (done >= c->bufs[i].len) {
            done -= c->bufs[i].len;
            continue;
        }
        rest[nrest++] = h2o_iovec_init(c->bufs[i].base + done, c->bufs[i].len - done);
        done = 0;
    }
    if (nrest == 0)
        on_written(c->super.sock, NULL); /* nothing can have arrived yet: this only starts reading */
    else
        h2o_socket_write(c->super.sock, rest, nrest, on_written);
}

static void on_handshake(h2o_socket_t *sock, const char *err)
{
    struct client *c = sock->data;
    /* For an IP address, h2o 2.2.5 matches the certificate's host names against it and finds none
     * in a certificate issued for the address. The handshake it then reports has passed OpenSSL's
     * verification, which make_ssl_ctx set to require the address among the certificate's IP
     * entries (a certificate without it fails the handshake before h2o's check): that holds. (Only a
     * TLS 1.2 full handshake gets there. On that path h2o leaves records that came with the server's
     * last handshake flight undecoded until the next read; an HTTP server sends nothing before the
     * request, so nothing waits on them.) */
    if (err == h2o_socket_error_ssl_cert_name_mismatch && c->u->host_is_address)
        err = NULL;
    if (err != NULL) {
        fail_before_head(c, HTTP_CLIENT_NO_CONNECTION, err);
        return;
    }
    send_request(c);
}

static void on_connect(h2o_socket_t *sock, const char *err)
{
    struct client *c = sock->data;
    if (err != NULL) {
        fail_before_head(c, HTTP_CLIENT_NO_CONNECTION, err);
        return;
    }
    if (c->u->is_tls) {
        h2o_socket_ssl_handshake(sock, c->u->ssl_ctx, c->u->host, on_handshake);
        return;
    }
    send_request(c);
}

static void on_socket_create_failed(h2o_timeout_entry_t *entry)
{
    fail_before_head(H2O_STRUCT_FROM_MEMBER(struct client, timeout, entry), HTTP_CLIENT_NO_CONNECTION,
                     "socket create error");
}

/* An upstream's answer lands in its socket's input buffer, which H2O 2.2.5 starts at 8 KiB for a plain
 * connection: an answer already waiting past that (a non-streamed message, a stream that came in
 * one burst, as from a local gateway) takes one read, and one write to the client, per 8 KiB. At 64
 * KiB it takes one; the pages are touched only as far as answers fill them, and a few buffers are
 * kept for the next connections. (A TLS connection reads its records into H2O's own buffer.) */
#define UPSTREAM_INPUT_CAPACITY (64 * 1024)
static h2o_buffer_prototype_t upstream_input_prototype = {.allocator = {.max = 4},
                                                          ._initial_buf = {.capacity = UPSTREAM_INPUT_CAPACITY},
                                                          .mmap_settings = &h2o_socket_buffer_mmap_settings};

static void start_connect(struct client *c, struct sockaddr *addr, socklen_t len)
{
    set_timeout(c, on_connect_timeout);
    if ((c->super.sock = h2o_socket_connect(c->u->loop, addr, len, on_connect)) == NULL) {
        /* report from the loop: callbacks never run inside http_client_request */
        set_timeout(c, NULL);
        c->timeout.cb = on_socket_create_failed;
        h2o_timeout_link(c->u->loop, c->u->zero_timeout, &c->timeout);
        return;
    }
    h2o_buffer_set_prototype(&c->super.sock->input, &upstream_input_prototype);
    c->super.sock->data = c;
}

static void on_getaddr(h2o_hostinfo_getaddr_req_t *req, const char *err, struct addrinfo *res, void *data)
{
    struct client *c = data;
    (void)req;
    c->getaddr = NULL;
    if (err != NULL) {
        fail_before_head(c, HTTP_CLIENT_NO_CONNECTION, err);
        return;
    }
    struct addrinfo *a = h2o_hostinfo_select_one(res);
    start_connect(c, a->ai_addr, a->ai_addrlen);
}

struct http_client *http_client_request(struct upstream *u, h2o_iovec_t *bufs, size_t nbufs, int is_head,
                                        http_client_head_cb on_head, void *data)
{
    struct client *c = xcalloc(1, sizeof(*c));
    c->u = u;
    c->super.data = data;
    if (nbufs > HTTP_CLIENT_MAX_BUFS) /* a caller's bug: a request is never sent cut short */
        abort();
    c->nbufs = nbufs;
    memcpy(c->bufs, bufs, sizeof(bufs[0]) * c->nbufs);
    c->is_head = is_head;
    c->on_head = on_head;
    if ((c->super.sock = pool_take(u)) != NULL) {
        c->reused = 1;
        send_request(c);
    } else {
        connect_fresh(c);
    }
    return &c->super;
}

static void connect_fresh(struct client *c)
{
    struct upstream *u = c->u;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    if (h2o_hostinfo_aton(h2o_iovec_init(u->host, strlen(u->host)), &sin.sin_addr) == 0) {
        sin.sin_family = AF_INET;
        sin.sin_port = htons(u->port);
        start_connect(c, (struct sockaddr *)&sin, sizeof(sin));
        return;
    }
    char serv[8];
    snprintf(serv, sizeof(serv), "%u", (unsigned)u->port);
    set_timeout(c, on_connect_timeout);
    c->getaddr = h2o_hostinfo_getaddr(u->getaddr_receiver, h2o_iovec_init(u->host, strlen(u->host)),
                                      h2o_iovec_init(serv, strlen(serv)), AF_UNSPEC, SOCK_STREAM, IPPROTO_TCP,
                                      AI_ADDRCONFIG | AI_NUMERICSERV, on_getaddr, c);
}

void http_client_cancel(struct http_client *client) { finish((struct client *)client, 0); }

void http_client_pause(struct http_client *client)
{
    struct client *c = (struct client *)client;
    if (!c->paused && c->super.sock != NULL) {
        c->paused = 1;
        h2o_socket_read_stop(c->super.sock);
        /* the client is slow, not the upstream: no silence timeout while we do not read */
        set_timeout(c, NULL);
    }
}

void http_client_resume(struct http_client *client)
{
    struct client *c = (struct client *)client;
    if (c->paused && c->super.sock != NULL) {
        c->paused = 0;
        set_timeout(c, on_body_timeout);
        h2o_socket_read_start(c->super.sock, on_read_body);
    }
}

const h2o_iovec_t *http_header_find(const h2o_header_t *headers, size_t num_headers, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < num_headers; i++)
        if (h2o_lcstris(headers[i].name->base, headers[i].name->len, name, len))
            return &headers[i].value;
    return NULL;
}

int http_header_copy(const h2o_iovec_t *value, char *buf, size_t size)
{
    if (value->len >= size)
        return -1;
    memcpy(buf, value->base, value->len);
    buf[value->len] = '\0';
    return 0;
}
