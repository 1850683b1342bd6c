/* AWS Bedrock with the proxy's own AWS credentials (SigV4 and the credential chain) or a Bedrock
 * API key, model ids and routes from lua/models.lua, three routes (bedrock_routes.h):
 *   invoke:  bedrock-runtime InvokeModel / InvokeModelWithResponseStream (event-stream -> SSE)
 *   runtime: bedrock-runtime's Messages API (/anthropic/v1/messages), native SSE
 *   mantle:  bedrock-mantle's Messages API, native SSE
 * A model's routes are tried in order: a route that answers that it does not serve the model
 * hands the same request to the next one (retry_on_error), and the process remembers it. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <lauxlib.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "providers/anthropic_auth.h"
#include "providers/bedrock.h"
#include "aws/credentials.h"
#include "providers/bedrock_profiles.h"
#include "providers/bedrock_models.h"
#include "providers/bedrock_request.h"
#include "providers/bedrock_routes.h"
#include "providers/bedrock_stream.h"
#include "core/body_filter.h"
#include "core/config.h"
#include "core/headers.h"
#include "core/errors.h"
#include "common/http_client.h"
#include "common/log.h"
#include "core/provider.h"
#include "common/redact.h"
#include "aws/sigv4.h"
#include "common/upstream.h"
#include "common/memory.h"

#define CREDENTIAL_PROCESS_TIMEOUT_MS 30000
#define API_KEY_MAX 4096

struct bedrock {
    char *region, *profile, *ca_file;
    char *region_prefix; /* preferred inference profile prefix, or NULL */
    char *service_tier;  /* default, flex or priority: sent as x-amzn-bedrock-service-tier; NULL: none */
    char *runtime_url, *mantle_url;
    struct upstream_url runtime_parsed, mantle_parsed;
    struct upstream *runtime, *mantle;
    struct aws_cred_source *creds;
    /* model ids from the account's inference profiles (bedrock_profiles.h) */
    char *control_url;
    struct upstream_url control_parsed;
    int list_profiles;
    double list_interval_s, list_wait_s, list_min_refresh_s;
    struct bedrock_profiles *profiles;
    int listed_ref;             /* models.to_bedrock's `listed` table in this config's state */
    uint64_t listed_serial;     /* the listing it was built from */
    char refused_id[256];       /* refused as invalid; a retry waits for the listing to name another */
    char *api_key;              /* a Bedrock API key: Authorization: Bearer instead of SigV4 */
    const char *api_key_source; /* where it came from, for /health */
};

/* ------------------------------------------------------------------------------------------ */
/* Configuration */

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

static int bedrock_configure(struct provider *p, lua_State *L, int idx, char *err, size_t errlen)
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
        upstream_parse_url(b->control_url, &b->control_parsed, err, errlen) != 0)
        return -1;
    if (config_url_points_at_proxy(p->config, b->runtime_parsed.host, b->runtime_parsed.port) ||
        config_url_points_at_proxy(p->config, b->mantle_parsed.host, b->mantle_parsed.port) ||
        config_url_points_at_proxy(p->config, b->control_parsed.host, b->control_parsed.port)) {
        snprintf(err, errlen, "an endpoint points at this proxy's own address");
        return -1;
    }
    return 0;
}

static int bedrock_start(struct provider *p, h2o_context_t *ctx, char *err, size_t errlen)
{
    struct bedrock *b = p->impl;
    uint64_t timeout = p->config->timeout_ms;
    if ((b->runtime = upstream_get(ctx, b->runtime_url, b->ca_file, timeout, err, errlen)) == NULL ||
        (b->mantle = upstream_get(ctx, b->mantle_url, b->ca_file, timeout, err, errlen)) == NULL)
        return -1;
    if (b->api_key != NULL)
        return 0; /* no AWS credentials, so no listing: the control plane takes SigV4 */
    b->creds = aws_cred_source_new(ctx->loop, b->profile, CREDENTIAL_PROCESS_TIMEOUT_MS);
    if (b->list_profiles) {
        struct bedrock_profiles_settings s = {p->name,
                                              b->control_url,
                                              b->region,
                                              b->ca_file,
                                              timeout,
                                              (unsigned)b->list_interval_s,
                                              (unsigned)(b->list_wait_s * 1000),
                                              (unsigned)b->list_min_refresh_s};
        if ((b->profiles = bedrock_profiles_start(ctx, &s, b->creds, err, errlen)) == NULL)
            return -1;
    }
    return 0;
}

