/* Loading a config (core/config.c): the built-in default, a file's settings and providers (map
 * and list forms), fallback rules, the order, what --check prints, and each schema error with
 * file:line. Bedrock's model resolution is tested in providers/test_bedrock_models.c; the sandbox,
 * field readers, secrets and request-time calls in test_config_lua, _fields, _secrets and _call. */
#include <unistd.h>
#include "check.h"
#include "config_file.h"
#include "core/config.h"
#include "core/provider.h"
#include "core/provider_state.h"
#include "providers/registry.h"

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

static void test_list_form(void)
{
    char err[1024];
    char *path =
        write_temp("return { port = 47999, order = { 'b', 'a' }, providers = {\n"
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
}

int main(void)
{
    provider_types_register(provider_types);
    test_default();
    test_errors();
    test_list_form();
    provider_state_free_all();
    CHECK_DONE();
}
