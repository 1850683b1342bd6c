/* SigV4 against AWS's own test suite (tests/data/sigv4, from awslabs/aws-c-auth), plus a
 * Bedrock request whose signature was computed by botocore (tests/tools/sigv4_reference.py). */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <time.h>
#include "check.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include "aws/sigv4.h"

struct parsed_request {
    char method[16];
    char path[1024];
    char *query;
    struct sigv4_header headers[32];
    char *names[32], *values[32];
    size_t num_headers;
    const char *body;
    size_t body_len;
};

/* request.txt: "METHOD PATH HTTP/1.1", header lines (continuation lines start with spaces),
 * a blank line, then the body. */
static int parse_request(char *text, struct parsed_request *r)
{
    memset(r, 0, sizeof(*r));
    char *line_end = strchr(text, '\n');
    if (line_end == NULL)
        return -1;
    *line_end = '\0';
    char *sp1 = strchr(text, ' '), *sp2 = strrchr(text, ' ');
    if (sp1 == NULL || sp2 == sp1)
        return -1;
    snprintf(r->method, sizeof(r->method), "%.*s", (int)(sp1 - text), text);
    snprintf(r->path, sizeof(r->path), "%.*s", (int)(sp2 - sp1 - 1), sp1 + 1);
    char *q = strchr(r->path, '?');
    if (q != NULL) {
        *q = '\0';
        r->query = q + 1;
    }
    char *p = line_end + 1;
    while (*p && *p != '\n') {
        char *end = strchr(p, '\n');
        if (end == NULL)
            end = p + strlen(p);
        if ((*p == ' ' || *p == '\t') && r->num_headers > 0) {
            /* continuation: joined with a space (then whitespace is collapsed by the signer) */
            size_t old = strlen(r->values[r->num_headers - 1]);
            r->values[r->num_headers - 1] = realloc(r->values[r->num_headers - 1], old + (size_t)(end - p) + 2);
            sprintf(r->values[r->num_headers - 1] + old, " %.*s", (int)(end - p), p);
        } else {
            char *colon = memchr(p, ':', (size_t)(end - p));
            if (colon == NULL || r->num_headers == 32)
                return -1;
            r->names[r->num_headers] = strndup(p, (size_t)(colon - p));
            r->values[r->num_headers] = strndup(colon + 1, (size_t)(end - colon - 1));
            r->num_headers++;
        }
        p = *end ? end + 1 : end;
    }
    if (*p == '\n')
        p++;
    r->body = p;
    r->body_len = strlen(p);
    for (size_t i = 0; i < r->num_headers; i++)
        r->headers[i] = (struct sigv4_header){r->names[i], r->values[i]};
    return 0;
}

static void free_request(struct parsed_request *r)
{
    for (size_t i = 0; i < r->num_headers; i++) {
        free(r->names[i]);
        free(r->values[i]);
    }
}

