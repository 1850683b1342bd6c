/* Comma-separated lists as HTTP writes them (RFC 9110 5.6.1): "a, b ,,c" has the items a, b and c.
 * Items are trimmed of the spaces and tabs around them and empty ones are skipped. Used for the
 * Connection header's options and the anthropic-beta list; nothing here is NUL-terminated. */
#ifndef CP_COMMA_LIST_H
#define CP_COMMA_LIST_H
#include <stddef.h>

/* The next item at or after *cursor (before end), its length in *len; *cursor moves past it.
 * NULL when no item is left. Loop as:
 *     for (const char *p = list, *item; (item = comma_list_next(&p, list + n, &len)) != NULL;) */
const char *comma_list_next(const char **cursor, const char *end, size_t *len);

/* Calls fn for each item of the list (NULL is an empty one). */
void comma_list_each(const char *list, size_t len, void (*fn)(void *ud, const char *item, size_t len), void *ud);

enum comma_list_case { COMMA_LIST_EXACT, COMMA_LIST_ANY_CASE };
/* 1 if the list (list may be NULL when len is 0) has an item equal to item, compared as asked:
 * header options are case-insensitive tokens, beta names are compared exactly. */
int comma_list_has(const char *list, size_t len, const char *item, size_t item_len, enum comma_list_case how);

#endif
