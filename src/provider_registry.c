/* The provider types this binary knows, and helpers every provider uses. */
#include <string.h>
#include <strings.h>
#include "provider.h"

static const struct provider_ops *const all_providers[] = {
    &provider_anthropic,
    &provider_bedrock,
};

const struct provider_ops *provider_ops_find(const char *type)
{
    for (size_t i = 0; i < sizeof(all_providers) / sizeof(all_providers[0]); i++)
        if (strcmp(all_providers[i]->type, type) == 0)
            return all_providers[i];
    return NULL;
}

int provider_should_fallback_status(const struct provider *p, int status)
{
    if (status == 429) /* some kind of 429 at least (which ones: the FALLBACK_429_KINDS flags) */
        return (p->fallback_flags & FALLBACK_429_KINDS) != 0;
    if ((p->fallback_flags & FALLBACK_5XX) && status >= 500 && status <= 599)
        return 1;
    for (size_t i = 0; i < p->num_fallback_statuses; i++)
        if (p->fallback_statuses[i] == status)
            return 1;
    return 0;
}

/* Headers that describe one connection, not the message (RFC 9110 7.6.1), plus those the
 * proxy always sets itself. */
static int is_never_forwarded(const char *name, size_t len)
{
    static const char *const names[] = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
                                        "trailer", "upgrade", "proxy-authorization", "proxy-authenticate", "host",
                                        "content-length", "expect", "accept-encoding", "http2-settings"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
            return 1;
    return 0;
}

/* 1 if name is one of the comma-separated tokens of a Connection header value. */
static int in_token_list(const h2o_iovec_t *value, const char *name, size_t len)
{
    const char *p = value->base, *end = p + value->len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *tok_end = comma != NULL ? comma : end;
        while (p < tok_end && (*p == ' ' || *p == '\t'))
            p++;
        const char *q = tok_end;
        while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
            q--;
        if ((size_t)(q - p) == len && strncasecmp(p, name, len) == 0)
            return 1;
        p = tok_end + 1;
    }
    return 0;
}

/* 1 if any of the client's Connection headers names this header (RFC 9110 7.6.1: those are
 * meant for this hop only, like the ones is_never_forwarded knows by name). */
static int named_in_connection(const h2o_req_t *req, const char *name, size_t len)
{
    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        if (h->name == &H2O_TOKEN_CONNECTION->buf && in_token_list(&h->value, name, len))
            return 1;
    }
    return 0;
}

static int is_skipped(const char *name, size_t len, const char *const *skip, size_t nskip)
{
    for (size_t j = 0; j < nskip; j++)
        if (strlen(skip[j]) == len && strncasecmp(skip[j], name, len) == 0)
            return 1;
    return 0;
}

void provider_copy_client_headers(const h2o_req_t *req, sbuf *head, const char *const *skip, size_t nskip)
{
    int has_connection = h2o_find_header(&req->headers, H2O_TOKEN_CONNECTION, -1) >= 0;
    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        if (is_never_forwarded(h->name->base, h->name->len) || is_skipped(h->name->base, h->name->len, skip, nskip) ||
            (has_connection && named_in_connection(req, h->name->base, h->name->len)))
            continue;
        sbuf_append(head, h->orig_name ? h->orig_name : h->name->base, h->name->len);
        sbuf_puts(head, ": ");
        sbuf_append(head, h->value.base, h->value.len);
        sbuf_puts(head, "\r\n");
    }
}

const h2o_iovec_t *provider_client_header(const h2o_req_t *req, const char *name)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
    return i < 0 ? NULL : &req->headers.entries[i].value;
}
