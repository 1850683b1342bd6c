#include "aws/sigv4.h"
#include <ctype.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "common/memory.h"
#include "common/hex.h"
#include "common/str_copy.h"

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

/* SHA-256 fetched once: OpenSSL 3's SHA256() and HMAC(EVP_sha256()) look the algorithm up in the
 * provider tables (locks and all) at every call */
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256;
static void fetch_sha256(void) { md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL); }
static const EVP_MD *sha256_md(void)
{
    pthread_once(&md_once, fetch_sha256);
    return md_sha256 != NULL ? md_sha256 : EVP_sha256();
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, sha256_md(), NULL);
    hex(md, sizeof(md), out);
}

/* HMAC-SHA256 from OpenSSL's EVP_MAC, with the MAC and its digest fetched once into a template that
 * each call duplicates: OpenSSL 3's HMAC() fetches both by name at every call, which cost more than
 * the hashing itself (1.4 us a call against 0.7 us here) */
static pthread_once_t mac_once = PTHREAD_ONCE_INIT;
static EVP_MAC_CTX *hmac_template;
static void fetch_hmac(void)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
                           OSSL_PARAM_construct_end()};
    if (mac == NULL || (hmac_template = EVP_MAC_CTX_new(mac)) == NULL || !EVP_MAC_CTX_set_params(hmac_template, params))
        abort();
    EVP_MAC_free(mac); /* the context holds its own reference */
}

void sigv4_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen, unsigned char out[32])
{
    pthread_once(&mac_once, fetch_hmac);
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(hmac_template);
    size_t n = 0;
    if (c == NULL || !EVP_MAC_init(c, key, keylen, NULL) || !EVP_MAC_update(c, msg, msglen) ||
        !EVP_MAC_final(c, out, &n, 32))
        abort();
    EVP_MAC_CTX_free(c);
}

static void hmac(const void *key, size_t keylen, const char *msg, unsigned char out[32])
{
    sigv4_hmac_sha256(key, keylen, msg, strlen(msg), out);
}

/* ---- the payload hash, resumed from a snapshot of an earlier body's hash ----
 *
 * A session's consecutive requests share most of their bytes (tools, system, the conversation so
 * far), and SigV4 hashes the whole body each time. SHA-256 is a chain over 64-byte blocks: the state
 * after the first k blocks depends on those bytes only, so a body whose first k blocks equal an
 * earlier body's may go on from the state the earlier one had there. A few entries (LRU) each keep a
 * copy of the first bytes of a recent body and the state every PH_STEP bytes; a new body is
 * compared (memcmp) with each entry's copy step by step, hashing resumes after the last step that
 * matched, and that entry is brought up to date with the new body. The copy is what is compared, not
 * a hash of it: the result is the SHA-256 of the bytes given, whatever the cache holds. */
#define PH_STEP 4096               /* a multiple of SHA-256's 64-byte block */
#define PH_MIN_BODY (2 * PH_STEP)  /* shorter bodies are hashed as they are, without the cache */
#define PH_MAX_COVER (1024 * 1024) /* an entry covers at most this much of its body */
#define PH_ENTRIES 4               /* at most PH_ENTRIES * PH_MAX_COVER bytes of copies */

#define PH_STAMPED_MAX 16 /* stamped parts a body's entry remembers */

/* A part of a body whose bytes its stamp names (sigv4_request's body_part_stamps): a step that lies
 * inside one, at the same offset under the same stamp in an entry, is those bytes in both, so it is
 * taken without a memcmp. Claude Code's tools and system, 95 KB of 116, come stamped. */
struct ph_stamped {
    size_t off, len;
    unsigned long stamp;
};

