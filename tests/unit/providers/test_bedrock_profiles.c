/* The account's inference profiles: parsing a ListInferenceProfiles page, and models.to_bedrock
 * choosing among the profiles the listing names (lua/models.lua with its `listed` argument). */
#include <lauxlib.h>
#include "providers/bedrock_profiles.h"
#include "providers/bedrock_request.h"
#include "check.h"
#include "providers/registry.h"
#include "core/config.h"
#include "core/provider_state.h"

static void test_parse_page(void)
{
    char **ids = NULL, *next = NULL, err[200];
    size_t n = 0;
    const char *page1 = "{\"inferenceProfileSummaries\":[{\"inferenceProfileId\":\"us.anthropic.claude-opus-4-6-v1\","
                        "\"status\":\"ACTIVE\"},{\"inferenceProfileName\":\"no id\"},{\"inferenceProfileId\":7},"
                        "{\"inferenceProfileId\":\"global.anthropic.claude-opus-5-5\"}],\"nextToken\":\"abc+/=\"}";
    CHECK_INT_EQ(bedrock_profiles_parse_page(page1, strlen(page1), &ids, &n, &next, err, sizeof(err)), 0);
    CHECK_INT_EQ(n, 2);
    CHECK_STR_EQ(ids[0], "us.anthropic.claude-opus-4-6-v1");
    CHECK_STR_EQ(next, "abc+/=");
    free(next);
    const char *page2 = "{\"inferenceProfileSummaries\":[{\"inferenceProfileId\":\"us.meta.llama3-70b\"}]}";
    CHECK_INT_EQ(bedrock_profiles_parse_page(page2, strlen(page2), &ids, &n, &next, err, sizeof(err)), 0);
    CHECK_INT_EQ(n, 3);
    CHECK(next == NULL);
    struct bedrock_profiles_listing l = {ids, n, 0, 1};
    CHECK_INT_EQ(bedrock_profiles_count_claude(&l), 2);
    const char *bad = "{\"message\":\"nope\"}";
    CHECK(bedrock_profiles_parse_page(bad, strlen(bad), &ids, &n, &next, err, sizeof(err)) != 0);
    CHECK(strstr(err, "inferenceProfileSummaries") != NULL);
    CHECK(bedrock_profiles_parse_page("[", 1, &ids, &n, &next, err, sizeof(err)) != 0);
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

static void test_listed_ids(void)
{
    char err[1024];
    struct proxy_config *c = config_load(NULL, err, sizeof(err));
    CHECK(c != NULL);
    if (c == NULL)
        return;
    static const char *const ids[] = {
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "us.anthropic.claude-opus-4-6-v1", "global.anthropic.claude-opus-4-6-v1", "jp.anthropic.claude-opus-4-6-v1",
        "eu.anthropic.claude-haiku-4-5-20251001-v1:0",
        "global.anthropic.claude-opus-9-9",
        "us.anthropic.claude-fable-7-20270301-v1:0", "us.anthropic.claude-fable-7-20270101-v1:0",
        "us.meta.llama3-70b-instruct-v1:0", "anthropic.", "x", ".anthropic.claude-nothing",
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
        CHECK_INT_EQ(bedrock_plan_resolve(c, cases[i][0], cases[i][0], cases[i][1], cases[i][2], ref, &m, err,
                                          sizeof(err)), 0);
        CHECK_STR_EQ(m.routes[0].id, cases[i][3]);
        CHECK_INT_EQ(m.routes[0].route, BEDROCK_INVOKE);
        CHECK_STR_EQ(m.routes[1].id, cases[i][3]); /* the runtime Messages route takes the same profile id */
        bedrock_plan_free(&m);
    }
    /* without a listing, the static table as before */
    struct bedrock_plan m;
    CHECK_INT_EQ(bedrock_plan_resolve(c, "claude-sonnet-4-5", "claude-sonnet-4-5", "us-west-2", NULL, LUA_NOREF, &m, err,
                                      sizeof(err)), 0);
    CHECK_STR_EQ(m.routes[0].id, "us.anthropic.claude-sonnet-4-5-20250929-v1:0");
    bedrock_plan_free(&m);
    luaL_unref(c->L, LUA_REGISTRYINDEX, ref);
    config_release(c);
}

int main(void)
{
    provider_types_register(provider_types);
    test_parse_page();
    test_listed_ids();
    provider_state_free_all();
    CHECK_DONE();
}
