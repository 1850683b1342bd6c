/* The config's usage settings: prices (lua/prices.lua, the config's `prices`, a provider's own),
 * the ledger (`usage_db`, `usage_retention_days`) and a provider's `budget`. */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include "core/config.h"
#include "core/config_internal.h"
#include "core/provider.h"
#include "core/ledger.h"
#include "common/memory.h"

int config_read_usage(struct proxy_config *c, lua_State *L, int cidx, char *err, size_t errlen)
{
    if (config_require(c, "prices", err, errlen) != 0)
        return -1;
    int r = price_table_read(&c->prices, L, -1, "prices.lua", err, errlen);
    lua_pop(L, 1);
    if (r != 0)
        return -1;
    config_rawfield(L, cidx, "prices");
    r = lua_isnil(L, -1) ? 0 : price_table_read(&c->prices, L, -1, "prices", err, errlen);
    lua_pop(L, 1);
    if (r != 0)
        return -1;

    config_rawfield(L, cidx, "usage_db");
    if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
        c->usage_db_off = 1;
    } else if (lua_type(L, -1) == LUA_TSTRING && lua_tostring(L, -1)[0] != '\0') {
        c->usage_db = xstrdup(lua_tostring(L, -1));
    } else if (!lua_isnil(L, -1)) {
        snprintf(err, errlen, "config: usage_db must be a file path, or false to keep no ledger");
        lua_pop(L, 1);
        return -1;
    }
    lua_pop(L, 1);
    double days;
    if (config_field_number(L, cidx, "usage_retention_days", &days, 90, 1, 36500, err, errlen) != 0)
        return -1;
    c->usage_retention_days = (unsigned)days;
    return 0;
}

/* budget = { usd_per_day = N, usd_per_month = N } */
static int read_budget(struct provider *p, lua_State *L, int tidx, char *err, size_t errlen)
{
    config_rawfield(L, tidx, "budget");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "config: providers.%s.budget must be a table { usd_per_day = N, usd_per_month = N }",
                 p->name);
        lua_pop(L, 1);
        return -1;
    }
    int b = lua_gettop(L);
    int r = config_field_number(L, b, "usd_per_day", &p->budget_usd_per_day, 0, 0, 1e9, err, errlen) != 0 ||
            config_field_number(L, b, "usd_per_month", &p->budget_usd_per_month, 0, 0, 1e9, err, errlen) != 0;
    lua_pop(L, 1);
    if (r) {
        char inner[300];
        snprintf(inner, sizeof(inner), "%s", err);
        snprintf(err, errlen, "providers.%s.budget: %s", p->name, inner);
        return -1;
    }
    return 0;
}

int config_read_provider_usage(struct proxy_config *c, struct provider *p, lua_State *L, int tidx, char *err,
                               size_t errlen)
{
    if (read_budget(p, L, tidx, err, errlen) != 0)
        return -1;
    config_rawfield(L, tidx, "prices");
    int r = 0;
    if (!lua_isnil(L, -1)) {
        char where[200];
        snprintf(where, sizeof(where), "providers.%s.prices", p->name);
        p->prices = xcalloc(1, sizeof(*p->prices));
        price_table_copy(p->prices, &c->prices);
        r = price_table_read(p->prices, L, -1, where, err, errlen);
    }
    lua_pop(L, 1);
    return r;
}

const struct price_table *config_prices(const struct proxy_config *c, const struct provider *p)
{
    return p != NULL && p->prices != NULL ? p->prices : &c->prices;
}

void config_describe_usage(const struct proxy_config *c, FILE *out)
{
    char buf[4096];
    const char *path = c->usage_db ? c->usage_db : ledger_default_path(buf, sizeof(buf));
    if (c->usage_db_off || path == NULL)
        fprintf(out, "usage ledger: off\n");
    else
        fprintf(out, "usage ledger: %s (rows kept %u days)\n", path, c->usage_retention_days);
    fprintf(out, "prices: %zu models\n", c->prices.n);
    for (size_t i = 0; i < c->num_providers; i++) {
        const struct provider *p = c->providers[i];
        if (p->budget_usd_per_day <= 0 && p->budget_usd_per_month <= 0 && p->prices == NULL)
            continue;
        fprintf(out, "provider %s:", p->name);
        if (p->budget_usd_per_day > 0)
            fprintf(out, " budget $%.2f/day", p->budget_usd_per_day);
        if (p->budget_usd_per_month > 0)
            fprintf(out, " budget $%.2f/month", p->budget_usd_per_month);
        if (p->prices != NULL)
            fprintf(out, " own prices (%zu models)", p->prices->n);
        fputc('\n', out);
    }
}
