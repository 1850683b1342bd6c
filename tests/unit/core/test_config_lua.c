/* The sandbox the config's Lua runs in (core/config_lua.c): each call into it bounded by
 * instructions, CPU time and wall time (a pcall inside cannot catch the limit), the load itself by
 * time, the memory budget, and what the state offers (the embedded lua/ modules, the proxy table). */
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "config_file.h"
#include "core/config.h"
#include "core/provider.h"
#include "core/provider_state.h"
#include "providers/registry.h"

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
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

/* An endless route() stops at the instruction limit, even when it runs its loop inside a pcall. */
static void test_route_instruction_limit(void)
{
    char err[1024];
    char *path = write_temp("return { providers = { anthropic = {} }, route = function(req)\n"
                            "  if req.path == '/caught' then pcall(function() while true do end end) end\n"
                            "  if req.path == '/loop' then while true do end end\n"
                            "  return { 'anthropic' }\n"
                            "end }\n");
    struct proxy_config *c = config_load(path, err, sizeof(err));
    CHECK(c != NULL);
    if (c != NULL) {
        size_t order[CONFIG_MAX_PROVIDERS];
        struct route_view view = {"/loop", "claude-sonnet-5", 0, "127.0.0.1", NULL, NULL};
        CHECK_INT_EQ(config_route(c, &view, order, NULL, 0), 0);
        view.path = "/caught";
        CHECK_INT_EQ(config_route(c, &view, order, NULL, 0), 0);
        CHECK_INT_EQ(c->route_errors_logged, 2);
        view.path = "/"; /* the next call has its own budget */
        CHECK_INT_EQ(config_route(c, &view, order, NULL, 0), 1);
        config_release(c);
    }
    unlink(path);
}

/* A route() asking for more than the memory budget fails inside Lua; the config keeps working. */
static void test_memory_budget(void)
{
    char err[1024];
    char *path = write_temp("return { providers = { anthropic = {} }, route = function(req)\n"
                            "  if req.path == '/big' then local s = string.rep('x', 128 * 1024 * 1024) end\n"
                            "  return { 'anthropic' }\n"
                            "end }\n");
    struct proxy_config *c = config_load(path, err, sizeof(err));
    CHECK(c != NULL);
    if (c != NULL) {
        size_t order[CONFIG_MAX_PROVIDERS];
        struct route_view view = {"/big", "claude-sonnet-5", 0, "127.0.0.1", NULL, NULL};
        CHECK_INT_EQ(config_route(c, &view, order, NULL, 0), 0);
        CHECK_INT_EQ(c->route_errors_logged, 1);
        CHECK(c->lua_bytes < 64u * 1024 * 1024);
        view.path = "/";
        CHECK_INT_EQ(config_route(c, &view, order, NULL, 0), 1);
        config_release(c);
    }
    unlink(path);
}

/* The state has the embedded lua/ modules (require'd without a file) and the proxy table; the
 * default config is no module. */
static void test_state(void)
{
    char err[1024];
    char *path = write_temp("package.path = ''\n"
                            "assert(type(require('models').for_anthropic) == 'function')\n"
                            "assert(type(require('util').oauth_token) == 'function')\n"
                            "assert(type(proxy.version) == 'string' and proxy.version ~= '')\n"
                            "assert(type(proxy.log) == 'function' and type(proxy.check_secret_file) == 'function')\n"
                            "return { providers = { anthropic = {} } }\n");
    struct proxy_config *c = config_load(path, err, sizeof(err));
    if (c == NULL)
        fprintf(stderr, "%s\n", err);
    CHECK(c != NULL);
    config_release(c);
    unlink(path);
    path = write_temp("package.path = ''\nrequire 'claude-proxy'\n");
    c = config_load(path, err, sizeof(err));
    CHECK(c == NULL);
    CHECK(strstr(err, "module 'claude-proxy' not found") != NULL);
    unlink(path);
}

int main(void)
{
    provider_types_register(provider_types);
    test_state();
    test_route_instruction_limit();
    test_memory_budget();
    test_route_time_limit();
    provider_state_free_all();
    CHECK_DONE();
}
