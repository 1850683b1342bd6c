/* Model resolution for Bedrock through lua/models.lua (bedrock_models.c): each model's routes and
 * ids by region and preferred prefix, the per-route adaptation, a models.map entry's overrides,
 * the account's listing (models.bedrock_routes' `listed` argument), and the memory budget it runs
 * under. */
#include <lauxlib.h>
#include <unistd.h>
#include "check.h"
#include "config_file.h"
#include "common/memory.h"
#include "core/config.h"
#include "core/provider_state.h"
#include "providers/bedrock_models.h"
#include "providers/registry.h"

/* The first route of a model as the proxy resolves it: "route id" in out. */
static int first_route(struct proxy_config *c, const char *model, const char *region, const char *prefer, char *out,
                       size_t size, char *err, size_t errlen)
{
    struct bedrock_plan plan;
    if (bedrock_plan_resolve(c, model, model, region, prefer, LUA_NOREF, &plan, err, errlen) != 0)
        return -1;
    snprintf(out, size, "%s %s", bedrock_route_name(plan.routes[0].route), plan.routes[0].id);
    bedrock_plan_free(&plan);
    return 0;
}

/* region_prefix (a preferred profile prefix) wins when the model has that profile. */
static void test_region_prefix(struct proxy_config *c)
{
    static const char *const cases[][4] = {
        {"claude-sonnet-4-5", "us-east-1", "global", "invoke global.anthropic.claude-sonnet-4-5-20250929-v1:0"},
        {"claude-haiku-4-5", "ap-northeast-1", "eu", "invoke eu.anthropic.claude-haiku-4-5-20251001-v1:0"},
        {"claude-haiku-4-5", "ap-northeast-1", "apac", "invoke global.anthropic.claude-haiku-4-5-20251001-v1:0"},
        {"claude-sonnet-4-7-20270101", "eu-west-1", "global",
         "invoke global.anthropic.claude-sonnet-4-7-20270101-v1:0"},
        {"eu.anthropic.claude-sonnet-4-6", "us-east-1", "global",
         "invoke eu.anthropic.claude-sonnet-4-6"}, /* the client's */
        {"claude-opus-4-8", "us-east-1", "global", "invoke global.anthropic.claude-opus-4-8"},
    };
    char err[256], got[300];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_INT_EQ(first_route(c, cases[i][0], cases[i][1], cases[i][2], got, sizeof(got), err, sizeof(err)), 0);
        CHECK_STR_EQ(got, cases[i][3]);
    }
    /* the shipped per-route adaptation: 4.6 and later keep adaptive thinking (as Claude Code sends
     * them to Bedrock) and may send the effort beta; older models get a budget and no output_config */
    struct bedrock_plan plan;
    CHECK_INT_EQ(bedrock_plan_resolve(c, "claude-sonnet-4-6", "claude-sonnet-4-6", "us-east-1", NULL, LUA_NOREF, &plan,
                                      err, sizeof(err)),
                 0);
    CHECK_INT_EQ(plan.num_routes, 3);
    const struct bedrock_adaptation *a = &plan.routes[0].adapt;
    CHECK_INT_EQ(plan.routes[0].route, BEDROCK_INVOKE);
    CHECK(a->thinking_budget == BEDROCK_THINKING_KEEP && a->has_allowlist && !a->version_2026);
    int effort = 0;
    for (size_t i = 0; a->betas_allowed[i] != NULL; i++)
        effort |= strcmp(a->betas_allowed[i], "effort-2025-11-24") == 0;
    CHECK(effort);
    CHECK(strcmp(a->drop_fields[0], "context_management") == 0 && strcmp(a->body_version, "bedrock-2023-05-31") == 0);
    CHECK(!a->hash_user_id && plan.routes[1].adapt.hash_user_id && plan.routes[2].adapt.hash_user_id);
    CHECK(plan.same_model && !a->drop_thinking_blocks);
    bedrock_plan_free(&plan);
    CHECK_INT_EQ(bedrock_plan_resolve(c, "claude-sonnet-4-5", "claude-sonnet-4-5", "us-east-1", NULL, LUA_NOREF, &plan,
                                      err, sizeof(err)),
                 0);
    a = &plan.routes[0].adapt;
    CHECK(a->thinking_budget == 31999);
    int output_config = 0;
    for (size_t i = 0; a->drop_fields[i] != NULL; i++)
        output_config |= strcmp(a->drop_fields[i], "output_config") == 0;
    CHECK(output_config);
    bedrock_plan_free(&plan);
    /* route() or the map chose another model: the history's thinking blocks cannot go along */
    CHECK_INT_EQ(bedrock_plan_resolve(c, "claude-opus-4-6", "claude-sonnet-4-5", "us-east-1", NULL, LUA_NOREF, &plan,
                                      err, sizeof(err)),
                 0);
    CHECK(!plan.same_model && plan.routes[0].adapt.drop_thinking_blocks);
    bedrock_plan_free(&plan);
    CHECK_INT_EQ(bedrock_plan_resolve(c, "claude-sonnet-4-5-20250929", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                                      "us-east-1", NULL, LUA_NOREF, &plan, err, sizeof(err)),
                 0);
    CHECK(plan.same_model);
    bedrock_plan_free(&plan);
}

