/* `claude-proxy doctor` for a Bedrock provider: the credentials (source, expiry), STS
 * GetCallerIdentity with them, the endpoints, the account's inference-profile listing, the route and
 * id of each model, and with --probe a one-token request per model through the provider's own
 * request path (following its route fallback), saying which route served or what AWS refused. */
#include <cjson/cJSON.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aws/credentials.h"
#include "cli/doctor_internal.h"
#include "common/http_fetch.h"
#include "common/memory.h"
#include "core/provider_state.h"
#include "providers/bedrock_models.h"
#include "providers/bedrock_profiles.h"
#include "providers/bedrock_routes.h"

#define PROBE_RETRIES 4
#define STS_BODY "Action=GetCallerIdentity&Version=2011-06-15"

static const char *nonempty_env(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? v : NULL;
}

static void on_bedrock_creds(void *ud, const struct aws_creds *creds, const char *err);

void doctor_bedrock_start(struct doctor *d, struct bedrock_check *bc)
{
    provider_bedrock_facts(bc->p, &bc->f);
    const char *env = nonempty_env("AWS_ENDPOINT_URL_STS");
    if (env == NULL)
        env = nonempty_env("AWS_ENDPOINT_URL");
    if (env != NULL)
        snprintf(bc->sts_url, sizeof(bc->sts_url), "%s", env);
    else
        snprintf(bc->sts_url, sizeof(bc->sts_url), "https://sts.%s.amazonaws.com", bc->f.region);
    if (bc->f.api_key[0] != '\0') {
        /* a Bedrock API key is the credential: no AWS credentials to fetch, no STS identity to ask */
        bc->creds_done = bc->creds_ok = 1;
        return;
    }
    d->pending++;
    struct fetch_job *j = xmalloc(sizeof(*j));
    j->d = d;
    j->a = (struct answer *)bc; /* (the check itself, see on_bedrock_creds) */
    aws_cred_source_get(bc->f.creds, on_bedrock_creds, j);
}

static void on_bedrock_creds(void *ud, const struct aws_creds *creds, const char *err)
{
    struct fetch_job *j = ud;
    struct doctor *d = j->d;
    struct bedrock_check *bc = (struct bedrock_check *)j->a;
    free(j);
    d->pending--;
    bc->creds_done = 1;
    if (creds == NULL) {
        snprintf(bc->creds_err, sizeof(bc->creds_err), "%s", err ? err : "unknown error");
        return;
    }
    bc->creds_ok = 1;
    bc->expiration = creds->expiration;
    bc->has_session = creds->session_token != NULL;
    redact_secret(creds->access_key_id, strlen(creds->access_key_id), bc->access_key);
    /* who these credentials are: STS GetCallerIdentity costs nothing */
    char uerr[300];
    struct upstream *u = upstream_get(&d->ctx, bc->sts_url, bc->f.ca_file, d->cfg->timeout_ms, uerr, sizeof(uerr));
    if (u == NULL) {
        bc->sts.done = 1;
        snprintf(bc->sts.err, sizeof(bc->sts.err), "%s", uerr);
        return;
    }
    struct aws_request req = {
        "POST",           "/",          NULL, "application/x-www-form-urlencoded; charset=utf-8", STS_BODY,
        strlen(STS_BODY), bc->f.region, "sts"};
    sbuf head = SBUF_INIT;
    if (aws_request_head(&head, u, &req, creds) == 0)
        doctor_fetch(d, u, &head, STS_BODY, strlen(STS_BODY), &bc->sts);
    sbuf_free(&head);
}

