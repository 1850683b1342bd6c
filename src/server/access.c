#include "server/access.h"
#include <openssl/crypto.h>
#include <string.h>
#include <strings.h>
#include "common/netaddr.h"
#include "core/config.h"

static int in_list(const char *s, size_t len, char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strlen(list[i]) == len && strncasecmp(list[i], s, len) == 0)
            return 1;
    return 0;
}

static int listens_on_all_interfaces(const struct proxy_config *c)
{
    return netaddr_is_wildcard(c->listen_host, strlen(c->listen_host));
}

int access_host_allowed(const char *host, size_t len, const struct proxy_config *c)
{
    if (len == 0) /* no Host (or an empty one): host may be NULL */
        return 0;
    /* strip the port: "[::1]:47000" -> "[::1]", "localhost:47000" -> "localhost" */
    size_t name_len = len;
    if (host[0] == '[') {
        const char *end = memchr(host, ']', len);
        name_len = end ? (size_t)(end - host) + 1 : len;
    } else {
        const char *colon = memchr(host, ':', len);
        if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon - host) - 1) == NULL)
            name_len = (size_t)(colon - host);
    }
    if (name_len == 0)
        return 0;
    if (netaddr_is_loopback(host, name_len) || in_list(host, name_len, c->allowed_hosts))
        return 1;
    if (strlen(c->listen_host) == name_len && strncasecmp(c->listen_host, host, name_len) == 0)
        return 1;
    /* bound to every interface on purpose, with no list of names: any Host will do */
    return listens_on_all_interfaces(c) && c->allowed_hosts[0] == NULL;
}

/* Constant-time: every configured key is compared, whatever matches. */
static int key_matches(const char *given, size_t len, char *const *keys)
{
    int ok = 0;
    for (size_t i = 0; keys[i] != NULL; i++) {
        size_t klen = strlen(keys[i]);
        int same_len = klen == len;
        /* compare against the key itself when the lengths differ, so the time does not depend
         * on where the strings differ */
        ok |= same_len & (CRYPTO_memcmp(same_len ? given : keys[i], keys[i], klen) == 0);
    }
    return ok;
}

/* Content-Type "application/json", any parameters (charset...) aside. The value is not
 * NUL-terminated: it points into the request buffer. */
int access_type_is_json(const char *value, size_t len)
{
    const char *semi = memchr(value, ';', len);
    size_t n = semi != NULL ? (size_t)(semi - value) : len;
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        n--;
    return n == 16 && strncasecmp(value, "application/json", 16) == 0;
}

static int refuse(struct access_refusal *out, int status, const char *type, const char *message)
{
    *out = (struct access_refusal){status, type, message};
    return -1;
}

/* The key a client presents: x-api-key, else the Authorization Bearer value. */
static h2o_iovec_t presented_key(const struct access_request *r)
{
    if (r->api_key.base != NULL)
        return r->api_key;
    if (r->authorization.base != NULL && r->authorization.len > 7 &&
        strncasecmp(r->authorization.base, "Bearer ", 7) == 0)
        return h2o_iovec_init(r->authorization.base + 7, r->authorization.len - 7);
    return h2o_iovec_init(NULL, 0);
}

int access_decide(const struct access_request *r, const struct proxy_config *c, int needs_key,
                  struct access_refusal *out)
{
    if (!access_host_allowed(r->host.base, r->host.len, c))
        return refuse(out, 403, "permission_error",
                      "this Host is not allowed (claude-proxy answers loopback names; add others to allowed_hosts)");
    if (r->origin.base != NULL && !in_list(r->origin.base, r->origin.len, c->allowed_origins))
        return refuse(out, 403, "permission_error",
                      "requests from web pages are refused (this Origin is not in allowed_origins)");
    /* A body must be declared JSON: forms and text/plain are what a page can POST without a CORS
     * preflight. A POST with no body needs no type (the Anthropic SDK sends none for batch
     * cancels), and carries nothing a page could smuggle. */
    if (r->is_post && (r->has_body || r->content_type.base != NULL) &&
        (r->content_type.base == NULL || !access_type_is_json(r->content_type.base, r->content_type.len)))
        return refuse(out, 415, "invalid_request_error",
                      "the request body must be JSON (Content-Type: application/json)");
    if (needs_key && c->client_keys[0] != NULL) {
        h2o_iovec_t key = presented_key(r);
        if (key.base == NULL || !key_matches(key.base, key.len, c->client_keys))
            return refuse(out, 401, "authentication_error",
                          "this proxy needs a client key (x-api-key or Authorization: Bearer)");
    }
    return 0;
}

static h2o_iovec_t header(h2o_req_t *req, const char *name)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
    return i < 0 ? h2o_iovec_init(NULL, 0) : req->headers.entries[i].value;
}

static void remove_header(h2o_req_t *req, const char *name)
{
    ssize_t i;
    while ((i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1)) >= 0)
        h2o_delete_header(&req->headers, i);
}

int access_check(h2o_req_t *req, const struct proxy_config *c, enum api_format api, int needs_key)
{
    struct access_request r = {
        .host = req->authority,
        .origin = header(req, "origin"),
        .content_type = header(req, "content-type"),
        .api_key = header(req, "x-api-key"),
        .authorization = header(req, "authorization"),
        .is_post = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST")),
        .has_body = req->entity.len > 0,
    };
    struct access_refusal no;
    if (access_decide(&r, c, needs_key, &no) != 0) {
        send_error(req, api, no.status, no.type, no.message, NULL, NULL);
        return -1;
    }
    if (needs_key && c->client_keys[0] != NULL) {
        /* the client's key stays here: upstream gets the proxy's own credentials */
        remove_header(req, "x-api-key");
        remove_header(req, "authorization");
    }
    return 0;
}
