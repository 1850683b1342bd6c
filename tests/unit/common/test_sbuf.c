/* The growable buffer (sbuf.c): appends, formatting, and sbuf_cat's list of strings. */
#include "check.h"
#include "common/sbuf.h"

static void test_cat(void)
{
    sbuf b = SBUF_INIT;
    sbuf_cat(&b, (char *)NULL);
    CHECK(b.data == NULL && b.len == 0);
    sbuf_cat(&b, "POST ", "/model/x/invoke", " HTTP/1.1\r\n", (char *)NULL);
    CHECK_STR_EQ(b.data, "POST /model/x/invoke HTTP/1.1\r\n");
    sbuf_cat(&b, "", "a", "", "b", (char *)NULL);
    CHECK_STR_EQ(b.data, "POST /model/x/invoke HTTP/1.1\r\nab");
    /* the same bytes as sbuf_printf, past the first allocation */
    sbuf p = SBUF_INIT, c = SBUF_INIT;
    char part[40];
    for (int i = 0; i < 200; i++) {
        snprintf(part, sizeof(part), "h%d", i);
        sbuf_printf(&p, "%s:%s\n", part, "value with spaces");
        sbuf_cat(&c, part, ":", "value with spaces", "\n", (char *)NULL);
    }
    CHECK_INT_EQ(p.len, c.len);
    CHECK_STR_EQ(c.data, p.data);
    /* numbers in decimal, as printf writes them */
    static const unsigned long long numbers[] = {0, 1, 9, 10, 99, 100, 115284, 4294967296ull, 18446744073709551615ull};
    sbuf_reset(&p);
    sbuf_reset(&c);
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
        sbuf_printf(&p, "%llu,", numbers[i]);
        sbuf_put_uint(&c, numbers[i]);
        sbuf_putc(&c, ',');
    }
    CHECK_STR_EQ(c.data, p.data);
    sbuf_free(&b);
    sbuf_free(&p);
    sbuf_free(&c);
}

static void test_append_and_reserve(void)
{
    sbuf b = SBUF_INIT;
    sbuf_reserve(&b, 1000);
    CHECK(b.cap >= 1001 && b.len == 0);
    sbuf_append(&b, "abc", 3);
    sbuf_putc(&b, 'd');
    sbuf_puts(&b, "ef");
    CHECK_STR_EQ(b.data, "abcdef");
    sbuf_reset(&b);
    CHECK(b.len == 0 && b.data[0] == '\0');
    sbuf_json_string(&b, "a\"b\n", 4);
    CHECK_STR_EQ(b.data, "\"a\\\"b\\n\"");
    char *s = sbuf_steal(&b);
    CHECK(b.data == NULL && strcmp(s, "\"a\\\"b\\n\"") == 0);
    free(s);
}

int main(void)
{
    test_cat();
    test_append_and_reserve();
    CHECK_DONE();
}
