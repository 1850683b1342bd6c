/* Model prices (USD per million tokens), read from lua/prices.lua when a config loads, so that
 * pricing a request is a C lookup, never a Lua call. */
#ifndef CP_PRICES_H
#define CP_PRICES_H
#include <lua.h>
#include <stddef.h>
#include "core/usage.h"

struct model_price {
    char *model; /* the base id: "claude-opus-5-5" */
    double input, output, cache_write, cache_read;
};

struct price_table {
    struct model_price *items;
    size_t n;
};

/* Reads a prices table ({models = {[id] = {input=, output=, cache_write=, cache_read=}}} or the
 * models map itself) at stack index idx, adding to or replacing entries of t. `where` names the
 * table in errors. Returns 0, or -1 with err. */
int price_table_read(struct price_table *t, lua_State *L, int idx, const char *where, char *err, size_t errlen);
void price_table_copy(struct price_table *dst, const struct price_table *src);
void price_table_free(struct price_table *t);

/* The id a price is listed under: no ARN, region prefix or "anthropic.", no -YYYYMMDD date,
 * -vN[:M] version, [1m] or -latest suffix. */
void price_model_base(const char *model, char *out, size_t outsize);
/* The price of a model (any form of its id), or NULL if the table does not list it. */
const struct model_price *price_lookup(const struct price_table *t, const char *model);
/* The same for a name price_model_base() already gave. */
const struct model_price *price_lookup_base(const struct price_table *t, const char *base);
/* USD for the tokens of one answer. */
double price_cost(const struct model_price *p, const struct usage_counts *u);

#endif
