#include "cli/doctor.h"
#include <cjson/cJSON.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "providers/anthropic_auth.h"
#include "providers/anthropic.h"
#include "aws/credentials.h"
#include "aws/request.h"
#include "providers/bedrock.h"
#include "providers/bedrock_profiles.h"
#include "providers/bedrock_models.h"
#include "providers/bedrock_routes.h"
#include "core/config.h"
#include "cli/doctor_report.h"
#include "common/http_fetch.h"
#include "common/json_scan.h"
#include "common/log.h"
#include "common/netaddr.h"
#include "core/provider.h"
#include "core/provider_state.h"
#include "common/redact.h"
#include "common/upstream.h"
#include "common/memory.h"

/* Claude Code's models: its default (direct mode), Opus (its Bedrock mode's default) and the
 * small model it uses for titles and summaries. */
static const char *const default_models[] = {"claude-sonnet-5-5", "claude-opus-5-5", "claude-haiku-4-5"};
#define DEFAULT_MODEL "claude-sonnet-5-5"
#define MAX_MODELS 16
#define MAX_ANSWER (256 * 1024)
#define PROBE_RETRIES 4
#define STS_BODY "Action=GetCallerIdentity&Version=2011-06-15"

struct doctor {
    uv_loop_t loop;
    h2o_globalconf_t globalconf;
    h2o_context_t ctx;
    struct proxy_config *cfg;
    struct doctor_report *report;
    int probe, json;
    const char *models[MAX_MODELS];
    size_t num_models;
    int pending; /* async checks under way */
};

/* One answer of an upstream, copied out of the fetch's callback. */
struct answer {
    int done, status;
    char err[300];
    char error_type[80]; /* x-amzn-errortype, without its ":http..." tail */
    sbuf body;
    char unified[16][2][64]; /* anthropic-ratelimit-unified-* headers: name tail, value */
    size_t num_unified;
};

static void answer_take(struct answer *a, const struct http_fetch_result *r)
{
    a->done = 1;
    a->status = r->status;
    if (r->err != NULL)
        snprintf(a->err, sizeof(a->err), "%s", r->err);
    sbuf_append(&a->body, r->body, r->body_len);
    const h2o_iovec_t *t = http_fetch_header(r, "x-amzn-errortype");
    if (t != NULL) {
        const char *colon = memchr(t->base, ':', t->len);
        snprintf(a->error_type, sizeof(a->error_type), "%.*s", (int)(colon ? (size_t)(colon - t->base) : t->len),
                 t->base);
    }
    static const char prefix[] = "anthropic-ratelimit-unified-";
    for (size_t i = 0; i < r->num_headers && a->num_unified < 16; i++) {
        const h2o_iovec_t *n = r->headers[i].name;
        if (n->len > sizeof(prefix) - 1 && memcmp(n->base, prefix, sizeof(prefix) - 1) == 0) {
            snprintf(a->unified[a->num_unified][0], 64, "%.*s", (int)(n->len - sizeof(prefix) + 1),
                     n->base + sizeof(prefix) - 1);
            snprintf(a->unified[a->num_unified][1], 64, "%.*s", (int)r->headers[i].value.len,
                     r->headers[i].value.base);
            a->num_unified++;
        }
    }
}

static const char *unified(const struct answer *a, const char *name)
{
    for (size_t i = 0; i < a->num_unified; i++)
        if (strcmp(a->unified[i][0], name) == 0)
            return a->unified[i][1];
    return NULL;
}

/* The message of an error answer: Anthropic's error.message, AWS's message / Message, STS's
 * <Message>, else the start of the body. */