struct ph_entry {
    unsigned char *bytes; /* the first nsnap * PH_STEP bytes of the body */
    size_t cap;
    size_t nsnap;
    EVP_MD_CTX *snap[PH_MAX_COVER / PH_STEP]; /* snap[i]: the state after (i + 1) * PH_STEP bytes */
    unsigned long used;
    struct ph_stamped stamped[PH_STAMPED_MAX]; /* of the body the bytes are from */
    size_t nstamped;
};

static struct {
    pthread_mutex_t lock;
    struct ph_entry e[PH_ENTRIES];
    unsigned long clock;
    struct sigv4_payload_stats stats;
    int off;
} ph = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The body as the parts it was built from (sigv4_request's body_parts): what the cache compares,
 * copies and hashes, at an offset into the whole, across parts. */
struct gather {
    const struct iovec *v;
    size_t n;
    struct ph_stamped stamped[PH_STAMPED_MAX]; /* its stamped parts */
    size_t nstamped;
};

static void gather_init(struct gather *g, const struct iovec *v, const unsigned long *stamps, size_t n)
{
    g->v = v;
    g->n = n;
    g->nstamped = 0;
    size_t off = 0;
    for (size_t i = 0; i < n; off += v[i].iov_len, i++)
        if (stamps != NULL && stamps[i] != 0 && g->nstamped < PH_STAMPED_MAX)
            g->stamped[g->nstamped++] = (struct ph_stamped){off, v[i].iov_len, stamps[i]};
}

/* Whether [off, off + PH_STEP) of body lies inside a stamped part that e's body had at the same
 * offset under the same stamp: then they are the same bytes. */
static int ph_step_known(const struct ph_entry *e, const struct gather *body, size_t off)
{
    for (size_t i = 0; i < body->nstamped; i++) {
        const struct ph_stamped *b = &body->stamped[i];
        if (b->off > off || b->off + b->len < off + PH_STEP)
            continue;
        for (size_t j = 0; j < e->nstamped; j++)
            if (e->stamped[j].stamp == b->stamp && e->stamped[j].off == b->off)
                return 1;
        return 0;
    }
    return 0;
}

/* Calls f on each piece of [off, off + len) of g, with its offset into that range; stops at the
 * first nonzero it returns, and returns it. */
static int gather_each(const struct gather *g, size_t off, size_t len,
                       int (*f)(void *ud, const unsigned char *p, size_t n, size_t at), void *ud)
{
    size_t at = 0;
    for (size_t i = 0; i < g->n && len > 0; i++) {
        size_t pl = g->v[i].iov_len;
        if (off >= pl) {
            off -= pl;
            continue;
        }
        size_t take = pl - off < len ? pl - off : len;
        int r = f(ud, (const unsigned char *)g->v[i].iov_base + off, take, at);
        if (r != 0)
            return r;
        at += take, len -= take, off = 0;
    }
    return 0;
}

static int piece_differs(void *ud, const unsigned char *p, size_t n, size_t at)
{
    return memcmp(p, (const unsigned char *)ud + at, n) != 0;
}

static int piece_copy(void *ud, const unsigned char *p, size_t n, size_t at)
{
    memcpy((unsigned char *)ud + at, p, n);
    return 0;
}

static int piece_hash(void *ud, const unsigned char *p, size_t n, size_t at)
{
    (void)at;
    if (!EVP_DigestUpdate(ud, p, n))
        abort();
    return 0;
}

static size_t ph_matching_steps(const struct ph_entry *e, const struct gather *body, size_t len)
{
    size_t n = 0, max = len / PH_STEP < e->nsnap ? len / PH_STEP : e->nsnap;
    for (; n < max; n++) {
        if (ph_step_known(e, body, n * PH_STEP)) {
            ph.stats.known_bytes += PH_STEP;
            continue;
        }
        ph.stats.compared_bytes += PH_STEP;
        if (gather_each(body, n * PH_STEP, PH_STEP, piece_differs, e->bytes + n * PH_STEP))
            break;
    }
    return n;
}

static void ph_hash(const struct gather *body, size_t len, unsigned char md[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        abort();
    /* the entry that shares the most steps with body, else none; and the least recently used */
    struct ph_entry *best = NULL, *lru = &ph.e[0];
    size_t steps = 0;
    for (size_t i = 0; i < PH_ENTRIES; i++) {
        struct ph_entry *e = &ph.e[i];
        size_t n = ph_matching_steps(e, body, len);
        if (n > steps)
            steps = n, best = e;
        if (e->used < lru->used)
            lru = e;
    }
    if (steps > 0 && EVP_MD_CTX_copy_ex(ctx, best->snap[steps - 1])) {
        ph.stats.hits++;
    } else {
        steps = 0;
        if (!EVP_DigestInit_ex(ctx, sha256_md(), NULL))
            abort();
        ph.stats.misses++;
    }
    size_t done = steps * PH_STEP;
    ph.stats.resumed_bytes += done;
    ph.stats.hashed_bytes += len - done;
    /* the entry body goes into: the one it continues, unless it shares less than half of it (then
     * it is another body with the same start, which keeps its entry) */
    struct ph_entry *e = steps > 0 && 2 * steps >= best->nsnap ? best : lru;
    size_t valid = e == best ? steps : 0; /* e's first steps that are already this body's */
    size_t cover = (len < PH_MAX_COVER ? len : PH_MAX_COVER) / PH_STEP;
    e->used = ++ph.clock;
    if (e->cap < cover * PH_STEP) {
        e->cap = cover * PH_STEP;
        e->bytes = xrealloc(e->bytes, e->cap);
    }
    gather_each(body, valid * PH_STEP, (cover - valid) * PH_STEP, piece_copy, e->bytes + valid * PH_STEP);
    for (size_t i = valid; i < cover; i++) {
        if (e->snap[i] == NULL && (e->snap[i] = EVP_MD_CTX_new()) == NULL)
            abort();
        if (i < steps) { /* resumed past it from another entry's snapshots */
            EVP_MD_CTX_copy_ex(e->snap[i], best->snap[i]);
            continue;
        }
        gather_each(body, i * PH_STEP, PH_STEP, piece_hash, ctx);
        EVP_MD_CTX_copy_ex(e->snap[i], ctx);
    }
    e->nsnap = cover;
    /* e's bytes are body's now, the steps it had and the steps copied alike */
    memcpy(e->stamped, body->stamped, body->nstamped * sizeof(body->stamped[0]));
    e->nstamped = body->nstamped;
    size_t from = cover * PH_STEP > done ? cover * PH_STEP : done;
    gather_each(body, from, len - from, piece_hash, ctx);
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx, md, &n);
    EVP_MD_CTX_free(ctx);
}

void sigv4_payload_hash_parts(const struct iovec *parts, const unsigned long *stamps, size_t nparts, char out[65])
{
    struct gather body;
    gather_init(&body, parts, stamps, nparts);
    size_t len = 0;
    for (size_t i = 0; i < nparts; i++)
        len += parts[i].iov_len;
    unsigned char md[32];
    pthread_mutex_lock(&ph.lock);
    if (len < PH_MIN_BODY || ph.off) {
        pthread_mutex_unlock(&ph.lock);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned int n = 0;
        if (ctx == NULL || !EVP_DigestInit_ex(ctx, sha256_md(), NULL))
            abort();
        gather_each(&body, 0, len, piece_hash, ctx);
        EVP_DigestFinal_ex(ctx, md, &n);
        EVP_MD_CTX_free(ctx);
    } else {
        ph_hash(&body, len, md);
        pthread_mutex_unlock(&ph.lock);
    }
    hex(md, sizeof(md), out);
}

void sigv4_payload_hash(const void *body, size_t len, char out[65])
{
    struct iovec one = {(void *)(body != NULL ? body : ""), len};
    sigv4_payload_hash_parts(&one, NULL, 1, out);
}

void sigv4_payload_cache(int on, struct sigv4_payload_stats *stats)
{
    pthread_mutex_lock(&ph.lock);
    if (stats != NULL)
        *stats = ph.stats;
    if (on < 0) {
        pthread_mutex_unlock(&ph.lock);
        return;
    }
    ph.off = !on;
    for (size_t i = 0; i < PH_ENTRIES; i++) {
        struct ph_entry *e = &ph.e[i];
        for (size_t j = 0; j < PH_MAX_COVER / PH_STEP; j++)
            EVP_MD_CTX_free(e->snap[j]);
        free(e->bytes);
        memset(e, 0, sizeof(*e));
    }
    memset(&ph.stats, 0, sizeof(ph.stats));
    pthread_mutex_unlock(&ph.lock);
}

/* ---- the signing key, derived once a day per secret, region and service ----
 *
 * kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") is the
 * same all day (UTC) for the same secret, region and service (AWS's SigV4 documentation says so:
 * the derived key may be cached and reused for that day); four HMACs per request otherwise. Each
 * entry keeps an HMAC context keyed with it, which EVP_MAC_init without a key takes back to the
 * keyed state: a signature is then one update and final, without duplicating a context or hashing
 * the key's pads again. */
#define SK_ENTRIES 4
static struct {
    pthread_mutex_t lock;
    struct sk_entry {
        char date[9], region[64], service[32], secret[128];
        EVP_MAC_CTX *mac; /* keyed with kSigning */
        unsigned long used;
    } e[SK_ENTRIES];
    unsigned long clock;
} sk = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void derive_signing_key(const char *secret, const char *date, const char *region, const char *service,
                               unsigned char out[32])
{
    sbuf key = SBUF_INIT;
    sbuf_printf(&key, "AWS4%s", secret);
    unsigned char k_date[32], k_region[32], k_service[32];
    hmac(key.data, key.len, date, k_date);
    hmac(k_date, 32, region, k_region);
    hmac(k_region, 32, service, k_service);
    hmac(k_service, 32, "aws4_request", out);
    OPENSSL_cleanse(key.data, key.len);
    sbuf_free(&key);
    OPENSSL_cleanse(k_date, sizeof(k_date));
    OPENSSL_cleanse(k_region, sizeof(k_region));
    OPENSSL_cleanse(k_service, sizeof(k_service));
}

/* An HMAC context keyed with the day's signing key (EVP_MAC_CTX_free cleanses it). */
static EVP_MAC_CTX *keyed_mac(const char *secret, const char *date, const char *region, const char *service)
{
    unsigned char key[32];
    derive_signing_key(secret, date, region, service, key);
    pthread_once(&mac_once, fetch_hmac);
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(hmac_template);
    if (c == NULL || !EVP_MAC_init(c, key, sizeof(key), NULL))
        abort();
    OPENSSL_cleanse(key, sizeof(key));
    return c;
}

static void mac_final(EVP_MAC_CTX *c, const char *msg, size_t len, unsigned char sig[32])
{
    size_t n = 0;
    if (!EVP_MAC_update(c, (const unsigned char *)msg, len) || !EVP_MAC_final(c, sig, &n, 32))
        abort();
}

/* HMAC(kSigning, string to sign) */
static void signature(const char *secret, const char *date, const char *region, const char *service, const char *sts,
                      size_t sts_len, unsigned char sig[32])
{
    if (strlen(secret) >= sizeof(sk.e[0].secret) || strlen(region) >= sizeof(sk.e[0].region) ||
        strlen(service) >= sizeof(sk.e[0].service)) {
        EVP_MAC_CTX *c = keyed_mac(secret, date, region, service);
        mac_final(c, sts, sts_len, sig);
        EVP_MAC_CTX_free(c);
        return;
    }
    pthread_mutex_lock(&sk.lock);
    struct sk_entry *e = NULL, *lru = &sk.e[0];
    for (size_t i = 0; i < SK_ENTRIES && e == NULL; i++) {
        struct sk_entry *x = &sk.e[i];
        if (x->used && strcmp(x->date, date) == 0 && strcmp(x->region, region) == 0 &&
            strcmp(x->service, service) == 0 && CRYPTO_memcmp(x->secret, secret, strlen(secret) + 1) == 0)
            e = x;
        else if (x->used < lru->used)
            lru = x;
    }
    if (e != NULL) {
        if (!EVP_MAC_init(e->mac, NULL, 0, NULL)) /* back to the keyed state */
            abort();
    } else {
        e = lru;
        EVP_MAC_CTX_free(e->mac);
        OPENSSL_cleanse(e, sizeof(*e));
        e->mac = keyed_mac(secret, date, region, service);
        memcpy(e->date, date, 9);
        STR_COPY(e->region, region);
        STR_COPY(e->service, service);
        STR_COPY(e->secret, secret);
    }
    e->used = ++sk.clock;
    mac_final(e->mac, sts, sts_len, sig);
    pthread_mutex_unlock(&sk.lock);
}

static int unreserved(unsigned char c) { return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~'; }

void sigv4_uri_encode(sbuf *out, const char *s, size_t len, int encode_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t run = 0; /* s[run..i) is taken as it is, in one append */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (c == '/' && !encode_slash))
            continue;
        sbuf_append(out, s + run, i - run);
        char e[3] = {'%', digits[c >> 4], digits[c & 15]};
        sbuf_append(out, e, 3);
        run = i + 1;
    }
    sbuf_append(out, s + run, len - run);
}

