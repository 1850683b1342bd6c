/* Anthropic Messages API with the user's OAuth token (or an API key the client sends).
 * The body goes out byte for byte; only a Bedrock-form model name is spliced into an
 * Anthropic one. */
#include <stdlib.h>
#include <string.h>
#include "providers/anthropic.h"
#include "providers/anthropic_auth.h"
#include "core/config.h"
#include "core/headers.h"
#include "common/log.h"
#include "core/provider.h"
#include "common/redact.h"
#include "common/upstream.h"
#include "common/memory.h"

#define DEFAULT_ANTHROPIC_URL "https://api.anthropic.com"
#define DEFAULT_ANTHROPIC_VERSION "2023-06-01"

struct anthropic {
    struct upstream *up; /* set when the config goes live */
    struct upstream_url url;
    char *base_url;
    char *token;
    char *ca_file;
};

static int anthropic_configure(struct provider *p, lua_State *L, int idx, char *err, size_t errlen)
{
    struct anthropic *a = xcalloc(1, sizeof(*a));
    p->impl = a;
    if (config_field_string(L, idx, "base_url", &a->base_url, DEFAULT_ANTHROPIC_URL, err, errlen) != 0 ||
        config_field_string(L, idx, "token", &a->token, NULL, err, errlen) != 0 ||
        config_field_string(L, idx, "ca_file", &a->ca_file, NULL, err, errlen) != 0 ||
        upstream_parse_url(a->base_url, &a->url, err, errlen) != 0 ||
        upstream_check_tls(&a->url, a->ca_file, err, errlen) != 0)
        return -1;
    if (config_url_points_at_proxy(p->config, a->url.host, a->url.port)) {
        snprintf(err, errlen,
                 "base_url %s points at this proxy's own address (did CLAUDE_PROXY_ANTHROPIC_URL get the "
                 "value meant for ANTHROPIC_BASE_URL?)",
                 a->url.origin);
        return -1;
    }
    return 0;
}

static int anthropic_start(struct provider *p, h2o_context_t *ctx, char *err, size_t errlen)
{
    struct anthropic *a = p->impl;
    a->up = upstream_get(ctx, a->base_url, a->ca_file, p->config->timeout_ms, err, errlen);
    return a->up != NULL ? 0 : -1;
}

static void append_header(sbuf *head, const char *name, const char *value, size_t len)
{
    sbuf_puts(head, name);
    sbuf_puts(head, ": ");
    sbuf_append(head, value, len);
    sbuf_puts(head, "\r\n");
}

/* Splices a new model name into the body when the client used a Bedrock-form id or route()
 * chose another model; otherwise the body is forwarded untouched. */
static void choose_body(struct provider *p, const struct client_request *cr, struct upstream_request *out)
{
    out->body = cr->body;
    snprintf(out->model_sent, sizeof(out->model_sent), "%s", cr->model);
    if (cr->scan == NULL || cr->model[0] == '\0')
        return;
    char normalised[256];
    const char *model = cr->model_override ? cr->model_override : cr->model;
    int changed = cr->model_override != NULL;
    /* Only names that look like Bedrock ids need the Lua call (keeps the common path C-only). */
    if (strstr(model, "anthropic.") != NULL || strncmp(model, "arn:", 4) == 0 || strstr(model, "[1m]") != NULL) {
        if (config_model_for_anthropic(p->config, model, normalised, sizeof(normalised)) == 1) {
            model = normalised;
            changed = 1;
        }
    }
    if (!changed)
        return;
    snprintf(out->model_sent, sizeof(out->model_sent), "%s", model);
    sbuf value = SBUF_INIT;
    sbuf_json_string(&value, model, strlen(model));
    const char *keys[] = {"model"};
    const char *values[] = {value.data};
    json_splice(cr->scan, NULL, 0, keys, values, 1, NULL, &out->owned_body);
    sbuf_free(&value);
    out->body = h2o_iovec_init(out->owned_body.data, out->owned_body.len);
}

