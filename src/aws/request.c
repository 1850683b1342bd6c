#include "aws/request.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "aws/sigv4.h"
#include "common/upstream.h"

int aws_request_head(sbuf *head, const struct upstream *u, const struct aws_request *r, const struct aws_creds *creds)
{
    sbuf path = SBUF_INIT;
    sbuf_printf(&path, "%s%s", u->base_path, r->path);
    struct sigv4_header headers[3] = {{"host", u->host_header}, {"accept", "application/json"}, {NULL, NULL}};
    size_t nheaders = 2;
    if (r->content_type != NULL)
        headers[nheaders++] = (struct sigv4_header){"content-type", r->content_type};
    struct sigv4_request req = {r->method, path.data, r->query, headers, nheaders, r->body, r->body_len, NULL, 0, NULL};
    struct sigv4_credentials c = {creds->access_key_id, creds->secret_access_key, creds->session_token};
    struct sigv4_options opt = {r->region, r->service, time(NULL), 1, 1, 1};
    struct sigv4_result s;
    memset(&s, 0, sizeof(s));
    int rc = sigv4_sign(&req, &c, &opt, &s);
    if (rc == 0) {
        sbuf_printf(head, "%s %s%s%s HTTP/1.1\r\nhost: %s\r\naccept: application/json\r\n", r->method, path.data,
                    r->query ? "?" : "", r->query ? r->query : "", u->host_header);
        if (r->content_type != NULL)
            sbuf_printf(head, "content-type: %s\r\n", r->content_type);
        sbuf_printf(head,
                    "content-length: %zu\r\nconnection: keep-alive\r\nx-amz-date: %s\r\nx-amz-content-sha256: %s\r\n",
                    r->body_len, s.amz_date, s.payload_hash);
        if (creds->session_token != NULL)
            sbuf_printf(head, "x-amz-security-token: %s\r\n", creds->session_token);
        sbuf_printf(head, "authorization: %s\r\n\r\n", s.authorization);
    }
    sigv4_result_free(&s);
    sbuf_free(&path);
    return rc;
}
