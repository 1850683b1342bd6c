/* Which hosts are this machine: loopback addresses in their textual forms (IPv4, IPv6, IPv4-mapped,
 * bracketed or not), localhost names, and the any-addresses, against names that only look like them;
 * the address to dial for a listen address, and a listener's URL with IPv6 in brackets. */
#include "check.h"
#include "common/netaddr.h"

static int loopback(const char *s) { return netaddr_is_loopback(s, strlen(s)); }
static int wildcard(const char *s) { return netaddr_is_wildcard(s, strlen(s)); }

/* Counted like CHECK, saying which input was wrong. */
static void expect(int got, int want, const char *s)
{
    check_count++;
    if (got != want) {
        check_failures++;
        fprintf(stderr, "%s: \"%s\" should%s be loopback\n", __FILE__, s, want ? "" : " not");
    }
}

static void test_loopback(void)
{
    static const char *const yes[] = {
        "127.0.0.1",
        "127.0.0.2",
        "127.255.255.255",
        "127.1.2.3",
        "::1",
        "[::1]",
        "0:0:0:0:0:0:0:1",
        "[0000:0000:0000:0000:0000:0000:0000:0001]",
        "::0:1",
        "::ffff:127.0.0.1",
        "[::ffff:127.0.0.1]",
        "::FFFF:127.9.8.7",
        "::ffff:7f00:1",
        "0:0:0:0:0:ffff:7f00:1",
        "localhost",
        "LocalHost",
        "LOCALHOST",
        "proxy.localhost",
        "a.b.LOCALHOST",
    };
    static const char *const no[] = {
        "",
        "127",
        "127.",
        "127.1",
        "127.0.1",
        "127.0.0.1.",
        "127.0.0.1.evil",
        "127.999.0.1",
        "127.0.0.256",
        " 127.0.0.1",
        "127.0.0.1 ",
        "0127.0.0.1",
        "126.255.255.255",
        "128.0.0.1",
        "10.0.0.1",
        "0.0.0.0",
        "::",
        "[::]",
        "::2",
        "::1:0",
        "1::1",
        "[::1",
        "::1]",
        "[[::1]]",
        "[127.0.0.1]",
        "::127.0.0.1",
        "::ffff:128.0.0.1",
        "::fffe:127.0.0.1",
        "64:ff9b::127.0.0.1",
        "fe80::1",
        "[fe80::1%25lo]",
        "::1%lo",
        "localhost.",
        "localhost:47000",
        ".localhost",
        "localhostx",
        "xlocalhost",
        "localhost.evil.example",
        "evil-localhost",
        "evil.example",
        "[localhost]",
    };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        expect(loopback(yes[i]), 1, yes[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        expect(loopback(no[i]), 0, no[i]);
    /* only the given length is read: the Host value points into the request */
    CHECK(netaddr_is_loopback("127.0.0.19", 9));
    CHECK(!netaddr_is_loopback("127.0.0.1x", 10));
    CHECK(netaddr_is_loopback("localhost:47000", 9));
    CHECK(netaddr_is_loopback("[::1]:47000", 5));
    CHECK(!netaddr_is_loopback("[::1]:47000", 11));
    /* longer than any address: a name, not read past its buffer */
    static char long_name[300];
    memset(long_name, '1', sizeof(long_name) - 1);
    CHECK(!loopback(long_name));
    memcpy(long_name + sizeof(long_name) - 11, ".localhost", 10);
    CHECK(loopback(long_name));
}

static void test_wildcard(void)
{
    CHECK(wildcard("0.0.0.0"));
    CHECK(wildcard("::"));
    CHECK(wildcard("[::]"));
    CHECK(wildcard("0:0:0:0:0:0:0:0"));
    CHECK(!wildcard("0.0.0.1"));
    CHECK(!wildcard("0"));
    CHECK(!wildcard("0.0.0"));
    CHECK(!wildcard("127.0.0.1"));
    CHECK(!wildcard("::1"));
    CHECK(!wildcard("::ffff:0.0.0.0"));
    CHECK(!wildcard("localhost"));
    CHECK(!wildcard(""));
    CHECK(!netaddr_is_wildcard("0.0.0.0x", 8));
    CHECK(netaddr_is_wildcard("0.0.0.0x", 7));
}

static void test_dial_host(void)
{
    char buf[64];
    static const char *const cases[][2] = {
        {"0.0.0.0", "127.0.0.1"},
        {"::", "::1"},
        {"[::]", "::1"},
        {"0:0:0:0:0:0:0:0", "::1"},
        {"127.0.0.1", "127.0.0.1"},
        {"127.0.0.2", "127.0.0.2"},
        {"192.168.1.5", "192.168.1.5"},
        {"::1", "::1"},
        {"[::1]", "::1"},
        {"fe80::1", "fe80::1"},
        {"[2001:db8::5]", "2001:db8::5"},
        {"localhost", "127.0.0.1"},
        {"proxy.internal", "127.0.0.1"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_STR_EQ(netaddr_dial_host(cases[i][0], buf, sizeof(buf)), cases[i][1]);
}

static void test_http_url(void)
{
    char url[64];
    netaddr_http_url(url, sizeof(url), "127.0.0.1", 47000);
    CHECK_STR_EQ(url, "http://127.0.0.1:47000");
    netaddr_http_url(url, sizeof(url), "::1", 47000);
    CHECK_STR_EQ(url, "http://[::1]:47000");
    netaddr_http_url(url, sizeof(url), "::", 8080);
    CHECK_STR_EQ(url, "http://[::]:8080");
    netaddr_http_url(url, sizeof(url), "[::1]", 1);
    CHECK_STR_EQ(url, "http://[::1]:1");
    netaddr_http_url(url, sizeof(url), "localhost", 80);
    CHECK_STR_EQ(url, "http://localhost:80");
}

int main(void)
{
    test_loopback();
    test_wildcard();
    test_dial_host();
    test_http_url();
    CHECK_DONE();
}