static int run_case(const char *name)
{
    char rel[512];
    int failed = check_failures;
    snprintf(rel, sizeof(rel), "sigv4/%s/context.json", name);
    char *ctx_text = check_read_data(rel, NULL);
    snprintf(rel, sizeof(rel), "sigv4/%s/request.txt", name);
    char *req_text = check_read_data(rel, NULL);
    snprintf(rel, sizeof(rel), "sigv4/%s/header-canonical-request.txt", name);
    char *want_creq = check_read_data(rel, NULL);
    snprintf(rel, sizeof(rel), "sigv4/%s/header-string-to-sign.txt", name);
    char *want_sts = check_read_data(rel, NULL);
    snprintf(rel, sizeof(rel), "sigv4/%s/header-signature.txt", name);
    char *want_sig = check_read_data(rel, NULL);
    CHECK(ctx_text && req_text && want_creq && want_sts && want_sig);
    if (!(ctx_text && req_text && want_creq && want_sts && want_sig))
        goto Done;

    cJSON *ctx = cJSON_Parse(ctx_text);
    cJSON *creds = cJSON_GetObjectItem(ctx, "credentials");
    const char *token = cJSON_GetStringValue(cJSON_GetObjectItem(creds, "token"));
    if (cJSON_IsTrue(cJSON_GetObjectItem(ctx, "omit_session_token")))
        token = NULL; /* the token is added after signing */
    struct sigv4_credentials c = {cJSON_GetStringValue(cJSON_GetObjectItem(creds, "access_key_id")),
                                  cJSON_GetStringValue(cJSON_GetObjectItem(creds, "secret_access_key")), token};
    struct tm tm = {0};
    strptime(cJSON_GetStringValue(cJSON_GetObjectItem(ctx, "timestamp")), "%Y-%m-%dT%H:%M:%SZ", &tm);
    struct sigv4_options opt = {cJSON_GetStringValue(cJSON_GetObjectItem(ctx, "region")),
                                cJSON_GetStringValue(cJSON_GetObjectItem(ctx, "service")),
                                timegm(&tm),
                                cJSON_IsTrue(cJSON_GetObjectItem(ctx, "sign_body")),
                                cJSON_IsTrue(cJSON_GetObjectItem(ctx, "normalize")),
                                1};
    struct parsed_request r;
    CHECK_INT_EQ(parse_request(req_text, &r), 0);
    struct sigv4_request req = {r.method, r.path, r.query, r.headers, r.num_headers, r.body, r.body_len, NULL, 0, NULL};
    struct sigv4_result res;
    CHECK_INT_EQ(sigv4_sign(&req, &c, &opt, &res), 0);
    CHECK_STR_EQ(res.canonical_request, want_creq);
    CHECK_STR_EQ(res.string_to_sign, want_sts);
    CHECK(res.authorization != NULL && strstr(res.authorization, want_sig) != NULL);
    sigv4_result_free(&res);
    free_request(&r);
    cJSON_Delete(ctx);
Done:
    free(ctx_text), free(req_text), free(want_creq), free(want_sts), free(want_sig);
    if (check_failures != failed)
        fprintf(stderr, "  ^ in vector %s\n", name);
    return check_failures == failed;
}

static void test_vectors(void)
{
    const char *dir = getenv("CP_TEST_DATA");
    char path[4096];
    snprintf(path, sizeof(path), "%s/sigv4", dir ? dir : "tests/data");
    DIR *d = opendir(path);
    CHECK(d != NULL);
    if (d == NULL)
        return;
    int cases = 0, passed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
            continue;
        cases++;
        passed += run_case(e->d_name);
    }
    closedir(d);
    fprintf(stderr, "AWS SigV4 vectors: %d of %d passed\n", passed, cases);
    CHECK_INT_EQ(cases, 38);
}

static void test_bedrock_against_botocore(void)
{
    const char *body =
        "{\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\","
        "\"content\":\"hi\"}]}";
    struct sigv4_header h[] = {{"Host", "bedrock-runtime.us-west-2.amazonaws.com"},
                               {"Content-Type", "application/json"},
                               {"Accept", "application/vnd.amazon.eventstream"}};
    struct sigv4_request req = {"POST",
                                "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream",
                                NULL,
                                h,
                                3,
                                body,
                                strlen(body),
                                NULL,
                                0,
                                NULL};
    struct sigv4_credentials c = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                  "SESSIONTOKEN/with+chars="};
    struct tm tm = {.tm_year = 126, .tm_mon = 10, .tm_mday = 24, .tm_hour = 12};
    struct sigv4_options opt = {"us-west-2", "bedrock", timegm(&tm), 1, 1, 1};
    struct sigv4_result r;
    CHECK_INT_EQ(sigv4_sign(&req, &c, &opt, &r), 0);
    CHECK_STR_EQ(r.amz_date, "20261124T120000Z");
    CHECK(strstr(r.canonical_request,
                 "\n/model/us.anthropic.claude-sonnet-4-5-20250929-v1%253A0/invoke-with-response-stream\n") != NULL);
    CHECK_STR_EQ(r.signed_headers, "accept;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
    CHECK_STR_EQ(r.authorization,
                 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/us-west-2/bedrock/aws4_request, "
                 "SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, "
                 "Signature=6c23d5a11cb30a89210f9e03ed4406cb3d63d1e4cae58e7a0c13b010bd809ee8");
    sigv4_result_free(&r);
}

