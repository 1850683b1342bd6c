#include "core/prices.h"
#include <ctype.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/memory.h"

#define MAX_PRICE 1e6 /* USD per million tokens: anything above is a typo */

void price_table_free(struct price_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->items[i].model);
    free(t->items);
    t->items = NULL;
    t->n = 0;
}

void price_table_copy(struct price_table *dst, const struct price_table *src)
{
    dst->n = src->n;
    dst->items = src->n ? xcalloc(src->n, sizeof(*dst->items)) : NULL;
    for (size_t i = 0; i < src->n; i++) {
        dst->items[i] = src->items[i];
        dst->items[i].model = xstrdup(src->items[i].model);
    }
}

static struct model_price *find_exact(const struct price_table *t, const char *base)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->items[i].model, base) == 0)
            return &t->items[i];
    return NULL;
}

static int read_number(lua_State *L, int idx, const char *key, double *out, int *present, const char *where,
                       const char *model, char *err, size_t errlen)
{
    lua_pushstring(L, key);
    lua_rawget(L, idx); /* raw, as the config's other readers (config.c) */
    *present = !lua_isnil(L, -1);
    if (*present) {
        if (lua_type(L, -1) != LUA_TNUMBER || lua_tonumber(L, -1) < 0 || lua_tonumber(L, -1) > MAX_PRICE) {
            snprintf(err, errlen, "config: %s[\"%s\"].%s must be a price in USD per million tokens (0..%g)", where,
                     model, key, MAX_PRICE);
            lua_pop(L, 1);
            return -1;
        }
        *out = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
    return 0;
}

/* One entry {input=, output=, cache_write=, cache_read=} at the top of the stack. */
static int read_entry(struct price_table *t, lua_State *L, const char *model, const char *where, char *err,
                      size_t errlen)
{
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "config: %s[\"%s\"] must be a table {input=, output=, ...}", where, model);
        return -1;
    }
    int idx = lua_gettop(L);
    char base[256];
    price_model_base(model, base, sizeof(base));
    struct model_price *existing = find_exact(t, base), p = {0};
    if (existing != NULL)
        p = *existing;
    int has_in, has_out, has_cw, has_cr;
    if (read_number(L, idx, "input", &p.input, &has_in, where, model, err, errlen) != 0 ||
        read_number(L, idx, "output", &p.output, &has_out, where, model, err, errlen) != 0 ||
        read_number(L, idx, "cache_write", &p.cache_write, &has_cw, where, model, err, errlen) != 0 ||
        read_number(L, idx, "cache_read", &p.cache_read, &has_cr, where, model, err, errlen) != 0)
        return -1;
    if (existing == NULL && (!has_in || !has_out)) {
        snprintf(err, errlen, "config: %s[\"%s\"] needs input and output prices", where, model);
        return -1;
    }
    /* Anthropic's rule, unless the entry says otherwise: a new input price moves them along */
    if (!has_cw && (existing == NULL || has_in))
        p.cache_write = p.input * 1.25;
    if (!has_cr && (existing == NULL || has_in))
        p.cache_read = p.input * 0.1;
    if (existing != NULL) {
        p.model = existing->model;
        *existing = p;
        return 0;
    }
    t->items = xrealloc(t->items, (t->n + 1) * sizeof(*t->items));
    p.model = xstrdup(base);
    t->items[t->n++] = p;
    return 0;
}

int price_table_read(struct price_table *t, lua_State *L, int idx, const char *where, char *err, size_t errlen)
{
    idx = lua_absindex(L, idx);
    if (!lua_istable(L, idx)) {
        snprintf(err, errlen, "config: %s must be a table of model prices", where);
        return -1;
    }
    lua_pushstring(L, "models");
    lua_rawget(L, idx);
    int map = lua_istable(L, -1) ? lua_gettop(L) : idx;
    lua_pushnil(L);
    while (lua_next(L, map) != 0) {
        if (lua_type(L, -2) == LUA_TSTRING && !(map == idx && (strcmp(lua_tostring(L, -2), "source") == 0))) {
            if (read_entry(t, L, lua_tostring(L, -2), where, err, errlen) != 0) {
                lua_settop(L, idx);
                return -1;
            }
        }
        lua_pop(L, 1);
    }
    lua_settop(L, idx);
    return 0;
}

static int ends_with_date(const char *s, size_t n)
{
    if (n < 9 || s[n - 9] != '-')
        return 0;
    for (size_t i = n - 8; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* "-v1", "-v2:0" */
static size_t version_suffix_len(const char *s, size_t n)
{
    size_t i = n;
    while (i > 0 && (isdigit((unsigned char)s[i - 1]) || s[i - 1] == ':'))
        i--;
    if (i < n && i >= 2 && s[i - 1] == 'v' && s[i - 2] == '-')
        return n - (i - 2);
    return 0;
}

void price_model_base(const char *model, char *out, size_t outsize)
{
    const char *s = model;
    const char *slash = strrchr(s, '/'); /* an ARN: ...:inference-profile/us.anthropic.claude-... */
    if (strncmp(s, "arn:", 4) == 0 && slash != NULL)
        s = slash + 1;
    const char *vendor = strstr(s, "anthropic.");
    if (vendor != NULL)
        s = vendor + 10;
    size_t n = strlen(s);
    for (int changed = 1; changed;) {
        changed = 0;
        if (n >= 4 && memcmp(s + n - 4, "[1m]", 4) == 0)
            n -= 4, changed = 1;
        size_t v = version_suffix_len(s, n);
        if (v != 0)
            n -= v, changed = 1;
        if (ends_with_date(s, n))
            n -= 9, changed = 1;
        if (n >= 7 && memcmp(s + n - 7, "-latest", 7) == 0)
            n -= 7, changed = 1;
    }
    if (outsize == 0)
        return;
    if (n >= outsize)
        n = outsize - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

const struct model_price *price_lookup(const struct price_table *t, const char *model)
{
    if (t == NULL || model == NULL || model[0] == '\0')
        return NULL;
    char base[256];
    price_model_base(model, base, sizeof(base));
    return find_exact(t, base);
}

const struct model_price *price_lookup_base(const struct price_table *t, const char *base)
{
    if (t == NULL || base == NULL || base[0] == '\0')
        return NULL;
    return find_exact(t, base);
}

double price_cost(const struct model_price *p, const struct usage_counts *u)
{
    return ((double)u->input * p->input + (double)u->output * p->output + (double)u->cache_write * p->cache_write +
            (double)u->cache_read * p->cache_read) /
           1e6;
}
