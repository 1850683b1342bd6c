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
#include "bedrock_request.h"
#include "bedrock_stream.h"
#include "body_filter.h"
#include "config.h"
#include "log.h"
#include "provider.h"
#include "sigv4.h"
#include "upstream.h"

#define CREDENTIAL_PROCESS_TIMEOUT_MS 30000

struct bedrock {
    char *region, *profile, *ca_file;
    char *runtime_url, *mantle_url;
    struct upstream_url runtime_parsed, mantle_parsed;
    struct upstream *runtime, *mantle;
    struct aws_cred_source *creds;
    char *betas_allowed[CONFIG_MAX_LIST + 1];
    char *drop_fields[CONFIG_MAX_LIST + 1];
    unsigned adaptive_budget;
};

/* ------------------------------------------------------------------------------------------ */
/* Configuration */

static int bedrock_configure(struct provider *p, lua_State *L, int idx, char *err, size_t errlen)
{
    static const char *const default_betas[] = {"interleaved-thinking-2025-05-14", "context-1m-2025-08-07",
                                                "fine-grained-tool-streaming-2025-05-14",
                                                "token-efficient-tools-2025-02-19", "tool-search-tool-2025-10-19",
                                                NULL};
    static const char *const default_drop[] = {"context_management", "output_config", NULL};
    struct bedrock *b = calloc(1, sizeof(*b));
    if (b == NULL)
        abort();
    p->impl = b;
    char *region = NULL, *endpoint = NULL, *mantle = NULL;
    double budget;
    if (config_field_string(L, idx, "region", &region, NULL, err, errlen) != 0 ||
        config_field_string(L, idx, "profile", &b->profile, NULL, err, errlen) != 0 ||
        config_field_string(L, idx, "endpoint", &endpoint, NULL, err, errlen) != 0 ||
        config_field_string(L, idx, "mantle_endpoint", &mantle, NULL, err, errlen) != 0 ||
        config_field_string(L, idx, "ca_file", &b->ca_file, NULL, err, errlen) != 0 ||
        config_field_number(L, idx, "adaptive_thinking_budget", &budget, 31999, 0, 1e6, err, errlen) != 0 ||
        config_field_list(L, idx, "betas_allowed", b->betas_allowed, default_betas, err, errlen) != 0 ||
        config_field_list(L, idx, "drop_fields", b->drop_fields, default_drop, err, errlen) != 0) {
        free(region), free(endpoint), free(mantle);
        return -1;
    }
    b->adaptive_budget = (unsigned)budget;
    b->region = aws_resolve_region(region, b->profile);
    free(region);
    char url[512];
    if (endpoint == NULL) {
        snprintf(url, sizeof(url), "https://bedrock-runtime.%s.amazonaws.com", b->region);
        endpoint = strdup(url);
    }
    if (mantle == NULL) {
        snprintf(url, sizeof(url), "https://bedrock-mantle.%s.api.aws", b->region);
        mantle = strdup(url);
    }
    b->runtime_url = endpoint;
    b->mantle_url = mantle;
    if (upstream_parse_url(b->runtime_url, &b->runtime_parsed, err, errlen) != 0 ||
        upstream_parse_url(b->mantle_url, &b->mantle_parsed, err, errlen) != 0)
        return -1;
    if (config_url_points_at_proxy(p->config, b->runtime_parsed.host, b->runtime_parsed.port) ||
        config_url_points_at_proxy(p->config, b->mantle_parsed.host, b->mantle_parsed.port)) {
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
    if (b->creds != NULL)
        sbuf_json_field(out, "credentials", aws_cred_source_kind(b->creds));
}

static void bedrock_destroy(struct provider *p)
{
    struct bedrock *b = p->impl;
    if (b == NULL)
        return;
    if (b->creds != NULL)
        aws_cred_source_free(b->creds);
    free(b->region), free(b->profile), free(b->ca_file), free(b->runtime_url), free(b->mantle_url);
    config_free_list(b->betas_allowed);
    config_free_list(b->drop_fields);
    free(b);
}

/* ------------------------------------------------------------------------------------------ */
/* Requests */

enum bedrock_kind { KIND_INVOKE, KIND_INVOKE_STREAM, KIND_COUNT_TOKENS, KIND_MANTLE };

struct pending_sign {
    struct provider *p;
    const struct client_request *cr;
    struct upstream_request *out;
    provider_prepared_cb done;
    void *ud;
    struct aws_creds_wait *wait;
    struct upstream *target;
    int mantle; /* the Messages-format route, signed for service bedrock-mantle */
    sbuf path;
    sbuf extra_headers; /* unsigned-by-name headers also sent (anthropic-version for mantle) */
    char content_type[48], accept[64];
    char beta[1024];
};

static void append_header(sbuf *h, const char *name, const char *value)
{
    sbuf_printf(h, "%s: %s\r\n", name, value);
}

static void on_credentials(void *ud, const struct aws_creds *creds, const char *cred_err)
{
    struct pending_sign *ps = ud;
    struct upstream_request *out = ps->out;
    if (creds == NULL) {
        char msg[400];
        snprintf(msg, sizeof(msg), "no usable AWS credentials: %s", cred_err ? cred_err : "unknown error");
        provider_prepared_cb done = ps->done;
        void *dud = ps->ud;
        sbuf_free(&ps->path);
        sbuf_free(&ps->extra_headers);
        free(ps);
        done(dud, "authentication_error", msg);
        return;
    }
    struct sigv4_header headers[3] = {
        {"host", ps->target->host_header},
        {"content-type", ps->content_type},
        {"accept", ps->accept},
    };
    const char *path = ps->path.data;
    const char *q = strchr(path, '?');
    char path_only[2048];
    snprintf(path_only, sizeof(path_only), "%.*s", (int)(q ? (size_t)(q - path) : strlen(path)), path);
    struct sigv4_request req = {"POST", path_only, q ? q + 1 : NULL, headers, 3, out->body.base, out->body.len};
    struct sigv4_credentials c = {creds->access_key_id, creds->secret_access_key, creds->session_token};
    struct bedrock *b = ps->p->impl;
    struct sigv4_options opt = {b->region, ps->mantle ? "bedrock-mantle" : "bedrock", time(NULL), 1, 1, 1};
    struct sigv4_result r;
    memset(&r, 0, sizeof(r));
    if (sigv4_sign(&req, &c, &opt, &r) != 0) {
        provider_prepared_cb done = ps->done;
        void *dud = ps->ud;
        sbuf_free(&ps->path);
        sbuf_free(&ps->extra_headers);
        free(ps);
        done(dud, "api_error", "cannot sign the Bedrock request");
        return;
    }
    sbuf *h = &out->head;
    sbuf_printf(h, "POST %s%s HTTP/1.1\r\n", ps->target->base_path, path);
    append_header(h, "host", ps->target->host_header);
    append_header(h, "content-type", ps->content_type);
    append_header(h, "accept", ps->accept);
    sbuf_printf(h, "content-length: %zu\r\nconnection: keep-alive\r\n", out->body.len);
    append_header(h, "x-amz-date", r.amz_date);
    append_header(h, "x-amz-content-sha256", r.payload_hash);
    if (creds->session_token != NULL)
        append_header(h, "x-amz-security-token", creds->session_token);
    append_header(h, "authorization", r.authorization);
    if (ps->extra_headers.len)
        sbuf_append(h, ps->extra_headers.data, ps->extra_headers.len);
    sbuf_puts(h, "\r\n");
    sigv4_result_free(&r);
    provider_prepared_cb done = ps->done;
    void *dud = ps->ud;
    sbuf_free(&ps->path);
    sbuf_free(&ps->extra_headers);
    free(ps);
    done(dud, NULL, NULL);
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

static void *bedrock_prepare(struct provider *p, const struct client_request *cr, struct upstream_request *out,
                             provider_prepared_cb done, void *ud)
{
    struct bedrock *b = p->impl;
    char err[400];
    if (cr->endpoint == ENDPOINT_PASSTHROUGH) {
        done(ud, "not_found_error", "this endpoint is only served by Anthropic, not by Bedrock");
        return NULL;
    }
    const char *model = cr->model_override ? cr->model_override : cr->model;
    char id[256], route[32];
    if (config_model_for_bedrock(p->config, model, b->region, id, sizeof(id), route, sizeof(route), err,
                                 sizeof(err)) != 0) {
        done(ud, "invalid_request_error", err);
        return NULL;
    }
    snprintf(out->model_sent, sizeof(out->model_sent), "%s", id);
    const h2o_iovec_t *beta = provider_client_header(cr->req, "anthropic-beta");

    struct pending_sign *ps = calloc(1, sizeof(*ps));
    if (ps == NULL)
        abort();
    ps->p = p, ps->cr = cr, ps->out = out, ps->done = done, ps->ud = ud;
    snprintf(ps->content_type, sizeof(ps->content_type), "application/json");
    snprintf(ps->accept, sizeof(ps->accept), "application/json");

    if (strcmp(route, "mantle") == 0) {
        /* Messages format: the body keeps its shape, with the Bedrock model id */
        ps->target = b->mantle;
        ps->mantle = 1;
        out->response_format = RESPONSE_NATIVE;
        sbuf v = SBUF_INIT;
        sbuf_json_string(&v, id, strlen(id));
        const char *keys[] = {"model"}, *values[] = {v.data};
        json_splice(cr->scan, NULL, 0, keys, values, 1, NULL, &out->owned_body);
        sbuf_free(&v);
        sbuf_puts(&ps->path, cr->endpoint == ENDPOINT_COUNT_TOKENS ? "/anthropic/v1/messages/count_tokens"
                                                                   : "/anthropic/v1/messages");
        const h2o_iovec_t *version = provider_client_header(cr->req, "anthropic-version");
        sbuf_printf(&ps->extra_headers, "anthropic-version: %.*s\r\n", version ? (int)version->len : 10,
                    version ? version->base : "2023-06-01");
        sbuf betas = SBUF_INIT;
        bedrock_filter_betas(beta ? beta->base : NULL, beta ? beta->len : 0, (const char *const *)b->betas_allowed,
                             &betas);
        if (betas.len)
            sbuf_printf(&ps->extra_headers, "anthropic-beta: %s\r\n", betas.data);
        sbuf_free(&betas);
        if (cr->stream)
            snprintf(ps->accept, sizeof(ps->accept), "text/event-stream");
    } else {
        ps->target = b->runtime;
        struct bedrock_adaptation a = {(const char *const *)b->betas_allowed, (const char *const *)b->drop_fields,
                                       b->adaptive_budget};
        sbuf invoke = SBUF_INIT;
        bedrock_invoke_body(cr->scan, beta ? beta->base : NULL, beta ? beta->len : 0, &a, &invoke, err, sizeof(err));
        sbuf encoded = SBUF_INIT;
        if (cr->endpoint == ENDPOINT_COUNT_TOKENS) {
            sbuf_puts(&out->owned_body, "{\"input\":{\"invokeModel\":{\"body\":\"");
            base64(invoke.data, invoke.len, &out->owned_body);
            sbuf_puts(&out->owned_body, "\"}}}");
            sbuf_free(&invoke);
            sigv4_uri_encode(&encoded, strip_profile_prefix(id), strlen(strip_profile_prefix(id)), 1);
            sbuf_printf(&ps->path, "/model/%s/count-tokens", encoded.data);
        } else {
            out->owned_body = invoke;
            sigv4_uri_encode(&encoded, id, strlen(id), 1);
            sbuf_printf(&ps->path, "/model/%s/%s", encoded.data, cr->stream ? "invoke-with-response-stream" : "invoke");
            if (cr->stream) {
                out->response_format = RESPONSE_EVENTSTREAM;
                snprintf(ps->accept, sizeof(ps->accept), "application/vnd.amazon.eventstream");
            }
        }
        sbuf_free(&encoded);
    }
    out->body = h2o_iovec_init(out->owned_body.data, out->owned_body.len);
    out->target = ps->target;
    /* with credentials at hand on_credentials runs (and frees ps) before this returns NULL */
    struct aws_creds_wait *wait = aws_cred_source_get(b->creds, on_credentials, ps);
    if (wait == NULL)
        return NULL;
    ps->wait = wait;
    return ps;
}

static void bedrock_cancel_prepare(void *handle)
{
    struct pending_sign *ps = handle;
    aws_creds_wait_cancel(ps->wait);
    sbuf_free(&ps->path);
    sbuf_free(&ps->extra_headers);
    free(ps);
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

/* CountTokens answers {"inputTokens":N}; Anthropic's count_tokens answers {"input_tokens":N}. */
struct count_filter {
    struct body_filter super;
    sbuf body;
};

static int count_feed(struct body_filter *f, const char *data, size_t len, sbuf *out)
{
    (void)out;
    struct count_filter *c = (struct count_filter *)f;
    if (c->body.len + len < 65536)
        sbuf_append(&c->body, data, len);
    return 0;
}

static void count_finish(struct body_filter *f, const char *err, sbuf *out)
{
    struct count_filter *c = (struct count_filter *)f;
    cJSON *j = c->body.data ? cJSON_ParseWithLength(c->body.data, c->body.len) : NULL;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "inputTokens");
    if (err == NULL && cJSON_IsNumber(n))
        sbuf_printf(out, "{\"input_tokens\":%.0f}", n->valuedouble);
    else
        sbuf_puts(out, "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"Bedrock CountTokens gave an "
                       "unexpected answer\"}}");
    cJSON_Delete(j);
}

static void count_destroy(struct body_filter *f)
{
    sbuf_free(&((struct count_filter *)f)->body);
    free(f);
}

static struct body_filter *bedrock_response_filter(struct provider *p, const struct upstream_request *ur, int status)
{
    (void)p, (void)status;
    if (ur->response_format == RESPONSE_EVENTSTREAM) {
        struct eventstream_filter *f = calloc(1, sizeof(*f));
        if (f == NULL)
            abort();
        f->super = (struct body_filter){.feed = es_feed, .finish = es_finish, .destroy = es_destroy,
                                        .content_type = "text/event-stream; charset=utf-8"};
        f->stream = bedrock_stream_new();
        return &f->super;
    }
    if (strstr(ur->head.data, "/count-tokens ") != NULL) {
        struct count_filter *f = calloc(1, sizeof(*f));
        if (f == NULL)
            abort();
        f->super = (struct body_filter){.feed = count_feed, .finish = count_finish, .destroy = count_destroy,
                                        .content_type = "application/json"};
        return &f->super;
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