void doctor_bedrock_resolve_models(struct doctor *d, struct bedrock_check *bc)
{
    const struct bedrock_profiles_listing *l = bedrock_profiles_current(bc->f.profiles);
    int ref = LUA_NOREF;
    if (l != NULL)
        ref = bedrock_listed_table(d->cfg, (const char *const *)l->ids, l->n);
    for (size_t i = 0; i < d->num_models; i++) {
        struct model_check *mc = &bc->models[i];
        mc->model = d->models[i];
        mc->bc = bc;
        mc->d = d;
        struct bedrock_plan *plan = xmalloc(sizeof(*plan));
        if (bedrock_plan_resolve(d->cfg, mc->model, mc->model, bc->f.region, bc->f.region_prefix, ref, plan, mc->err,
                                 sizeof(mc->err)) != 0 ||
            plan->num_routes == 0) {
            if (mc->err[0] == '\0')
                snprintf(mc->err, sizeof(mc->err), "no Bedrock route for this model");
            free(plan);
            continue;
        }
        /* the first route is the one tried first; the others follow when it refuses the model */
        snprintf(mc->id, sizeof(mc->id), "%s", plan->routes[0].id);
        snprintf(mc->route, sizeof(mc->route), "%s", bedrock_route_name(plan->routes[0].route));
        size_t n = 0;
        for (size_t k = 1; k < plan->num_routes && n < sizeof(mc->later); k++)
            n += (size_t)snprintf(mc->later + n, sizeof(mc->later) - n, "%s%s", n ? ", " : "",
                                  bedrock_route_name(plan->routes[k].route));
        bedrock_plan_free(plan);
        free(plan);
        /* a profile id is in the listing or not; a bare id (mantle) is when any profile has it */
        mc->listed = -1;
        const char *dot = strchr(mc->id, '.');
        int bare = strncmp(mc->id, "anthropic.", 10) == 0;
        if (l != NULL && (bare || (dot != NULL && strncmp(dot + 1, "anthropic.", 10) == 0))) {
            mc->listed = 0;
            for (size_t k = 0; k < l->n; k++) {
                const char *kd = strchr(l->ids[k], '.');
                if (strcmp(l->ids[k], mc->id) == 0 || (bare && kd != NULL && strcmp(kd + 1, mc->id) == 0))
                    mc->listed = 1;
            }
        }
    }
    if (ref != LUA_NOREF)
        luaL_unref(d->cfg->L, LUA_REGISTRYINDEX, ref);
}

static void probe_send(struct model_check *mc);

static void probe_finish(struct model_check *mc)
{
    mc->done = 1;
    mc->d->pending--;
}

static void reset_ur(struct upstream_request *ur)
{
    sbuf_free(&ur->head);
    sbuf_free(&ur->owned_body);
    memset(ur, 0, sizeof(*ur));
}

static void on_probe_answer(void *ud, const struct http_fetch_result *r)
{
    struct model_check *mc = ud;
    struct provider *p = mc->bc->p;
    mc->status = r->status;
    if (r->err != NULL) {
        snprintf(mc->refusal, sizeof(mc->refusal), "%s: %s", mc->ur.target ? mc->ur.target->origin : "", r->err);
        probe_finish(mc);
        return;
    }
    if (r->status >= 200 && r->status <= 299) {
        snprintf(mc->served_route, sizeof(mc->served_route), "%s", mc->ur.route ? mc->ur.route : "");
        snprintf(mc->served_id, sizeof(mc->served_id), "%s", mc->ur.model_sent);
        probe_finish(mc);
        return;
    }
    struct answer a = {0};
    doctor_answer_take(&a, r);
    char msg[400];
    doctor_answer_message(&a, msg, sizeof(msg));
    snprintf(mc->refusal, sizeof(mc->refusal), "%d%s%s on %s (%.200s): %.400s", r->status, a.error_type[0] ? " " : "",
             a.error_type, mc->ur.route ? mc->ur.route : "its route", mc->ur.model_sent, msg);
    sbuf_free(&a.body);
    /* the provider's own rule: a route that does not serve the model hands it to the next one */
    if (p->ops->retry_on_error != NULL && mc->tries + 1 < PROBE_RETRIES &&
        p->ops->retry_on_error(p, &mc->cr, &mc->ur, r->status, r->headers, r->num_headers, r->body, r->body_len) ==
            PROVIDER_RETRY_AGAIN) {
        mc->tries++;
        snprintf(mc->first_refusal, sizeof(mc->first_refusal), "%s", mc->refusal);
        probe_send(mc);
        return;
    }
    probe_finish(mc);
}

static void on_probe_prepared(void *ud, const char *error_type, const char *error)
{
    struct model_check *mc = ud;
    if (error != NULL) {
        snprintf(mc->refusal, sizeof(mc->refusal), "%s", error);
        (void)error_type;
        probe_finish(mc);
        return;
    }
    upstream_request_join_body(&mc->ur);
    http_fetch_start(mc->ur.target, mc->ur.head.data, mc->ur.head.len, mc->ur.body.base, mc->ur.body.len, MAX_ANSWER,
                     on_probe_answer, mc);
}

static void probe_send(struct model_check *mc)
{
    reset_ur(&mc->ur);
    struct provider *p = mc->bc->p;
    p->ops->prepare(p, &mc->cr, &mc->ur, on_probe_prepared, mc);
}