static const char *bedrock_problem(struct provider *p)
{
    struct bedrock *b = p->impl;
    if (b->creds == NULL)
        return NULL; /* --check: credentials are looked up when the config goes live */
    return aws_cred_source_problem(b->creds);
}

static void bedrock_describe(struct provider *p, sbuf *out)
{
    struct bedrock *b = p->impl;
    sbuf_json_field(out, "region", b->region);
    sbuf_json_field(out, "endpoint", b->runtime_parsed.origin);
    sbuf_json_field(out, "mantle_endpoint", b->mantle_parsed.origin);
    sbuf_json_field(out, "control_endpoint", b->control_parsed.origin);
    if (b->region_prefix != NULL)
        sbuf_json_field(out, "region_prefix", b->region_prefix);
    if (b->service_tier != NULL)
        sbuf_json_field(out, "service_tier", b->service_tier);
    if (b->api_key != NULL) {
        char tail[REDACT_BUFSZ], kind[96];
        snprintf(kind, sizeof(kind), "%s %s", b->api_key_source, redact_secret(b->api_key, strlen(b->api_key), tail));
        sbuf_json_field(out, "credentials", kind);
        sbuf_puts(out, ",\"model_ids\":{\"source\":\"static\",\"reason\":\"an API key: no listing\"}");
    } else if (b->creds != NULL) {
        sbuf_json_field(out, "credentials", aws_cred_source_kind(b->creds));
    }
    if (b->profiles != NULL) {
        sbuf_putc(out, ',');
        bedrock_profiles_describe(b->profiles, out);
    } else if (b->creds != NULL) {
        sbuf_puts(out, ",\"model_ids\":{\"source\":\"static\",\"reason\":\"list_profiles = false\"}");
    }
    bedrock_route_describe(p->name, out);
}

static void bedrock_destroy(struct provider *p)
{
    struct bedrock *b = p->impl;
    if (b == NULL)
        return;
    bedrock_profiles_free(b->profiles); /* before the credentials it uses */
    if (b->creds != NULL)
        aws_cred_source_free(b->creds);
    free(b->control_url);
    free(b->region), free(b->profile), free(b->ca_file), free(b->region_prefix), free(b->service_tier),
        free(b->runtime_url), free(b->mantle_url);
    if (b->api_key != NULL)
        OPENSSL_cleanse(b->api_key, strlen(b->api_key));
    free(b->api_key);
    free(b);
}

/* ------------------------------------------------------------------------------------------ */
/* Requests */

struct pending_sign {
    struct provider *p;
    const struct client_request *cr;
    struct upstream_request *out;
    provider_prepared_cb done;
    void *ud;
    struct bedrock_profiles_wait *listing_wait; /* for the first listing of the account's profiles */
    struct aws_creds_wait *wait;
    struct upstream *target;
    int mantle;         /* the Messages-format route, signed for service bedrock-mantle */
    sbuf path;          /* as sent and as signed: the endpoint's path prefix, then the operation's */
    sbuf extra_headers; /* unsigned-by-name headers also sent (anthropic-version for mantle) */
    char content_type[48], accept[64];
};

static void pending_free(struct pending_sign *ps)
{
    sbuf_free(&ps->path);
    sbuf_free(&ps->extra_headers);
    free(ps);
}

static void pending_done(struct pending_sign *ps, const char *type, const char *message)
{
    provider_prepared_cb done = ps->done;
    void *ud = ps->ud;
    pending_free(ps);
    done(ud, type, message);
}

static void append_header(sbuf *h, const char *name, const char *value) { sbuf_printf(h, "%s: %s\r\n", name, value); }

