/* The request-head checks H2O 2.2.5 does not make: one Host, a token method, an origin-form target. */
#include <string.h>
#include "check.h"
#include "common/request_syntax.h"

static int hosts(const char *head)
{
    h2o_iovec_t method, path;
    return request_head_host_count(head, strlen(head), &method, &path);
}

static void test_host_count(void)
{
    CHECK_INT_EQ(hosts("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 1);
    CHECK_INT_EQ(hosts("GET / HTTP/1.0\r\n\r\n"), 0);
    CHECK_INT_EQ(hosts("GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n"), 2);
    CHECK_INT_EQ(hosts("GET / HTTP/1.1\r\nHost: a\r\nX-Host: b\r\nHostname: c\r\n\r\n"), 1);
    CHECK_INT_EQ(hosts("GET / HTTP/1.1\r\nHost: a\r\n"), -1); /* not a whole head */
    h2o_iovec_t method, path;
    const char *head = "POST /v1/messages?x=1 HTTP/1.1\r\nHost: a\r\n\r\n{}";
    CHECK_INT_EQ(request_head_host_count(head, strlen(head), &method, &path), 1);
    CHECK(h2o_memis(method.base, method.len, H2O_STRLIT("POST")));
    CHECK(h2o_memis(path.base, path.len, H2O_STRLIT("/v1/messages?x=1")));
}

/* The pre-check never counts fewer Host lines than the parse finds. */
static void test_host_lines(void)
{
    static const char *const heads[] = {
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n",
        "GET / HTTP/1.1\nHOST: a\nhost: b\n\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX-Host: b\r\nHostname: c\r\n\r\n",
        "GET / HTTP/1.1\r\nX: y\r\nhost:a\r\nHost: b\r\n\r\nHost: in the body\r\n",
    };
    static const int parsed[] = {1, 0, 2, 2, 1, 2};
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        CHECK_INT_EQ(hosts(heads[i]), parsed[i]);
        CHECK(request_head_host_lines(heads[i], strlen(heads[i])) >= parsed[i]);
    }
    CHECK_INT_EQ(request_head_host_lines("GET / HTTP/1.1\r\nHost: a\r\n\r\nHost: b\r\n", 36), 1);
}

static void test_method(void)
{
    static const char *const ok[] = {"GET", "POST", "M-SEARCH", "X!#$%&'*+.^_`|~9"};
    static const char *const bad[] = {"", "GET /v1/evil", "GE\tT", "G\xc3\xa9T", "GET\r\n", "(GET)", "G,T", "G\"T"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        CHECK(request_method_is_token(ok[i], strlen(ok[i])));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(!request_method_is_token(bad[i], strlen(bad[i])));
    CHECK(!request_method_is_token("GE\0T", 4));
}

static void test_target(void)
{
    static const char *const ok[] = {"/", "/v1/messages", "/v1/models?limit=5&x=%20", "/a/../b", "/~!$&'()*+,;=:@"};
    static const char *const bad[] = {
        "",        "v1/messages",  "*",        "http://x/v1/messages", "/v1/evil /v1/models",
        "/v1/\tx", "/v1/\xc3\xa9", "/v1/\x7f", "/v1/\r\nX: y"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        CHECK(request_target_is_origin_form(ok[i], strlen(ok[i])));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(!request_target_is_origin_form(bad[i], strlen(bad[i])));
    CHECK(!request_target_is_origin_form("/a\0b", 4));
}

/* What could resolve outside the provider's base path once the path is appended to it. */
static void test_path_stays_under(void)
{
    static const char *const ok[] = {"/",
                                     "/v1/messages",
                                     "/v1/messages?beta=true",
                                     "/v1/files/a..b/.c/...",
                                     "/v1/x?p=../../y",
                                     "/v1/%2e%2ex",
                                     "/v1/%2e%2e%2e",
                                     "//v1//messages",
                                     "/v1/%25",
                                     "/v1/a;b",
                                     "/v1/%2"};
    static const char *const bad[] = {"/..",          "/../../v1/messages", "/v1/./messages", "/v1/messages/.",
                                      "/v1/%2e%2e/x", "/v1/%2E%2e/x",       "/v1/.%2E/x",     "/v1/%2e/x",
                                      "/v1/..;x/y",   "/v1/..%2fx",         "/v1/a%2Fb",      "/v1/a%5cb",
                                      "/v1/a%5Cb",    "/v1/a\\b",           "/v1/..?x=1",     "/v1/.;/x"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (!request_path_stays_under(ok[i], strlen(ok[i])))
            fprintf(stderr, "refused: %s\n", ok[i]);
        CHECK(request_path_stays_under(ok[i], strlen(ok[i])));
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (request_path_stays_under(bad[i], strlen(bad[i])))
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK(!request_path_stays_under(bad[i], strlen(bad[i])));
    }
}

int main(void)
{
    test_host_count();
    test_host_lines();
    test_method();
    test_target();
    test_path_stays_under();
    CHECK_DONE();
}
