/* Config loading (built-in default, files, errors with file:line) and model mapping through
 * lua/models.lua. */
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <lauxlib.h>
#include "providers/bedrock_request.h"
#include "check.h"
#include "providers/registry.h"
#include "core/config.h"
#include "core/provider.h"
#include "core/provider_state.h"

static char *write_temp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/cp-test-config-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        abort();
    close(fd);
    return path;
}

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
        {"claude-sonnet-4-7-20270101", "eu-west-1", "global", "invoke global.anthropic.claude-sonnet-4-7-20270101-v1:0"},
        {"eu.anthropic.claude-sonnet-4-6", "us-east-1", "global", "invoke eu.anthropic.claude-sonnet-4-6"}, /* the client's */
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
    CHECK_INT_EQ(bedrock_plan_resolve(c, "claude-sonnet-4-6", "claude-sonnet-4-6", "us-east-1", NULL, LUA_NOREF, &plan, err,
                                      sizeof(err)), 0);
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
    CHECK_INT_EQ(bedrock_plan_resolve(c, "claude-sonnet-4-5", "claude-sonnet-4-5", "us-east-1", NULL, LUA_NOREF, &plan, err,
                                      sizeof(err)), 0);
    a = &plan.routes[0].adapt;
    CHECK(a->thinking_budget == 31999);
    int output_config = 0;
    for (size_t i = 0; a->drop_fields[i] != NULL; i++)
        output_config |= strcmp(a->drop_fields[i], "output_config") == 0;
    CHECK(output_config);
    bedrock_plan_free(&plan);
    /* route() or the map chose another model: the history's thinking blocks cannot go along */
    CHECK_INT_EQ(bedrock_plan_resolve(c, "claude-opus-4-6", "claude-sonnet-4-5", "us-east-1", NULL, LUA_NOREF, &plan, err,
                                      sizeof(err)), 0);
    CHECK(!plan.same_model && plan.routes[0].adapt.drop_thinking_blocks);
    bedrock_plan_free(&plan);
    CHECK_INT_EQ(bedrock_plan_resolve(c, "claude-sonnet-4-5-20250929", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                                      "us-east-1", NULL, LUA_NOREF, &plan, err, sizeof(err)), 0);
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
        CHECK_INT_EQ(bedrock_plan_resolve(c, "claude-opus-4-6", "claude-opus-4-6", "us-east-1", NULL, LUA_NOREF, &plan, err,
                                          sizeof(err)), 0);
        CHECK_INT_EQ(plan.num_routes, 2);
        CHECK_INT_EQ(plan.routes[0].route, BEDROCK_MANTLE);
        CHECK_STR_EQ(plan.routes[0].id, "anthropic.claude-opus-4-6");
        CHECK_STR_EQ(plan.routes[1].id, "us.anthropic.claude-opus-4-6-v1");
        const struct bedrock_adaptation *a = &plan.routes[1].adapt;
        CHECK(a->has_allowlist && a->betas_allowed[0] != NULL &&
              strcmp(a->betas_allowed[0], "context-1m-2025-08-07") == 0 && a->betas_allowed[1] == NULL);
        CHECK(plan.routes[0].adapt.has_allowlist); /* every route */
        CHECK(a->drop_fields[0] == NULL); /* an empty list: drop nothing */
        CHECK(a->thinking_budget == 2048);
        bedrock_plan_free(&plan);
        CHECK(bedrock_plan_resolve(c, "claude-opus-4-5", "claude-opus-4-5", "us-east-1", NULL, LUA_NOREF, &plan, err,
                                   sizeof(err)) != 0);
        CHECK(strstr(err, "claude-opus-4-5") != NULL && strstr(err, "betas must be a list") != NULL);
        config_release(c);
    }
    unlink(path);
}

