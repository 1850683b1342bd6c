/* Config loading (built-in default, files, errors with file:line) and model mapping through
 * lua/models.lua. */
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "config.h"
#include "provider.h"
#include "provider_state.h"

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

    char id[256], route[32];
    static const char *const bedrock[][4] = {
        {"claude-opus-4-6", "us-west-2", "us.anthropic.claude-opus-4-6-v1", "invoke"},
        {"claude-sonnet-4-5-20250929", "eu-central-1", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "invoke"},
        {"claude-sonnet-4-5", "us-east-1", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "invoke"},
        {"claude-haiku-4-5-20251001", "ap-northeast-1", "apac.anthropic.claude-haiku-4-5-20251001-v1:0", "invoke"},
        {"claude-sonnet-5", "us-west-2", "anthropic.claude-sonnet-5", "mantle"},
        {"claude-opus-4-8", "us-west-2", "anthropic.claude-opus-4-8", "mantle"},
        {"us.anthropic.claude-sonnet-4-20250514-v1:0", "us-west-2", "us.anthropic.claude-sonnet-4-20250514-v1:0",
         "invoke"},
        {"claude-sonnet-4-7-20270101", "us-west-2", "us.anthropic.claude-sonnet-4-7-20270101-v1:0", "invoke"},
        {"claude-opus-9", "sa-east-1", "anthropic.claude-opus-9", "mantle"},
    };
    for (size_t i = 0; i < sizeof(bedrock) / sizeof(bedrock[0]); i++) {
        CHECK_INT_EQ(config_model_for_bedrock(c, bedrock[i][0], bedrock[i][1], id, sizeof(id), route, sizeof(route), err,
                                              sizeof(err)),
                     0);
        CHECK_STR_EQ(id, bedrock[i][2]);
        CHECK_STR_EQ(route, bedrock[i][3]);
    }
    CHECK(config_model_for_bedrock(c, "gpt-4o", "us-west-2", id, sizeof(id), route, sizeof(route), err,
                                   sizeof(err)) != 0);
    CHECK(strstr(err, "gpt-4o") != NULL);
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
        {"return { log_level = 'loud', providers = { anthropic = {} } }", "log_level"},
        {"error('custom failure')", ":1: custom failure"},
        {"return 5", "must return a table"},
        {"return { x = 1 'sk-ant-oat01-SECRETSECRETabcd' }", "sk-ant-******************abcd"},
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

int main(void)
{
    test_default();
    test_errors();
    test_list_form_and_secret_file();
    provider_state_free_all();
    CHECK_DONE();
}
