#include "access.h"
#include <openssl/crypto.h>
#include <string.h>
#include <strings.h>
#include "config.h"

static int in_list(const char *s, size_t len, char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strlen(list[i]) == len && strncasecmp(list[i], s, len) == 0)
            return 1;
    return 0;
}

static int is_loopback_name(const char *h, size_t len)
{
    static const char *const names[] = {"localhost", "127.0.0.1", "::1", "[::1]"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == len && strncasecmp(names[i], h, len) == 0)
            return 1;
    return len > 4 && strncmp(h, "127.", 4) == 0 && strspn(h, "0123456789.") == len;
}

static int listens_on_all_interfaces(const struct proxy_config *c)
{
    return strcmp(c->listen_host, "0.0.0.0") == 0 || strcmp(c->listen_host, "::") == 0;
}

int access_host_allowed(const char *host, size_t len, const struct proxy_config *c)
{
    /* strip the port: "[::1]:47000" -> "[::1]", "localhost:47000" -> "localhost" */
    size_t name_len = len;
    if (len > 0 && host[0] == '[') {
        const char *end = memchr(host, ']', len);
        name_len = end ? (size_t)(end - host) + 1 : len;
    } else {
        const char *colon = memchr(host, ':', len);
        if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon - host) - 1) == NULL)
            name_len = (size_t)(colon - host);
    }
    if (name_len == 0)
        return 0;
    if (is_loopback_name(host, name_len) || in_list(host, name_len, c->allowed_hosts))
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

static const h2o_iovec_t *header(h2o_req_t *req, const char *name)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
    return i < 0 ? NULL : &req->headers.entries[i].value;
}

static void remove_header(h2o_req_t *req, const char *name)
{
    ssize_t i;
    while ((i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1)) >= 0)
        h2o_delete_header(&req->headers, i);
}

int access_check(h2o_req_t *req, const struct proxy_config *c, enum api_format api, int needs_key)
{
    if (!access_host_allowed(req->authority.base, req->authority.len, c)) {
        send_error(req, api, 403, "permission_error",
                   "this Host is not allowed (claude-proxy answers loopback names; add others to allowed_hosts)", NULL,
                   NULL);
        return -1;
    }
    const h2o_iovec_t *origin = header(req, "origin");
    if (origin != NULL && !in_list(origin->base, origin->len, c->allowed_origins)) {
        send_error(req, api, 403, "permission_error",
                   "requests from web pages are refused (this Origin is not in allowed_origins)", NULL, NULL);
        return -1;
    }
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
        const h2o_iovec_t *type = header(req, "content-type");
        size_t n = type ? strcspn(type->base, ";") : 0;
        if (type != NULL && n > type->len)
            n = type->len;
        while (type != NULL && n > 0 && type->base[n - 1] == ' ')
            n--;
        if (type != NULL && !(n == 16 && strncasecmp(type->base, "application/json", 16) == 0)) {
            send_error(req, api, 415, "invalid_request_error", "the request body must be JSON (Content-Type: application/json)",
                       NULL, NULL);
            return -1;
        }
    }
    if (needs_key && c->client_keys[0] != NULL) {
        const h2o_iovec_t *key = header(req, "x-api-key");
        const h2o_iovec_t *authz = header(req, "authorization");
        const char *given = NULL;
        size_t len = 0;
        if (key != NULL) {
            given = key->base, len = key->len;
        } else if (authz != NULL && authz->len > 7 && strncasecmp(authz->base, "Bearer ", 7) == 0) {
            given = authz->base + 7, len = authz->len - 7;
        }
        if (given == NULL || !key_matches(given, len, c->client_keys)) {
            send_error(req, api, 401, "authentication_error",
                       "this proxy needs a client key (x-api-key or Authorization: Bearer)", NULL, NULL);
            return -1;
        }
        /* the client's key stays here: upstream gets the proxy's own credentials */
        remove_header(req, "x-api-key");
        remove_header(req, "authorization");
    }
    return 0;
}
