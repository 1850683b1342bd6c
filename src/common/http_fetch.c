#include "common/http_fetch.h"
#include <stdlib.h>
#include <string.h>
#include "common/http_client.h"
#include "common/memory.h"

struct http_fetch {
    struct http_client *client;
    sbuf head, body_out; /* the request, kept until it is written */
    h2o_iovec_t bufs[2];
    size_t max_body;
    int status;
    int too_long;
    h2o_header_t *headers;
    h2o_iovec_t *names;
    size_t num_headers;
    sbuf body;
    http_fetch_cb cb;
    void *ud;
};

static void free_fetch(struct http_fetch *f)
{
    for (size_t i = 0; i < f->num_headers; i++) {
        free(f->names[i].base);
        free(f->headers[i].value.base);
    }
    free(f->headers);
    free(f->names);
    sbuf_free(&f->head);
    sbuf_free(&f->body_out);
    sbuf_free(&f->body);
    free(f);
}

static void complete(struct http_fetch *f, const char *err)
{
    struct http_fetch_result r = {
        err ? 0 : f->status, err, f->headers, f->num_headers, f->body.data ? f->body.data : "", f->body.len};
    f->client = NULL;
    f->cb(f->ud, &r);
    free_fetch(f);
}

static int on_body(struct http_client *client, const char *errstr)
{
    struct http_fetch *f = client->data;
    h2o_buffer_t *in = client->sock->input;
    if (in->size != 0) {
        if (f->body.len + in->size <= f->max_body)
            sbuf_append(&f->body, in->bytes, in->size);
        else
            f->too_long = 1;
        h2o_buffer_consume(&client->sock->input, in->size);
    }
    if (errstr == NULL && !f->too_long)
        return 0;
    if (errstr == NULL) { /* stop reading; the client closes the connection */
        complete(f, "the answer is longer than expected");
        return -1;
    }
    complete(f, errstr == http_client_error_is_eos ? NULL : errstr);
    return 0;
}

static http_client_body_cb on_head(struct http_client *client, const char *errstr, int status, h2o_header_t *headers,
                                   size_t num_headers)
{
    struct http_fetch *f = client->data;
    if (errstr != NULL && errstr != http_client_error_is_eos) {
        complete(f, errstr);
        return NULL;
    }
    f->status = status;
    f->headers = xcalloc(num_headers ? num_headers : 1, sizeof(*f->headers));
    f->names = xcalloc(num_headers ? num_headers : 1, sizeof(*f->names));
    for (size_t i = 0; i < num_headers; i++) {
        f->names[i] = h2o_strdup(NULL, headers[i].name->base, headers[i].name->len);
        f->headers[i].name = &f->names[i];
        f->headers[i].value = h2o_strdup(NULL, headers[i].value.base, headers[i].value.len);
    }
    f->num_headers = num_headers;
    if (errstr == http_client_error_is_eos) {
        complete(f, NULL);
        return NULL;
    }
    return on_body;
}

struct http_fetch *http_fetch_start(struct upstream *u, const char *head, size_t head_len, const char *body,
                                    size_t body_len, size_t max_body, http_fetch_cb cb, void *ud)
{
    struct http_fetch *f = xcalloc(1, sizeof(*f));
    f->cb = cb;
    f->ud = ud;
    f->max_body = max_body;
    sbuf_append(&f->head, head, head_len);
    if (body_len)
        sbuf_append(&f->body_out, body, body_len);
    f->bufs[0] = h2o_iovec_init(f->head.data, f->head.len);
    f->bufs[1] = h2o_iovec_init(f->body_out.data, f->body_out.len);
    f->client = http_client_request(u, f->bufs, body_len ? 2 : 1, 0, on_head, f);
    return f;
}

void http_fetch_cancel(struct http_fetch *f)
{
    if (f->client != NULL)
        http_client_cancel(f->client);
    free_fetch(f);
}

const h2o_iovec_t *http_fetch_header(const struct http_fetch_result *r, const char *name)
{
    return http_header_find(r->headers, r->num_headers, name);
}
