#include "server/dashboard.h"
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>
#include "core/embedded.h"
#include "core/errors.h"

static const char *find(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return hay + i;
    return NULL;
}

/* "'sha256-...'" of the text between open and close in the page, into out (>= 56 bytes). */
static int element_hash(const struct embedded_file *f, const char *open, const char *close, char *out)
{
    const char *start = find(f->data, f->len, open);
    if (start == NULL)
        return -1;
    start += strlen(open);
    const char *end = find(start, f->len - (size_t)(start - f->data), close);
    if (end == NULL)
        return -1;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)start, (size_t)(end - start), digest);
    char b64[48];
    EVP_EncodeBlock((unsigned char *)b64, digest, sizeof(digest));
    snprintf(out, 64, "'sha256-%s'", b64);
    return 0;
}

void dashboard_serve(h2o_req_t *req)
{
    static char csp[400];
    const struct embedded_file *f = embedded_find("dashboard.html");
    if (f != NULL && csp[0] == '\0') {
        char script[64], style[64];
        if (element_hash(f, "<script>", "</script>", script) == 0 && element_hash(f, "<style>", "</style>", style) == 0)
            snprintf(csp, sizeof(csp),
                     "default-src 'none'; script-src %s; style-src %s; connect-src 'self'; img-src 'self' data:;"
                     " base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                     script, style);
    }
    if (f == NULL || csp[0] == '\0') {
        send_error(req, API_ANTHROPIC, 500, "api_error", "this build has no dashboard page", NULL, NULL);
        return;
    }
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("content-security-policy"), 0, NULL, csp,
                          strlen(csp));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0, NULL,
                          H2O_STRLIT("nosniff"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("referrer-policy"), 0, NULL,
                          H2O_STRLIT("no-referrer"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("accept"));
    send_response(req, 200, "text/html; charset=utf-8", f->data, f->len);
}

int dashboard_wanted(h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_ACCEPT, -1);
    if (i < 0)
        return 0;
    h2o_iovec_t v = req->headers.entries[i].value;
    const char *html = find(v.base, v.len, "text/html"), *json = find(v.base, v.len, "application/json");
    return html != NULL && (json == NULL || html < json);
}