static int sign(struct pending_sign *ps, const struct aws_creds *creds, struct sigv4_result *r)
{
    struct bedrock *b = ps->p->impl;
    /* the service tier is signed, as the AWS SDKs sign it: it decides what the request costs */
    struct sigv4_header headers[4] = {
        {"host", ps->target->host_header},
        {"content-type", ps->content_type},
        {"accept", ps->accept},
        {"x-amzn-bedrock-service-tier", b->service_tier},
    };
    size_t num_headers = b->service_tier != NULL ? 4 : 3;
    const char *path = ps->path.data;
    const char *q = strchr(path, '?');
    char path_only[2048];
    snprintf(path_only, sizeof(path_only), "%.*s", (int)(q ? (size_t)(q - path) : strlen(path)), path);
    struct upstream_request *out = ps->out;
    struct sigv4_request req = {"POST",      path_only,      q ? q + 1 : NULL, headers,
                                num_headers, out->body.base, out->body.len};
    struct sigv4_credentials c = {creds->access_key_id, creds->secret_access_key, creds->session_token};
    struct sigv4_options opt = {b->region, ps->mantle ? "bedrock-mantle" : "bedrock", time(NULL), 1, 1, 1};
    memset(r, 0, sizeof(*r));
    return sigv4_sign(&req, &c, &opt, r);
}

/* The request head: signed (creds and r), or with the API key (both NULL). */
static void write_head(struct pending_sign *ps, const struct aws_creds *creds, const struct sigv4_result *r)
{
    sbuf *h = &ps->out->head;
    sbuf_printf(h, "POST %s HTTP/1.1\r\n", ps->path.data);
    append_header(h, "host", ps->target->host_header);
    append_header(h, "content-type", ps->content_type);
    append_header(h, "accept", ps->accept);
    const char *tier = ((struct bedrock *)ps->p->impl)->service_tier;
    if (tier != NULL)
        append_header(h, "x-amzn-bedrock-service-tier", tier);
    sbuf_printf(h, "content-length: %zu\r\nconnection: keep-alive\r\n", ps->out->body.len);
    if (r != NULL) {
        append_header(h, "x-amz-date", r->amz_date);
        append_header(h, "x-amz-content-sha256", r->payload_hash);
        if (creds->session_token != NULL)
            append_header(h, "x-amz-security-token", creds->session_token);
        append_header(h, "authorization", r->authorization);
    } else {
        sbuf_printf(h, "authorization: Bearer %s\r\n", ((struct bedrock *)ps->p->impl)->api_key);
    }
    if (ps->extra_headers.len)
        sbuf_append(h, ps->extra_headers.data, ps->extra_headers.len);
    sbuf_puts(h, "\r\n");
}

static void on_credentials(void *ud, const struct aws_creds *creds, const char *cred_err)
{
    struct pending_sign *ps = ud;
    if (creds == NULL) {
        char msg[400];
        snprintf(msg, sizeof(msg), "no usable AWS credentials: %s", cred_err ? cred_err : "unknown error");
        pending_done(ps, "authentication_error", msg);
        return;
    }
    struct sigv4_result r;
    if (sign(ps, creds, &r) != 0) {
        sigv4_result_free(&r);
        pending_done(ps, "api_error", "cannot sign the Bedrock request");
        return;
    }
    write_head(ps, creds, &r);
    sigv4_result_free(&r);
    pending_done(ps, NULL, NULL);
}

/* The base id for CountTokens, which takes no cross-region profile prefix. */
static const char *strip_profile_prefix(const char *id)
{
    const char *dot = strchr(id, '.');
    if (dot != NULL && strncmp(dot + 1, "anthropic.", 10) == 0)
        return dot + 1;
    return id;
}

static void base64(const char *data, size_t len, sbuf *out)
{
    size_t n = 4 * ((len + 2) / 3);
    sbuf_reserve(out, n + 1);
    EVP_EncodeBlock((unsigned char *)out->data + out->len, (const unsigned char *)data, (int)len);
    out->len += n;
    out->data[out->len] = '\0';
}

