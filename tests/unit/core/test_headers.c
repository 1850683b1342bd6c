/* Which headers cross the proxy: the hop-by-hop names, the headers the Connection header names
 * (RFC 9110 7.6.1; its list is parsed by common/comma_list.c), the client headers forwarded upstream (in their order
 * and spelling, without the ones the proxy sets itself or was told to skip), and the upstream response headers not
 * relayed. */
#include <ctype.h>
#include <h2o.h>
#include "check.h"
#include "core/headers.h"

/* Adds a header as H2O's parser does: the name in lower case (a token where H2O knows it), the
 * client's spelling kept beside it. */
static void add(h2o_req_t *req, const char *name, const char *value)
{
    size_t len = strlen(name);
    char *lower = h2o_mem_alloc_pool(&req->pool, len + 1);
    for (size_t i = 0; i <= len; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    h2o_add_header_by_str(&req->pool, &req->headers, lower, len, 1, name, value, strlen(value));
}

static void req_init(h2o_req_t *req)
{
    memset(req, 0, sizeof(*req));
    h2o_mem_init_pool(&req->pool);
}

/* What headers_copy_client writes for req, as a string freed at the next call. */
static const char *copied(const h2o_req_t *req, const char *const *skip, size_t nskip)
{
    static sbuf head = SBUF_INIT;
    sbuf_reset(&head);
    headers_copy_client(req, &head, skip, nskip);
    return head.len ? head.data : "";
}

static void test_hop_by_hop(void)
{
    static const char *const hop[] = {"connection", "Keep-Alive", "PROXY-CONNECTION", "transfer-encoding",
                                      "TE",         "Trailer",    "upgrade"};
    for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
        CHECK(headers_is_hop_by_hop(hop[i], strlen(hop[i])));
    static const char *const end_to_end[] = {"content-type",
                                             "trailers",
                                             "t",
                                             "tex",
                                             "connectio",
                                             "upgrade-insecure-requests",
                                             "x-connection",
                                             "authorization",
                                             "proxy-authorization",
                                             ""};
    for (size_t i = 0; i < sizeof(end_to_end) / sizeof(end_to_end[0]); i++)
        CHECK(!headers_is_hop_by_hop(end_to_end[i], strlen(end_to_end[i])));
    /* the length given counts, not a NUL: "te" inside "tells" is hop-by-hop, "tells" is not */
    CHECK(headers_is_hop_by_hop("tells", 2));
    CHECK(!headers_is_hop_by_hop("tells", 5));
}

static void test_copy_client(void)
{
    h2o_req_t req;
    req_init(&req);
    add(&req, "Host", "127.0.0.1:8080");
    add(&req, "Content-Length", "12");
    add(&req, "Anthropic-Version", "2023-06-01");
    add(&req, "Connection", "keep-alive, X-Hop-Secret");
    add(&req, "Keep-Alive", "timeout=5");
    add(&req, "X-Hop-Secret", "for this hop only");
    add(&req, "X-Hop-Secret-Not", "forwarded");
    add(&req, "TE", "trailers");
    add(&req, "Transfer-Encoding", "chunked");
    add(&req, "Upgrade", "h2c");
    add(&req, "HTTP2-Settings", "AAMAAABkAAQAAP__");
    add(&req, "Proxy-Connection", "keep-alive");
    add(&req, "Proxy-Authorization", "Basic Zm9vOmJhcg==");
    add(&req, "Expect", "100-continue");
    add(&req, "Accept-Encoding", "gzip");
    add(&req, "Authorization", "Bearer client");
    add(&req, "x-api-key", "sk-client");
    add(&req, "User-Agent", "claude-cli/2.0");
    add(&req, "anthropic-beta", "a,b");
    add(&req, "Content-Type", "application/json");
    add(&req, "Accept", "text/event-stream");
    add(&req, "Trailer", "x-checksum");
    add(&req, "x-b3-traceid", "abc");
    static const char *const skip[] = {"authorization", "x-api-key"};
    CHECK_STR_EQ(copied(&req, skip, 2), "Anthropic-Version: 2023-06-01\r\n"
                                        "X-Hop-Secret-Not: forwarded\r\n"
                                        "User-Agent: claude-cli/2.0\r\n"
                                        "anthropic-beta: a,b\r\n"
                                        "Content-Type: application/json\r\n"
                                        "Accept: text/event-stream\r\n"
                                        "x-b3-traceid: abc\r\n");
    /* without skip[] the client's own credentials go through */
    const char *all = copied(&req, NULL, 0);
    CHECK(strstr(all, "Authorization: Bearer client\r\n") != NULL);
    CHECK(strstr(all, "x-api-key: sk-client\r\n") != NULL);
    CHECK(strstr(all, "Proxy-Authorization") == NULL);
    h2o_mem_clear_pool(&req.pool);
}

/* Every Connection header counts, and a header is dropped only when one of them names it. */
static void test_connection_names(void)
{
    h2o_req_t req;
    req_init(&req);
    add(&req, "x-a", "1");
    add(&req, "x-b", "2");
    add(&req, "x-c", "3");
    CHECK_STR_EQ(copied(&req, NULL, 0), "x-a: 1\r\nx-b: 2\r\nx-c: 3\r\n");
    add(&req, "Connection", "X-A");
    add(&req, "connection", " x-c ");
    CHECK_STR_EQ(copied(&req, NULL, 0), "x-b: 2\r\n");
    h2o_mem_clear_pool(&req.pool);

    /* only the Connection header's list names headers, not another list beside it */
    req_init(&req);
    add(&req, "Connection", "close");
    add(&req, "x-a", "1");
    add(&req, "x-connection", "x-a");
    add(&req, "anthropic-beta", "x-a");
    CHECK_STR_EQ(copied(&req, NULL, 0), "x-a: 1\r\nx-connection: x-a\r\nanthropic-beta: x-a\r\n");
    h2o_mem_clear_pool(&req.pool);

    /* a Connection header may name one the proxy forwards by default */
    req_init(&req);
    add(&req, "Connection", "anthropic-beta, user-agent");
    add(&req, "anthropic-beta", "x");
    add(&req, "user-agent", "y");
    add(&req, "anthropic-version", "z");
    CHECK_STR_EQ(copied(&req, NULL, 0), "anthropic-version: z\r\n");
    h2o_mem_clear_pool(&req.pool);

    req_init(&req);
    CHECK_STR_EQ(copied(&req, NULL, 0), "");
    h2o_mem_clear_pool(&req.pool);
}

static void test_client_lookup(void)
{
    h2o_req_t req;
    req_init(&req);
    add(&req, "Anthropic-Beta", "first");
    add(&req, "anthropic-beta", "second");
    add(&req, "X-Claude-Code-Session-Id", "s1");
    const h2o_iovec_t *v = headers_client(&req, "anthropic-beta");
    CHECK(v != NULL && h2o_memis(v->base, v->len, H2O_STRLIT("first")));
    v = headers_client(&req, "x-claude-code-session-id");
    CHECK(v != NULL && h2o_memis(v->base, v->len, H2O_STRLIT("s1")));
    CHECK(headers_client(&req, "anthropic-version") == NULL);
    CHECK(headers_client(&req, "anthropic-bet") == NULL);
    h2o_mem_clear_pool(&req.pool);
}

static void test_not_relayed(void)
{
    static const char *const dropped[] = {"Content-Length",    "date",       "Server",  "connection",
                                          "transfer-encoding", "keep-alive", "upgrade", "trailer"};
    for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
        CHECK(headers_is_not_relayed(dropped[i], strlen(dropped[i])));
    static const char *const relayed[] = {
        "content-type",     "request-id",       "retry-after",   "anthropic-ratelimit-unified-status",
        "x-amzn-requestid", "content-encoding", "server-timing", "dates"};
    for (size_t i = 0; i < sizeof(relayed) / sizeof(relayed[0]); i++)
        CHECK(!headers_is_not_relayed(relayed[i], strlen(relayed[i])));
}

int main(void)
{
    test_hop_by_hop();
    test_copy_client();
    test_connection_names();
    test_client_lookup();
    test_not_relayed();
    CHECK_DONE();
}