static void test_default(void)
{
    char err[1024];
    unsetenv("PROXY_PORT");
    setenv("COOLDOWN_SECONDS", "120", 1);
    setenv("REQUEST_TIMEOUT", "90", 1);
    struct proxy_config *c = config_load(NULL, err, sizeof(err));
    CHECK(c != NULL);
    if (c == NULL) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK_INT_EQ(c->port, 47000);
    CHECK_STR_EQ(c->listen_host, "127.0.0.1");
    CHECK_INT_EQ(c->timeout_ms, 90000);
    CHECK_INT_EQ(c->max_body, 32 * 1024 * 1024);
    CHECK_INT_EQ(c->order_len, 2);
    CHECK_STR_EQ(c->providers[c->order[0]]->name, "anthropic");
    CHECK_STR_EQ(c->providers[c->order[1]]->name, "bedrock");
    CHECK_INT_EQ(c->providers[c->order[0]]->cooldown_s, 120);
    CHECK(provider_should_fallback_status(c->providers[0], 429));
    CHECK(provider_should_fallback_status(c->providers[0], 529));
    CHECK(!provider_should_fallback_status(c->providers[0], 500));
    CHECK((c->providers[0]->fallback_flags & FALLBACK_429_KINDS) == FALLBACK_429_KINDS);

    char out[256];
    static const char *const cases[][2] = {
        {"us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5-20250929"},
        {"anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku-20241022"},
        {"anthropic.claude-opus-4-6-v1", "claude-opus-4-6"},
        {"eu.anthropic.claude-sonnet-4-6", "claude-sonnet-4-6"},
        {"apac.anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet-20241022"},
        {"claude-opus-4-6[1m]", "claude-opus-4-6"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_INT_EQ(config_model_for_anthropic(c, cases[i][0], out, sizeof(out)), 1);
        CHECK_STR_EQ(out, cases[i][1]);
    }
    CHECK_INT_EQ(config_model_for_anthropic(c, "claude-sonnet-5", out, sizeof(out)), 0);

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
        {"us.anthropic.claude-sonnet-4-20250514-v1:0", "us-west-2", "invoke us.anthropic.claude-sonnet-4-20250514-v1:0"},
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
        CHECK_INT_EQ(bedrock_plan_resolve(c, routes[i][0], routes[i][0], "us-west-2", NULL, LUA_NOREF, &plan, err, sizeof(err)), 0);
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

static void test_errors(void)
{
    char err[1024];
    struct {
        const char *text, *want;
    } cases[] = {
        {"return {\n port = ,\n}\n", ":2:"},
        {"return { providers = { a = { type = 'nope' } } }", "unknown type \"nope\""},
        {"return { port = 'x', providers = { anthropic = {} } }", "'port' must be a number"},
        {"return { port = 70000, providers = { anthropic = {} } }", "out of range"},
        {"return { providers = { anthropic = {} }, order = { 'bedrock' } }", "not a defined provider"},
        {"return { providers = { anthropic = { base_url = 'ftp//x' } } }", "invalid URL"},
        {"return { providers = { anthropic = { fallback_on = { 'sometimes' } } } }", "unknown outcome"},
        {"return { providers = { anthropic = { extra_usage = 'maybe' } } }", "is not \"use\" or \"avoid\""},
        {"return { log_level = 'loud', providers = { anthropic = {} } }", "log_level"},
        {"error('custom failure')", ":1: custom failure"},
        {"return 5", "must return a table"},
        {"return { x = 1 'sk-ant-oat01-SECRETSECRETabcd' }", ":1: '}' expected near <string>"},
        {"error('bad sk-ant-oat01-SECRETSECRETabcd')", "bad sk-ant-******************abcd"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = write_temp(cases[i].text);
        struct proxy_config *c = config_load(path, err, sizeof(err));
        CHECK(c == NULL);
        if (strstr(err, cases[i].want) == NULL)
            fprintf(stderr, "case %zu: error \"%s\" lacks \"%s\"\n", i, err, cases[i].want);
        CHECK(strstr(err, cases[i].want) != NULL);
        config_release(c);
        unlink(path);
    }
}

/* A syntax error quotes the source near it: a string literal there (a client key, not
 * token-shaped) is hidden, file:line and the rest of the message stay. */
static void test_errors_hide_strings(void)
{
    char err[1024];
    struct {
        const char *text, *want;
    } cases[] = {
        {"return {\n  client_keys = { 'ck-KEYone', 'ck-KEYtwo' 'ck-KEYthree' },\n}\n",
         ":2: '}' expected near <string>"},
        {"return {\n  client_keys = { \"ck-KEYone\" \"ck-KEYtwo\" } }\n", ":2: '}' expected"},
        {"return { client_keys = { [[ck-KEYlong]] [==[ck-KEYlong2]==] } }", "near <string>"},
        {"return { client_keys = { 'ck-KEY\\q' } }", ":1: invalid escape sequence near <string>"},
        {"return { client_keys = { \"ck-KEYunfinished\n} }", ":1: unfinished string near <string>"},
        {"return { client_keys = { 'a near \\'ck-KEYquote' 'x' } }", "near <string>"},
        {"return { port = 1 2 }", "near '2'"}, /* not a string: kept */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = write_temp(cases[i].text);
        struct proxy_config *c = config_load(path, err, sizeof(err));
        CHECK(c == NULL);
        if (strstr(err, cases[i].want) == NULL || strstr(err, "KEY") != NULL)
            fprintf(stderr, "case %zu: error \"%s\"\n", i, err);
        CHECK(strstr(err, cases[i].want) != NULL);
        CHECK(strstr(err, path) != NULL);
        CHECK(strstr(err, "KEY") == NULL);
        config_release(c);
        unlink(path);
    }

    /* a require()d file's syntax error comes wrapped in require's */
    char *mod = strdup(write_temp("return { keys = { 'ck-KEYmod' 'x' } }\n"));
    char text[512];
    snprintf(text, sizeof(text), "package.path = '/tmp/cp-test-config-?'\nlocal m = require '%s'\nreturn {}\n",
             mod + strlen("/tmp/cp-test-config-"));
    char *path = write_temp(text);
    struct proxy_config *c = config_load(path, err, sizeof(err));
    CHECK(c == NULL);
    CHECK(strstr(err, "error loading module") != NULL && strstr(err, ":1: '}' expected near <string>") != NULL);
    CHECK(strstr(err, "KEY") == NULL);
    config_release(c);
    unlink(path);
    unlink(mod);
    free(mod);
}

static void test_list_form_and_secret_file(void)
{
    char err[1024];
    char *path = write_temp("return { port = 47999, order = { 'b', 'a' }, providers = {\n"
                            "  { name = 'a', type = 'anthropic', cooldown = 5, fallback_on = { 429, 'timeout', '5xx' } },\n"
                            "  { name = 'b', type = 'anthropic', base_url = 'http://127.0.0.1:1/gw' } } }");
    struct proxy_config *c = config_load(path, err, sizeof(err));
    CHECK(c != NULL);
    if (c != NULL) {
        CHECK_INT_EQ(c->num_providers, 2);
        CHECK_STR_EQ(c->providers[c->order[0]]->name, "b");
        struct provider *a = config_find_provider(c, "a");
        CHECK(a != NULL && a->cooldown_s == 5);
        CHECK(a != NULL && (a->fallback_flags & FALLBACK_TIMEOUT) && provider_should_fallback_status(a, 503));
        CHECK(a != NULL && !(a->fallback_flags & FALLBACK_CONNECT));
        /* a numeric 429 stands for its three kinds */
        CHECK(a != NULL && (a->fallback_flags & FALLBACK_429_KINDS) == FALLBACK_429_KINDS);
        CHECK(a != NULL && a->throttle_cooldown_s == 5 && !a->extra_usage_avoid);
        config_release(c);
    }
    unlink(path);

    /* the kinds of 429 by name, each on its own; extra_usage and throttle_cooldown */
    path = write_temp("return { providers = { a = { type = 'anthropic', fallback_on = { 'throttle', 529 },\n"
                      "  extra_usage = 'avoid', throttle_cooldown = 2 } } }");
    c = config_load(path, err, sizeof(err));
    CHECK(c != NULL);
    if (c != NULL) {
        struct provider *a = c->providers[0];
        CHECK_INT_EQ(a->fallback_flags, FALLBACK_THROTTLE);
        CHECK(provider_should_fallback_status(a, 429) && provider_should_fallback_status(a, 529));
        CHECK(a->extra_usage_avoid && a->throttle_cooldown_s == 2);
        /* --check says so */
        char *text = NULL;
        size_t textlen = 0;
        FILE *f = open_memstream(&text, &textlen);
        config_describe(c, f);
        fclose(f);
        CHECK(strstr(text, "throttle_cooldown 2s, extra_usage avoid, fallback_on throttle,529 {") != NULL);
        free(text);
        config_release(c);
    }
    unlink(path);
    path = write_temp("return { providers = { a = { type = 'anthropic', fallback_on = { 'plan_limit', "
                      "'extra_usage_required' } } } }");
    c = config_load(path, err, sizeof(err));
    CHECK(c != NULL);
    if (c != NULL) {
        CHECK_INT_EQ(c->providers[0]->fallback_flags, FALLBACK_PLAN_LIMIT | FALLBACK_EXTRA_USAGE_REQUIRED);
        config_release(c);
    }
    unlink(path);

    /* a token file readable by others is refused */
    char *tok = strdup(write_temp("sk-ant-oat01-secretsecretsecret\n"));
    chmod(tok, 0644);
    char text[512];
    snprintf(text, sizeof(text), "local util = require 'util'\nreturn { providers = { anthropic = { token = "
             "util.oauth_token{ token_file = '%s' } } } }", tok);
    unsetenv("CLAUDE_CODE_OAUTH_TOKEN");
    path = write_temp(text);
    c = config_load(path, err, sizeof(err));
    CHECK(c == NULL);
    CHECK(strstr(err, "readable by other users") != NULL);
    CHECK(strstr(err, "secretsecret") == NULL);
    chmod(tok, 0600);
    c = config_load(path, err, sizeof(err));
    CHECK(c != NULL);
    config_release(c);
    unlink(path);
    unlink(tok);
    free(tok);
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Metatables the proxy must survive: a "strict table" config (__index errors on unknown keys, a
 * common Lua idiom) loads with its defaults, and an erroring or endless __len on the config's
 * lists, route()'s result or models.list()'s result neither aborts nor hangs the process. */
static void test_hostile_metatables(void)
{
    char err[1024];
    char *path = write_temp(
        "local strict = { __index = function(_, k) error('unknown config key ' .. tostring(k), 2) end }\n"
        "local function S(t) return setmetatable(t, strict) end\n"
        "local forever = { __len = function() while true do end end }\n"
        "local failing = { __len = function() error('hostile __len') end }\n"
        "setmetatable(_G, strict)\n"
        "local models = require 'models'\n"
        "models.list = function() return setmetatable({ 'm1', 'm2' }, failing) end\n"
        "return S({ models = models,\n"
        "  client_keys = setmetatable({ 'ck-one' }, failing),\n"
        "  order = setmetatable({ 'b', 'a' }, forever),\n"
        "  providers = S(setmetatable({ a = S({ type = 'anthropic', fallback_on = setmetatable({ 503 }, failing) }),\n"
        "                               b = S({ type = 'anthropic' }) }, failing)),\n"
        "  route = function(req)\n"
        "    if req.path == '/fail' then return setmetatable({ 'a' }, failing) end\n"
        "    if req.path == '/loop' then return setmetatable({}, forever) end\n"
        "    return S({ 'a' }), nil\n"
        "  end })\n");
    struct proxy_config *c = config_load(path, err, sizeof(err));
    CHECK(c != NULL);
    if (c == NULL) {
        fprintf(stderr, "strict config: %s\n", err);
    } else {
        CHECK_INT_EQ(c->port, 47000); /* absent keys take their defaults */
        CHECK_INT_EQ(c->num_providers, 2);
        CHECK_INT_EQ(c->order_len, 2);
        CHECK_STR_EQ(c->providers[c->order[0]]->name, "b");
        CHECK_STR_EQ(c->client_keys[0], "ck-one");
        struct provider *a = config_find_provider(c, "a");
        CHECK(a != NULL && provider_should_fallback_status(a, 503));
        size_t order[CONFIG_MAX_PROVIDERS];
        char model[64] = "";
        struct route_view view = {"/fail", "claude-sonnet-5", 0, "127.0.0.1", NULL, NULL};
        CHECK_INT_EQ(config_route(c, &view, order, model, sizeof(model)), 1); /* read raw: { 'a' } */
        CHECK_STR_EQ(c->providers[order[0]]->name, "a");
        view.path = "/loop";
        CHECK_INT_EQ(config_route(c, &view, order, model, sizeof(model)), 0);
        view.path = "/";
        CHECK_INT_EQ(config_route(c, &view, order, model, sizeof(model)), 1);
        CHECK_INT_EQ(c->route_errors_logged, 0);
        sbuf list = SBUF_INIT;
        CHECK_INT_EQ(config_model_list(c, &list), 2);
        sbuf_free(&list);
        config_release(c);
    }
    unlink(path);

    /* a strict table that misses a key the config needs: a clear load error */
    path = write_temp("return setmetatable({}, { __index = function(_, k) error('unknown key ' .. k) end })\n");
    c = config_load(path, err, sizeof(err));
    CHECK(c == NULL);
    CHECK(strstr(err, "'providers' must be a table") != NULL);
    config_release(c);
    unlink(path);
}

/* route() is bounded by time as well as by instructions: a few slow calls into C (a backtracking
 * pattern; 40 s of CPU in all) stop at the CPU limit (1 s; 10 s of wall time on a busy machine)
 * instead of holding the event loop. */
static void test_route_time_limit(void)
{
    char err[1024];
    char *path = write_temp("return { providers = { anthropic = {} }, route = function(req)\n"
                            "  local s = string.rep('a', 4000)\n"
                            "  for i = 1, 2000 do s:find('^.-.-b') end\n"
                            "  return { 'anthropic' }\n"
                            "end }\n");
    struct proxy_config *c = config_load(path, err, sizeof(err));
    CHECK(c != NULL);
    if (c != NULL) {
        size_t order[CONFIG_MAX_PROVIDERS];
        struct route_view view = {"/v1/messages", "claude-sonnet-5", 0, "127.0.0.1", NULL, NULL};
        double t0 = seconds_now();
        CHECK_INT_EQ(config_route(c, &view, order, NULL, 0), 0);
        double took = seconds_now() - t0;
        if (took > 12)
            fprintf(stderr, "route() ran %.1f s\n", took);
        CHECK(took < 12);
        CHECK_INT_EQ(c->route_errors_logged, 1);
        config_release(c);
    }
    unlink(path);

    /* the config's own code at load: an endless loop fails the load (a reload keeps the old one) */
    path = write_temp("while true do end\n");
    double t0 = seconds_now();
    c = config_load(path, err, sizeof(err));
    CHECK(c == NULL);
    CHECK(strstr(err, "ran for more than") != NULL);
    CHECK(seconds_now() - t0 < 35);
    config_release(c);
    unlink(path);
}

int main(void)
{
    provider_types_register(provider_types);
    test_default();
    test_model_memory_budget();
    test_errors();
    test_errors_hide_strings();
    test_list_form_and_secret_file();
    test_model_overrides();
    test_hostile_metatables();
    test_route_time_limit();
    provider_state_free_all();
    CHECK_DONE();
}
