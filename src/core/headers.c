/* The hop-by-hop rule and header forwarding (see headers.h). */
#include <string.h>
#include <strings.h>
#include "core/headers.h"
#include "common/comma_list.h"

static int in_names(const char *const *names, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
            return 1;
    return 0;
}

int headers_is_hop_by_hop(const char *name, size_t len)
{
    static const char *const names[] = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                                        "te",         "trailer",    "upgrade"};
    return in_names(names, sizeof(names) / sizeof(names[0]), name, len);
}

/* Hop-by-hop, plus those the proxy always sets itself upstream. */
static int is_never_forwarded(const char *name, size_t len)
{
    static const char *const names[] = {"proxy-authorization", "proxy-authenticate", "host", "content-length", "expect",
                                        "accept-encoding",     "http2-settings"};
    return headers_is_hop_by_hop(name, len) || in_names(names, sizeof(names) / sizeof(names[0]), name, len);
}

/* 1 if any of the client's Connection headers names this header (RFC 9110 7.6.1: those are
 * meant for this hop only, like the ones is_never_forwarded knows by name). */
static int named_in_connection(const h2o_req_t *req, const char *name, size_t len)
{
    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        if (h->name == &H2O_TOKEN_CONNECTION->buf &&
            comma_list_has(h->value.base, h->value.len, name, len, COMMA_LIST_ANY_CASE))
            return 1;
    }
    return 0;
}

void headers_copy_client(const h2o_req_t *req, sbuf *head, const char *const *skip, size_t nskip)
{
    int has_connection = h2o_find_header(&req->headers, H2O_TOKEN_CONNECTION, -1) >= 0;
    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        if (is_never_forwarded(h->name->base, h->name->len) || in_names(skip, nskip, h->name->base, h->name->len) ||
            (has_connection && named_in_connection(req, h->name->base, h->name->len)))
            continue;
        sbuf_append(head, h->orig_name ? h->orig_name : h->name->base, h->name->len);
        sbuf_puts(head, ": ");
        sbuf_append(head, h->value.base, h->value.len);
        sbuf_puts(head, "\r\n");
    }
}

const h2o_iovec_t *headers_client(const h2o_req_t *req, const char *name)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
    return i < 0 ? NULL : &req->headers.entries[i].value;
}

int headers_is_not_relayed(const char *name, size_t len)
{
    static const char *const names[] = {"content-length", "date", "server"};
    return headers_is_hop_by_hop(name, len) || in_names(names, sizeof(names) / sizeof(names[0]), name, len);
}