static void answer_message(const struct answer *a, char *out, size_t outlen)
{
    const char *body = a->body.data ? a->body.data : "";
    cJSON *j = cJSON_ParseWithLength(body, a->body.len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(cJSON_IsObject(e) ? e : j, "message");
    if (!cJSON_IsString(m))
        m = cJSON_GetObjectItemCaseSensitive(j, "Message");
    const char *xml = strstr(body, "<Message>");
    if (cJSON_IsString(m))
        snprintf(out, outlen, "%.300s", m->valuestring);
    else if (xml != NULL)
        snprintf(out, outlen, "%.*s", (int)strcspn(xml + 9, "<"), xml + 9);
    else
        snprintf(out, outlen, "%.200s", body);
    cJSON_Delete(j);
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

static void on_answer(void *ud, const struct http_fetch_result *r);

struct fetch_job {
    struct doctor *d;
    struct answer *a;
};

static void fetch(struct doctor *d, struct upstream *u, sbuf *head, const char *body, size_t len, struct answer *a)
{
    struct fetch_job *j = xmalloc(sizeof(*j));
    *j = (struct fetch_job){d, a};
    d->pending++;
    http_fetch_start(u, head->data, head->len, body, len, MAX_ANSWER, on_answer, j);
}

static void on_answer(void *ud, const struct http_fetch_result *r)
{
    struct fetch_job *j = ud;
    answer_take(j->a, r);
    j->d->pending--;
    free(j);
}

static void run_until_done(struct doctor *d)
{
    while (d->pending > 0)
        uv_run(&d->loop, UV_RUN_ONCE);
}

/* ------------------------------------------------------------------------------------------ */
/* The config and a running proxy */

static struct answer health;

static void check_running_proxy(struct doctor *d)
{
    char url[300], err[200], dial[64];
    netaddr_http_url(url, sizeof(url), netaddr_dial_host(d->cfg->listen_host, dial, sizeof(dial)), d->cfg->port);
    struct upstream *u = upstream_get(&d->ctx, url, NULL, 3000, err, sizeof(err));
    if (u == NULL)
        return;
    sbuf head = SBUF_INIT;
    sbuf_printf(&head, "GET /health HTTP/1.1\r\nhost: %s\r\nconnection: close\r\n\r\n", u->host_header);
    fetch(d, u, &head, NULL, 0, &health);
    sbuf_free(&head);
}

static void report_running_proxy(struct doctor *d)
{
    struct doctor_report *r = d->report;
    char url[300];
    netaddr_http_url(url, sizeof(url), d->cfg->listen_host, d->cfg->port);
    if (!health.done || health.status == 0) {
        doctor_report_add(r, DOCTOR_SKIP, NULL, "no proxy is running on %s (start it with `claude-proxy`)", url);
        return;
    }
    cJSON *j = cJSON_ParseWithLength(health.body.data ? health.body.data : "", health.body.len);
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "config");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(cfg, "source");
    if (health.status == 200 && cJSON_IsString(src))
        doctor_report_add(r, DOCTOR_OK, NULL, "a proxy is running on %s (its /health: ok, config %s)", url,
                          src->valuestring);
    else
        doctor_report_add(r, DOCTOR_FAIL, "stop whatever listens there, or set another port (PROXY_PORT)",
                          "something else answers on %s (status %d, not claude-proxy's /health)", url, health.status);
    cJSON_Delete(j);
}

/* ------------------------------------------------------------------------------------------ */
/* Anthropic */

struct anthropic_check {
    struct provider *p;
    struct answer count, probe;
};

static void anthropic_request(struct doctor *d, struct provider *p, const char *path, const char *body,
                              struct answer *a)
{
    const char *token = provider_anthropic_token(p);
    struct upstream *u = provider_anthropic_upstream(p);
    enum credential_kind kind = credential_classify(token, strlen(token));
    sbuf head = SBUF_INIT;
    sbuf_printf(&head, "POST %s%s HTTP/1.1\r\nhost: %s\r\ncontent-type: application/json\r\ncontent-length: %zu\r\n"
                       "anthropic-version: 2023-06-01\r\naccept-encoding: identity\r\nconnection: keep-alive\r\n",
                u->base_path, path, u->host_header, strlen(body));
    if (kind == CREDENTIAL_API_KEY)
        sbuf_printf(&head, "x-api-key: %s\r\n", token);
    else
        sbuf_printf(&head, "authorization: Bearer %s\r\nanthropic-beta: " OAUTH_BETA ",claude-code-20250219\r\n", token);
    sbuf_puts(&head, "\r\n");
    fetch(d, u, &head, body, strlen(body), a);
    sbuf_free(&head);
}

static void start_anthropic(struct doctor *d, struct anthropic_check *ac)
{
    if (provider_anthropic_token(ac->p) == NULL)
        return;
    /* count_tokens costs nothing and checks the credential */
    anthropic_request(d, ac->p, "/v1/messages/count_tokens",
                      "{\"model\":\"" DEFAULT_MODEL "\",\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}]}",
                      &ac->count);
    if (d->probe)
        anthropic_request(d, ac->p, "/v1/messages",
                          "{\"model\":\"claude-haiku-4-5\",\"max_tokens\":1,\"system\":\"You are Claude Code, "
                          "Anthropic's official CLI for Claude.\",\"messages\":[{\"role\":\"user\",\"content\":"
                          "\"ping\"}]}",
                          &ac->probe);
}

/* Where the token came from, as util.oauth_token() looks for it. */
static void token_source(const char *token, char *out, size_t outlen)
{
    const char *env = getenv("CLAUDE_CODE_OAUTH_TOKEN");
    if (env != NULL && strcmp(env, token) == 0) {
        snprintf(out, outlen, "from CLAUDE_CODE_OAUTH_TOKEN");
        return;
    }
    char path[1024];
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg != NULL && xdg[0] != '\0')
        snprintf(path, sizeof(path), "%s/claude-proxy/token", xdg);
    else
        snprintf(path, sizeof(path), "%s/.config/claude-proxy/token", home ? home : ".");
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        char line[4096] = "";
        int same = fgets(line, sizeof(line), f) != NULL && (line[strcspn(line, "\r\n")] = '\0', 1) &&
                   strcmp(line, token) == 0;
        fclose(f);
        struct stat st;
        if (same && stat(path, &st) == 0) {
            snprintf(out, outlen, "from the token file %s (mode %04o)", path, (unsigned)(st.st_mode & 07777));
            return;
        }
    }
    snprintf(out, outlen, "from the config (token, or token_command)");
}

