/* The config and its secrets (core/config_secrets.c): a load error shows no secret (a string Lua
 * quotes near a syntax error, token-shaped text), a token file or client_keys_file others can read
 * is refused, and a private client_keys_file's keys are read. */
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "config_file.h"
#include "core/config.h"
#include "core/provider.h"
#include "core/provider_state.h"
#include "providers/anthropic.h"
#include "providers/registry.h"

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

/* A token in an error message (the config's own error(), say) is masked, its shape kept. */
static void test_errors_redacted(void)
{
    char err[1024];
    struct {
        const char *text, *want;
    } cases[] = {
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
        CHECK(strstr(err, "SECRETSECRET") == NULL);
        config_release(c);
        unlink(path);
    }
}

/* proxy.check_secret_file, as util.oauth_token uses it: a token file readable by others is refused;
 * a private one's token, or token_command's output, is read trimmed. */
static void test_token_file(void)
{
    char err[1024];
    struct proxy_config *c;
    char *path;
    char *tok = strdup(write_temp("sk-ant-oat01-secretsecretsecret\n"));
    chmod(tok, 0644);
    char text[512];
    snprintf(text, sizeof(text),
             "local util = require 'util'\nreturn { providers = { anthropic = { token = "
             "util.oauth_token{ token_file = '%s' } } } }",
             tok);
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
    static const char *const commands[][2] = {
        {"printf '  sk-ant-oat01-fromcommand \\n\\n'", "sk-ant-oat01-fromcommand"}, {"printf ' \\n '", NULL}};
    for (size_t i = 0; i < 2; i++) {
        snprintf(text, sizeof(text),
                 "local util = require 'util'\nreturn { providers = { anthropic = { token = "
                 "util.oauth_token{ token_file = '%s.missing', token_command = \"%s\" } } } }",
                 tok, commands[i][0]);
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

/* client_keys_file: refused while others can read it; once private, its keys (not its comments or
 * blank lines) are added to client_keys; a missing one is an error. */
static void test_client_keys_file(void)
{
    char err[1024];
    char *keys = strdup(write_temp("# the team's keys\nck-file-one\n\nck-file-two\r\n"));
    chmod(keys, 0644);
    char text[512];
    snprintf(text, sizeof(text),
             "return { providers = { anthropic = {} }, client_keys = { 'ck-inline' },\n"
             "  client_keys_file = '%s' }",
             keys);
    char *path = write_temp(text);
    struct proxy_config *c = config_load(path, err, sizeof(err));
    CHECK(c == NULL);
    CHECK(strstr(err, "readable by other users") != NULL && strstr(err, "ck-file") == NULL);
    chmod(keys, 0600);
    c = config_load(path, err, sizeof(err));
    CHECK(c != NULL);
    if (c != NULL) {
        CHECK_STR_EQ(c->client_keys[0], "ck-inline");
        CHECK_STR_EQ(c->client_keys[1], "ck-file-one");
        CHECK_STR_EQ(c->client_keys[2], "ck-file-two");
        CHECK(c->client_keys[3] == NULL);
        config_release(c);
    }
    unlink(keys);
    c = config_load(path, err, sizeof(err));
    CHECK(c == NULL);
    CHECK(strstr(err, "cannot read client_keys_file") != NULL);
    unlink(path);
    free(keys);
}

int main(void)
{
    provider_types_register(provider_types);
    test_errors_hide_strings();
    test_errors_redacted();
    test_token_file();
    test_client_keys_file();
    provider_state_free_all();
    CHECK_DONE();
}
