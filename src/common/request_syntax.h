/* What a request's head must be before the proxy acts on it, beyond what H2O 2.2.5 checks itself.
 * H2O keeps the last of several Host headers (HTTP/1) and takes HTTP/2's :method and :path as the
 * client wrote them; the proxy writes both into its upstream request line, so it checks them here. */
#ifndef CP_REQUEST_SYNTAX_H
#define CP_REQUEST_SYNTAX_H
#include <h2o.h>
#include <stddef.h>

/* NULL if the head is fine, else why it is not (for a 400). */
const char *request_syntax_problem(h2o_req_t *req);

/* The pieces, for unit tests. */
int request_method_is_token(const char *s, size_t len);       /* RFC 9110 5.6.2 token */
int request_target_is_origin_form(const char *s, size_t len); /* "/" then visible ASCII only */
/* 0 if the path (before any query) holds a dot segment, "." or "..", with dots plain or %2e (and
 * before any ";params"), or %2f, %5c or a backslash, which an upstream may take for a slash. */
int request_path_stays_under(const char *s, size_t len);
/* How many Host header fields an HTTP/1 request head holds; -1 if the bytes are not one. The method
 * and path parsed from it go to *method and *path. */
int request_head_host_count(const char *head, size_t len, h2o_iovec_t *method, h2o_iovec_t *path);
/* At least as many as request_head_host_count() finds, without parsing: the lines of the head that
 * start with "host" in any case (the parse is needed only when there are two). */
int request_head_host_lines(const char *head, size_t len);

#endif
