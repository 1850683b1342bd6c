/* AWS Signature Version 4 (header signing), with OpenSSL's SHA-256 and HMAC. */
#ifndef CP_SIGV4_H
#define CP_SIGV4_H
#include <stddef.h>
#include <sys/uio.h>
#include <time.h>
#include "common/sbuf.h"

struct sigv4_header {
    const char *name; /* any case */
    const char *value;
};

struct sigv4_request {
    const char *method;
    const char *path;                   /* as sent on the wire (URI-encoded once) */
    const char *query;                  /* raw query without '?', or NULL */
    const struct sigv4_header *headers; /* must contain host; x-amz-* are added by sigv4_sign */
    size_t num_headers;
    const void *body;
    size_t body_len;
    const struct iovec *body_parts; /* when nbody_parts > 0: the body, in these parts (body unused) */
    size_t nbody_parts;
    /* NULL, or per part: nonzero names the part's exact bytes (body_parts_span's stamp), which lets
     * the payload hash cache take a part it has seen under the same stamp without comparing it */
    const unsigned long *body_part_stamps;
};

struct sigv4_credentials {
    const char *access_key_id, *secret_access_key, *session_token; /* session_token may be NULL */
};

struct sigv4_options {
    const char *region, *service;
    time_t now;
    int sign_body;      /* add (and sign) x-amz-content-sha256 */
    int normalize_path; /* remove dot segments and empty segments: every service but S3 */
    int double_encode;  /* encode the (already encoded) path again: every service but S3 */
};

struct sigv4_result {
    char amz_date[17];     /* YYYYMMDDTHHMMSSZ: send as x-amz-date */
    char payload_hash[65]; /* hex SHA-256 of the body: send as x-amz-content-sha256 when sign_body */
    char *authorization;   /* the Authorization header value */
    char *canonical_request, *string_to_sign, *signed_headers; /* for tests and debugging */
};

/* Signs req. The caller then sends x-amz-date, x-amz-security-token (when a session token is
 * given: it is signed), x-amz-content-sha256 (when sign_body) and Authorization.
 * Returns 0, or -1 on bad input. */
int sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *creds, const struct sigv4_options *opt,
               struct sigv4_result *out);
void sigv4_result_free(struct sigv4_result *r);

/* URI-encodes as SigV4 wants: A-Z a-z 0-9 - _ . ~ untouched, everything else %XX (uppercase);
 * '/' kept unless encode_slash. */
void sigv4_uri_encode(sbuf *out, const char *s, size_t len, int encode_slash);

/* HMAC-SHA256 of msg under key (any length), as OpenSSL's HMAC() gives it. */
void sigv4_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen, unsigned char out[32]);

/* The hex SHA-256 of a body, as sigv4_sign computes it: bodies of 8 KiB and more resume from the
 * hash of an earlier body that starts with the same bytes (a few recent bodies are kept, see
 * sigv4.c). The result is the same as without. */
void sigv4_payload_hash(const void *body, size_t len, char out[65]);
/* The same, of the body these parts make one after the other. */
void sigv4_payload_hash_parts(const struct iovec *parts, const unsigned long *stamps, size_t nparts, char out[65]);

/* For tests and benchmarks: the cache's counters (into stats, may be NULL); on 1 empties it and
 * resets the counters, 0 empties it and hashes without it from then on, -1 only reads. */
struct sigv4_payload_stats {
    unsigned long hits, misses; /* bodies that resumed from a snapshot, or not */
    unsigned long long resumed_bytes, hashed_bytes;
    /* of the entries' bytes a body was checked against: compared by memcmp, or known by stamp */
    unsigned long long compared_bytes, known_bytes;
};
void sigv4_payload_cache(int on, struct sigv4_payload_stats *stats);

#endif
