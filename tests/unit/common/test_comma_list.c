/* Comma-separated lists: items trimmed of spaces and tabs, empty members skipped, only the given
 * length read, membership exact or in any case; the iterator, the callback form and NULL lists. */
#include "check.h"
#include "common/comma_list.h"

static int has(const char *list, const char *item, enum comma_list_case how)
{
    return comma_list_has(list, strlen(list), item, strlen(item), how);
}

/* The items of list joined with '|', to compare as one string. */
static const char *items_n(const char *list, size_t len)
{
    static char out[256];
    size_t o = 0, n;
    out[0] = '\0';
    for (const char *p = list, *item; (item = comma_list_next(&p, list + len, &n)) != NULL;)
        o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%.*s", o ? "|" : "", (int)n, item);
    return out;
}

static const char *items(const char *list) { return items_n(list, strlen(list)); }

static void test_items(void)
{
    CHECK_STR_EQ(items("a,b,c"), "a|b|c");
    CHECK_STR_EQ(items(" a , b\t,\tc "), "a|b|c");
    CHECK_STR_EQ(items(",,a,, ,\t,b,"), "a|b");
    CHECK_STR_EQ(items("one"), "one");
    CHECK_STR_EQ(items(""), "");
    CHECK_STR_EQ(items(" , ,"), "");
    /* blanks inside an item stay; only spaces and tabs are trimmed */
    CHECK_STR_EQ(items("a b, c\r"), "a b|c\r");
    /* only the length given is read */
    CHECK_STR_EQ(items_n("x-ab,cd", 3), "x-a");
    CHECK_STR_EQ(items_n("ab,cd", 3), "ab");
    /* the cursor ends at the end, and asking again gives nothing */
    const char *list = "a, ", *p = list;
    size_t n;
    CHECK(comma_list_next(&p, list + 3, &n) == list && n == 1);
    CHECK(comma_list_next(&p, list + 3, &n) == NULL);
    CHECK(p == list + 3);
    CHECK(comma_list_next(&p, list + 3, &n) == NULL);
}

static void test_has(void)
{
    const char *v = "close, X-Foo ,\tbar\t,,keep-alive";
    CHECK(has(v, "close", COMMA_LIST_EXACT));
    CHECK(has(v, "X-Foo", COMMA_LIST_EXACT));
    CHECK(!has(v, "x-foo", COMMA_LIST_EXACT));
    CHECK(has(v, "x-foo", COMMA_LIST_ANY_CASE));
    CHECK(has(v, "BAR", COMMA_LIST_ANY_CASE));
    CHECK(has(v, "keep-alive", COMMA_LIST_EXACT)); /* after an empty member */
    static const char *const not_items[] = {"x-fo", "x-foo-bar", "foo", "lose", "", " ", "close,", "bar\t"};
    for (size_t i = 0; i < sizeof(not_items) / sizeof(not_items[0]); i++)
        CHECK(!has(v, not_items[i], COMMA_LIST_ANY_CASE));
    /* whole items, not prefixes or suffixes */
    CHECK(!has("oauth-2025-04-20-extra", "oauth-2025-04-20", COMMA_LIST_EXACT));
    CHECK(!has("pre-oauth-2025-04-20", "oauth-2025-04-20", COMMA_LIST_EXACT));
    CHECK(has("a,oauth-2025-04-20", "oauth-2025-04-20", COMMA_LIST_EXACT));
    CHECK(!has("", "a", COMMA_LIST_EXACT));
    CHECK(!comma_list_has(NULL, 0, "a", 1, COMMA_LIST_ANY_CASE));
    CHECK(comma_list_has("x-ab", 3, "x-a", 3, COMMA_LIST_EXACT));
    CHECK(!comma_list_has("x-ab", 3, "x-ab", 4, COMMA_LIST_EXACT));
}

static void collect(void *ud, const char *item, size_t len)
{
    char *out = ud;
    size_t o = strlen(out);
    snprintf(out + o, 64 - o, "%s%.*s", o ? "|" : "", (int)len, item);
}

static void test_each(void)
{
    char out[64] = "";
    const char *betas = " claude-code-20250219 ,interleaved-thinking-2025-05-14,, x";
    comma_list_each(betas, strlen(betas), collect, out);
    CHECK_STR_EQ(out, "claude-code-20250219|interleaved-thinking-2025-05-14|x");
    out[0] = '\0';
    comma_list_each(NULL, 0, collect, out);
    comma_list_each("", 0, collect, out);
    CHECK_STR_EQ(out, "");
}

int main(void)
{
    test_items();
    test_has();
    test_each();
    CHECK_DONE();
}
