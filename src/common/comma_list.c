#include "common/comma_list.h"
#include <string.h>
#include <strings.h>

static int is_blank(char c) { return c == ' ' || c == '\t'; }

const char *comma_list_next(const char **cursor, const char *end, size_t *len)
{
    const char *p = *cursor;
    while (p != NULL && p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma != NULL ? comma : end, *a = p, *b = stop;
        p = comma != NULL ? comma + 1 : end;
        while (a < b && is_blank(*a))
            a++;
        while (b > a && is_blank(b[-1]))
            b--;
        if (b > a) {
            *cursor = p;
            *len = (size_t)(b - a);
            return a;
        }
    }
    *cursor = end;
    return NULL;
}

void comma_list_each(const char *list, size_t len, void (*fn)(void *ud, const char *item, size_t len), void *ud)
{
    size_t n;
    if (list == NULL)
        return;
    for (const char *p = list, *item; (item = comma_list_next(&p, list + len, &n)) != NULL;)
        fn(ud, item, n);
}

int comma_list_has(const char *list, size_t len, const char *item, size_t item_len, enum comma_list_case how)
{
    size_t n;
    if (list == NULL)
        return 0;
    for (const char *p = list, *it; (it = comma_list_next(&p, list + len, &n)) != NULL;)
        if (n == item_len && (how == COMMA_LIST_ANY_CASE ? strncasecmp(it, item, n) : memcmp(it, item, n)) == 0)
            return 1;
    return 0;
}