static void warn_removed(struct provider *p, const struct bedrock_route_plan *rp, const sbuf *removed)
{
    if (removed->len)
        log_warn("%s: removed what Bedrock does not take from a request for %s (%s): %s", p->name, rp->id,
                 bedrock_route_name(rp->route), removed->data);
}

/* The Messages API (runtime or mantle): the body keeps its shape, with the route's model id;
 * version and betas are headers. */
static void prepare_messages(struct provider *p, const struct client_request *cr, const struct bedrock_route_plan *rp,
                             struct pending_sign *ps, struct upstream_request *out)
{
    struct bedrock *b = p->impl;
    const struct bedrock_adaptation *a = &rp->adapt;
    ps->mantle = rp->route == BEDROCK_MANTLE;
    ps->target = ps->mantle ? b->mantle : b->runtime;
    out->response_format = cr->endpoint == ENDPOINT_COUNT_TOKENS ? RESPONSE_TOKEN_COUNT : RESPONSE_NATIVE;
    const h2o_iovec_t *beta = headers_client(cr->req, "anthropic-beta");
    sbuf removed = SBUF_INIT;
    bedrock_request_body(cr->scan, rp->route, a, rp->id, NULL, 0, 0, &out->owned_body, &removed);
    warn_removed(p, rp, &removed);
    sbuf_free(&removed);
    /* count_tokens on bedrock-mantle is documented by AWS (user guide, count-tokens-mantle) */
    sbuf_printf(&ps->path, "%s/anthropic/v1/messages%s", ps->target->base_path,
                cr->endpoint == ENDPOINT_COUNT_TOKENS ? "/count_tokens" : "");
    /* 2023-06-01, unless the client asked for 2026-10-21 and the model takes it (4.7 and later) */
    const h2o_iovec_t *version = headers_client(cr->req, "anthropic-version");
    int v2026 = a->version_2026 && version != NULL && h2o_memis(version->base, version->len, H2O_STRLIT("2026-10-21"));
    sbuf_printf(&ps->extra_headers, "anthropic-version: %s\r\n", v2026 ? "2026-10-21" : "2023-06-01");
    sbuf betas = SBUF_INIT;
    bedrock_header_betas(beta ? beta->base : NULL, beta ? beta->len : 0, a, &betas);
    if (betas.len)
        sbuf_printf(&ps->extra_headers, "anthropic-beta: %s\r\n", betas.data);
    sbuf_free(&betas);
    if (cr->stream && cr->endpoint != ENDPOINT_COUNT_TOKENS)
        snprintf(ps->accept, sizeof(ps->accept), "text/event-stream");
}

static void prepare_invoke(struct provider *p, const struct client_request *cr, const struct bedrock_route_plan *rp,
                           struct pending_sign *ps, struct upstream_request *out)
{
    struct bedrock *b = p->impl;
    ps->target = b->runtime;
    const h2o_iovec_t *beta = headers_client(cr->req, "anthropic-beta");
    const char *beta_p = beta ? beta->base : NULL;
    size_t beta_len = beta ? beta->len : 0;
    sbuf encoded = SBUF_INIT, removed = SBUF_INIT;
    if (cr->endpoint == ENDPOINT_COUNT_TOKENS) {
        out->response_format = RESPONSE_AWS_TOKEN_COUNT;
        sbuf inner = SBUF_INIT;
        bedrock_request_body(cr->scan, BEDROCK_INVOKE, &rp->adapt, rp->id, beta_p, beta_len, 1, &inner, &removed);
        sbuf_puts(&out->owned_body, "{\"input\":{\"invokeModel\":{\"body\":\"");
        base64(inner.data, inner.len, &out->owned_body);
        sbuf_puts(&out->owned_body, "\"}}}");
        sbuf_free(&inner);
        const char *base_id = strip_profile_prefix(rp->id);
        sigv4_uri_encode(&encoded, base_id, strlen(base_id), 1);
        sbuf_printf(&ps->path, "%s/model/%s/count-tokens", ps->target->base_path, encoded.data);
    } else {
        bedrock_request_body(cr->scan, BEDROCK_INVOKE, &rp->adapt, rp->id, beta_p, beta_len, 0, &out->owned_body,
                             &removed);
        sigv4_uri_encode(&encoded, rp->id, strlen(rp->id), 1);
        sbuf_printf(&ps->path, "%s/model/%s/%s", ps->target->base_path, encoded.data,
                    cr->stream ? "invoke-with-response-stream" : "invoke");
        if (cr->stream) {
            out->response_format = RESPONSE_EVENTSTREAM;
            snprintf(ps->accept, sizeof(ps->accept), "application/vnd.amazon.eventstream");
        }
    }
    warn_removed(p, rp, &removed);
    sbuf_free(&removed);
    sbuf_free(&encoded);
}