void doctor_bedrock_start_probe(struct doctor *d, struct model_check *mc)
{
    if (mc->id[0] == '\0')
        return;
    d->pending++;
    sbuf_printf(&mc->body,
                "{\"model\":\"%s\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}]}",
                mc->model);
    mc->scan = xmalloc(sizeof(*mc->scan));
    mc->req = xcalloc(1, sizeof(*mc->req)); /* a request without headers: what the provider reads of the client's */
    mc->req->method = h2o_iovec_init(H2O_STRLIT("POST"));
    const char *err;
    json_scan_object(mc->body.data, mc->body.len, mc->scan, &err);
    mc->cr = (struct client_request){.req = mc->req,
                                     .endpoint = ENDPOINT_MESSAGES,
                                     .body = h2o_iovec_init(mc->body.data, mc->body.len),
                                     .scan = mc->scan,
                                     .path = h2o_iovec_init(H2O_STRLIT("/v1/messages"))};
    snprintf(mc->cr.model, sizeof(mc->cr.model), "%s", mc->model);
    probe_send(mc);
}

static void free_probe(struct model_check *mc)
{
    reset_ur(&mc->ur);
    sbuf_free(&mc->body);
    free(mc->scan);
    free(mc->req);
}

/* The text of <tag>...</tag> in an XML answer ("" if absent). */
static void xml_value(const char *xml, const char *tag, char *out, size_t outlen)
{
    char open[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    const char *p = xml ? strstr(xml, open) : NULL;
    out[0] = '\0';
    if (p != NULL)
        snprintf(out, outlen, "%.*s", (int)strcspn(p + strlen(open), "<"), p + strlen(open));
}

static void report_credentials(struct doctor *d, struct bedrock_check *bc)
{
    struct doctor_report *r = d->report;
    if (bc->f.api_key[0] != '\0') {
        doctor_report_add(r, DOCTOR_OK, NULL, "credentials: %s, sent as Authorization: Bearer", bc->f.api_key);
        return;
    }
    const char *kind = aws_cred_source_kind(bc->f.creds);
    if (!bc->creds_ok) {
        doctor_report_add(r, DOCTOR_FAIL,
                          "set AWS_PROFILE (or `profile` in the config) to a profile with credentials; for SSO run "
                          "`aws sso login --profile NAME` and use credential_process = aws configure "
                          "export-credentials --profile NAME --format process",
                          "credentials (%s): %s", kind, bc->creds_err);
        return;
    }
    char expiry[120] = "no expiry";
    if (bc->expiration != 0) {
        struct tm tm;
        gmtime_r(&bc->expiration, &tm);
        char when[40];
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
        long left = (long)(bc->expiration - time(NULL)) / 60;
        snprintf(expiry, sizeof(expiry), "expire %s (in %ld min, renewed by the credential process)", when, left);
    }
    doctor_report_add(r, DOCTOR_OK, NULL, "credentials: %s, access key %s%s, %s", kind, bc->access_key,
                      bc->has_session ? " with a session token" : "", expiry);
}

/* Returns 1 if the identity is confirmed. */
static int report_identity(struct doctor *d, struct bedrock_check *bc)
{
    struct doctor_report *r = d->report;
    if (!bc->creds_ok)
        return 0;
    if (bc->f.api_key[0] != '\0') {
        doctor_report_add(r, DOCTOR_SKIP, NULL,
                          "identity: not asked (STS takes SigV4 credentials, not a Bedrock API key); --probe proves "
                          "the key with a request per model");
        return 1;
    }
    char msg[400];
    doctor_answer_message(&bc->sts, msg, sizeof(msg));
    if (bc->sts.status == 200) {
        char arn[300], account[40];
        xml_value(bc->sts.body.data, "Arn", arn, sizeof(arn));
        xml_value(bc->sts.body.data, "Account", account, sizeof(account));
        doctor_report_add(r, DOCTOR_OK, NULL, "identity: %s (account %s), STS GetCallerIdentity at %s", arn, account,
                          bc->sts_url);
        return 1;
    }
    if (bc->sts.status == 0)
        doctor_report_add(r, DOCTOR_FAIL, "check the network, or set AWS_ENDPOINT_URL_STS for a VPC endpoint",
                          "identity: STS at %s cannot be reached: %s", bc->sts_url, bc->sts.err);
    else
        doctor_report_add(r, DOCTOR_FAIL,
                          "these credentials are not valid: renew them (`aws sso login`, `aws configure`) or fix "
                          "AWS_PROFILE",
                          "identity: STS refuses the credentials (%d %s)", bc->sts.status, msg);
    return 0;
}

static void report_listing(struct doctor *d, struct bedrock_check *bc)
{
    struct doctor_report *r = d->report;
    if (bc->f.profiles == NULL && bc->f.api_key[0] != '\0') {
        doctor_report_add(r, DOCTOR_SKIP, NULL,
                          "inference profiles: not listed (the control plane takes SigV4 credentials, not an API "
                          "key): the static model table decides the ids");
        return;
    }
    if (bc->f.profiles == NULL) {
        doctor_report_add(r, DOCTOR_SKIP, NULL,
                          "inference profiles: not listed (list_profiles = false): the static "
                          "model table decides the ids");
        return;
    }
    const struct bedrock_profiles_listing *l = bedrock_profiles_current(bc->f.profiles);
    const char *err = bedrock_profiles_error(bc->f.profiles);
    if (l != NULL)
        doctor_report_add(r, DOCTOR_OK, NULL, "inference profiles: %zu listed at %s, %zu of Claude models", l->n,
                          bc->f.control_origin, bedrock_profiles_count_claude(l));
    else if (err != NULL)
        doctor_report_add(r, DOCTOR_FAIL,
                          strstr(err, "AccessDenied") ? "allow bedrock:ListInferenceProfiles for this identity "
                                                        "(meanwhile the static model table is used)"
                                                      : "check control_endpoint / AWS_ENDPOINT_URL_BEDROCK and the "
                                                        "network (meanwhile the static model table is used)",
                          "inference profiles: cannot be listed: %s", err);
    else
        doctor_report_add(r, DOCTOR_FAIL, "check the network to the control plane",
                          "inference profiles: %s did not "
                          "answer in time",
                          bc->f.control_origin);
}

/* Returns 1 if the default model is served (as far as the checks can tell). */
static int report_models(struct doctor *d, struct bedrock_check *bc, int identity_ok)
{
    struct doctor_report *r = d->report;
    int default_ok = 0;
    for (size_t i = 0; i < d->num_models; i++) {
        struct model_check *mc = &bc->models[i];
        int ok = 0;
        char probe[1100] = "";
        if (mc->id[0] == '\0') {
            doctor_report_add(r, DOCTOR_FAIL, "add the model to models.map in the config", "%s: %s", mc->model,
                              mc->err);
        } else if (d->probe) {
            if (mc->served_route[0] || (mc->status >= 200 && mc->status <= 299)) {
                ok = 1;
                snprintf(probe, sizeof(probe), "served by %s (%s)", mc->served_route, mc->served_id);
                doctor_report_add(r, DOCTOR_OK, NULL, "%s \u2192 %s %s: probe (max_tokens 1) %s%s%s", mc->model,
                                  mc->route, mc->id, probe, mc->tries ? "; first refused: " : "",
                                  mc->tries ? mc->first_refusal : "");
            } else {
                snprintf(probe, sizeof(probe), "refused: %s", mc->refusal);
                doctor_report_add(r, DOCTOR_FAIL,
                                  strstr(mc->refusal, "AccessDenied") || strstr(mc->refusal, "access")
                                      ? "request access to this model in the Bedrock console (Model access) for "
                                        "this region, or use a region that has it"
                                      : "see AWS's message; another region or region_prefix may serve this model",
                                  "%s \u2192 %s %s: probe %s", mc->model, mc->route, mc->id, probe);
            }
        } else if (mc->listed == 0) {
            doctor_report_add(r, DOCTOR_FAIL,
                              "the account has no such inference profile here: enable the model in the Bedrock "
                              "console for this region, or set region_prefix to one the account has",
                              "%s \u2192 %s %s: not among the account's inference profiles", mc->model, mc->route,
                              mc->id);
        } else {
            ok = identity_ok;
            doctor_report_add(r, DOCTOR_OK, NULL, "%s \u2192 %s %s%s%s%s", mc->model, mc->route, mc->id,
                              mc->listed == 1 ? " (listed for this account)" : "", mc->later[0] ? "; then " : "",
                              mc->later);
        }
        doctor_report_model(r, bc->p->name, mc->model, mc->route, mc->id, probe);
        if (strcmp(mc->model, DEFAULT_MODEL) == 0)
            default_ok = ok;
    }
    return default_ok;
}

int doctor_bedrock_report(struct doctor *d, struct bedrock_check *bc, int *usable)
{
    struct doctor_report *r = d->report;
    report_credentials(d, bc);
    int identity = report_identity(d, bc);
    doctor_report_add(r, DOCTOR_OK, NULL, "region %s%s%s; InvokeModel %s, mantle %s, control plane %s", bc->f.region,
                      bc->f.region_prefix ? ", region_prefix " : "", bc->f.region_prefix ? bc->f.region_prefix : "",
                      bc->f.runtime_origin, bc->f.mantle_origin, bc->f.control_origin);
    report_listing(d, bc);
    int serves_default = report_models(d, bc, identity);
    *usable = identity;
    for (size_t m = 0; m < d->num_models; m++)
        free_probe(&bc->models[m]);
    return serves_default;
}
