/* A Bedrock provider's settings, from its table in the Lua config and, where the AWS tools and
 * Claude Code read them, the environment: region and profile, the three endpoints, the listing of
 * the account's inference profiles, the API key, the region prefix and the service tier. */
#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "providers/bedrock_internal.h"
#include "aws/credentials.h"
#include "core/config.h"
#include "common/memory.h"

#define API_KEY_MAX 4096

/* The adaptation settings moved to models.adapt (lua/models.lua): say so instead of ignoring them. */
static int check_moved_settings(lua_State *L, int idx, char *err, size_t errlen)
{
    static const char *const moved[] = {"betas_allowed", "drop_fields", "adaptive_thinking_budget",
                                        "mantle_betas_denied", "mantle_drop_fields"};
    for (size_t i = 0; i < sizeof(moved) / sizeof(moved[0]); i++) {
        config_rawfield(L, idx, moved[i]);
        int set = !lua_isnil(L, -1);
        lua_pop(L, 1);
        if (set) {
            snprintf(err, errlen, "config: bedrock's %s is now set per route in models.adapt (see lua/models.lua)",
                     moved[i]);
            return -1;
        }
    }
    return 0;
}

/* api_key_file: the key alone, in a file only its owner can read (mode 0600 or stricter). */
static int read_api_key_file(const char *path, char **out, char *err, size_t errlen)
{
    struct stat st;
    FILE *f = fopen(path, "r");
    if (f == NULL || fstat(fileno(f), &st) != 0) {
        snprintf(err, errlen, "config: api_key_file %s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    if ((st.st_mode & 077) != 0) {
        fclose(f);
        snprintf(err, errlen, "config: api_key_file %s must be readable by its owner only (chmod 600)", path);
        return -1;
    }
    char buf[API_KEY_MAX];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (buf[0] == '\0') {
        snprintf(err, errlen, "config: api_key_file %s is empty", path);
        return -1;
    }
    *out = xstrdup(buf);
    return 0;
}

/* api_key, else api_key_file, else AWS_BEARER_TOKEN_BEDROCK (what Claude Code uses), else none
 * (SigV4 with the AWS credential chain). */
static int read_api_key(struct bedrock *b, lua_State *L, int idx, char *err, size_t errlen)
{
    char *file = NULL;
    if (config_field_string(L, idx, "api_key", &b->api_key, NULL, err, errlen) != 0 ||
        config_field_string(L, idx, "api_key_file", &file, NULL, err, errlen) != 0)
        return -1;
    if (b->api_key != NULL && b->api_key[0] == '\0') {
        free(b->api_key);
        b->api_key = NULL;
    }
    int r = 0;
    if (b->api_key != NULL) {
        b->api_key_source = "api key (config)";
    } else if (file != NULL && file[0] != '\0') {
        r = read_api_key_file(file, &b->api_key, err, errlen);
        b->api_key_source = "api key (api_key_file)";
    } else if (getenv("AWS_BEARER_TOKEN_BEDROCK") != NULL && getenv("AWS_BEARER_TOKEN_BEDROCK")[0] != '\0') {
        b->api_key = xstrdup(getenv("AWS_BEARER_TOKEN_BEDROCK"));
        b->api_key_source = "api key (AWS_BEARER_TOKEN_BEDROCK)";
    }
    free(file);
    if (r == 0 && b->api_key != NULL && strpbrk(b->api_key, "\r\n") != NULL) {
        snprintf(err, errlen, "config: the Bedrock API key must be one line");
        return -1;
    }
    return r;
}

static int check_region_prefix(const char *prefix, char *err, size_t errlen)
{
    static const char *const known[] = {"us", "eu", "apac", "jp", "au", "global", "us-gov"};
    if (prefix == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(prefix, known[i]) == 0)
            return 0;
    snprintf(err, errlen, "config: region_prefix \"%s\" is not one of us, eu, apac, jp, au, global, us-gov", prefix);
    return -1;
}

static const char *nonempty_env(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? v : NULL;
}

/* service_tier, else ANTHROPIC_BEDROCK_SERVICE_TIER (what Claude Code's Bedrock mode sends as
 * X-Amzn-Bedrock-Service-Tier), else none: Bedrock's standard tier. */
static int read_service_tier(struct bedrock *b, lua_State *L, int idx, char *err, size_t errlen)
{
    static const char *const tiers[] = {"default", "flex", "priority"};
    if (config_field_string(L, idx, "service_tier", &b->service_tier, NULL, err, errlen) != 0)
        return -1;
    const char *source = "service_tier";
    if (b->service_tier == NULL) {
        const char *env = nonempty_env("ANTHROPIC_BEDROCK_SERVICE_TIER");
        if (env == NULL)
            return 0;
        b->service_tier = xstrdup(env);
        source = "ANTHROPIC_BEDROCK_SERVICE_TIER";
    }
    for (size_t i = 0; i < sizeof(tiers) / sizeof(tiers[0]); i++)
        if (strcmp(b->service_tier, tiers[i]) == 0)
            return 0;
    snprintf(err, errlen, "config: %s \"%.40s\" is not one of default, flex, priority", source, b->service_tier);
    return -1;
}

/* The config's URL, else the first AWS variable that is set, else the region's default. */
static char *endpoint_or_env(char *configured, const char *env1, const char *env2, const char *fmt, const char *region)
{
    if (configured != NULL)
        return configured;
    const char *env = nonempty_env(env1);
    if (env == NULL)
        env = nonempty_env(env2);
    char url[512];
    if (env == NULL)
        snprintf(url, sizeof(url), fmt, region);
    return xstrdup(env != NULL ? env : url);
}

/* The InvokeModel endpoint: the config's, else AWS_ENDPOINT_URL_BEDROCK_RUNTIME, else
 * AWS_ENDPOINT_URL (the AWS SDKs' order, so test and VPC endpoints set for the AWS tools work
 * here too), else the region's. The Messages-format endpoint has no AWS variable of its own.
 * The control plane (ListInferenceProfiles): control_endpoint, AWS_ENDPOINT_URL_BEDROCK,
 * AWS_ENDPOINT_URL, bedrock.{region}. */
static void resolve_endpoints(struct bedrock *b, char *endpoint, char *mantle, char *control)
{
    char url[512];
    b->control_url = endpoint_or_env(control, "AWS_ENDPOINT_URL_BEDROCK", "AWS_ENDPOINT_URL",
                                     "https://bedrock.%s.amazonaws.com", b->region);
    if (endpoint == NULL) {
        const char *env = nonempty_env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME");
        if (env == NULL)
            env = nonempty_env("AWS_ENDPOINT_URL");
        if (env == NULL)
            snprintf(url, sizeof(url), "https://bedrock-runtime.%s.amazonaws.com", b->region);
        endpoint = xstrdup(env != NULL ? env : url);
    }
    if (mantle == NULL) {
        snprintf(url, sizeof(url), "https://bedrock-mantle.%s.api.aws", b->region);
        mantle = xstrdup(url);
    }
    b->runtime_url = endpoint;
    b->mantle_url = mantle;
}

/* list_profiles (default true), and the listing's timing: list_profiles_interval (seconds
 * between listings, 3600), list_profiles_wait (how long a request waits for the first listing,
 * 5 s), list_profiles_min_refresh (between refreshes after a refused id, 60 s). */
static int read_listing_settings(struct bedrock *b, lua_State *L, int idx, char *err, size_t errlen)
{
    config_rawfield(L, idx, "list_profiles");
    int type = lua_type(L, -1);
    b->list_profiles = type == LUA_TNIL || lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (type != LUA_TNIL && type != LUA_TBOOLEAN) {
        snprintf(err, errlen, "config: list_profiles must be true or false");
        return -1;
    }
    return config_field_number(L, idx, "list_profiles_interval", &b->list_interval_s, 3600, 1, 86400 * 7, err,
                               errlen) != 0 ||
                   config_field_number(L, idx, "list_profiles_wait", &b->list_wait_s, 5, 0, 60, err, errlen) != 0 ||
                   config_field_number(L, idx, "list_profiles_min_refresh", &b->list_min_refresh_s, 60, 0, 86400, err,
                                       errlen) != 0
               ? -1
               : 0;
}

int bedrock_configure(struct provider *p, lua_State *L, int idx, char *err, size_t errlen)
{
    struct bedrock *b = xcalloc(1, sizeof(*b));
    p->impl = b;
    b->listed_ref = LUA_NOREF;
    char *region = NULL, *endpoint = NULL, *mantle = NULL, *control = NULL;
    if (config_field_string(L, idx, "region", &region, NULL, err, errlen) != 0 ||
        config_field_string(L, idx, "control_endpoint", &control, NULL, err, errlen) != 0 ||
        read_listing_settings(b, L, idx, err, errlen) != 0 ||
        config_field_string(L, idx, "profile", &b->profile, NULL, err, errlen) != 0 ||
        config_field_string(L, idx, "endpoint", &endpoint, NULL, err, errlen) != 0 ||
        config_field_string(L, idx, "mantle_endpoint", &mantle, NULL, err, errlen) != 0 ||
        config_field_string(L, idx, "ca_file", &b->ca_file, NULL, err, errlen) != 0 ||
        config_field_string(L, idx, "region_prefix", &b->region_prefix, NULL, err, errlen) != 0 ||
        check_region_prefix(b->region_prefix, err, errlen) != 0 || check_moved_settings(L, idx, err, errlen) != 0 ||
        read_service_tier(b, L, idx, err, errlen) != 0 || read_api_key(b, L, idx, err, errlen) != 0) {
        free(region), free(endpoint), free(mantle), free(control);
        return -1;
    }
    b->region = aws_resolve_region(region, b->profile);
    free(region);
    resolve_endpoints(b, endpoint, mantle, control);
    if (upstream_parse_url(b->runtime_url, &b->runtime_parsed, err, errlen) != 0 ||
        upstream_parse_url(b->mantle_url, &b->mantle_parsed, err, errlen) != 0 ||
        upstream_parse_url(b->control_url, &b->control_parsed, err, errlen) != 0 ||
        upstream_check_tls(&b->runtime_parsed, b->ca_file, err, errlen) != 0 ||
        upstream_check_tls(&b->mantle_parsed, b->ca_file, err, errlen) != 0 ||
        upstream_check_tls(&b->control_parsed, b->ca_file, err, errlen) != 0)
        return -1;
    if (config_url_points_at_proxy(p->config, b->runtime_parsed.host, b->runtime_parsed.port) ||
        config_url_points_at_proxy(p->config, b->mantle_parsed.host, b->mantle_parsed.port) ||
        config_url_points_at_proxy(p->config, b->control_parsed.host, b->control_parsed.port)) {
        snprintf(err, errlen, "an endpoint points at this proxy's own address");
        return -1;
    }
    return 0;
}
