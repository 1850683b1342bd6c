/* SigV4 against AWS's own test suite (tests/data/sigv4, from awslabs/aws-c-auth), plus a
 * Bedrock request whose signature was computed by botocore (tests/tools/sigv4_reference.py). */
#include <cjson/cJSON.h>
#include <dirent.h>
#include "check.h"
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
    struct sigv4_request req = {r.method, r.path, r.query, r.headers, r.num_headers, r.body, r.body_len};
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
    struct sigv4_request req = {
        "POST",      "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream",
        NULL,        h,
        3,           body,
        strlen(body)};
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

int main(void)
{
    test_vectors();
    test_bedrock_against_botocore();
    test_uri_encode();
    CHECK_DONE();
}