/* "allowed · 5h 23% (resets 14:00 UTC) · 7d 41% (resets 2026-12-05 09:00 UTC)" */
static void quota_line(const struct answer *a, char *out, size_t outlen)
{
    const char *st = unified(a, "status");
    size_t n = (size_t)snprintf(out, outlen, "%s", st ? st : "no unified quota headers");
    static const char *const windows[] = {"5h", "7d", "7d_oi", "7d-sonnet", "overage"};
    for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]) && n < outlen; i++) {
        char key[64];
        snprintf(key, sizeof(key), "%s-utilization", windows[i]);
        const char *u = unified(a, key);
        snprintf(key, sizeof(key), "%s-reset", windows[i]);
        const char *reset = unified(a, key);
        if (u == NULL)
            continue;
        char when[40] = "";
        if (reset != NULL) {
            time_t t = (time_t)strtoll(reset, NULL, 10);
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(when, sizeof(when), " (resets %Y-%m-%d %H:%M UTC)", &tm);
        }
        n += (size_t)snprintf(out + n, outlen - n, " \u00b7 %s %.0f%%%s", windows[i], strtod(u, NULL) * 100, when);
    }
}

/* Returns 1 if the provider can serve. */
static int report_anthropic(struct doctor *d, struct anthropic_check *ac)
{
    struct doctor_report *r = d->report;
    const char *token = provider_anthropic_token(ac->p);
    if (token == NULL) {
        doctor_report_add(r, DOCTOR_SKIP, NULL,
                          "token: none configured; the client's own login is used (Claude Code sends its OAuth token)");
        return 1;
    }
    char src[1200], masked[REDACT_BUFSZ];
    token_source(token, src, sizeof(src));
    redact_secret(token, strlen(token), masked);
    enum credential_kind kind = credential_classify(token, strlen(token));
    if (kind == CREDENTIAL_OAUTH || kind == CREDENTIAL_API_KEY) {
        doctor_report_add(r, DOCTOR_OK, NULL, "token: %s %s %s", kind == CREDENTIAL_OAUTH ? "an OAuth token" : "an API key",
                          masked, src);
    } else {
        doctor_report_add(r, DOCTOR_FAIL,
                          "run `claude setup-token` and put the sk-ant-oat01-... token it prints in "
                          "~/.config/claude-proxy/token (chmod 600)",
                          "token: %s %s has the shape of neither an OAuth token (sk-ant-oat...) nor an API key "
                          "(sk-ant-api...)", masked, src);
    }
    int usable = 0;
    char msg[400];
    answer_message(&ac->count, msg, sizeof(msg));
    if (ac->count.status == 200) {
        doctor_report_add(r, DOCTOR_OK, NULL, "Anthropic accepts the token (count_tokens answered 200; no quota spent)");
        usable = 1;
    } else if (ac->count.status == 0) {
        doctor_report_add(r, DOCTOR_FAIL, "check the network and base_url (CLAUDE_PROXY_ANTHROPIC_URL)",
                          "Anthropic cannot be reached: %s", ac->count.err);
    } else if (ac->count.status == 401 || ac->count.status == 403) {
        doctor_report_add(r, DOCTOR_FAIL,
                          "get a new token: `claude setup-token`, then put it in ~/.config/claude-proxy/token "
                          "(chmod 600) or CLAUDE_CODE_OAUTH_TOKEN",
                          "Anthropic refuses the token (%d: %s)", ac->count.status, msg);
    } else if (ac->count.status == 429) {
        doctor_report_add(r, DOCTOR_SKIP, NULL, "Anthropic rate-limits count_tokens right now (429: %s)", msg);
        usable = 1;
    } else {
        doctor_report_add(r, DOCTOR_FAIL, "see Anthropic's status page; try again later",
                          "count_tokens answered %d: %s", ac->count.status, msg);
    }
    if (d->probe && ac->probe.done) {
        char q[600];
        quota_line(&ac->probe, q, sizeof(q));
        answer_message(&ac->probe, msg, sizeof(msg));
        if (ac->probe.status == 200)
            doctor_report_add(r, DOCTOR_OK, NULL, "probe (claude-haiku-4-5, max_tokens 1): 200; quota: %s", q);
        else if (ac->probe.status == 429)
            doctor_report_add(r, DOCTOR_FAIL, "wait for the window to reset; the fallback serves meanwhile",
                              "probe: rate-limited (429: %s); quota: %s", msg, q);
        else
            doctor_report_add(r, DOCTOR_FAIL, "see the message; `claude setup-token` if the token is refused",
                              "probe: %d %s", ac->probe.status, ac->probe.status ? msg : ac->probe.err);
    }
    return usable;
}