static int route_serves_endpoint(enum bedrock_route r, int endpoint)
{
    /* the runtime Messages route has no count_tokens: it answers 200 with UnknownOperationException */
    return endpoint != ENDPOINT_COUNT_TOKENS || r != BEDROCK_RUNTIME;
}

/* What the route memory is keyed by: the model as the client (or route()) named it, per endpoint
 * (CountTokens does not serve every model InvokeModel does). */
static void memory_key(const struct client_request *cr, char *key, size_t size)
{
    const char *model = cr->model_override ? cr->model_override : cr->model;
    const char *suffix = cr->endpoint == ENDPOINT_COUNT_TOKENS ? " (count_tokens)" : "";
    snprintf(key, size, "%.200s%s", model, suffix);
}

/* The route for this attempt: the first of the model's routes that serves the endpoint and has
 * not refused the model; when every one has, the first (its answer is what the client sees). */
static const struct bedrock_route_plan *choose_route(struct provider *p, const struct client_request *cr,
                                                     const struct bedrock_plan *plan)
{
    struct bedrock *b = p->impl;
    char key[300];
    memory_key(cr, key, sizeof(key));
    const struct bedrock_route_plan *first = NULL;
    for (size_t i = 0; i < plan->num_routes; i++) {
        const struct bedrock_route_plan *rp = &plan->routes[i];
        if (!route_serves_endpoint(rp->route, cr->endpoint))
            continue;
        if (first == NULL)
            first = rp;
        if (bedrock_route_known(p->name, b->region, key, rp->route) != BEDROCK_ROUTE_REFUSED)
            return rp;
    }
    return first;
}

/* models.to_bedrock's `listed` table for the current listing (rebuilt once per listing), or
 * LUA_NOREF for the static table. */
static int current_listed_ref(struct provider *p)
{
    struct bedrock *b = p->impl;
    const struct bedrock_profiles_listing *l = bedrock_profiles_current(b->profiles);
    if (l == NULL)
        return LUA_NOREF;
    if (l->serial != b->listed_serial) {
        if (b->listed_ref != LUA_NOREF)
            luaL_unref(p->config->L, LUA_REGISTRYINDEX, b->listed_ref);
        b->listed_ref = bedrock_listed_table(p->config, (const char *const *)l->ids, l->n);
        b->listed_serial = l->serial;
    }
    return b->listed_ref;
}

/* Builds the request once the model's routes are known; returns ps while credentials are looked
 * up, NULL once done ran. */
