/* Config loading (built-in default, files, errors with file:line) and model mapping through
 * lua/models.lua. Bedrock's model resolution is tested in providers/test_bedrock_models.c. */
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "providers/anthropic.h"
#include "providers/registry.h"
#include "core/config.h"
#include "core/provider.h"
#include "core/provider_state.h"
#include "config_file.h"

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
    config_release(c);
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
    if (c != NULL)
        CHECK_STR_EQ(provider_anthropic_token(c->providers[0]), "sk-ant-oat01-secretsecretsecret"); /* trimmed */
    config_release(c);
    unlink(path);

    /* no token file: token_command's output, trimmed; blank output is no token */
    static const char *const commands[][2] = {{"printf '  sk-ant-oat01-fromcommand \\n\\n'", "sk-ant-oat01-fromcommand"},
                                              {"printf ' \\n '", NULL}};
    for (size_t i = 0; i < 2; i++) {
        snprintf(text, sizeof(text), "local util = require 'util'\nreturn { providers = { anthropic = { token = "
                 "util.oauth_token{ token_file = '%s.missing', token_command = \"%s\" } } } }", tok, commands[i][0]);
        path = write_temp(text);
        c = config_load(path, err, sizeof(err));
        CHECK(c != NULL);
        if (c != NULL) {
            const char *got = provider_anthropic_token(c->providers[0]);
            if (commands[i][1] != NULL)
                CHECK_STR_EQ(got, commands[i][1]);
            else
                CHECK(got == NULL);
        }
        config_release(c);
        unlink(path);
    }
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
    test_errors();
    test_errors_hide_strings();
    test_list_form_and_secret_file();
    test_hostile_metatables();
    test_route_time_limit();
    provider_state_free_all();
    CHECK_DONE();
}
