#include "common/request_syntax.h"
#include <string.h>
#include <strings.h>
#include "common/picohttpparser.h"

int request_method_is_token(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              strchr("!#$%&'*+-.^_`|~", c) != NULL) ||
            c == '\0')
            return 0;
    }
    return 1;
}

int request_target_is_origin_form(const char *s, size_t len)
{
    if (len == 0 || s[0] != '/')
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

/* 1 if the segment is "." or ".." with each dot written as '.' or %2e, before any ";params" (some
 * servers drop those first: "..;x" is ".." to them). */
static int is_dot_segment(const char *s, size_t n)
{
    size_t dots = 0, i = 0;
    while (i < n && s[i] != ';') {
        if (s[i] == '.')
            i += 1;
        else if (n - i >= 3 && s[i] == '%' && s[i + 1] == '2' && (s[i + 2] | 0x20) == 'e')
            i += 3;
        else
            return 0;
        dots++;
    }
    return dots == 1 || dots == 2;
}

int request_path_stays_under(const char *s, size_t len)
{
    size_t end = 0;
    while (end < len && s[end] != '?' && s[end] != '#')
        end++;
    for (size_t i = 0; i < end; i++) {
        if (s[i] == '\\')
            return 0;
        if (s[i] == '%' && end - i >= 3 &&
            ((s[i + 1] == '2' && (s[i + 2] | 0x20) == 'f') || (s[i + 1] == '5' && (s[i + 2] | 0x20) == 'c')))
            return 0;
    }
    for (size_t i = 0, seg = 0; i <= end; i++) {
        if (i == end || s[i] == '/') {
            if (is_dot_segment(s + seg, i - seg))
                return 0;
            seg = i + 1;
        }
    }
    return 1;
}

int request_head_host_count(const char *head, size_t len, h2o_iovec_t *method, h2o_iovec_t *path)
{
    struct phr_header headers[H2O_MAX_HEADERS];
    size_t num_headers = H2O_MAX_HEADERS;
    int minor;
    if (phr_parse_request(head, len, (const char **)&method->base, &method->len, (const char **)&path->base, &path->len,
                          &minor, headers, &num_headers, 0) <= 0)
        return -1;
    int n = 0;
    for (size_t i = 0; i < num_headers; i++)
        n += headers[i].name != NULL && headers[i].name_len == 4 && strncasecmp(headers[i].name, "host", 4) == 0;
    return n;
}

int request_head_host_lines(const char *head, size_t len)
{
    int n = 0;
    for (const char *p = head, *end = head + len; p < end;) {
        if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'))
            break; /* the blank line: the head is over */
        n += end - p >= 4 && strncasecmp(p, "host", 4) == 0;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return n;
}

/* H2O 2.2.5 parses an HTTP/1 request in place and keeps its bytes at the start of the socket's
 * input until the response is done, but remembers only the last Host it saw. Parse the head again
 * to count them; the method and path parsed must be this request's, or nothing is concluded. */
static int http1_host_count(h2o_req_t *req)
{
    if (req->version >= 0x200 || req->conn->callbacks->get_socket == NULL)
        return -1;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (sock == NULL || sock->input == NULL)
        return -1;
    h2o_iovec_t method, path;
    size_t len = sock->input->size < H2O_MAX_REQLEN ? sock->input->size : H2O_MAX_REQLEN;
    if (request_head_host_lines(sock->input->bytes, len) < 2)
        return 1; /* at most one: nothing to conclude beyond what H2O saw */
    int n = request_head_host_count(sock->input->bytes, len, &method, &path);
    if (n < 0 || !h2o_memis(method.base, method.len, req->input.method.base, req->input.method.len) ||
        !h2o_memis(path.base, path.len, req->input.path.base, req->input.path.len))
        return -1;
    return n;
}

const char *request_syntax_problem(h2o_req_t *req)
{
    /* HTTP/1's parser splits the request line at spaces; HTTP/2's pseudo-headers arrive as the
     * client wrote them, and both end up in the upstream request line */
    if (!request_method_is_token(req->input.method.base, req->input.method.len))
        return "the request method must be a token (RFC 9110 9.1)";
    if (!request_target_is_origin_form(req->input.path.base, req->input.path.len))
        return "the request target must be a path starting with / of visible ASCII characters, percent-encoded "
               "where needed (RFC 9112 3.2.1)";
    /* Routing looks at the normalised path, the upstream gets the path as sent, after the
     * provider's base path (a gateway's /gw/anthropic): a dot segment, or a slash or backslash
     * the upstream may decode into one, would take the request and its token out of it. */
    if (!request_path_stays_under(req->input.path.base, req->input.path.len))
        return "the request path must not hold dot segments (. or ..), plain or percent-encoded, nor an encoded "
               "slash or backslash: the proxy forwards the path as sent, under the provider's base path";
    if (http1_host_count(req) > 1)
        return "a request must have one Host header (RFC 9112 3.2)";
    return NULL;
}
