#include "aws/sigv4.h"
#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SIGNED_HEADERS 64

static void hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, len, md);
    hex(md, sizeof(md), out);
}

static void hmac(const void *key, size_t keylen, const char *msg, unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out, &n);
}

static int unreserved(unsigned char c) { return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~'; }

void sigv4_uri_encode(sbuf *out, const char *s, size_t len, int encode_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (c == '/' && !encode_slash)) {
            sbuf_putc(out, (char)c);
        } else {
            char e[3] = {'%', digits[c >> 4], digits[c & 15]};
            sbuf_append(out, e, 3);
        }
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes into out ('+' stays '+': SigV4 treats the query literally). */
static void uri_decode(sbuf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < len && (h = hexval(s[i + 1])) >= 0 && (l = hexval(s[i + 2])) >= 0) {
            sbuf_putc(out, (char)(h * 16 + l));
            i += 2;
        } else {
            sbuf_putc(out, s[i]);
        }
    }
}

/* RFC 3986 remove_dot_segments plus collapsing of empty segments, then each segment encoded
 * again (the wire path is already encoded once: %3A becomes %253A). */
static void canonical_uri(sbuf *out, const char *path, int normalize, int double_encode)
{
    if (!normalize) {
        if (double_encode)
            sigv4_uri_encode(out, path, strlen(path), 0);
        else
            sbuf_puts(out, path);
        if (!path[0])
            sbuf_putc(out, '/');
        return;
    }
    const char *segs[256];
    size_t lens[256], n = 0;
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != '/')
            p++;
        size_t len = (size_t)(p - start);
        if (len == 1 && start[0] == '.')
            continue;
        if (len == 2 && start[0] == '.' && start[1] == '.') {
            if (n > 0)
                n--;
            continue;
        }
        if (n < 256) {
            segs[n] = start;
            lens[n++] = len;
        }
    }
    int trailing = p > path && p[-1] == '/' && n > 0;
    if (n == 0) {
        sbuf_putc(out, '/');
        return;
    }
    for (size_t i = 0; i < n; i++) {
        sbuf_putc(out, '/');
        if (double_encode)
            sigv4_uri_encode(out, segs[i], lens[i], 1);
        else
            sbuf_append(out, segs[i], lens[i]);
    }
    if (trailing)
        sbuf_putc(out, '/');
}

struct param {
    char *key, *value;
};

static int cmp_param(const void *a, const void *b)
{
    const struct param *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

static void canonical_query(sbuf *out, const char *query)
{
    if (query == NULL || !*query)
        return;
    struct param params[128];
    size_t n = 0;
    const char *p = query;
    while (*p && n < 128) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > 0) {
            const char *eq = memchr(p, '=', len);
            size_t klen = eq ? (size_t)(eq - p) : len;
            sbuf k = SBUF_INIT, v = SBUF_INIT, ek = SBUF_INIT, ev = SBUF_INIT;
            uri_decode(&k, p, klen);
            if (eq)
                uri_decode(&v, eq + 1, len - klen - 1);
            sigv4_uri_encode(&ek, k.data ? k.data : "", k.len, 1);
            sigv4_uri_encode(&ev, v.data ? v.data : "", v.len, 1);
            params[n].key = sbuf_steal(&ek);
            params[n].value = sbuf_steal(&ev);
            n++;
            sbuf_free(&k);
            sbuf_free(&v);
        }
        p += len;
        if (*p == '&')
            p++;
    }
    qsort(params, n, sizeof(params[0]), cmp_param);
    for (size_t i = 0; i < n; i++) {
        if (i)
            sbuf_putc(out, '&');
        sbuf_printf(out, "%s=%s", params[i].key, params[i].value);
        free(params[i].key);
        free(params[i].value);
    }
}

struct canon_header {
    char name[128];
    sbuf value; /* trimmed, inner whitespace collapsed; duplicates joined with ',' */
};

static int cmp_header(const void *a, const void *b)
{
    return strcmp(((const struct canon_header *)a)->name, ((const struct canon_header *)b)->name);
}

static void append_trimmed(sbuf *out, const char *v)
{
    int space = 0, started = 0;
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = started;
            continue;
        }
        if (space)
            sbuf_putc(out, ' ');
        space = 0;
        started = 1;
        sbuf_putc(out, (char)c);
    }
}

