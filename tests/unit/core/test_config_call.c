/* The calls into the config's Lua at request time (core/config_call.c): the Anthropic name of a
 * model, the model list, and route(req): what it sees, the order and model it returns, a name it
 * gets wrong. */
#include <unistd.h>
#include "check.h"
#include "config_file.h"
#include "core/config.h"
#include "core/provider.h"
#include "core/provider_state.h"
#include "providers/registry.h"

/* The shipped map: Bedrock-form ids become Anthropic names; an Anthropic name stays. */
static void test_model_for_anthropic(void)
{
    char err[1024];
    struct proxy_config *c = config_load(NULL, err, sizeof(err));
    CHECK(c != NULL);
    if (c == NULL) {
        fprintf(stderr, "%s\n", err);
        return;
    }
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

static void test_model_list(void)
{
    char err[1024];
    char *path = write_temp("local models = require 'models'\n"
                            "models.list = function() return { 'claude-a', 'claude-\\\"b', 7 } end\n"
                            "return { providers = { anthropic = {} }, models = models }\n");
    struct proxy_config *c = config_load(path, err, sizeof(err));
    CHECK(c != NULL);
    if (c != NULL) {
        sbuf out = SBUF_INIT;
        CHECK_INT_EQ(config_model_list(c, &out), 3); /* a number is a string to Lua */
        CHECK_STR_EQ(out.data,
                     "{\"id\":\"claude-a\",\"object\":\"model\",\"created\":0,\"owned_by\":\"anthropic\"},"
                     "{\"id\":\"claude-\\\"b\",\"object\":\"model\",\"created\":0,\"owned_by\":\"anthropic\"},"
                     "{\"id\":\"7\",\"object\":\"model\",\"created\":0,\"owned_by\":\"anthropic\"}");
        sbuf_free(&out);
        config_release(c);
    } else {
        fprintf(stderr, "%s\n", err);
    }
    unlink(path);
}

/* route(req) sees the request's path, model, stream flag, client and headers; its list becomes the
 * order and its second result the model. An unknown name is skipped and logged once. */
static void test_route(void)
{
    char err[1024];
    char *path = write_temp("return { providers = { a = { type = 'anthropic' }, b = { type = 'anthropic' } },\n"
                            "  route = function(req)\n"
                            "    if req.path == '/v1/messages' and req.model == 'claude-x' and req.stream and\n"
                            "       req.client == '127.0.0.2' and req.headers['x-pick'] == 'b' then\n"
                            "      return { 'b', 'a' }, 'claude-y'\n"
                            "    end\n"
                            "    if req.path == '/static' then return nil end\n"
                            "    return { 'nope', 'a' }\n"
                            "  end }\n");
    struct proxy_config *c = config_load(path, err, sizeof(err));
    CHECK(c != NULL);
    if (c != NULL) {
        size_t order[CONFIG_MAX_PROVIDERS];
        char model[64] = "";
        static const char *const names[] = {"x-pick", NULL}, *const values[] = {"b", NULL};
        struct route_view view = {"/v1/messages", "claude-x", 1, "127.0.0.2", names, values};
        CHECK_INT_EQ(config_route(c, &view, order, model, sizeof(model)), 2);
        CHECK_STR_EQ(c->providers[order[0]]->name, "b");
        CHECK_STR_EQ(c->providers[order[1]]->name, "a");
        CHECK_STR_EQ(model, "claude-y");
        model[0] = '\0';
        view.path = "/static"; /* no list: the static order */
        CHECK_INT_EQ(config_route(c, &view, order, model, sizeof(model)), 0);
        CHECK_STR_EQ(model, "");
        CHECK_INT_EQ(c->route_errors_logged, 0);
        view.path = "/other";
        CHECK_INT_EQ(config_route(c, &view, order, model, sizeof(model)), 1);
        CHECK_STR_EQ(c->providers[order[0]]->name, "a");
        CHECK_INT_EQ(c->route_errors_logged, 1);
        config_release(c);
    } else {
        fprintf(stderr, "%s\n", err);
    }
    unlink(path);
}

int main(void)
{
    provider_types_register(provider_types);
    test_model_for_anthropic();
    test_model_list();
    test_route();
    provider_state_free_all();
    CHECK_DONE();
}