static void test_uri_encode(void)
{
    sbuf b = SBUF_INIT;
    sigv4_uri_encode(&b, "a b~c/d:e", 9, 0);
    CHECK_STR_EQ(b.data, "a%20b~c/d%3Ae");
    sbuf_reset(&b);
    sigv4_uri_encode(&b, "a/b", 3, 1);
    CHECK_STR_EQ(b.data, "a%2Fb");
    sbuf_reset(&b);
    sigv4_uri_encode(&b, "\xe1\x88\xb4", 3, 1);
    CHECK_STR_EQ(b.data, "%E1%88%B4");
    sbuf_free(&b);
}

static void reference_hash(const unsigned char *body, size_t len, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(body, len, md);
    for (size_t i = 0; i < sizeof(md); i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The body cut into up to 12 parts (a body rewritten for Bedrock is sent and signed so), at points
 * that move from call to call: some empty, some across the cache's 4 KiB steps. */
static size_t split(const unsigned char *body, size_t len, struct iovec *v)
{
    static unsigned x = 777;
    size_t n = 1 + (x = x * 1103515245 + 12345) % 12, at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t left = len - at;
        size_t take = i == n - 1 ? left : (x = x * 1103515245 + 12345) % (left / 2 + 2);
        take = take > left ? left : take;
        v[i].iov_base = (void *)(body != NULL ? body + at : (const unsigned char *)"");
        v[i].iov_len = take;
        at += take;
    }
    return n;
}

/* SHA-256 of the body, from the body in one piece and in parts (alternately first, so that each
 * resumes from the other's snapshots) */
static int hash_matches(const unsigned char *body, size_t len)
{
    static int turn;
    char got[65], parts[65], want[65];
    struct iovec v[12];
    size_t n = split(body, len, v);
    if (turn++ % 2) {
        sigv4_payload_hash(body, len, got);
        sigv4_payload_hash_parts(v, NULL, n, parts);
    } else {
        sigv4_payload_hash_parts(v, NULL, n, parts);
        sigv4_payload_hash(body, len, got);
    }
    reference_hash(body, len, want);
    if (strcmp(got, want) != 0 || strcmp(parts, want) != 0) {
        fprintf(stderr, "payload hash of %zu bytes: %s, in %zu parts %s, want %s\n", len, got, n, parts, want);
        return 0;
    }
    return 1;
}

/* The payload hash resumes from an earlier body's state where the bytes are the same: never a
 * different result than SHA-256 of the bytes, for bodies that share a prefix of every length around
 * the snapshots' steps, shorter and longer bodies, more bodies than entries, and bodies past what an
 * entry covers. */
static void test_payload_hash_cache(void)
{
    size_t size = 48 * 1024 + 77, big = 1024 * 1024 + 3 * 4096 + 5;
    unsigned char *base = malloc(big), *v = malloc(big);
    unsigned x = 12345;
    for (size_t i = 0; i < big; i++)
        base[i] = (unsigned char)((x = x * 1103515245 + 12345) >> 16);
    sigv4_payload_cache(1, NULL);
    struct sigv4_payload_stats st;
    int bad = 0;
    bad += !hash_matches(base, size); /* the second of its two hashes resumed */
    bad += !hash_matches(base, size); /* both resumed */
    sigv4_payload_cache(-1, &st);
    CHECK_INT_EQ(st.misses, 1);
    CHECK_INT_EQ(st.hits, 3);
    CHECK(st.resumed_bytes == 3 * (size / 4096 * 4096));
    /* a first difference at every offset around each step boundary (and a few in between) */
    for (size_t diff = 0; diff < size; diff++) {
        size_t in_step = diff % 4096;
        if (!(in_step < 3 || in_step > 4093 || (in_step % 64) < 2 || (in_step % 64) > 62 || diff % 997 == 0))
            continue;
        memcpy(v, base, size);
        v[diff] ^= 0x5a;
        bad += !hash_matches(v, size);
        bad += !hash_matches(base, size);
    }
    /* prefixes of the body, and the body with more after it */
    for (size_t len = 8 * 1024 - 70; len < size + 9000; len += 61)
        bad += !hash_matches(base, len);
    /* more distinct bodies than entries, each coming back */
    for (int round = 0; round < 3; round++)
        for (int k = 0; k < 7; k++) {
            memcpy(v, base, size);
            v[(size_t)k * 5000 + 100] ^= 0xff;
            bad += !hash_matches(v, size - (size_t)k);
        }
    /* past an entry's cover (1 MiB), and a difference after it */
    bad += !hash_matches(base, big);
    memcpy(v, base, big);
    v[big - 10] ^= 1;
    bad += !hash_matches(v, big);
    bad += !hash_matches(base, big - 4096);
    sigv4_payload_cache(-1, &st);
    CHECK(st.hits > 100 && st.misses > 5);
    /* small bodies are hashed as they are; without the cache the same results */
    bad += !hash_matches(base, 100);
    bad += !hash_matches(NULL, 0);
    sigv4_payload_cache(0, NULL);
    bad += !hash_matches(base, size);
    bad += !hash_matches(base, size);
    sigv4_payload_cache(-1, &st);
    CHECK_INT_EQ(st.hits + st.misses, 0);
    sigv4_payload_cache(1, NULL);
    CHECK_INT_EQ(bad, 0);
    free(base);
    free(v);
}

/* The payload hash of parts with stamps (head, a stamped member, tail), against SHA-256 of the bytes. */
static int stamped_hash_matches(const unsigned char *body, size_t head, size_t member, size_t len, unsigned long stamp)
{
    struct iovec v[3] = {
        {(void *)body, head}, {(void *)(body + head), member}, {(void *)(body + head + member), len - head - member}};
    unsigned long stamps[3] = {0, stamp, 0};
    char got[65], want[65];
    sigv4_payload_hash_parts(v, stamps, 3, got);
    reference_hash(body, len, want);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "stamped payload hash (head %zu, member %zu, stamp %lu): %s, want %s\n", head, member, stamp,
                got, want);
    return strcmp(got, want) == 0;
}