static int add_header(struct canon_header *hs, size_t *n, const char *name, const char *value)
{
    size_t len = strlen(name);
    if (len >= sizeof(hs[0].name))
        return -1;
    char lower[128];
    for (size_t i = 0; i <= len; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(hs[i].name, lower) == 0) {
            sbuf_putc(&hs[i].value, ',');
            append_trimmed(&hs[i].value, value);
            return 0;
        }
    }
    if (*n == MAX_SIGNED_HEADERS)
        return -1;
    memcpy(hs[*n].name, lower, len + 1);
    hs[*n].value = (sbuf)SBUF_INIT;
    sbuf_puts(&hs[*n].value, "");
    append_trimmed(&hs[*n].value, value);
    (*n)++;
    return 0;
}

int sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *creds, const struct sigv4_options *opt,
               struct sigv4_result *out)
{
    memset(out, 0, sizeof(*out));
    if (req->method == NULL || req->path == NULL || creds->access_key_id == NULL || creds->secret_access_key == NULL)
        return -1;
    struct tm tm;
    gmtime_r(&opt->now, &tm);
    strftime(out->amz_date, sizeof(out->amz_date), "%Y%m%dT%H%M%SZ", &tm);
    char date[9];
    memcpy(date, out->amz_date, 8);
    date[8] = '\0';
    sha256_hex(req->body ? req->body : "", req->body_len, out->payload_hash);

    struct canon_header hs[MAX_SIGNED_HEADERS];
    size_t n = 0;
    int ok = 0;
    for (size_t i = 0; i < req->num_headers; i++)
        ok |= add_header(hs, &n, req->headers[i].name, req->headers[i].value);
    ok |= add_header(hs, &n, "x-amz-date", out->amz_date);
    if (creds->session_token != NULL)
        ok |= add_header(hs, &n, "x-amz-security-token", creds->session_token);
    if (opt->sign_body)
        ok |= add_header(hs, &n, "x-amz-content-sha256", out->payload_hash);
    qsort(hs, n, sizeof(hs[0]), cmp_header);

    sbuf creq = SBUF_INIT, signed_headers = SBUF_INIT;
    sbuf_printf(&creq, "%s\n", req->method);
    canonical_uri(&creq, req->path, opt->normalize_path, opt->double_encode);
    sbuf_putc(&creq, '\n');
    canonical_query(&creq, req->query);
    sbuf_putc(&creq, '\n');
    for (size_t i = 0; i < n; i++) {
        sbuf_printf(&creq, "%s:%s\n", hs[i].name, hs[i].value.data);
        sbuf_printf(&signed_headers, "%s%s", i ? ";" : "", hs[i].name);
        sbuf_free(&hs[i].value);
    }
    sbuf_printf(&creq, "\n%s\n%s", signed_headers.data, out->payload_hash);

    char creq_hash[65];
    sha256_hex(creq.data, creq.len, creq_hash);
    sbuf sts = SBUF_INIT;
    sbuf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", out->amz_date, date, opt->region, opt->service,
                creq_hash);

    sbuf key = SBUF_INIT;
    sbuf_printf(&key, "AWS4%s", creds->secret_access_key);
    unsigned char k_date[32], k_region[32], k_service[32], k_signing[32], sig[32];
    hmac(key.data, key.len, date, k_date);
    hmac(k_date, 32, opt->region, k_region);
    hmac(k_region, 32, opt->service, k_service);
    hmac(k_service, 32, "aws4_request", k_signing);
    hmac(k_signing, 32, sts.data, sig);
    OPENSSL_cleanse(key.data, key.len);
    sbuf_free(&key);
    char sig_hex[65];
    hex(sig, 32, sig_hex);
    OPENSSL_cleanse(k_signing, sizeof(k_signing));

    sbuf auth = SBUF_INIT;
    sbuf_printf(&auth, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
                creds->access_key_id, date, opt->region, opt->service, signed_headers.data, sig_hex);
    out->authorization = sbuf_steal(&auth);
    out->canonical_request = sbuf_steal(&creq);
    out->string_to_sign = sbuf_steal(&sts);
    out->signed_headers = sbuf_steal(&signed_headers);
    if (ok != 0) {
        sigv4_result_free(out);
        return -1;
    }
    return 0;
}

void sigv4_result_free(struct sigv4_result *r)
{
    free(r->authorization);
    free(r->canonical_request);
    free(r->string_to_sign);
    free(r->signed_headers);
    r->authorization = r->canonical_request = r->string_to_sign = r->signed_headers = NULL;
}
