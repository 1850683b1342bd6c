/* A Bedrock request: the model's route (bedrock_models.c resolves the plan, the route memory of
 * bedrock_routes.c says which routes refused it), the body adapted for that route
 * (bedrock_request.c), the path, and the head signed with SigV4 once the credentials are at hand,
 * or carrying the API key. The first request after a start waits briefly for the account's
 * listing of inference profiles, so that it is sent with an id the account has. */
#include <lauxlib.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "providers/bedrock_internal.h"
#include "aws/credentials.h"
#include "aws/sigv4.h"
#include "providers/bedrock_models.h"
#include "providers/bedrock_profiles.h"
#include "providers/bedrock_request.h"
#include "providers/bedrock_routes.h"
#include "core/config.h"
#include "core/headers.h"
#include "common/log.h"
#include "common/memory.h"
#include "common/str_copy.h"

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
    struct body_parts parts; /* the body being built, into out->owned_body */
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
    sbuf_cat(h, name, ": ", value, "\r\n", (char *)NULL);
}

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
    str_copy(path_only, sizeof(path_only), path, q ? (size_t)(q - path) : (size_t)-1);
    struct upstream_request *out = ps->out;
    struct sigv4_request req = {
        "POST",         path_only,     q ? q + 1 : NULL, headers,          num_headers,
        out->body.base, out->body.len, out->body_parts,  out->nbody_parts, out->body_part_stamps};
    struct sigv4_credentials c = {creds->access_key_id, creds->secret_access_key, creds->session_token};
    struct sigv4_options opt = {b->region, ps->mantle ? "bedrock-mantle" : "bedrock", time(NULL), 1, 1, 1};
    memset(r, 0, sizeof(*r));
    return sigv4_sign(&req, &c, &opt, r);
}