static void *anthropic_prepare(struct provider *p, const struct client_request *cr, struct upstream_request *out,
                               provider_prepared_cb done, void *ud)
{
    struct anthropic *a = p->impl;
    h2o_req_t *req = cr->req;
    out->target = a->up;
    out->response_format = RESPONSE_NATIVE;
    choose_body(p, cr, out);

    sbuf *h = &out->head;
    sbuf_append(h, req->method.base, req->method.len);
    sbuf_putc(h, ' ');
    sbuf_puts(h, a->up->base_path);
    sbuf_append(h, cr->path.base, cr->path.len);
    sbuf_puts(h, " HTTP/1.1\r\n");
    append_header(h, "host", a->up->host_header, strlen(a->up->host_header));
    sbuf_puts(h, "connection: keep-alive\r\naccept-encoding: identity\r\n");
    if (out->body.len != 0 || h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
        sbuf_puts(h, "content-length: ");
        sbuf_put_uint(h, out->body.len);
        sbuf_puts(h, "\r\n");
    }

    const h2o_iovec_t *authz = headers_client(req, "authorization");
    const h2o_iovec_t *xkey = headers_client(req, "x-api-key");
    struct credential cred = credential_select(authz ? authz->base : NULL, authz ? authz->len : 0,
                                               xkey ? xkey->base : NULL, xkey ? xkey->len : 0, a->token);
    const h2o_iovec_t *beta = headers_client(req, "anthropic-beta");
    sbuf betas = SBUF_INIT;
    beta_merge(&betas, beta ? beta->base : NULL, beta ? beta->len : 0,
               cred.kind == CREDENTIAL_OAUTH ? OAUTH_BETA : NULL);
    out->subscription = cred.kind == CREDENTIAL_OAUTH; /* an API key or a gateway's key is metered */
    if (cred.kind == CREDENTIAL_API_KEY || (cred.kind == CREDENTIAL_OTHER && !cred.as_bearer)) {
        append_header(h, "x-api-key", cred.value, cred.len);
    } else if (cred.kind != CREDENTIAL_NONE) {
        sbuf_puts(h, "authorization: Bearer ");
        sbuf_append(h, cred.value, cred.len);
        sbuf_puts(h, "\r\n");
    }
    if (betas.len)
        append_header(h, "anthropic-beta", betas.data, betas.len);
    sbuf_free(&betas);
    if (headers_client(req, "anthropic-version") == NULL)
        append_header(h, "anthropic-version", DEFAULT_ANTHROPIC_VERSION, strlen(DEFAULT_ANTHROPIC_VERSION));
    static const char *const skip[] = {"authorization", "x-api-key", "anthropic-beta"};
    headers_copy_client(req, h, skip, sizeof(skip) / sizeof(skip[0]));
    sbuf_puts(h, "\r\n");
    done(ud, NULL, NULL);
    return NULL;
}

static const char *anthropic_problem(struct provider *p)
{
    (void)p;
    return NULL; /* without a configured token the client's own credential is used */
}

static void anthropic_describe(struct provider *p, sbuf *out)
{
    struct anthropic *a = p->impl;
    char r[REDACT_BUFSZ];
    sbuf_json_field(out, "base_url", a->url.origin);
    sbuf_json_field(out, "token", redact_secret(a->token, a->token ? strlen(a->token) : 0, r));
}

static void anthropic_destroy(struct provider *p)
{
    struct anthropic *a = p->impl;
    if (a == NULL)
        return;
    free(a->base_url);
    free_secret(a->token);
    free(a->ca_file);
    free(a);
}

const struct provider_ops provider_anthropic = {
    .type = "anthropic",
    .configure = anthropic_configure,
    .start = anthropic_start,
    .prepare = anthropic_prepare,
    /* a history whose thinking blocks another model signed (an earlier turn served by Bedrock
     * with another model, say) is refused with 400: once more without them */
    .retry_on_error = provider_retry_on_thinking,
    .problem = anthropic_problem,
    .describe = anthropic_describe,
    .destroy = anthropic_destroy,
};

/* For `claude-proxy doctor`: the configured token (NULL: the client's own) and the upstream. */
const char *provider_anthropic_token(const struct provider *p) { return ((const struct anthropic *)p->impl)->token; }

struct upstream *provider_anthropic_upstream(const struct provider *p)
{
    return ((const struct anthropic *)p->impl)->up;
}
