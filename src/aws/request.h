/* The head of a SigV4-signed AWS request (control-plane calls: ListInferenceProfiles, STS
 * GetCallerIdentity), ready for http_fetch. */
#ifndef CP_AWS_REQUEST_H
#define CP_AWS_REQUEST_H
#include <stddef.h>
#include "aws/credentials.h"
#include "common/sbuf.h"

struct upstream;

struct aws_request {
    const char *method;
    const char *path;         /* the operation's path, URI-encoded, without the endpoint's base path */
    const char *query;        /* URI-encoded, without '?', or NULL */
    const char *content_type; /* NULL: no body */
    const char *body;
    size_t body_len;
    const char *region, *service;
};

/* Appends the request line and headers (host, accept, x-amz-*, authorization, the blank line).
 * Returns 0, or -1 if it cannot be signed. */
int aws_request_head(sbuf *head, const struct upstream *u, const struct aws_request *r, const struct aws_creds *creds);

#endif
