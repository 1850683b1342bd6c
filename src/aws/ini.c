#include "aws/ini.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "common/memory.h"

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Calls visit for each key of the section; stops when it returns nonzero. Returns 1 if the
 * section was found. */
static int each_key(const char *path, const char *section, int (*visit)(void *, const char *, const char *), void *ud)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    char line[4096];
    int in_section = 0, found = 0, in_nested = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        int indented = line[0] == ' ' || line[0] == '\t';
        char *s = trim(line);
        if (*s == '\0' || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *end = strchr(s, ']');
            if (end == NULL)
                continue;
            *end = '\0';
            in_section = strcmp(trim(s + 1), section) == 0;
            found |= in_section;
            in_nested = 0;
            continue;
        }
        if (!in_section)
            continue;
        if (indented && in_nested)
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        in_nested = *value == '\0';
        if (visit(ud, key, value))
            break;
    }
    fclose(f);
    return found;
}

struct lookup {
    const char *key;
    char *value;
};

static int match_key(void *ud, const char *key, const char *value)
{
    struct lookup *l = ud;
    if (strcasecmp(key, l->key) != 0)
        return 0;
    free(l->value);
    l->value = xstrdup(value);
    return 1;
}

char *aws_ini_get(const char *path, const char *section, const char *key)
{
    struct lookup l = {key, NULL};
    each_key(path, section, match_key, &l);
    return l.value;
}

static int no_key(void *ud, const char *key, const char *value)
{
    (void)ud, (void)key, (void)value;
    return 1;
}

int aws_ini_has_section(const char *path, const char *section) { return each_key(path, section, no_key, NULL); }
