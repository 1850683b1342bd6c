/* AWS Bedrock with the proxy's own AWS credentials: SigV4 signing, the credential chain, model
 * ids from lua/models.lua, and two routes per model:
 *   invoke: bedrock-runtime InvokeModel / InvokeModelWithResponseStream (event-stream -> SSE)
 *   mantle: the Messages-format endpoint (bedrock-mantle), native SSE, for the newest models */
#include <cjson/cJSON.h>
#include <lauxlib.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include "anthropic_auth.h"
#include "aws_credentials.h"
#include "bedrock_profiles.h"
#include "bedrock_request.h"
#include "bedrock_stream.h"
#include "body_filter.h"
#include "config.h"
#include "errors.h"
#include "log.h"
#include "provider.h"
#include "sigv4.h"
#include "upstream.h"

#define CREDENTIAL_PROCESS_TIMEOUT_MS 30000

struct bedrock {
    char *region, *profile, *ca_file;
    char *region_prefix; /* preferred inference profile prefix, or NULL */
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
    int listed_ref;          /* models.to_bedrock's `listed` table in this config's state */
    uint64_t listed_serial;  /* the listing it was built from */
    /* InvokeModel: allowlisted betas, refused fields dropped, adaptive thinking -> budget */
    char *betas_allowed[CONFIG_MAX_LIST + 1];
    char *drop_fields[CONFIG_MAX_LIST + 1];
    unsigned adaptive_budget;
    /* Messages format: the request as written, minus Anthropic-only betas */
    char *mantle_betas_denied[CONFIG_MAX_LIST + 1];
    char *mantle_drop_fields[CONFIG_MAX_LIST + 1];
};

/* ------------------------------------------------------------------------------------------ */
/* Configuration */

/* Pushes models.bedrock_defaults from lua/models.lua, the one place the adaptation defaults
 * live (an empty table if a custom module lacks them). */
static int push_adaptation_defaults(lua_State *L, char *err, size_t errlen)
{
    if (config_require_models(L, err, errlen) != 0)
        return -1;
    if (lua_istable(L, -1))
        lua_getfield(L, -1, "bedrock_defaults");
    else
        lua_pushnil(L);
    lua_remove(L, -2);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    return 0;
}

/* key from the provider's table when set there, else from the defaults table. */
static int list_or_default(lua_State *L, int idx, int defaults, const char *key, char **out, char *err, size_t errlen)
{
    lua_getfield(L, idx, key);
    int set = !lua_isnil(L, -1);
    lua_pop(L, 1);
    return config_field_list(L, set ? idx : defaults, key, out, NULL, err, errlen);
}

static int read_adaptation(struct bedrock *b, lua_State *L, int idx, char *err, size_t errlen)
{
    int top = lua_gettop(L);
    idx = lua_absindex(L, idx);
    if (push_adaptation_defaults(L, err, errlen) != 0)
        return -1;
    int d = lua_gettop(L);
    double def_budget, budget;
    int r = list_or_default(L, idx, d, "betas_allowed", b->betas_allowed, err, errlen) != 0 ||
            list_or_default(L, idx, d, "drop_fields", b->drop_fields, err, errlen) != 0 ||
            list_or_default(L, idx, d, "mantle_betas_denied", b->mantle_betas_denied, err, errlen) != 0 ||
            list_or_default(L, idx, d, "mantle_drop_fields", b->mantle_drop_fields, err, errlen) != 0 ||
            config_field_number(L, d, "adaptive_thinking_budget", &def_budget, 0, 0, 1e6, err, errlen) != 0 ||
            config_field_number(L, idx, "adaptive_thinking_budget", &budget, def_budget, 0, 1e6, err, errlen) != 0;
    lua_settop(L, top);
    if (r)
        return -1;
    b->adaptive_budget = (unsigned)budget;
    return 0;
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
    return strdup(env != NULL ? env : url);
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
        endpoint = strdup(env != NULL ? env : url);
    }
    if (mantle == NULL) {
        snprintf(url, sizeof(url), "https://bedrock-mantle.%s.api.aws", b->region);
        mantle = strdup(url);
    }
    b->runtime_url = endpoint;
    b->mantle_url = mantle;
}