static void *build_request(struct pending_sign *ps)
{
    struct provider *p = ps->p;
    struct bedrock *b = p->impl;
    const struct client_request *cr = ps->cr;
    struct upstream_request *out = ps->out;
    char err[400];
    const char *model = cr->model_override ? cr->model_override : cr->model;
    struct bedrock_plan *plan = xmalloc(sizeof(*plan));
    if (bedrock_plan_resolve(p->config, model, cr->model, b->region, b->region_prefix, current_listed_ref(p), plan, err,
                             sizeof(err)) != 0) {
        free(plan);
        pending_done(ps, "invalid_request_error", err);
        return NULL;
    }
    const struct bedrock_route_plan *rp = choose_route(p, cr, plan);
    if (rp != NULL && b->refused_id[0] != '\0' && strcmp(rp->id, b->refused_id) == 0) {
        /* the fresh listing names the id Bedrock refused: that route does not serve the model */
        char key[300];
        memory_key(cr, key, sizeof(key));
        bedrock_route_note(p->name, b->region, key, rp->route, BEDROCK_ROUTE_REFUSED,
                           "the id was refused as invalid and the account's listing names no other");
        b->refused_id[0] = '\0';
        rp = choose_route(p, cr, plan);
    }
    if (rp == NULL) {
        bedrock_plan_free(plan);
        free(plan);
        snprintf(err, sizeof(err), "no route of \"%s\" serves this endpoint on Bedrock", model);
        pending_done(ps, "invalid_request_error", err);
        return NULL;
    }
    snprintf(out->model_sent, sizeof(out->model_sent), "%s", rp->id);
    out->variant = (int)rp->route;
    out->route = bedrock_route_name(rp->route);
    memory_key(cr, out->note, sizeof(out->note));
    if (rp->route == BEDROCK_INVOKE)
        prepare_invoke(p, cr, rp, ps, out);
    else
        prepare_messages(p, cr, rp, ps, out);
    bedrock_plan_free(plan);
    free(plan);
    out->body = h2o_iovec_init(out->owned_body.data, out->owned_body.len);
    out->target = ps->target;
    if (b->api_key != NULL) {
        write_head(ps, NULL, NULL);
        pending_done(ps, NULL, NULL);
        return NULL;
    }
    /* with credentials at hand on_credentials runs (and frees ps) before this returns NULL */
    struct aws_creds_wait *wait = aws_cred_source_get(b->creds, on_credentials, ps);
    if (wait == NULL)
        return NULL;
    ps->wait = wait;
    return ps;
}

static void on_listing_ready(void *ud)
{
    struct pending_sign *ps = ud;
    ps->listing_wait = NULL;
    build_request(ps);
}

static void *bedrock_prepare(struct provider *p, const struct client_request *cr, struct upstream_request *out,
                             provider_prepared_cb done, void *ud)
{
    struct bedrock *b = p->impl;
    if (cr->endpoint == ENDPOINT_PASSTHROUGH) {
        done(ud, "not_found_error", "this endpoint is only served by Anthropic, not by Bedrock");
        return NULL;
    }
    struct pending_sign *ps = xcalloc(1, sizeof(*ps));
    ps->p = p, ps->cr = cr, ps->out = out, ps->done = done, ps->ud = ud;
    snprintf(ps->content_type, sizeof(ps->content_type), "application/json");
    snprintf(ps->accept, sizeof(ps->accept), "application/json");
    /* the first request after a start waits (briefly) for the account's ids */
    if ((ps->listing_wait = bedrock_profiles_wait(b->profiles, 0, on_listing_ready, ps)) != NULL)
        return ps;
    return build_request(ps);
}

static void bedrock_cancel_prepare(void *handle)
{
    struct pending_sign *ps = handle;
    if (ps->listing_wait != NULL)
        bedrock_profiles_wait_cancel(ps->listing_wait);
    if (ps->wait != NULL)
        aws_creds_wait_cancel(ps->wait);
    pending_free(ps);
}

/* AWS's x-amzn-errortype ("ValidationException:http://...") into type, left alone if absent. */
static void error_type_header(const h2o_header_t *headers, size_t num_headers, char *type, size_t size)
{
    const h2o_iovec_t *v = http_header_find(headers, num_headers, "x-amzn-errortype");
    if (v != NULL)
        snprintf(type, size, "%.*s", (int)v->len, v->base);
}

/* A route that does not serve the model: remembered, and the next route (if one is left) gets
 * the same request. A refused thinking signature: once more without the thinking blocks. */