/* A models.map entry may override the route adaptation for its model. */
static void test_model_overrides(void)
{
    char err[1024];
    char *path = write_temp("local models = require 'models'\n"
                            "models.map['claude-opus-4-6'].betas = { 'context-1m-2025-08-07' }\n"
                            "models.map['claude-opus-4-6'].drop_fields = {}\n"
                            "models.map['claude-opus-4-6'].thinking_budget = 2048\n"
                            "models.map['claude-opus-4-6'].routes = { 'mantle', 'invoke' }\n"
                            "models.map['claude-opus-4-5-20251101'].betas = 'oops'\n"
                            "return { providers = { bedrock = { type = 'bedrock' } }, models = models }\n");
    struct proxy_config *c = config_load(path, err, sizeof(err));
    CHECK(c != NULL);
    if (c != NULL) {
        struct bedrock_plan plan;
        CHECK_INT_EQ(bedrock_plan_resolve(c, "claude-opus-4-6", "claude-opus-4-6", "us-east-1", NULL, LUA_NOREF, &plan,
                                          err, sizeof(err)),
                     0);
        CHECK_INT_EQ(plan.num_routes, 2);
        CHECK_INT_EQ(plan.routes[0].route, BEDROCK_MANTLE);
        CHECK_STR_EQ(plan.routes[0].id, "anthropic.claude-opus-4-6");
        CHECK_STR_EQ(plan.routes[1].id, "us.anthropic.claude-opus-4-6-v1");
        const struct bedrock_adaptation *a = &plan.routes[1].adapt;
        CHECK(a->has_allowlist && a->betas_allowed[0] != NULL &&
              strcmp(a->betas_allowed[0], "context-1m-2025-08-07") == 0 && a->betas_allowed[1] == NULL);
        CHECK(plan.routes[0].adapt.has_allowlist); /* every route */
        CHECK(a->drop_fields[0] == NULL);          /* an empty list: drop nothing */
        CHECK(a->thinking_budget == 2048);
        bedrock_plan_free(&plan);
        CHECK(bedrock_plan_resolve(c, "claude-opus-4-5", "claude-opus-4-5", "us-east-1", NULL, LUA_NOREF, &plan, err,
                                   sizeof(err)) != 0);
        CHECK(strstr(err, "claude-opus-4-5") != NULL && strstr(err, "betas must be a list") != NULL);
        config_release(c);
    }
    unlink(path);
}

