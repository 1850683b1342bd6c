/* The header readers beside the HTTP client (the rest of it runs against loopback mocks in the
 * e2e suites): a header found by name in any case, the first of two, and a value copied only when
 * it fits. */
#include "check.h"
#include "common/http_client.h"

static void test_find(void)
{
    h2o_iovec_t n1 = h2o_iovec_init(H2O_STRLIT("content-type")), n2 = h2o_iovec_init(H2O_STRLIT("Retry-After")),
                n3 = h2o_iovec_init(H2O_STRLIT("retry-after")), n4 = h2o_iovec_init(H2O_STRLIT("x-amzn-errortype"));
    h2o_header_t h[] = {{&n1, NULL, h2o_iovec_init(H2O_STRLIT("application/json"))},
                        {&n2, NULL, h2o_iovec_init(H2O_STRLIT("30"))},
                        {&n3, NULL, h2o_iovec_init(H2O_STRLIT("60"))},
                        {&n4, NULL, h2o_iovec_init(H2O_STRLIT("ValidationException:http://x"))}};
    const h2o_iovec_t *v = http_header_find(h, 4, "retry-after");
    CHECK(v != NULL && h2o_memis(v->base, v->len, H2O_STRLIT("30"))); /* the first, in any case */
    v = http_header_find(h, 4, "x-amzn-errortype");
    CHECK(v == &h[3].value);
    CHECK(http_header_find(h, 4, "content-length") == NULL);
    CHECK(http_header_find(h, 4, "retry") == NULL);
    CHECK(http_header_find(h, 4, "retry-after-ms") == NULL);
    CHECK(http_header_find(h, 0, "content-type") == NULL);
    CHECK(http_header_find(NULL, 0, "content-type") == NULL);
}

static void test_copy(void)
{
    char buf[4] = "xyz";
    h2o_iovec_t fits = h2o_iovec_init("abc-not-this", 3), too_long = h2o_iovec_init(H2O_STRLIT("abcd")),
                empty = h2o_iovec_init("", 0);
    CHECK_INT_EQ(http_header_copy(&fits, buf, sizeof(buf)), 0);
    CHECK_STR_EQ(buf, "abc");
    CHECK_INT_EQ(http_header_copy(&too_long, buf, sizeof(buf)), -1); /* no room for the NUL */
    CHECK_STR_EQ(buf, "abc");
    CHECK_INT_EQ(http_header_copy(&empty, buf, sizeof(buf)), 0);
    CHECK_STR_EQ(buf, "");
}

int main(void)
{
    test_find();
    test_copy();
    CHECK_DONE();
}