static enum provider_retry bedrock_retry_on_error(struct provider *p, const struct client_request *cr,
                                                  const struct upstream_request *ur, int status,
                                                  const h2o_header_t *headers, size_t num_headers, const char *body,
                                                  size_t len)
{
    struct bedrock *b = p->impl;
    enum provider_retry verdict = PROVIDER_RETRY_NO;
    if (provider_thinking_refused(cr, status, body, len, &verdict))
        return verdict;
    char type[128] = "", why[300];
    error_type_header(headers, num_headers, type, sizeof(type));
    if (!bedrock_error_is_route_refusal(status, type, body, len, why, sizeof(why)))
        return PROVIDER_RETRY_NO;
    char key[300];
    memory_key(cr, key, sizeof(key));
    enum bedrock_route route = (enum bedrock_route)ur->variant;
    /* An id from the account's listing refused as invalid may be a profile the account no longer
     * has: list again (at most once a minute) and retry once; the retry waits for that listing and
     * goes on to the next route only if it names the same id (build_request). Ids from the static
     * table (no listing ever worked) go to the next route at once. */
    if (route != BEDROCK_MANTLE && strstr(why, "model identifier is invalid") != NULL &&
        bedrock_profiles_current(b->profiles) != NULL && bedrock_profiles_refresh(b->profiles)) {
        log_warn("%s: Bedrock refused %s as invalid (%s); once more after listing the account's inference profiles",
                 p->name, ur->model_sent, why);
        snprintf(b->refused_id, sizeof(b->refused_id), "%s", ur->model_sent);
        return PROVIDER_RETRY_AGAIN;
    }
    bedrock_route_note(p->name, b->region, key, route, BEDROCK_ROUTE_REFUSED, why);
    /* is a route left? */
    struct bedrock_plan *plan = xmalloc(sizeof(*plan));
    char err[400];
    const char *model = cr->model_override ? cr->model_override : cr->model;
    verdict = PROVIDER_RETRY_NO;
    if (bedrock_plan_resolve(p->config, model, cr->model, b->region, b->region_prefix, current_listed_ref(p), plan, err,
                             sizeof(err)) == 0) {
        const struct bedrock_route_plan *next = choose_route(p, cr, plan);
        if (next != NULL && bedrock_route_known(p->name, b->region, key, next->route) != BEDROCK_ROUTE_REFUSED) {
            log_warn("%s: route %s does not serve %s in %s (%s); trying %s", p->name, bedrock_route_name(route), key,
                     b->region, why, bedrock_route_name(next->route));
            verdict = PROVIDER_RETRY_AGAIN;
        } else {
            log_warn("%s: route %s does not serve %s in %s (%s); no route left", p->name, bedrock_route_name(route),
                     key, b->region, why);
        }
        bedrock_plan_free(plan);
    }
    free(plan);
    return verdict;
}

/* ------------------------------------------------------------------------------------------ */
/* Responses */

struct eventstream_filter {
    struct body_filter super;
    struct bedrock_stream *stream;
};

static int es_feed(struct body_filter *f, const char *data, size_t len, sbuf *out)
{
    return bedrock_stream_feed(((struct eventstream_filter *)f)->stream, (const uint8_t *)data, len, out);
}

static void es_finish(struct body_filter *f, const char *err, sbuf *out)
{
    bedrock_stream_finish(((struct eventstream_filter *)f)->stream, err, out);
}

static void es_destroy(struct body_filter *f)
{
    bedrock_stream_free(((struct eventstream_filter *)f)->stream);
    free(f);
}

/* A token count, read whole: CountTokens answers {"inputTokens":N}, turned into Anthropic's
 * {"input_tokens":N}; the Messages-format endpoint answers Anthropic's shape already. Anything
 * else becomes a 502, never a count nobody made. */
#define COUNT_ANSWER_MAX 65536

struct count_filter {
    struct body_filter super;
    int aws; /* the answer is CountTokens' */
    int too_long;
    sbuf body;
};

static int count_feed(struct body_filter *f, const char *data, size_t len, sbuf *out)
{
    (void)out;
    struct count_filter *c = (struct count_filter *)f;
    if (c->body.len + len < COUNT_ANSWER_MAX)
        sbuf_append(&c->body, data, len);
    else
        c->too_long = 1;
    return 0;
}