/* ------------------------------------------------------------------------------------------ */
/* Bedrock */

struct model_check {
    const char *model;
    char id[256], route[32], err[400];
    char later[64]; /* the model's other routes, in order */
    int listed; /* 1 the listing has the id, 0 not, -1 nothing to compare with */
    /* --probe */
    struct bedrock_check *bc;
    struct doctor *d;
    int tries, done, status;
    char served_route[32], served_id[256], refusal[1000];
    char first_refusal[1000]; /* what the first route answered, when a later one served */
    h2o_req_t *req;
    struct client_request cr;
    struct json_object_scan *scan;
    sbuf body;
    struct upstream_request ur;
};

struct bedrock_check {
    struct provider *p;
    struct bedrock_facts f;
    int creds_done, creds_ok;
    char creds_err[400], access_key[REDACT_BUFSZ];
    time_t expiration;
    int has_session;
    char sts_url[512];
    struct answer sts;
    struct model_check models[MAX_MODELS];
};

static const char *nonempty_env(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? v : NULL;
}

static void on_bedrock_creds(void *ud, const struct aws_creds *creds, const char *err);

static void start_bedrock(struct doctor *d, struct bedrock_check *bc)
{
    provider_bedrock_facts(bc->p, &bc->f);
    const char *env = nonempty_env("AWS_ENDPOINT_URL_STS");
    if (env == NULL)
        env = nonempty_env("AWS_ENDPOINT_URL");
    if (env != NULL)
        snprintf(bc->sts_url, sizeof(bc->sts_url), "%s", env);
    else
        snprintf(bc->sts_url, sizeof(bc->sts_url), "https://sts.%s.amazonaws.com", bc->f.region);
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
    struct aws_request req = {"POST", "/", NULL, "application/x-www-form-urlencoded; charset=utf-8", STS_BODY,
                              strlen(STS_BODY), bc->f.region, "sts"};
    sbuf head = SBUF_INIT;
    if (aws_request_head(&head, u, &req, creds) == 0)
        fetch(d, u, &head, STS_BODY, strlen(STS_BODY), &bc->sts);
    sbuf_free(&head);
}