/* A stamped part the cache has seen at the same offset under the same stamp is taken without a
 * compare; anywhere else, or under another stamp, or with none, it is compared. Always the SHA-256
 * of the bytes. */
static void test_payload_hash_stamps(void)
{
    size_t len = 116 * 1024, member = 81 * 1024;
    unsigned char *body = malloc(len + 1);
    unsigned x = 777;
    for (size_t i = 0; i < len + 1; i++)
        body[i] = (unsigned char)((x = x * 1103515245 + 12345) >> 16);
    struct sigv4_payload_stats st;
    sigv4_payload_cache(1, NULL);
    CHECK(stamped_hash_matches(body, 700, member, len, 41));
    sigv4_payload_cache(-1, &st);
    CHECK(st.known_bytes == 0);
    /* again: the steps wholly inside the member are known (all but the two it straddles) */
    CHECK(stamped_hash_matches(body, 700, member, len, 41));
    sigv4_payload_cache(-1, &st);
    CHECK_INT_EQ(st.known_bytes, (member / 4096 - 1) * 4096);
    CHECK(st.compared_bytes <= len - st.known_bytes + 4096);
    /* the same stamp one byte further on, another stamp, no stamp: compared, and the right hash */
    unsigned long long known = st.known_bytes;
    CHECK(stamped_hash_matches(body + 1, 701, member, len, 41));
    CHECK(stamped_hash_matches(body, 700, member, len, 42));
    CHECK(stamped_hash_matches(body, 700, member, len, 0));
    sigv4_payload_cache(-1, &st);
    CHECK(st.known_bytes == known);
    CHECK(stamped_hash_matches(body, 700, member, len, 0));
    sigv4_payload_cache(1, NULL);
    free(body);
}