/* Percent-decodes into out ('+' stays '+': SigV4 treats the query literally). */
static void uri_decode(sbuf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < len && (h = hex_digit_value(s[i + 1])) >= 0 &&
            (l = hex_digit_value(s[i + 2])) >= 0) {
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

/* The values live one after the other in one buffer (one allocation per signature, not one per
 * header): trimmed, inner whitespace collapsed; a duplicate name's value is copied to the end and
 * joined there with ','. */
struct canon_header {
    char name[128];
    size_t off, len; /* of the value, in the values buffer */
};

static int cmp_header(const void *a, const void *b)
{
    return strcmp(((const struct canon_header *)a)->name, ((const struct canon_header *)b)->name);
}

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static void append_trimmed(sbuf *out, const char *v)
{
    /* most values have nothing to trim or collapse: one append */
    size_t n = strlen(v), i;
    for (i = 0; i < n && !is_space((unsigned char)v[i]); i++)
        ;
    if (i == n) {
        sbuf_append(out, v, n);
        return;
    }
    int space = 0, started = 0;
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (is_space(c)) {
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

static int add_header(struct canon_header *hs, size_t *n, sbuf *values, const char *name, const char *value)
{
    size_t len = strlen(name);
    if (len >= sizeof(hs[0].name))
        return -1;
    char lower[128];
    for (size_t i = 0; i <= len; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(hs[i].name, lower) == 0) {
            size_t start = values->len;
            sbuf_reserve(values, hs[i].len + 1); /* so that the copy reads from where it writes */
            sbuf_append(values, values->data + hs[i].off, hs[i].len);
            sbuf_putc(values, ',');
            append_trimmed(values, value);
            hs[i].off = start;
            hs[i].len = values->len - start;
            return 0;
        }
    }
    if (*n == MAX_SIGNED_HEADERS)
        return -1;
    memcpy(hs[*n].name, lower, len + 1);
    hs[*n].off = values->len;
    append_trimmed(values, value);
    hs[*n].len = values->len - hs[*n].off;
    (*n)++;
    return 0;
}

/* YYYYMMDDTHHMMSSZ, as strftime's "%Y%m%dT%H%M%SZ" writes it, without its locale and format
 * machinery (once per signed request); years outside 1000-9999, which strftime writes with other
 * widths, are left to it. */
static void amz_date(const struct tm *tm, char out[17])
{
    int year = tm->tm_year + 1900;
    if (year < 1000 || year > 9999) {
        strftime(out, 17, "%Y%m%dT%H%M%SZ", tm);
        return;
    }
    const int parts[] = {year / 100, year % 100, tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec};
    char *w = out;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (i == 4)
            *w++ = 'T';
        *w++ = (char)('0' + parts[i] / 10);
        *w++ = (char)('0' + parts[i] % 10);
    }
    *w++ = 'Z';
    *w = '\0';
}

int sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *creds, const struct sigv4_options *opt,
               struct sigv4_result *out)
{
    memset(out, 0, sizeof(*out));
    if (req->method == NULL || req->path == NULL || creds->access_key_id == NULL || creds->secret_access_key == NULL)
        return -1;
    struct tm tm;
    gmtime_r(&opt->now, &tm);
    amz_date(&tm, out->amz_date);
    char date[9];
    memcpy(date, out->amz_date, 8);
    date[8] = '\0';
    if (req->nbody_parts > 0)
        sigv4_payload_hash_parts(req->body_parts, req->body_part_stamps, req->nbody_parts, out->payload_hash);
    else
        sigv4_payload_hash(req->body, req->body_len, out->payload_hash);

