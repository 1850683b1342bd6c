/* Upstream origins (scheme://host:port[/base]): a keep-alive connection pool, a TLS context
 * that verifies the chain and the host name, and the client context with the request timeout.
 *
 * Upstreams are shared and live as long as the process: a config reload that keeps the same
 * URL keeps its warm connections, and H2O's embedded libuv handles never outlive their memory. */
#ifndef CP_UPSTREAM_H
#define CP_UPSTREAM_H
#include <h2o.h>
#include <openssl/ssl.h>

struct upstream {
    char *key;         /* url + ca_file + timeout: what makes two upstreams the same */
    char *origin;      /* "https://api.anthropic.com" (for logs) */
    char *host;        /* for TLS SNI and certificate verification */
    char *host_header; /* host[:port] as sent in Host */
    char *base_path;   /* path prefix without trailing slash ("" if none) */
    uint16_t port;
    int is_tls;
    /* host is an IP address, which OpenSSL checks against the certificate's address entries
     * (h2o 2.2.5's own check knows only host names) */
    int host_is_address;
    SSL_CTX *ssl_ctx;
    h2o_timeout_t io_timeout;   /* request_timeout: to connect, to the head, between body reads */
    h2o_linklist_t idle;        /* idle keep-alive connections (http_client.c) */
    h2o_timeout_t idle_timeout; /* how long they are kept */
    h2o_multithread_receiver_t *getaddr_receiver;
    h2o_timeout_t *zero_timeout; /* the context's, to run something from the loop */
    h2o_loop_t *loop;
    struct upstream *next;
};

struct upstream_url {
    int is_tls;
    uint16_t port;
    char host[256];
    char origin[300];
};

/* Validates url (http:// or https://host[:port][/path]) without touching the network. */
int upstream_parse_url(const char *url, struct upstream_url *out, char *err, size_t errlen);

/* Whether upstream_get will be able to make url's TLS context with ca_file (the CA file loads, a
 * numeric host is in its usual form), without the network: what start would refuse, said when
 * the config is read, so that --check and a reload refuse it too. 0 for plain HTTP. */
int upstream_check_tls(const struct upstream_url *url, const char *ca_file, char *err, size_t errlen);

/* The shared upstream for url; ca_file may be NULL (system store, which honours SSL_CERT_FILE
 * and SSL_CERT_DIR). Returns NULL with err filled on failure. */
struct upstream *upstream_get(h2o_context_t *ctx, const char *url, const char *ca_file, uint64_t timeout_ms, char *err,
                              size_t errlen);

#endif
