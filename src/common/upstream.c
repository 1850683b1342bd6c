#include "common/upstream.h"
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include "common/memory.h"

/* Idle pooled connections are closed before upstreams typically drop them. */
#define POOL_IDLE_TIMEOUT_MS 20000

static struct upstream *all_upstreams;

int upstream_parse_url(const char *url, struct upstream_url *out, char *err, size_t errlen)
{
    h2o_url_t parsed;
    memset(out, 0, sizeof(*out));
    if (url == NULL || h2o_url_parse(url, strlen(url), &parsed) != 0 || parsed.host.len == 0 ||
        parsed.host.len >= sizeof(out->host)) {
        snprintf(err, errlen, "invalid URL \"%s\" (expected http:// or https://host[:port][/path])", url ? url : "");
        return -1;
    }
    out->is_tls = parsed.scheme == &H2O_URL_SCHEME_HTTPS;
    out->port = h2o_url_get_port(&parsed);
    memcpy(out->host, parsed.host.base, parsed.host.len);
    snprintf(out->origin, sizeof(out->origin), "%s://%.*s", out->is_tls ? "https" : "http", (int)parsed.authority.len,
             parsed.authority.base);
    return 0;
}

static SSL_CTX *make_ssl_ctx(struct upstream *u, const char *ca_file, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        goto Fail;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (ca_file != NULL && ca_file[0] != '\0') {
        if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
            snprintf(err, errlen, "cannot load CA file %s", ca_file);
            SSL_CTX_free(ctx);
            return NULL;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        goto Fail;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    /* h2o 2.2.5 skips its own host-name check on TLS 1.3 handshakes: have OpenSSL check the
     * certificate against the host (or IP address) on every handshake. */
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    /* An address is checked as the bytes the connection goes to: inet_pton takes only the forms
     * every parser reads alike, where OpenSSL would read 0177.0.0.1 as 177.0.0.1 and the resolver
     * as 127.0.0.1 (octal). A numeric host in any other form is refused, not guessed at. */
    unsigned char addr[16];
    int v4 = inet_pton(AF_INET, u->host, addr) == 1, v6 = !v4 && inet_pton(AF_INET6, u->host, addr) == 1;
    u->host_is_address = v4 || v6;
    if (u->host_is_address) {
        if (X509_VERIFY_PARAM_set1_ip(param, addr, v4 ? 4 : 16) != 1)
            goto Fail;
    } else if (X509_VERIFY_PARAM_set1_ip_asc(param, u->host) == 1) {
        snprintf(err, errlen, "%s: write the address in the usual form (a.b.c.d, no leading zeros)", u->origin);
        SSL_CTX_free(ctx);
        return NULL;
    } else if (X509_VERIFY_PARAM_set1_host(param, u->host, 0) != 1) {
        goto Fail;
    }
    return ctx;
Fail:
    snprintf(err, errlen, "cannot set up TLS for %s: %s", u->origin, ERR_reason_error_string(ERR_get_error()));
    if (ctx != NULL)
        SSL_CTX_free(ctx);
    return NULL;
}

static void free_upstream(struct upstream *u)
{
    if (u->ssl_ctx != NULL)
        SSL_CTX_free(u->ssl_ctx);
    free(u->key);
    free(u->origin);
    free(u->host);
    free(u->host_header);
    free(u->base_path);
    free(u);
}

struct upstream *upstream_get(h2o_context_t *ctx, const char *url, const char *ca_file, uint64_t timeout_ms, char *err,
                              size_t errlen)
{
    char key[2048];
    snprintf(key, sizeof(key), "%s|%s|%llu", url, ca_file ? ca_file : "", (unsigned long long)timeout_ms);
    for (struct upstream *u = all_upstreams; u != NULL; u = u->next)
        if (strcmp(u->key, key) == 0)
            return u;

    h2o_url_t parsed;
    if (h2o_url_parse(url, strlen(url), &parsed) != 0 || parsed.host.len == 0) {
        snprintf(err, errlen, "invalid URL \"%s\"", url);
        return NULL;
    }
    struct upstream *u = xcalloc(1, sizeof(*u));
    u->key = xstrdup(key);
    u->is_tls = parsed.scheme == &H2O_URL_SCHEME_HTTPS;
    u->port = h2o_url_get_port(&parsed);
    u->host = h2o_strdup(NULL, parsed.host.base, parsed.host.len).base;
    u->host_header = h2o_strdup(NULL, parsed.authority.base, parsed.authority.len).base;
    size_t plen = parsed.path.len;
    while (plen > 0 && parsed.path.base[plen - 1] == '/')
        plen--;
    u->base_path = h2o_strdup(NULL, parsed.path.base, plen).base;
    char origin[512];
    snprintf(origin, sizeof(origin), "%s://%.*s", u->is_tls ? "https" : "http", (int)parsed.authority.len,
             parsed.authority.base);
    u->origin = xstrdup(origin);
    if (u->is_tls && (u->ssl_ctx = make_ssl_ctx(u, ca_file, err, errlen)) == NULL) {
        free_upstream(u);
        return NULL;
    }
    u->loop = ctx->loop;
    u->getaddr_receiver = &ctx->receivers.hostinfo_getaddr;
    u->zero_timeout = &ctx->zero_timeout;
    h2o_timeout_init(ctx->loop, &u->io_timeout, timeout_ms);
    h2o_timeout_init(ctx->loop, &u->idle_timeout, POOL_IDLE_TIMEOUT_MS);
    h2o_linklist_init_anchor(&u->idle); /* the pool http_client.c keeps */
    u->next = all_upstreams;
    all_upstreams = u;
    return u;
}
