/* HTTP/2 from clients (off unless `http2 = true`): how much one connection may make the proxy
 * hold, and how a stream whose client stopped reading ends. H2O 2.2.5 has neither a per-connection
 * memory bound nor a write timeout, and a stalled stream cannot be ended by closing the socket as
 * on HTTP/1 without ending every other stream on the connection. */
#ifndef CP_CLIENT_HTTP2_H
#define CP_CLIENT_HTTP2_H
#include <h2o.h>

/* Requests one connection has running at once (H2O queues the rest of the 100 streams it admits). */
#define HTTP2_MAX_RUNNING_PER_CONNECTION 16
/* What an HTTP/2 response hands H2O per send, and what it keeps before pausing its upstream: with
 * the requests above, a connection whose client reads nothing holds a few MiB, not 100 x 2 MiB. */
#define HTTP2_CHUNK_SIZE (64 * 1024)
#define HTTP2_PENDING_HIGH_WATER (256 * 1024)
#define HTTP2_PENDING_LOW_WATER (64 * 1024)

/* HTTP/2 (prior knowledge and h2c upgrades on the plaintext listener) on or off, with the bound. */
void client_http2_configure(h2o_globalconf_t *conf, int enabled);
/* Bounds what an HTTP/2 request's response hands H2O at once; nothing for HTTP/1. */
void client_http2_tune_request(h2o_req_t *req);

enum client_http2_stall {
    CLIENT_HTTP2_NOT_HTTP2,       /* HTTP/1: close the connection, as before */
    CLIENT_HTTP2_RESET_STREAM,    /* the stream gets no flow-control window: RST_STREAM it alone */
    CLIENT_HTTP2_CLOSE_CONNECTION /* the socket itself takes nothing: the whole connection is stuck */
};
/* What ending a request whose client stopped reading takes. */
enum client_http2_stall client_http2_stall_remedy(h2o_req_t *req);
/* Applies it: with RESET_STREAM the request is disposed of before this returns (its generator's
 * stop and pool dispose run), with CLOSE_CONNECTION once H2O sees the socket fail. */
void client_http2_end_stalled(h2o_req_t *req, enum client_http2_stall remedy);

#endif
