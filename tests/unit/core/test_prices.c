/* Prices: lua/prices.lua as shipped, overrides, the id forms a price is found under, the cost. */
#include <lauxlib.h>
#include <lualib.h>
#include <math.h>
#include "check.h"
#include "core/prices.h"

#define CHECK_NEAR(a, b) CHECK(fabs((a) - (b)) < 1e-9)

static void test_model_base(void)
{
    static const char *const cases[][2] = {
        {"claude-opus-5-5", "claude-opus-5-5"},
        {"us.anthropic.claude-opus-5-5", "claude-opus-5-5"},
        {"global.anthropic.claude-sonnet-5-5", "claude-sonnet-5-5"},
        {"anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5"},
        {"claude-sonnet-4-5-20250929", "claude-sonnet-4-5"},
        {"claude-sonnet-4-5[1m]", "claude-sonnet-4-5"},
        {"anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet"},
        {"claude-3-7-sonnet-latest", "claude-3-7-sonnet"},
        {"arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-opus-5-5", "claude-opus-5-5"},
        {"claude-opus-4-6", "claude-opus-4-6"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[128];
        price_model_base(cases[i][0], out, sizeof(out));
        CHECK_STR_EQ(out, cases[i][1]);
    }
}

static lua_State *load_prices_lua(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    char path[4096];
    const char *data = getenv("CP_TEST_DATA");
    snprintf(path, sizeof(path), "%s/../../lua/prices.lua", data ? data : "tests/data");
    CHECK_INT_EQ(luaL_dofile(L, path), LUA_OK);
    return L;
}

static void test_shipped_table(void)
{
    lua_State *L = load_prices_lua();
    struct price_table t = {0};
    char err[300] = "";
    CHECK_INT_EQ(price_table_read(&t, L, -1, "prices.lua", err, sizeof(err)), 0);
    CHECK_STR_EQ(err, "");
    const struct model_price *p = price_lookup(&t, "us.anthropic.claude-opus-5-5");
    CHECK(p != NULL);
    if (p != NULL) {
        CHECK_NEAR(p->input, 4);
        CHECK_NEAR(p->output, 20);
        CHECK_NEAR(p->cache_write, 5);  /* 1.25 x input */
        CHECK_NEAR(p->cache_read, 0.4); /* 0.1 x input */
    }
    p = price_lookup(&t, "claude-fable-5-2");
    CHECK(p != NULL && fabs(p->input - 8) < 1e-9 && fabs(p->output - 40) < 1e-9);
    p = price_lookup(&t, "claude-haiku-5-5");
    CHECK(p != NULL && fabs(p->input - 0.1) < 1e-9 && fabs(p->output - 0.5) < 1e-9);
    p = price_lookup(&t, "claude-sonnet-5-5");
    CHECK(p != NULL && fabs(p->input - 2) < 1e-9);
    CHECK(price_lookup(&t, "claude-sonnet-4-5-20250929") != NULL);
    /* no guessing from a neighbour */
    CHECK(price_lookup(&t, "claude-opus-4-6") == NULL);
    CHECK(price_lookup(&t, "gpt-4") == NULL);
    CHECK(price_lookup(&t, "") == NULL);

    /* cost: 1M input + 100k output + 200k cache write + 2M cache read on Sonnet 5.5 */
    struct usage_counts u = {1000000, 100000, 200000, 2000000, 1};
    CHECK_NEAR(price_cost(price_lookup(&t, "claude-sonnet-5-5"), &u), 2.0 + 1.0 + 0.5 + 0.4);

    /* a provider's override: only what it names changes; a new input price moves the cache prices */
    struct price_table own = {0};
    price_table_copy(&own, &t);
    CHECK_INT_EQ(luaL_dostring(L, "return { ['claude-opus-5-5'] = { input = 4.4 },"
                                  " ['claude-sonnet-5-5'] = { output = 11, cache_read = 0.3 },"
                                  " ['my-model'] = { input = 1, output = 2, cache_write = 0 } }"),
                 LUA_OK);
    CHECK_INT_EQ(price_table_read(&own, L, -1, "providers.b.prices", err, sizeof(err)), 0);
    p = price_lookup(&own, "claude-opus-5-5");
    CHECK(p != NULL && fabs(p->input - 4.4) < 1e-9 && fabs(p->output - 20) < 1e-9 &&
          fabs(p->cache_write - 5.5) < 1e-9 && fabs(p->cache_read - 0.44) < 1e-9);
    p = price_lookup(&own, "claude-sonnet-5-5");
    CHECK(p != NULL && fabs(p->input - 2) < 1e-9 && fabs(p->output - 11) < 1e-9 && fabs(p->cache_read - 0.3) < 1e-9 &&
          fabs(p->cache_write - 2.5) < 1e-9);
    p = price_lookup(&own, "my-model-20260101");
    CHECK(p != NULL && fabs(p->cache_write) < 1e-9 && fabs(p->cache_read - 0.1) < 1e-9);
    /* the shared table is untouched */
    CHECK_NEAR(price_lookup(&t, "claude-opus-5-5")->input, 4);
    CHECK(price_lookup(&t, "my-model") == NULL);

    /* errors name the entry */
    CHECK_INT_EQ(luaL_dostring(L, "return { ['new-model'] = { input = 1 } }"), LUA_OK);
    CHECK_INT_EQ(price_table_read(&own, L, -1, "prices", err, sizeof(err)), -1);
    CHECK(strstr(err, "prices[\"new-model\"] needs input and output") != NULL);
    CHECK_INT_EQ(luaL_dostring(L, "return { ['claude-opus-5-5'] = { input = 'cheap' } }"), LUA_OK);
    CHECK_INT_EQ(price_table_read(&own, L, -1, "prices", err, sizeof(err)), -1);
    CHECK(strstr(err, "prices[\"claude-opus-5-5\"].input must be a price") != NULL);
    price_table_free(&own);
    price_table_free(&t);
    lua_close(L);
}

int main(void)
{
    test_model_base();
    test_shipped_table();
    CHECK_DONE();
}