static void resolve_models(struct doctor *d, struct bedrock_check *bc)
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

/* ---- --probe: a max_tokens 1 request per model through the provider's own request path ---- */

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
    answer_take(&a, r);
    char msg[400];
    answer_message(&a, msg, sizeof(msg));
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
    http_fetch_start(mc->ur.target, mc->ur.head.data, mc->ur.head.len, mc->ur.body.base, mc->ur.body.len, MAX_ANSWER,
                     on_probe_answer, mc);
}

static void probe_send(struct model_check *mc)
{
    reset_ur(&mc->ur);
    struct provider *p = mc->bc->p;
    p->ops->prepare(p, &mc->cr, &mc->ur, on_probe_prepared, mc);
}

static void start_probe(struct doctor *d, struct model_check *mc)
{
    if (mc->id[0] == '\0')
        return;
    d->pending++;
    sbuf_printf(&mc->body, "{\"model\":\"%s\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}]}",
                mc->model);
    mc->scan = xmalloc(sizeof(*mc->scan));
    mc->req = xcalloc(1, sizeof(*mc->req)); /* a request without headers: what the provider reads of the client's */
    mc->req->method = h2o_iovec_init(H2O_STRLIT("POST"));
    const char *err;
    json_scan_object(mc->body.data, mc->body.len, mc->scan, &err);
    mc->cr = (struct client_request){.req = mc->req, .endpoint = ENDPOINT_MESSAGES,
                                     .body = h2o_iovec_init(mc->body.data, mc->body.len), .scan = mc->scan,
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

static void report_credentials(struct doctor *d, struct bedrock_check *bc)
{
    struct doctor_report *r = d->report;
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
    char msg[400];
    answer_message(&bc->sts, msg, sizeof(msg));
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
    if (bc->f.profiles == NULL) {
        doctor_report_add(r, DOCTOR_SKIP, NULL, "inference profiles: not listed (list_profiles = false): the static "
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
        doctor_report_add(r, DOCTOR_FAIL, "check the network to the control plane", "inference profiles: %s did not "
                          "answer in time", bc->f.control_origin);
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

/* ------------------------------------------------------------------------------------------ */

static const char usage[] = "usage: claude-proxy doctor [--config FILE] [--probe] [--model M ...] [--json]\n";

static void report_running_proxy(struct doctor *d);

static void add_model(struct doctor *d, const char *model)
{
    for (size_t i = 0; i < d->num_models; i++)
        if (strcmp(d->models[i], model) == 0)
            return;
    d->models[d->num_models++] = model;
}

static int parse_args(struct doctor *d, int argc, char **argv, const char **config)
{
    for (int i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc)
            *config = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            *config = argv[i] + 9;
        else if (strcmp(argv[i], "--probe") == 0)
            d->probe = 1;
        else if (strcmp(argv[i], "--json") == 0)
            d->json = 1;
        else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc && d->num_models < MAX_MODELS)
            add_model(d, argv[++i]);
        else {
            fprintf(stderr, "claude-proxy doctor: unknown argument \"%s\"\n%s", argv[i], usage);
            return -1;
        }
    }
    return 0;
}

static int run_checks(struct doctor *d)
{
    struct proxy_config *c = d->cfg;
    struct doctor_report *r = d->report;
    struct anthropic_check anth[CONFIG_MAX_PROVIDERS] = {0};
    static struct bedrock_check bed[CONFIG_MAX_PROVIDERS];
    memset(bed, 0, sizeof(bed));
    check_running_proxy(d);
    for (size_t i = 0; i < c->order_len; i++) {
        struct provider *p = c->providers[c->order[i]];
        if (strcmp(p->ops->type, "anthropic") == 0) {
            anth[i].p = p;
            start_anthropic(d, &anth[i]);
        } else if (strcmp(p->ops->type, "bedrock") == 0) {
            bed[i].p = p;
            start_bedrock(d, &bed[i]);
        }
    }
    run_until_done(d);
    /* the listings started with the providers: wait for them (up to the request timeout) */
    uint64_t deadline = monotonic_ms() + c->timeout_ms;
    for (size_t i = 0; i < c->order_len; i++)
        while (bed[i].p != NULL && bedrock_profiles_in_flight(bed[i].f.profiles) && monotonic_ms() < deadline)
            uv_run(&d->loop, UV_RUN_ONCE);
    for (size_t i = 0; i < c->order_len; i++) {
        if (bed[i].p == NULL)
            continue;
        resolve_models(d, &bed[i]);
        if (d->probe && bed[i].creds_ok)
            for (size_t m = 0; m < d->num_models; m++)
                start_probe(d, &bed[i].models[m]);
    }
    run_until_done(d);

    report_running_proxy(d); /* the last line of the config section */
    int first_usable = 0, fallback_ready = 0;
    char fallback_name[64] = "";
    for (size_t i = 0; i < c->order_len; i++) {
        struct provider *p = c->providers[c->order[i]];
        char section[128];
        snprintf(section, sizeof(section), "provider %s (%s)%s", p->name, p->ops->type, i == 0 ? ", first" : ", fallback");
        doctor_report_section(r, section);
        int usable = 0, serves_default = 0;
        if (anth[i].p != NULL) {
            usable = report_anthropic(d, &anth[i]);
            serves_default = usable;
        } else if (bed[i].p != NULL) {
            struct bedrock_check *bc = &bed[i];
            report_credentials(d, bc);
            int identity = report_identity(d, bc);
            doctor_report_add(r, DOCTOR_OK, NULL, "region %s%s%s; InvokeModel %s, mantle %s, control plane %s",
                              bc->f.region, bc->f.region_prefix ? ", region_prefix " : "",
                              bc->f.region_prefix ? bc->f.region_prefix : "", bc->f.runtime_origin,
                              bc->f.mantle_origin, bc->f.control_origin);
            report_listing(d, bc);
            serves_default = report_models(d, bc, identity);
            usable = identity;
            for (size_t m = 0; m < d->num_models; m++)
                free_probe(&bc->models[m]);
        }
        if (i == 0)
            first_usable = usable;
        else if (serves_default && !fallback_ready) {
            fallback_ready = 1;
            snprintf(fallback_name, sizeof(fallback_name), "%s", p->name);
        }
        sbuf_free(&anth[i].count.body);
        sbuf_free(&anth[i].probe.body);
        sbuf_free(&bed[i].sts.body);
    }
    char summary[700];
    int ready = first_usable && fallback_ready;
    if (ready) {
        size_t n = (size_t)snprintf(summary, sizeof(summary), "fallback ready for");
        for (size_t m = 0; m < d->num_models; m++)
            n += (size_t)snprintf(summary + n, sizeof(summary) - n, "%s %s", m ? "," : "", d->models[m]);
        snprintf(summary + n, sizeof(summary) - n, " (%s)", fallback_name);
    } else {
        snprintf(summary, sizeof(summary), "not ready: %s%s%s", first_usable ? "" : "the first provider is not usable",
                 !first_usable && !fallback_ready ? "; " : "",
                 fallback_ready ? ""
                 : c->order_len < 2 ? "no fallback provider is configured"
                                    : "no fallback provider serves Claude Code's default model " DEFAULT_MODEL);
    }
    doctor_report_summary(r, ready, summary);
    return ready ? 0 : 1;
}

int doctor_main(int argc, char **argv)
{
    static struct doctor d; /* static: h2o's context is still reachable at exit */
    const char *config_arg = NULL;
    /* Claude Code's models first, then each --model */
    for (size_t i = 0; i < sizeof(default_models) / sizeof(default_models[0]); i++)
        d.models[d.num_models++] = default_models[i];
    if (parse_args(&d, argc, argv, &config_arg) != 0)
        return 2;
    log_set_level(LOG_ERROR); /* the report says what matters; the providers' own lines would repeat it */
    d.report = doctor_report_new();
    doctor_report_section(d.report, "config");
    char pathbuf[4096], err[1024];
    const char *path = config_arg ? config_arg : config_default_path(pathbuf, sizeof(pathbuf));
    d.cfg = config_load(path, err, sizeof(err));
    int status = 1;
    if (d.cfg == NULL) {
        char fix[600];
        snprintf(fix, sizeof(fix), "correct it, then check again with: claude-proxy --check%s%s",
                 path ? " --config " : "", path ? path : "");
        doctor_report_add(d.report, DOCTOR_FAIL, fix, "config %s: %s", path ? path : "(built-in default)", err);
        doctor_report_summary(d.report, 0, "not ready: the config does not load");
    } else {
        doctor_report_add(d.report, DOCTOR_OK, NULL, "config: %s loads and validates", d.cfg->source);
        char url[300];
        netaddr_http_url(url, sizeof(url), d.cfg->listen_host, d.cfg->port);
        doctor_report_add(d.report, DOCTOR_OK, NULL, "listen: %s", url);
        sbuf order = SBUF_INIT;
        for (size_t i = 0; i < d.cfg->order_len; i++)
            sbuf_printf(&order, "%s%s", i ? " \u2192 " : "", d.cfg->providers[d.cfg->order[i]]->name);
        doctor_report_add(d.report, DOCTOR_OK, NULL, "provider order: %s", order.data ? order.data : "");
        sbuf_free(&order);
        uv_loop_init(&d.loop);
        h2o_config_init(&d.globalconf);
        h2o_config_register_host(&d.globalconf, h2o_iovec_init(H2O_STRLIT("doctor")), 65535); /* h2o wants one */
        h2o_context_init(&d.ctx, &d.loop, &d.globalconf);
        if (config_start(d.cfg, &d.ctx, err, sizeof(err)) != 0) {
            doctor_report_add(d.report, DOCTOR_FAIL, "correct the provider's settings", "%s", err);
            doctor_report_summary(d.report, 0, "not ready: a provider cannot start");
        } else {
            status = run_checks(&d);
        }
    }
    doctor_report_print(d.report, stdout, d.json);
    doctor_report_free(d.report);
    /* The config, its providers and h2o's context stay: 2.2.5 cannot tear a context down with
     * connections open; all of it is reachable from `d` and the OS takes it back. */
    return status;
}
