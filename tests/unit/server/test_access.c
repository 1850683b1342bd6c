/* Who gets in: Host, Origin, Content-Type and client keys, decided without a connection. */
#include <string.h>
#include "server/access.h"
#include "check.h"
#include "core/config.h"

static struct proxy_config cfg;

static h2o_iovec_t iov(const char *s) { return s ? h2o_iovec_init(s, strlen(s)) : h2o_iovec_init(NULL, 0); }

/* A JSON POST with a body from a loopback client: what Claude Code sends. */
static struct access_request claude_code(void)
{
    return (struct access_request){
        .host = iov("127.0.0.1:47000"), .content_type = iov("application/json"), .is_post = 1, .has_body = 1};
}

static int status_of(const struct access_request *r, int needs_key)
{
    struct access_refusal no = {0};
    return access_decide(r, &cfg, needs_key, &no) == 0 ? 0 : no.status;
}

static void test_host(void)
{
    static const char *const ok[] = {
        "localhost", "localhost:47000",          "127.0.0.1",           "127.1.2.3:1",    "[::1]:47000",     "[::1]",
        "::1",       "[::ffff:127.0.0.1]:47000", "app.localhost:47000", "proxy.internal", "PROXY.internal:8"};
    /* 127.1 is a shorthand some clients expand, not an address in a Host header */
    static const char *const refused[] = {"evil.example",
                                          "localhost.evil.example",
                                          "127.0.0.1.evil",
                                          "10.0.0.1",
                                          "",
                                          ":47000",
                                          "127.",
                                          "[::1",
                                          "127.1",
                                          "127.0.0.1.5:47000",
                                          "[127.0.0.1]:47000",
                                          "::1:47000",
                                          "[::2]:47000",
                                          "0.0.0.0:47000"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        CHECK(access_host_allowed(ok[i], strlen(ok[i]), &cfg));
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        CHECK(!access_host_allowed(refused[i], strlen(refused[i]), &cfg));
    /* the value is not NUL-terminated: only its length counts */
    CHECK(access_host_allowed("127.0.0.19", 9, &cfg));
    CHECK(!access_host_allowed("127.0.0.1x", 10, &cfg));
    /* no Host header at all: H2O gives no pointer (found by fuzz_headers under UBSan) */
    CHECK(!access_host_allowed(NULL, 0, &cfg));
    struct access_request r = claude_code();
    r.host = iov("evil.example");
    CHECK_INT_EQ(status_of(&r, 1), 403);
}

/* Bound to every interface with no allowed_hosts: any Host will do; with a list, only it and loopback. */
static void test_wildcard_listen(void)
{
    char *saved_listen = cfg.listen_host, *saved_host = cfg.allowed_hosts[0];
    static char any4[] = "0.0.0.0", any6[] = "::", any6_long[] = "0:0:0:0:0:0:0:0", lan[] = "192.168.1.5";
    char *const listens[] = {any4, any6, any6_long};
    cfg.allowed_hosts[0] = NULL;
    for (size_t i = 0; i < sizeof(listens) / sizeof(listens[0]); i++) {
        cfg.listen_host = listens[i];
        CHECK(access_host_allowed("evil.example", 12, &cfg));
    }
    cfg.listen_host = lan;
    CHECK(!access_host_allowed("evil.example", 12, &cfg));
    CHECK(access_host_allowed("192.168.1.5:47000", 17, &cfg)); /* the listen address itself */
    CHECK(access_host_allowed("localhost", 9, &cfg));
    cfg.listen_host = any6;
    cfg.allowed_hosts[0] = saved_host;
    CHECK(!access_host_allowed("evil.example", 12, &cfg));
    CHECK(access_host_allowed("proxy.internal", 14, &cfg));
    cfg.listen_host = saved_listen;
}

static void test_origin(void)
{
    struct access_request r = claude_code();
    r.origin = iov("https://evil.example");
    CHECK_INT_EQ(status_of(&r, 1), 403);
    r.origin = iov("https://ok.example");
    CHECK_INT_EQ(status_of(&r, 1), 0);
}

static void test_content_type(void)
{
    CHECK(access_type_is_json("application/json", 16));
    CHECK(access_type_is_json("Application/JSON; charset=utf-8", 31));
    CHECK(access_type_is_json("application/json ;charset=utf-8", 31));
    CHECK(access_type_is_json("application/jsonp", 16)); /* only the given length is read */
    CHECK(!access_type_is_json("application/jsonp", 17));
    CHECK(!access_type_is_json("text/plain", 10));
    CHECK(!access_type_is_json("", 0));
    struct access_request r = claude_code();
    CHECK_INT_EQ(status_of(&r, 1), 0);
    r.content_type = iov("text/plain;charset=UTF-8");
    CHECK_INT_EQ(status_of(&r, 1), 415);
    r.content_type = iov(NULL);
    CHECK_INT_EQ(status_of(&r, 1), 415); /* a body with no type at all */
    r.has_body = 0;
    CHECK_INT_EQ(status_of(&r, 1), 0); /* no body, no type: the SDK's batch cancel */
    r.content_type = iov("application/x-www-form-urlencoded");
    CHECK_INT_EQ(status_of(&r, 1), 415); /* an empty form is still a form */
    r.is_post = 0;
    CHECK_INT_EQ(status_of(&r, 1), 0); /* GET: the type does not matter */
}

static void test_client_keys(void)
{
    char key1[] = "ck-local-0123456789", key2[] = "ck-second-key";
    cfg.client_keys[0] = key1;
    cfg.client_keys[1] = key2;
    struct access_request r = claude_code();
    CHECK_INT_EQ(status_of(&r, 1), 401);
    CHECK_INT_EQ(status_of(&r, 0), 0); /* /health and the like need no key */
    r.api_key = iov("ck-local-0123456789");
    CHECK_INT_EQ(status_of(&r, 1), 0);
    r.api_key = iov("ck-local-012345678");
    CHECK_INT_EQ(status_of(&r, 1), 401);
    r.api_key = iov("ck-local-0123456789x");
    CHECK_INT_EQ(status_of(&r, 1), 401);
    r.api_key = iov(NULL);
    r.authorization = iov("Bearer ck-second-key");
    CHECK_INT_EQ(status_of(&r, 1), 0);
    r.authorization = iov("Basic ck-second-key");
    CHECK_INT_EQ(status_of(&r, 1), 401);
    cfg.client_keys[0] = NULL;
    cfg.client_keys[1] = NULL;
}

int main(void)
{
    char listen[] = "127.0.0.1", host[] = "proxy.internal", origin[] = "https://ok.example";
    cfg.listen_host = listen;
    cfg.allowed_hosts[0] = host;
    cfg.allowed_origins[0] = origin;
    test_host();
    test_wildcard_listen();
    test_origin();
    test_content_type();
    test_client_keys();
    CHECK_DONE();
}