/* list_profiles (default true), and the listing's timing: list_profiles_interval (seconds
 * between listings, 3600), list_profiles_wait (how long a request waits for the first listing,
 * 5 s), list_profiles_min_refresh (between refreshes after a refused id, 60 s). */
static int read_listing_settings(struct bedrock *b, lua_State *L, int idx, char *err, size_t errlen)
{
    lua_getfield(L, idx, "list_profiles");
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
    struct bedrock *b = calloc(1, sizeof(*b));
    if (b == NULL)
        abort();
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
        check_region_prefix(b->region_prefix, err, errlen) != 0 || read_adaptation(b, L, idx, err, errlen) != 0) {
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
    b->creds = aws_cred_source_new(ctx->loop, b->profile, CREDENTIAL_PROCESS_TIMEOUT_MS);
    if (b->list_profiles) {
        struct bedrock_profiles_settings s = {p->name, b->control_url, b->region, b->ca_file, timeout,
                                              (unsigned)b->list_interval_s, (unsigned)(b->list_wait_s * 1000),
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
    if (b->creds != NULL)
        sbuf_json_field(out, "credentials", aws_cred_source_kind(b->creds));
    if (b->profiles != NULL) {
        sbuf_putc(out, ',');
        bedrock_profiles_describe(b->profiles, out);
    } else if (b->creds != NULL) {
        sbuf_puts(out, ",\"model_ids\":{\"source\":\"static\",\"reason\":\"list_profiles = false\"}");
    }
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
    free(b->region), free(b->profile), free(b->ca_file), free(b->region_prefix), free(b->runtime_url),
        free(b->mantle_url);
    config_free_list(b->betas_allowed);
    config_free_list(b->drop_fields);
    config_free_list(b->mantle_betas_denied);
    config_free_list(b->mantle_drop_fields);
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
    int mantle; /* the Messages-format route, signed for service bedrock-mantle */
    sbuf path;  /* as sent and as signed: the endpoint's path prefix, then the operation's */
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

static void append_header(sbuf *h, const char *name, const char *value)
{
    sbuf_printf(h, "%s: %s\r\n", name, value);
}

static int sign(struct pending_sign *ps, const struct aws_creds *creds, struct sigv4_result *r)
{
    struct sigv4_header headers[3] = {
        {"host", ps->target->host_header},
        {"content-type", ps->content_type},
        {"accept", ps->accept},
    };
    const char *path = ps->path.data;
    const char *q = strchr(path, '?');
    char path_only[2048];
    snprintf(path_only, sizeof(path_only), "%.*s", (int)(q ? (size_t)(q - path) : strlen(path)), path);
    struct upstream_request *out = ps->out;
    struct sigv4_request req = {"POST", path_only, q ? q + 1 : NULL, headers, 3, out->body.base, out->body.len};
    struct sigv4_credentials c = {creds->access_key_id, creds->secret_access_key, creds->session_token};
    struct bedrock *b = ps->p->impl;
    struct sigv4_options opt = {b->region, ps->mantle ? "bedrock-mantle" : "bedrock", time(NULL), 1, 1, 1};
    memset(r, 0, sizeof(*r));
    return sigv4_sign(&req, &c, &opt, r);
}

static void write_head(struct pending_sign *ps, const struct aws_creds *creds, const struct sigv4_result *r)
{
    sbuf *h = &ps->out->head;
    sbuf_printf(h, "POST %s HTTP/1.1\r\n", ps->path.data);
    append_header(h, "host", ps->target->host_header);
    append_header(h, "content-type", ps->content_type);
    append_header(h, "accept", ps->accept);
    sbuf_printf(h, "content-length: %zu\r\nconnection: keep-alive\r\n", ps->out->body.len);
    append_header(h, "x-amz-date", r->amz_date);
    append_header(h, "x-amz-content-sha256", r->payload_hash);
    if (creds->session_token != NULL)
        append_header(h, "x-amz-security-token", creds->session_token);
    append_header(h, "authorization", r->authorization);
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

/* Messages format: the body keeps its shape (fields and their betas in pairs), with the Bedrock
 * model id; only what Anthropic's own API alone accepts is left out. */
static void prepare_mantle(struct bedrock *b, const struct client_request *cr, const struct bedrock_model *m,
                           struct pending_sign *ps, struct upstream_request *out)
{
    ps->target = b->mantle;
    ps->mantle = 1;
    out->response_format = cr->endpoint == ENDPOINT_COUNT_TOKENS ? RESPONSE_TOKEN_COUNT : RESPONSE_NATIVE;
    bedrock_mantle_body(cr->scan, m->id,
                        (const char *const *)(m->has_drop_fields ? m->drop_fields : b->mantle_drop_fields),
                        &out->owned_body);
    /* count_tokens there is documented by AWS (user guide, count-tokens.md#count-tokens-mantle) */
    sbuf_printf(&ps->path, "%s/anthropic/v1/messages%s", ps->target->base_path,
                cr->endpoint == ENDPOINT_COUNT_TOKENS ? "/count_tokens" : "");
    const h2o_iovec_t *version = provider_client_header(cr->req, "anthropic-version");
    sbuf_printf(&ps->extra_headers, "anthropic-version: %.*s\r\n", version ? (int)version->len : 10,
                version ? version->base : "2023-06-01");
    const h2o_iovec_t *beta = provider_client_header(cr->req, "anthropic-beta");
    sbuf betas = SBUF_INIT;
    if (m->has_betas)
        bedrock_filter_betas(beta ? beta->base : NULL, beta ? beta->len : 0, (const char *const *)m->betas, &betas);
    else
        bedrock_filter_betas_denied(beta ? beta->base : NULL, beta ? beta->len : 0,
                                    (const char *const *)b->mantle_betas_denied, &betas);
    if (betas.len)
        sbuf_printf(&ps->extra_headers, "anthropic-beta: %s\r\n", betas.data);
    sbuf_free(&betas);
    if (cr->stream)
        snprintf(ps->accept, sizeof(ps->accept), "text/event-stream");
}

/* The InvokeModel beta allowlist for a model: its own list, or the provider's plus its additions. */
static const char *const *invoke_betas(const struct bedrock *b, const struct bedrock_model *m, const char **merged)
{
    if (m->has_betas)
        return (const char *const *)m->betas;
    if (m->betas_add[0] == NULL)
        return (const char *const *)b->betas_allowed;
    size_t n = 0;
    for (size_t i = 0; b->betas_allowed[i] != NULL; i++)
        merged[n++] = b->betas_allowed[i];
    for (size_t i = 0; m->betas_add[i] != NULL; i++)
        merged[n++] = m->betas_add[i];
    merged[n] = NULL;
    return merged;
}

static void prepare_invoke(struct bedrock *b, const struct client_request *cr, const struct bedrock_model *m,
                           struct pending_sign *ps, struct upstream_request *out)
{
    ps->target = b->runtime;
    const char *merged[2 * CONFIG_MAX_LIST + 1];
    struct bedrock_adaptation a = {invoke_betas(b, m, merged),
                                   (const char *const *)(m->has_drop_fields ? m->drop_fields : b->drop_fields),
                                   m->has_thinking_budget ? m->thinking_budget : b->adaptive_budget};
    const h2o_iovec_t *beta = provider_client_header(cr->req, "anthropic-beta");
    const char *beta_p = beta ? beta->base : NULL;
    size_t beta_len = beta ? beta->len : 0;
    sbuf encoded = SBUF_INIT;
    if (cr->endpoint == ENDPOINT_COUNT_TOKENS) {
        out->response_format = RESPONSE_AWS_TOKEN_COUNT;
        sbuf inner = SBUF_INIT;
        bedrock_count_tokens_body(cr->scan, beta_p, beta_len, &a, &inner);
        sbuf_puts(&out->owned_body, "{\"input\":{\"invokeModel\":{\"body\":\"");
        base64(inner.data, inner.len, &out->owned_body);
        sbuf_puts(&out->owned_body, "\"}}}");
        sbuf_free(&inner);
        const char *base_id = strip_profile_prefix(m->id);
        sigv4_uri_encode(&encoded, base_id, strlen(base_id), 1);
        sbuf_printf(&ps->path, "%s/model/%s/count-tokens", ps->target->base_path, encoded.data);
    } else {
        bedrock_invoke_body(cr->scan, beta_p, beta_len, &a, &out->owned_body);
        sigv4_uri_encode(&encoded, m->id, strlen(m->id), 1);
        sbuf_printf(&ps->path, "%s/model/%s/%s", ps->target->base_path, encoded.data,
                    cr->stream ? "invoke-with-response-stream" : "invoke");
        if (cr->stream) {
            out->response_format = RESPONSE_EVENTSTREAM;
            snprintf(ps->accept, sizeof(ps->accept), "application/vnd.amazon.eventstream");
        }
    }
    sbuf_free(&encoded);
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

static int resolve_model(struct provider *p, const struct client_request *cr, struct bedrock_model *m, char *err,
                         size_t errlen)
{
    struct bedrock *b = p->impl;
    const char *model = cr->model_override ? cr->model_override : cr->model;
    return bedrock_model_resolve_listed(p->config, model, b->region, b->region_prefix, current_listed_ref(p), m, err,
                                        errlen);
}

/* Builds the request once the model id is known; returns ps while credentials are looked up,
 * NULL once done ran. */
static void *build_request(struct pending_sign *ps)
{
    struct provider *p = ps->p;
    struct bedrock *b = p->impl;
    const struct client_request *cr = ps->cr;
    struct upstream_request *out = ps->out;
    char err[400];
    struct bedrock_model m;
    if (resolve_model(p, cr, &m, err, sizeof(err)) != 0) {
        pending_done(ps, "invalid_request_error", err);
        return NULL;
    }
    snprintf(out->model_sent, sizeof(out->model_sent), "%s", m.id);
    out->route = m.mantle ? "mantle" : "invoke";
    if (m.mantle)
        prepare_mantle(b, cr, &m, ps, out);
    else
        prepare_invoke(b, cr, &m, ps, out);
    bedrock_model_free(&m);
    out->body = h2o_iovec_init(out->owned_body.data, out->owned_body.len);
    out->target = ps->target;
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
    struct pending_sign *ps = calloc(1, sizeof(*ps));
    if (ps == NULL)
        abort();
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
    struct count_filter *f = calloc(1, sizeof(*f));
    if (f == NULL)
        abort();
    f->super = (struct body_filter){.feed = count_feed, .finish = count_finish, .destroy = count_destroy,
                                    .content_type = "application/json", .whole_body = 1};
    f->aws = aws;
    return &f->super;
}

static struct body_filter *bedrock_response_filter(struct provider *p, const struct upstream_request *ur, int status)
{
    (void)p, (void)status;
    switch (ur->response_format) {
    case RESPONSE_EVENTSTREAM: {
        struct eventstream_filter *f = calloc(1, sizeof(*f));
        if (f == NULL)
            abort();
        f->super = (struct body_filter){.feed = es_feed, .finish = es_finish, .destroy = es_destroy,
                                        .content_type = "text/event-stream; charset=utf-8"};
        f->stream = bedrock_stream_new();
        f->super.usage = bedrock_stream_usage(f->stream);
        return &f->super;
    }
    case RESPONSE_AWS_TOKEN_COUNT:
        return count_filter_new(1);
    case RESPONSE_TOKEN_COUNT:
        return count_filter_new(0);
    case RESPONSE_NATIVE:
        break;
    }
    return NULL;
}

static int bedrock_convert_error(struct provider *p, int status, const h2o_header_t *headers, size_t num_headers,
                                 const char *body, size_t len, int *out_status, sbuf *out_json)
{
    (void)p;
    char type[128] = "";
    for (size_t i = 0; i < num_headers; i++)
        if (h2o_memis(headers[i].name->base, headers[i].name->len, H2O_STRLIT("x-amzn-errortype")))
            snprintf(type, sizeof(type), "%.*s", (int)headers[i].value.len, headers[i].value.base);
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
    .problem = bedrock_problem,
    .describe = bedrock_describe,
    .destroy = bedrock_destroy,
};
