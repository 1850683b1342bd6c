#include "common/upstream.h"
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
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

/* A host that is a number in a form parsers read differently: inet_pton takes only the forms
 * every parser reads alike, where OpenSSL would read 0177.0.0.1 as 177.0.0.1 and the resolver as
 * 127.0.0.1 (octal). Such a host is refused, not guessed at. */
static int host_is_ambiguous_number(const char *host)
{
    unsigned char addr[16];
    if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
        return 0;
    /* only what could be a number goes to OpenSSL (its first call initialises libcrypto) */
    if (host[strspn(host, "0123456789abcdefABCDEFxX.:")] != '\0')
        return 0;
    ASN1_OCTET_STRING *as_openssl_reads_it = a2i_IPADDRESS(host);
    ASN1_OCTET_STRING_free(as_openssl_reads_it);
    return as_openssl_reads_it != NULL;
}

static void say_ambiguous_number(const char *origin, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: write the address in the usual form (a.b.c.d, no leading zeros)", origin);
}

static void say_bad_ca_file(const char *origin, const char *ca_file, char *err, size_t errlen)
{
    /* a file that cannot be read is said as the system says it; OpenSSL's reason is "system lib" */
    const char *why = access(ca_file, R_OK) != 0 ? strerror(errno) : NULL;
    unsigned long e = ERR_peek_last_error();
    if (why == NULL && e != 0)
        why = ERR_reason_error_string(e);
    snprintf(err, errlen, "%s: cannot load CA file %s%s%s", origin, ca_file, why != NULL ? ": " : "",
             why != NULL ? why : "");
    ERR_clear_error();
}

/* The TLS context for host (origin names it in errors): the chain verified from ca_file or the
 * system store, and the certificate checked against host on every handshake. *is_address tells
 * whether host is an IP address. */
static SSL_CTX *make_ssl_ctx(const char *host, const char *origin, const char *ca_file, int *is_address, char *err,
                             size_t errlen)
{
    if (host_is_ambiguous_number(host)) {
        say_ambiguous_number(origin, err, errlen);
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        goto Fail;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (ca_file != NULL && ca_file[0] != '\0') {
        if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
            say_bad_ca_file(origin, ca_file, err, errlen);
            SSL_CTX_free(ctx);
            return NULL;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        goto Fail;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    /* h2o 2.2.5 skips its own host-name check on TLS 1.3 handshakes: have OpenSSL check the
     * certificate against the host (or IP address) on every handshake. An address is checked as
     * the bytes the connection goes to. */
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    unsigned char addr[16];
    int v4 = inet_pton(AF_INET, host, addr) == 1, v6 = !v4 && inet_pton(AF_INET6, host, addr) == 1;
    *is_address = v4 || v6;
    if (*is_address ? X509_VERIFY_PARAM_set1_ip(param, addr, v4 ? 4 : 16) != 1
                    : X509_VERIFY_PARAM_set1_host(param, host, 0) != 1)
        goto Fail;
    return ctx;
Fail:;
    const char *why = ERR_reason_error_string(ERR_get_error()); /* NULL when OpenSSL queued none */
    snprintf(err, errlen, "cannot set up TLS for %s: %s", origin, why != NULL ? why : "unknown error");
    ERR_clear_error();
    if (ctx != NULL)
        SSL_CTX_free(ctx);
    return NULL;
}

/* What make_ssl_ctx would refuse, found without making one: OpenSSL 3's first SSL_CTX_new costs
 * tens of milliseconds, which every `claude-proxy statusline` would pay. The CA file is loaded into
 * a store of its own, as SSL_CTX_load_verify_locations loads it. */
int upstream_check_tls(const struct upstream_url *url, const char *ca_file, char *err, size_t errlen)
{
    if (!url->is_tls)
        return 0;
    if (host_is_ambiguous_number(url->host)) {
        say_ambiguous_number(url->origin, err, errlen);
        return -1;
    }
    if (ca_file == NULL || ca_file[0] == '\0')
        return 0;
    X509_STORE *store = X509_STORE_new();
    int ok = store != NULL && X509_STORE_load_file(store, ca_file) == 1;
    X509_STORE_free(store);
    if (!ok) {
        say_bad_ca_file(url->origin, ca_file, err, errlen);
        return -1;
    }
    return 0;
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
    if (u->is_tls &&
        (u->ssl_ctx = make_ssl_ctx(u->host, u->origin, ca_file, &u->host_is_address, err, errlen)) == NULL) {
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