static int same_plan(const struct bedrock_plan *a, const struct bedrock_plan *b)
{
    if (a->num_routes != b->num_routes || strcmp(a->model, b->model) != 0 || a->same_model != b->same_model)
        return 0;
    for (size_t i = 0; i < a->num_routes; i++) {
        const struct bedrock_adaptation *x = &a->routes[i].adapt, *y = &b->routes[i].adapt;
        if (a->routes[i].route != b->routes[i].route || strcmp(a->routes[i].id, b->routes[i].id) != 0 ||
            strcmp(x->body_version, y->body_version) != 0 || x->has_allowlist != y->has_allowlist ||
            x->thinking_budget != y->thinking_budget || x->drop_thinking_blocks != y->drop_thinking_blocks ||
            x->drop_tool_strict != y->drop_tool_strict || x->hash_user_id != y->hash_user_id)
            return 0;
        for (size_t j = 0; j <= BEDROCK_MAX_LIST; j++) {
            const char *p = x->betas_allowed[j], *q = y->betas_allowed[j];
            if ((p == NULL) != (q == NULL) || (p != NULL && strcmp(p, q) != 0))
                return 0;
            if (p == NULL)
                break;
        }
    }
    return 1;
}

/* Plans cached per model, client model and listing: the same plan as resolving it, Lua called once
 * per model (a hit returns the entry), errors not kept, the least recently used entry replaced;
 * with a route() hook every call resolves. */
static void test_plan_cache(void)
{
    char err[1024];
    struct proxy_config *c = config_load(NULL, err, sizeof(err));
    CHECK(c != NULL);
    if (c == NULL)
        return;
    struct bedrock_plan_cache *cache = xcalloc(1, sizeof(*cache));
    static const char *const models[] = {
        "claude-opus-4-6", "claude-sonnet-4-5", "claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-5",
        "claude-opus-4-1", "claude-sonnet-4-0", "claude-opus-4-0",  "claude-3-7-sonnet", "claude-opus-4-8"};
    const size_t n = sizeof(models) / sizeof(models[0]);
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < n; i++) {
            const char *client = round == 2 ? "claude-sonnet-4-5" : models[i];
            const struct bedrock_plan *got =
                bedrock_plan_cached(cache, 7, c, models[i], client, "us-east-1", NULL, LUA_NOREF, err, sizeof(err));
            struct bedrock_plan want;
            int r = bedrock_plan_resolve(c, models[i], client, "us-east-1", NULL, LUA_NOREF, &want, err, sizeof(err));
            CHECK((got != NULL) == (r == 0));
            if (got != NULL && r == 0) {
                CHECK(same_plan(got, &want));
                bedrock_plan_free(&want);
            }
        }
    }
    /* ten models through eight entries, three rounds: every call a miss (LRU in a cycle) */
    CHECK_INT_EQ(cache->hits, 0);
    const struct bedrock_plan *a = bedrock_plan_cached(cache, 7, c, "claude-opus-4-8", "claude-sonnet-4-5", "us-east-1",
                                                       NULL, LUA_NOREF, err, sizeof(err));
    const struct bedrock_plan *b = bedrock_plan_cached(cache, 7, c, "claude-opus-4-8", "claude-sonnet-4-5", "us-east-1",
                                                       NULL, LUA_NOREF, err, sizeof(err));
    CHECK(a != NULL && a == b && cache->hits == 2);
    CHECK(a != NULL && !a->same_model && a->routes[0].adapt.drop_thinking_blocks);
    /* another listing, another client model, no client model: resolved again */
    unsigned long misses = cache->misses;
    CHECK(bedrock_plan_cached(cache, 8, c, "claude-opus-4-8", "claude-sonnet-4-5", "us-east-1", NULL, LUA_NOREF, err,
                              sizeof(err)) != NULL);
    const struct bedrock_plan *same = bedrock_plan_cached(cache, 8, c, "claude-opus-4-8", "claude-opus-4-8",
                                                          "us-east-1", NULL, LUA_NOREF, err, sizeof(err));
    CHECK(same != NULL && same->same_model && !same->routes[0].adapt.drop_thinking_blocks);
    CHECK(bedrock_plan_cached(cache, 8, c, "claude-opus-4-8", NULL, "us-east-1", NULL, LUA_NOREF, err, sizeof(err)) !=
          NULL);
    CHECK_INT_EQ(cache->misses, misses + 3);
    /* an unknown model: an error each time, never an entry */
    for (int i = 0; i < 2; i++) {
        err[0] = '\0';
        CHECK(bedrock_plan_cached(cache, 8, c, "gpt-4", "gpt-4", "us-east-1", NULL, LUA_NOREF, err, sizeof(err)) ==
              NULL);
        CHECK(strstr(err, "gpt-4") != NULL);
    }
    CHECK_INT_EQ(cache->misses, misses + 5);
    /* without a cache: resolved, and nothing to own it */
    CHECK(bedrock_plan_cached(NULL, 8, c, "claude-opus-4-8", NULL, "us-east-1", NULL, LUA_NOREF, err, sizeof(err)) ==
          NULL);
    bedrock_plan_cache_free(cache);
    config_release(c);

    /* a route() hook: the models functions are called for every request */
    char *path = write_temp("local models = require 'models'\n"
                            "return { providers = { bedrock = { type = 'bedrock' } }, models = models,\n"
                            "  route = function(req) return { 'bedrock' } end }\n");
    c = config_load(path, err, sizeof(err));
    CHECK(c != NULL);
    if (c != NULL) {
        cache = xcalloc(1, sizeof(*cache));
        for (int i = 0; i < 3; i++) {
            const struct bedrock_plan *p = bedrock_plan_cached(cache, 0, c, "claude-opus-4-6", "claude-opus-4-6",
                                                               "us-east-1", NULL, LUA_NOREF, err, sizeof(err));
            CHECK(p != NULL && p == &cache->uncached &&
                  strcmp(p->routes[0].id, "us.anthropic.claude-opus-4-6-v1") == 0);
        }
        CHECK_INT_EQ(cache->hits + cache->misses, 0);
        bedrock_plan_cache_free(cache);
        config_release(c);
    }
    unlink(path);
}