/* x-amz-date is strftime's "%Y%m%dT%H%M%SZ" of the signing time, at every field's edges. */
static void test_amz_date(void)
{
    static const time_t times[] = {0,
                                   59,
                                   3599,
                                   86399,
                                   951782400 /* 2000-02-29 */,
                                   1000000000,
                                   1767225599,
                                   2147483647,
                                   4102444799 /* 2099-12-31 23:59:59 */,
                                   253402300799 /* 9999 */};
    struct sigv4_header headers[] = {{"host", "bedrock-runtime.us-east-1.amazonaws.com"}};
    struct sigv4_request req = {"POST", "/model/x/invoke", NULL, headers, 1, "{}", 2, NULL, 0, NULL};
    struct sigv4_credentials c = {"AKIDEXAMPLE", "secret", NULL};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        struct sigv4_options opt = {"us-east-1", "bedrock", times[i], 1, 1, 1};
        struct sigv4_result r;
        CHECK_INT_EQ(sigv4_sign(&req, &c, &opt, &r), 0);
        struct tm tm;
        char want[32];
        gmtime_r(&times[i], &tm);
        strftime(want, sizeof(want), "%Y%m%dT%H%M%SZ", &tm);
        CHECK_STR_EQ(r.amz_date, want);
        sigv4_result_free(&r);
    }
}

/* The derived signing key is cached per day, region, service and secret: a signature with a cached
 * key is the one a fresh derivation gives, and a change of any of the four is a new key. */
static void test_signing_key_cache(void)
{
    struct sigv4_header headers[] = {{"host", "bedrock-runtime.us-east-1.amazonaws.com"}};
    struct sigv4_request req = {"POST", "/model/x/invoke", NULL, headers, 1, "{}", 2, NULL, 0, NULL};
    struct sigv4_credentials a = {"AKIDEXAMPLE", "secret-a", NULL}, b = {"AKIDEXAMPLE", "secret-b", NULL};
    struct sigv4_options o1 = {"us-east-1", "bedrock", 1700000000, 1, 1, 1};
    char sigs[8][300];
    int n = 0;
    for (int round = 0; round < 2; round++) {
        n = 0;
        struct sigv4_options o = o1;
        const struct sigv4_credentials *cs[] = {&a, &b};
        for (int c = 0; c < 2; c++)
            for (int variant = 0; variant < 4; variant++) {
                o = o1;
                if (variant == 1)
                    o.region = "us-west-2";
                if (variant == 2)
                    o.service = "bedrock-mantle";
                if (variant == 3)
                    o.now += 86400; /* the next day */
                struct sigv4_result r;
                CHECK_INT_EQ(sigv4_sign(&req, cs[c], &o, &r), 0);
                if (round == 0)
                    snprintf(sigs[n], sizeof(sigs[n]), "%s", r.authorization);
                else
                    CHECK_STR_EQ(r.authorization, sigs[n]);
                n++;
                sigv4_result_free(&r);
            }
    }
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            CHECK(strcmp(sigs[i], sigs[j]) != 0);
}

/* HMAC-SHA256 on the fetched digest: OpenSSL's HMAC() for keys and messages of every length around
 * the 64-byte block (keys longer than it are hashed first), and RFC 4231's test case 2. */
static void test_hmac(void)
{
    unsigned char key[200], msg[300], got[32], want[32];
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (unsigned char)(i * 7 + 3);
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (unsigned char)(i * 13 + 1);
    int bad = 0;
    for (size_t kl = 0; kl <= sizeof(key); kl += kl < 70 ? 1 : 13)
        for (size_t ml = 0; ml <= sizeof(msg); ml += ml < 130 ? 1 : 17) {
            unsigned int n = 32;
            sigv4_hmac_sha256(key, kl, msg, ml, got);
            HMAC(EVP_sha256(), key, (int)kl, msg, ml, want, &n);
            bad += memcmp(got, want, 32) != 0;
        }
    CHECK_INT_EQ(bad, 0);
    static const unsigned char rfc4231[32] = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
                                              0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
                                              0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
    sigv4_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, got);
    CHECK(memcmp(got, rfc4231, 32) == 0);
}

int main(void)
{
    test_vectors();
    test_bedrock_against_botocore();
    test_uri_encode();
    test_hmac();
    test_payload_hash_cache();
    test_payload_hash_stamps();
    test_amz_date();
    test_signing_key_cache();
    test_vectors(); /* again, with whatever the caches hold */
    CHECK_DONE();
}