/* The request head: signed (creds and r), or with the API key (both NULL). */
static void write_head(struct pending_sign *ps, const struct aws_creds *creds, const struct sigv4_result *r)
{
    sbuf *h = &ps->out->head;
    sbuf_cat(h, "POST ", ps->path.data, " HTTP/1.1\r\n", (char *)NULL);
    append_header(h, "host", ps->target->host_header);
    append_header(h, "content-type", ps->content_type);
    append_header(h, "accept", ps->accept);
    const char *tier = ((struct bedrock *)ps->p->impl)->service_tier;
    if (tier != NULL)
        append_header(h, "x-amzn-bedrock-service-tier", tier);
    sbuf_puts(h, "content-length: ");
    sbuf_put_uint(h, ps->out->body.len);
    sbuf_puts(h, "\r\nconnection: keep-alive\r\n");
    if (r != NULL) {
        append_header(h, "x-amz-date", r->amz_date);
        append_header(h, "x-amz-content-sha256", r->payload_hash);
        if (creds->session_token != NULL)
            append_header(h, "x-amz-security-token", creds->session_token);
        append_header(h, "authorization", r->authorization);
    } else {
        sbuf_cat(h, "authorization: Bearer ", ((struct bedrock *)ps->p->impl)->api_key, "\r\n", (char *)NULL);
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
    bedrock_request_body(cr->scan, rp->route, a, rp->id, NULL, 0, 0, &out->owned_body, &ps->parts, &removed);
    warn_removed(p, rp, &removed);
    sbuf_free(&removed);
    /* count_tokens on bedrock-mantle is documented by AWS (user guide, count-tokens-mantle) */
    sbuf_cat(&ps->path, ps->target->base_path, "/anthropic/v1/messages",
             cr->endpoint == ENDPOINT_COUNT_TOKENS ? "/count_tokens" : "", (char *)NULL);
    /* 2023-06-01, unless the client asked for 2026-10-21 and the model takes it (4.7 and later) */
    const h2o_iovec_t *version = headers_client(cr->req, "anthropic-version");
    int v2026 = a->version_2026 && version != NULL && h2o_memis(version->base, version->len, H2O_STRLIT("2026-10-21"));
    sbuf_cat(&ps->extra_headers, "anthropic-version: ", v2026 ? "2026-10-21" : "2023-06-01", "\r\n", (char *)NULL);
    sbuf betas = SBUF_INIT;
    bedrock_header_betas(beta ? beta->base : NULL, beta ? beta->len : 0, a, &betas);
    if (betas.len)
        sbuf_cat(&ps->extra_headers, "anthropic-beta: ", betas.data, "\r\n", (char *)NULL);
    sbuf_free(&betas);
    if (cr->stream && cr->endpoint != ENDPOINT_COUNT_TOKENS)
        STR_COPY(ps->accept, "text/event-stream");
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
        bedrock_request_body(cr->scan, BEDROCK_INVOKE, &rp->adapt, rp->id, beta_p, beta_len, 1, &inner, NULL, &removed);
        sbuf_puts(&out->owned_body, "{\"input\":{\"invokeModel\":{\"body\":\"");
        base64(inner.data, inner.len, &out->owned_body);
        sbuf_puts(&out->owned_body, "\"}}}");
        sbuf_free(&inner);
        const char *base_id = strip_profile_prefix(rp->id);
        sigv4_uri_encode(&encoded, base_id, strlen(base_id), 1);
        sbuf_cat(&ps->path, ps->target->base_path, "/model/", encoded.data, "/count-tokens", (char *)NULL);
    } else {
        bedrock_request_body(cr->scan, BEDROCK_INVOKE, &rp->adapt, rp->id, beta_p, beta_len, 0, &out->owned_body,
                             &ps->parts, &removed);
        sigv4_uri_encode(&encoded, rp->id, strlen(rp->id), 1);
        sbuf_cat(&ps->path, ps->target->base_path, "/model/", encoded.data,
                 cr->stream ? "/invoke-with-response-stream" : "/invoke", (char *)NULL);
        if (cr->stream) {
            out->response_format = RESPONSE_EVENTSTREAM;
            STR_COPY(ps->accept, "application/vnd.amazon.eventstream");
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

void bedrock_memory_key(const struct client_request *cr, char *key, size_t size)
{
    const char *model = cr->model_override ? cr->model_override : cr->model;
    const char *suffix = cr->endpoint == ENDPOINT_COUNT_TOKENS ? " (count_tokens)" : "";
    size_t n = str_copy(key, size, model, 200);
    str_copy(key + n, size - n, suffix, (size_t)-1);
}

const struct bedrock_route_plan *bedrock_choose_route(struct provider *p, const struct client_request *cr,
                                                      const struct bedrock_plan *plan)
{
    struct bedrock *b = p->impl;
    char key[300];
    bedrock_memory_key(cr, key, sizeof(key));
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

int bedrock_current_listed_ref(struct provider *p)
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

const struct bedrock_plan *bedrock_resolve(struct provider *p, const struct client_request *cr, char *err,
                                           size_t errlen)
{
    struct bedrock *b = p->impl;
    const char *model = cr->model_override ? cr->model_override : cr->model;
    int ref = bedrock_current_listed_ref(p);
    if (b->plans == NULL)
        b->plans = xcalloc(1, sizeof(*b->plans));
    return bedrock_plan_cached(b->plans, ref == LUA_NOREF ? 0 : b->listed_serial, p->config, model, cr->model,
                               b->region, b->region_prefix, ref, err, errlen);
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
    const struct bedrock_plan *plan = bedrock_resolve(p, cr, err, sizeof(err));
    if (plan == NULL) {
        pending_done(ps, "invalid_request_error", err);
        return NULL;
    }
    const struct bedrock_route_plan *rp = bedrock_choose_route(p, cr, plan);
    if (rp != NULL && b->refused_id[0] != '\0' && strcmp(rp->id, b->refused_id) == 0) {
        /* the fresh listing names the id Bedrock refused: that route does not serve the model */
        char key[300];
        bedrock_memory_key(cr, key, sizeof(key));
        enum bedrock_route refused = rp->route;
        bedrock_route_note(p->name, b->region, key, refused, BEDROCK_ROUTE_REFUSED, b->refused_why);
        rp = bedrock_choose_route(p, cr, plan);
        log_warn("%s: route %s does not serve %s in %s (%s; the fresh listing still names %s); %s%s", p->name,
                 bedrock_route_name(refused), key, b->region, b->refused_why, b->refused_id,
                 rp != NULL ? "trying " : "no route left", rp != NULL ? bedrock_route_name(rp->route) : "");
        b->refused_id[0] = '\0';
    }
    if (rp == NULL) {
        snprintf(err, sizeof(err), "no route of \"%s\" serves this endpoint on Bedrock", model);
        pending_done(ps, "invalid_request_error", err);
        return NULL;
    }
    STR_COPY(out->model_sent, rp->id);
    out->variant = (int)rp->route;
    out->route = bedrock_route_name(rp->route);
    bedrock_memory_key(cr, out->note, sizeof(out->note));
    body_parts_begin(&ps->parts, &out->owned_body);
    if (rp->route == BEDROCK_INVOKE)
        prepare_invoke(p, cr, rp, ps, out);
    else
        prepare_messages(p, cr, rp, ps, out);
    /* the body as parts: the members kept as they were stay in the client's request (cr->body, which
     * outlives the attempt), not copied; in one piece when nothing was kept by reference */
    size_t total;
    out->nbody_parts = body_parts_iovecs(&ps->parts, out->body_parts, out->body_part_stamps, &total);
    if (out->nbody_parts <= 1) {
        out->nbody_parts = 0;
        out->body = h2o_iovec_init(out->owned_body.data, out->owned_body.len);
    } else {
        out->body = h2o_iovec_init(NULL, total);
    }
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

void *bedrock_prepare(struct provider *p, const struct client_request *cr, struct upstream_request *out,
                      provider_prepared_cb done, void *ud)
{
    struct bedrock *b = p->impl;
    if (cr->endpoint == ENDPOINT_PASSTHROUGH) {
        done(ud, "not_found_error", "this endpoint is only served by Anthropic, not by Bedrock");
        return NULL;
    }
    struct pending_sign *ps = xcalloc(1, sizeof(*ps));
    ps->p = p, ps->cr = cr, ps->out = out, ps->done = done, ps->ud = ud;
    STR_COPY(ps->content_type, "application/json");
    STR_COPY(ps->accept, "application/json");
    /* the first request after a start waits (briefly) for the account's ids */
    if ((ps->listing_wait = bedrock_profiles_wait(b->profiles, 0, on_listing_ready, ps)) != NULL)
        return ps;
    return build_request(ps);
}

void bedrock_cancel_prepare(void *handle)
{
    struct pending_sign *ps = handle;
    if (ps->listing_wait != NULL)
        bedrock_profiles_wait_cancel(ps->listing_wait);
    if (ps->wait != NULL)
        aws_creds_wait_cancel(ps->wait);
    pending_free(ps);
}