/* The shipped map: the first route of each model by region, and every route of a few. */
static void test_default_map(void)
{
    char err[1024];
    struct proxy_config *c = config_load(NULL, err, sizeof(err));
    CHECK(c != NULL);
    if (c == NULL) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    static const char *const bedrock[][3] = {
        {"claude-opus-4-6", "us-west-2", "invoke us.anthropic.claude-opus-4-6-v1"},
        {"claude-sonnet-4-5-20250929", "eu-central-1", "invoke eu.anthropic.claude-sonnet-4-5-20250929-v1:0"},
        {"claude-sonnet-4-5", "us-east-1", "invoke us.anthropic.claude-sonnet-4-5-20250929-v1:0"},
        /* only profiles the model has (Haiku 4.5: global, us, eu): no apac. id in Asia */
        {"claude-haiku-4-5-20251001", "ap-northeast-1", "invoke global.anthropic.claude-haiku-4-5-20251001-v1:0"},
        {"claude-sonnet-4-5", "ap-southeast-1", "invoke global.anthropic.claude-sonnet-4-5-20250929-v1:0"},
        {"claude-sonnet-4-5", "ap-northeast-1", "invoke jp.anthropic.claude-sonnet-4-5-20250929-v1:0"},
        {"claude-opus-4-6", "ap-south-1", "invoke apac.anthropic.claude-opus-4-6-v1"},
        {"claude-sonnet-4-20250514", "ap-southeast-2", "invoke apac.anthropic.claude-sonnet-4-20250514-v1:0"},
        {"claude-sonnet-4-6", "sa-east-1", "invoke global.anthropic.claude-sonnet-4-6"},
        {"claude-opus-4-1", "eu-west-1", "invoke us.anthropic.claude-opus-4-1-20250805-v1:0"}, /* its only one */
        /* the current generation: InvokeModel first, as Claude Code's own Bedrock mode */
        {"claude-sonnet-5", "us-west-2", "invoke us.anthropic.claude-sonnet-5"},
        {"claude-opus-4-8", "us-west-2", "invoke us.anthropic.claude-opus-4-8"},
        {"claude-opus-5-5", "us-west-2", "invoke us.anthropic.claude-opus-5-5"},
        {"claude-opus-5-5", "eu-central-1", "invoke eu.anthropic.claude-opus-5-5"},
        {"claude-fable-5-2", "ap-northeast-1", "invoke jp.anthropic.claude-fable-5-2"},
        {"claude-haiku-5-5", "ap-southeast-2", "invoke au.anthropic.claude-haiku-5-5"},
        {"us.anthropic.claude-opus-4-8", "us-west-2", "invoke us.anthropic.claude-opus-4-8"},
        {"global.anthropic.claude-sonnet-5[1m]", "us-west-2", "invoke global.anthropic.claude-sonnet-5"},
        {"us.anthropic.claude-sonnet-4-20250514-v1:0", "us-west-2",
         "invoke us.anthropic.claude-sonnet-4-20250514-v1:0"},
        /* unknown claude-* names by rule, with the region's profile */
        {"claude-sonnet-4-7-20270101", "us-west-2", "invoke us.anthropic.claude-sonnet-4-7-20270101-v1:0"},
        {"claude-opus-9", "sa-east-1", "invoke global.anthropic.claude-opus-9"},
        {"claude-opus-9", "eu-west-3", "invoke eu.anthropic.claude-opus-9"},
    };
    for (size_t i = 0; i < sizeof(bedrock) / sizeof(bedrock[0]); i++) {
        char got[300];
        CHECK_INT_EQ(first_route(c, bedrock[i][0], bedrock[i][1], NULL, got, sizeof(got), err, sizeof(err)), 0);
        CHECK_STR_EQ(got, bedrock[i][2]);
    }
    /* every route of a model: runtime takes the profile id, mantle the bare one */
    static const char *const routes[][4] = {
        {"claude-opus-5-5", "invoke us.anthropic.claude-opus-5-5", "runtime us.anthropic.claude-opus-5-5",
         "mantle anthropic.claude-opus-5-5"},
        {"claude-opus-4-6", "invoke us.anthropic.claude-opus-4-6-v1", "runtime us.anthropic.claude-opus-4-6-v1",
         "mantle anthropic.claude-opus-4-6"},
        {"global.anthropic.claude-opus-4-8", "invoke global.anthropic.claude-opus-4-8",
         "runtime global.anthropic.claude-opus-4-8", "mantle anthropic.claude-opus-4-8"},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        struct bedrock_plan plan;
        CHECK_INT_EQ(
            bedrock_plan_resolve(c, routes[i][0], routes[i][0], "us-west-2", NULL, LUA_NOREF, &plan, err, sizeof(err)),
            0);
        CHECK_INT_EQ(plan.num_routes, 3);
        for (size_t r = 0; r < 3 && r < plan.num_routes; r++) {
            char got[300];
            snprintf(got, sizeof(got), "%s %s", bedrock_route_name(plan.routes[r].route), plan.routes[r].id);
            CHECK_STR_EQ(got, routes[i][r + 1]);
        }
        bedrock_plan_free(&plan);
    }
    struct bedrock_plan none;
    CHECK(bedrock_plan_resolve(c, "gpt-4o", "gpt-4o", "us-west-2", NULL, LUA_NOREF, &none, err, sizeof(err)) != 0);
    CHECK(strstr(err, "gpt-4o") != NULL);
    test_region_prefix(c);
    config_release(c);
}