    struct canon_header hs[MAX_SIGNED_HEADERS];
    size_t n = 0;
    int ok = 0;
    sbuf values = SBUF_INIT;
    sbuf_reserve(&values, 512);
    for (size_t i = 0; i < req->num_headers; i++)
        ok |= add_header(hs, &n, &values, req->headers[i].name, req->headers[i].value);
    ok |= add_header(hs, &n, &values, "x-amz-date", out->amz_date);
    if (creds->session_token != NULL)
        ok |= add_header(hs, &n, &values, "x-amz-security-token", creds->session_token);
    if (opt->sign_body)
        ok |= add_header(hs, &n, &values, "x-amz-content-sha256", out->payload_hash);
    qsort(hs, n, sizeof(hs[0]), cmp_header);

    sbuf creq = SBUF_INIT, signed_headers = SBUF_INIT;
    sbuf_cat(&creq, req->method, "\n", (char *)NULL);
    canonical_uri(&creq, req->path, opt->normalize_path, opt->double_encode);
    sbuf_putc(&creq, '\n');
    canonical_query(&creq, req->query);
    sbuf_putc(&creq, '\n');
    for (size_t i = 0; i < n; i++) {
        sbuf_cat(&creq, hs[i].name, ":", (char *)NULL);
        sbuf_append(&creq, values.data + hs[i].off, hs[i].len);
        sbuf_putc(&creq, '\n');
        sbuf_cat(&signed_headers, i ? ";" : "", hs[i].name, (char *)NULL);
    }
    sbuf_free(&values);
    sbuf_cat(&creq, "\n", signed_headers.data, "\n", out->payload_hash, (char *)NULL);

    char creq_hash[65];
    sha256_hex(creq.data, creq.len, creq_hash);
    sbuf sts = SBUF_INIT;
    sbuf_cat(&sts, "AWS4-HMAC-SHA256\n", out->amz_date, "\n", date, "/", opt->region, "/", opt->service,
             "/aws4_request\n", creq_hash, (char *)NULL);

    unsigned char sig[32];
    signature(creds->secret_access_key, date, opt->region, opt->service, sts.data, sts.len, sig);
    char sig_hex[65];
    hex(sig, 32, sig_hex);

    sbuf auth = SBUF_INIT;
    sbuf_cat(&auth, "AWS4-HMAC-SHA256 Credential=", creds->access_key_id, "/", date, "/", opt->region, "/",
             opt->service, "/aws4_request, SignedHeaders=", signed_headers.data, ", Signature=", sig_hex, (char *)NULL);
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
