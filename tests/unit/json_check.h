/* JSON checks for the OpenAI translators' tests. JSON in these tests is written with single quotes
 * for readability; dq() turns them into double quotes (\' becomes \", for quotes inside strings).
 * Outputs are compared as parsed JSON, exactly. Include after check.h. */
#ifndef CP_TEST_JSON_CHECK_H
#define CP_TEST_JSON_CHECK_H
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline char *dq(const char *s)
{
    char *d = strdup(s);
    for (char *c = d; *c; c++)
        if (*c == '\'')
            *c = '"';
    return d;
}

/* got and expected (single-quoted) are the same JSON value; prints both otherwise. */
static inline int json_equal(const char *got, size_t got_len, const char *expected_sq, int line)
{
    char *exp = dq(expected_sq);
    cJSON *g = got ? cJSON_ParseWithLength(got, got_len) : NULL, *e = cJSON_Parse(exp);
    int ok = g != NULL && e != NULL && cJSON_Compare(g, e, 1);
    if (!ok)
        fprintf(stderr, "line %d: JSON differs%s\n  got:      %.*s\n  expected: %s\n", line,
                e == NULL ? " (expected is not JSON!)" : "", (int)got_len, got ? got : "(null)", exp);
    cJSON_Delete(g);
    cJSON_Delete(e);
    free(exp);
    return ok;
}

#define CHECK_JSON_EQ(got, got_len, expected)                                                                          \
    do {                                                                                                               \
        check_count++;                                                                                                 \
        if (!json_equal((got), (got_len), (expected), __LINE__))                                                       \
            check_failures++;                                                                                          \
    } while (0)

#endif