/* models.bedrock_routes chooses among the profiles the account's listing names. */
static void test_listed_ids(void)
{
    char err[1024];
    struct proxy_config *c = config_load(NULL, err, sizeof(err));
    CHECK(c != NULL);
    if (c == NULL)
        return;
    static const char *const ids[] = {
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "us.anthropic.claude-opus-4-6-v1",
        "global.anthropic.claude-opus-4-6-v1",
        "jp.anthropic.claude-opus-4-6-v1",
        "eu.anthropic.claude-haiku-4-5-20251001-v1:0",
        "global.anthropic.claude-opus-9-9",
        "us.anthropic.claude-fable-7-20270301-v1:0",
        "us.anthropic.claude-fable-7-20270101-v1:0",
        "us.meta.llama3-70b-instruct-v1:0",
        "anthropic.",
        "x",
        ".anthropic.claude-nothing",
    };
    int ref = bedrock_listed_table(c, ids, sizeof(ids) / sizeof(ids[0]));
    static const char *const cases[][4] = {
        /* model, region, region_prefix, id */
        {"claude-sonnet-4-5", "us-west-2", NULL, "global.anthropic.claude-sonnet-4-5-20250929-v1:0"},
        {"claude-opus-4-6", "us-west-2", NULL, "us.anthropic.claude-opus-4-6-v1"},
        {"claude-opus-4-6", "us-west-2", "global", "global.anthropic.claude-opus-4-6-v1"},
        {"claude-opus-4-6", "ap-northeast-1", NULL, "jp.anthropic.claude-opus-4-6-v1"},
        {"claude-opus-4-6", "eu-west-1", NULL, "global.anthropic.claude-opus-4-6-v1"},
        {"claude-opus-4-6", "eu-west-1", "eu", "global.anthropic.claude-opus-4-6-v1"}, /* no eu. in the account */
        {"claude-haiku-4-5", "us-east-1", "us", "eu.anthropic.claude-haiku-4-5-20251001-v1:0"}, /* the only one */
        /* unknown to the static table: the listing names it (undated, and the newest dated) */
        {"claude-opus-9-9", "us-east-1", NULL, "global.anthropic.claude-opus-9-9"},
        {"claude-fable-7", "us-east-1", NULL, "us.anthropic.claude-fable-7-20270301-v1:0"},
        /* not in the listing: the static table */
        {"claude-opus-4-5", "us-east-1", NULL, "us.anthropic.claude-opus-4-5-20251101-v1:0"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct bedrock_plan m;
        CHECK_INT_EQ(
            bedrock_plan_resolve(c, cases[i][0], cases[i][0], cases[i][1], cases[i][2], ref, &m, err, sizeof(err)), 0);
        CHECK_STR_EQ(m.routes[0].id, cases[i][3]);
        CHECK_INT_EQ(m.routes[0].route, BEDROCK_INVOKE);
        CHECK_STR_EQ(m.routes[1].id, cases[i][3]); /* the runtime Messages route takes the same profile id */
        bedrock_plan_free(&m);
    }
    /* without a listing, the static table as before */
    struct bedrock_plan m;
    CHECK_INT_EQ(bedrock_plan_resolve(c, "claude-sonnet-4-5", "claude-sonnet-4-5", "us-west-2", NULL, LUA_NOREF, &m,
                                      err, sizeof(err)),
                 0);
    CHECK_STR_EQ(m.routes[0].id, "us.anthropic.claude-sonnet-4-5-20250929-v1:0");
    bedrock_plan_free(&m);
    luaL_unref(c->L, LUA_REGISTRYINDEX, ref);
    config_release(c);
}

/* models.bedrock_routes runs under the config's memory budget like the rest of its code: a runaway
 * one fails that resolution, and the config keeps working. (Big strings, so that it reaches the
 * budget in a few calls, well within the time limit.) */
static void test_model_memory_budget(void)
{
    char err[1024];
    char *path = write_temp("local models = require 'models'\n"
                            "models.bedrock_routes = function() local t = {}\n"
                            "  for i = 1, 1e9 do t[i] = string.rep(string.rep('x', 65536), 256) .. i end end\n"
                            "return { providers = { bedrock = { type = 'bedrock' } }, models = models }\n");
    struct proxy_config *c = config_load(path, err, sizeof(err));
    CHECK(c != NULL);
    if (c != NULL) {
        struct bedrock_plan plan;
        CHECK(bedrock_plan_resolve(c, "claude-opus-4-6", "claude-opus-4-6", "us-east-1", NULL, LUA_NOREF, &plan, err,
                                   sizeof(err)) != 0);
        CHECK(strstr(err, "not enough memory") != NULL);
        char out[256];
        CHECK_INT_EQ(config_model_for_anthropic(c, "us.anthropic.claude-sonnet-4-5-20250929-v1:0", out, sizeof(out)),
                     1);
        config_release(c);
    }
    unlink(path);
}

int main(void)
{
    provider_types_register(provider_types);
    test_default_map();
    test_model_overrides();
    test_listed_ids();
    test_model_memory_budget();
    test_plan_cache();
    provider_state_free_all();
    CHECK_DONE();
}