static void count_finish(struct body_filter *f, const char *err, sbuf *out)
{
    struct count_filter *c = (struct count_filter *)f;
    cJSON *j = c->body.data && !c->too_long ? cJSON_ParseWithLength(c->body.data, c->body.len) : NULL;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, c->aws ? "inputTokens" : "input_tokens");
    if (err == NULL && cJSON_IsNumber(n) && n->valuedouble >= 0) {
        if (c->aws)
            sbuf_printf(out, "{\"input_tokens\":%.0f}", n->valuedouble);
        else
            sbuf_append(out, c->body.data, c->body.len);
    } else {
        c->super.final_status = 502;
        error_json(out, API_ANTHROPIC, "api_error", "Bedrock's token count answer could not be read");
    }
    cJSON_Delete(j);
}

static void count_destroy(struct body_filter *f)
{
    sbuf_free(&((struct count_filter *)f)->body);
    free(f);
}

static struct body_filter *count_filter_new(int aws)
{
    struct count_filter *f = xcalloc(1, sizeof(*f));
    f->super = (struct body_filter){.feed = count_feed,
                                    .finish = count_finish,
                                    .destroy = count_destroy,
                                    .content_type = "application/json",
                                    .whole_body = 1};
    f->aws = aws;
    return &f->super;
}

static struct body_filter *bedrock_response_filter(struct provider *p, const struct upstream_request *ur, int status)
{
    struct bedrock *b = p->impl;
    if (status >= 200 && status <= 299 && ur->note[0] != '\0' &&
        bedrock_route_known(p->name, b->region, ur->note, (enum bedrock_route)ur->variant) != BEDROCK_ROUTE_SERVES)
        bedrock_route_note(p->name, b->region, ur->note, (enum bedrock_route)ur->variant, BEDROCK_ROUTE_SERVES,
                           ur->model_sent);
    switch (ur->response_format) {
    case RESPONSE_EVENTSTREAM: {
        struct eventstream_filter *f = xcalloc(1, sizeof(*f));
        f->super = (struct body_filter){.feed = es_feed,
                                        .finish = es_finish,
                                        .destroy = es_destroy,
                                        .content_type = "text/event-stream; charset=utf-8"};
        f->stream = bedrock_stream_new();
        f->super.usage = bedrock_stream_usage(f->stream);
        return &f->super;
    }
    case RESPONSE_AWS_TOKEN_COUNT: return count_filter_new(1);
    case RESPONSE_TOKEN_COUNT: return count_filter_new(0);
    case RESPONSE_NATIVE: break;
    }
    return NULL;
}

static int bedrock_convert_error(struct provider *p, int status, const h2o_header_t *headers, size_t num_headers,
                                 const char *body, size_t len, int *out_status, sbuf *out_json)
{
    (void)p;
    char type[128] = "";
    error_type_header(headers, num_headers, type, sizeof(type));
    /* the Messages-format endpoint may already answer in Anthropic's shape */
    if (type[0] == '\0' && len > 0 && memmem(body, len, "\"type\":\"error\"", 14) != NULL)
        return 0;
    bedrock_error_to_anthropic(status, type[0] ? type : NULL, body, len, out_status, out_json);
    return 1;
}

const struct provider_ops provider_bedrock = {
    .type = "bedrock",
    .endpoints = 1u << ENDPOINT_MESSAGES | 1u << ENDPOINT_COUNT_TOKENS, /* no /v1/models etc. on Bedrock */
    .configure = bedrock_configure,
    .start = bedrock_start,
    .prepare = bedrock_prepare,
    .cancel_prepare = bedrock_cancel_prepare,
    .response_filter = bedrock_response_filter,
    .convert_error = bedrock_convert_error,
    .retry_on_error = bedrock_retry_on_error,
    .problem = bedrock_problem,
    .describe = bedrock_describe,
    .destroy = bedrock_destroy,
};

/* For `claude-proxy doctor`: what the provider resolved from its config and the environment. */
void provider_bedrock_facts(struct provider *p, struct bedrock_facts *f)
{
    struct bedrock *b = p->impl;
    *f = (struct bedrock_facts){b->region,
                                b->region_prefix,
                                b->runtime_parsed.origin,
                                b->mantle_parsed.origin,
                                b->control_parsed.origin,
                                b->ca_file,
                                b->creds,
                                b->profiles};
}
