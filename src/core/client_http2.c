#include "core/client_http2.h"
#include <sys/socket.h>
#include <h2o/http2.h>
#include <h2o/http2_internal.h>

void client_http2_configure(h2o_globalconf_t *conf, int enabled)
{
    /* one switch in H2O 2.2.5 for both: the h2c upgrade and the "PRI * HTTP/2.0" preface */
    conf->http1.upgrade_to_http2 = enabled;
    conf->http2.max_concurrent_requests_per_connection = HTTP2_MAX_RUNNING_PER_CONNECTION;
}

void client_http2_tune_request(h2o_req_t *req)
{
    /* H2O keeps what a stream is handed until the client's flow-control window takes it */
    if (req->version >= 0x200 && req->preferred_chunk_size > HTTP2_CHUNK_SIZE)
        req->preferred_chunk_size = HTTP2_CHUNK_SIZE;
}

static h2o_http2_stream_t *stream_of(h2o_req_t *req) { return H2O_STRUCT_FROM_MEMBER(h2o_http2_stream_t, req, req); }

enum client_http2_stall client_http2_stall_remedy(h2o_req_t *req)
{
    if (req->version < 0x200)
        return CLIENT_HTTP2_NOT_HTTP2;
    h2o_http2_conn_t *conn = (h2o_http2_conn_t *)req->conn;
    /* A stream linked here waits for a write that holds its last DATA to complete (streams that
     * wait for a window are not linked). That write has not completed in all this time, so the
     * socket takes nothing, and a RST_STREAM would wait behind it for ever. */
    if (conn->state >= H2O_HTTP2_CONN_STATE_IS_CLOSING || h2o_linklist_is_linked(&stream_of(req)->_refs.link))
        return CLIENT_HTTP2_CLOSE_CONNECTION;
    return CLIENT_HTTP2_RESET_STREAM;
}

void client_http2_end_stalled(h2o_req_t *req, enum client_http2_stall remedy)
{
    h2o_http2_conn_t *conn = (h2o_http2_conn_t *)req->conn;
    switch (remedy) {
    case CLIENT_HTTP2_NOT_HTTP2: return;
    case CLIENT_HTTP2_RESET_STREAM: {
        h2o_http2_stream_t *stream = stream_of(req);
        /* what H2O's own stream_send_error does (it is static), then the stream is closed, its
         * queued DATA dropped and the request disposed of */
        h2o_http2_encode_rst_stream_frame(&conn->_write.buf, stream->stream_id, -H2O_HTTP2_ERROR_CANCEL);
        h2o_http2_conn_request_write(conn);
        h2o_http2_stream_reset(conn, stream);
        return;
    }
    case CLIENT_HTTP2_CLOSE_CONNECTION:
        /* H2O's pending write then fails, and it closes the connection with all its streams */
        if (conn->sock != NULL)
            shutdown(h2o_socket_get_fd(conn->sock), SHUT_RDWR);
        return;
    }
}
