#include "providers/bedrock_profiles.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aws/request.h"
#include "common/http_fetch.h"
#include "common/log.h"
#include "core/provider_state.h"
#include "common/redact.h"
#include "aws/sigv4.h"
#include "common/upstream.h"
#include "common/memory.h"

#define PAGE_SIZE 1000 /* ListInferenceProfiles' maximum maxResults */
#define MAX_PAGES 50   /* a listing that never ends is a broken one */
#define MAX_PAGE_BYTES (4 * 1024 * 1024)
#define RETRY_AFTER_FAILURE_S 300 /* a failed listing is tried again sooner than hourly */

/* The last good listing and the last failure, per provider name, region and endpoint. */
struct kept {
    char *key;
    struct bedrock_profiles_listing listing; /* serial 0: none yet */
    char error[300];                         /* why the last listing failed; "" if it worked */
    int failure_logged;                      /* the failure was logged once; the next success says so */
    struct kept *next;
};
static struct kept *all_kept;
static uint64_t last_serial;

struct bedrock_profiles_wait {
    struct bedrock_profiles *bp;
    bedrock_profiles_cb cb;
    void *ud;
    struct bedrock_profiles_wait *next;
};

struct bedrock_profiles {
    char *name, *region;
    unsigned refresh_s, wait_ms, min_refresh_s;
    struct upstream *u;
    struct aws_cred_source *creds;
    struct kept *kept;
    h2o_loop_t *loop;
    uv_timer_t *timer;      /* the next listing, or the next page of this one */
    uv_timer_t *wait_timer; /* releases waiters wait_ms after a listing started */
    struct bedrock_profiles_wait *waiters;
    /* the listing in flight */
    int in_flight;
    int forced; /* ... asked for after a refused id: requests wait for it too */
    uint64_t started_ms, last_forced_ms;
    int waiting_creds;
    struct aws_creds_wait *creds_wait;
    struct http_fetch *fetch;
    char **ids;
    size_t n;
    char *next_token;
    unsigned pages;
};

static void free_ids(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

static struct kept *kept_for(const char *name, const char *region, const char *url)
{
    char key[1024];
    snprintf(key, sizeof(key), "%s|%s|%s", name, region, url);
    for (struct kept *k = all_kept; k != NULL; k = k->next)
        if (strcmp(k->key, key) == 0)
            return k;
    struct kept *k = xcalloc(1, sizeof(*k));
    k->key = xstrdup(key);
    k->next = all_kept;
    all_kept = k;
    return k;
}

/* ---- parsing ------------------------------------------------------------------------------ */

int bedrock_profiles_parse_page(const char *json, size_t len, char ***ids, size_t *n, char **next_token, char *err,
                                size_t errlen)
{
    *next_token = NULL;
    cJSON *root = cJSON_ParseWithLength(json, len);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "inferenceProfileSummaries");
    if (!cJSON_IsArray(list)) {
        snprintf(err, errlen, "the answer has no inferenceProfileSummaries list");
        cJSON_Delete(root);
        return -1;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "inferenceProfileId");
        if (!cJSON_IsString(id) || id->valuestring[0] == '\0' || strlen(id->valuestring) > 200)
            continue;
        *ids = xrealloc(*ids, (*n + 1) * sizeof(**ids));
        (*ids)[*n] = xstrdup(id->valuestring);
        (*n)++;
    }
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(root, "nextToken");
    if (cJSON_IsString(next) && next->valuestring[0] != '\0')
        *next_token = xstrdup(next->valuestring);
    cJSON_Delete(root);
    return 0;
}

/* ---- waiting ------------------------------------------------------------------------------ */

static void notify_waiters(struct bedrock_profiles *bp)
{
    if (bp->wait_timer != NULL)
        uv_timer_stop(bp->wait_timer);
    /* detached first: a callback may wait again or end its request */
    struct bedrock_profiles_wait *w = bp->waiters;
    bp->waiters = NULL;
    while (w != NULL) {
        struct bedrock_profiles_wait *next = w->next;
        bedrock_profiles_cb cb = w->cb;
        void *ud = w->ud;
        free(w);
        cb(ud);
        w = next;
    }
}

static void on_wait_bound(uv_timer_t *t)
{
    struct bedrock_profiles *bp = t->data;
    if (bp->waiters != NULL)
        log_warn("%s: listing inference profiles takes longer than %u ms; requests go on with the ids at hand",
                 bp->name, bp->wait_ms);
    notify_waiters(bp);
}

struct bedrock_profiles_wait *bedrock_profiles_wait(struct bedrock_profiles *bp, int even_if_listed,
                                                    bedrock_profiles_cb cb, void *ud)
{
    if (bp == NULL || !bp->in_flight || (!even_if_listed && !bp->forced && bp->kept->listing.serial != 0))
        return NULL;
    uint64_t now = monotonic_ms();
    if (now >= bp->started_ms + bp->wait_ms)
        return NULL;
    struct bedrock_profiles_wait *w = xcalloc(1, sizeof(*w));
    *w = (struct bedrock_profiles_wait){bp, cb, ud, bp->waiters};
    bp->waiters = w;
    if (!uv_is_active((uv_handle_t *)bp->wait_timer))
        uv_timer_start(bp->wait_timer, on_wait_bound, bp->started_ms + bp->wait_ms - now, 0);
    return w;
}

void bedrock_profiles_wait_cancel(struct bedrock_profiles_wait *w)
{
    struct bedrock_profiles_wait **p = &w->bp->waiters;
    while (*p != NULL && *p != w)
        p = &(*p)->next;
    if (*p == w)
        *p = w->next;
    free(w);
}

/* ---- listing ------------------------------------------------------------------------------ */

static void on_timer(uv_timer_t *t);

static void schedule(struct bedrock_profiles *bp, uint64_t ms) { uv_timer_start(bp->timer, on_timer, ms, 0); }

static size_t count_claude(char *const *ids, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        const char *dot = strchr(ids[i], '.');
        c += dot != NULL && strncmp(dot + 1, "anthropic.", 10) == 0;
    }
    return c;
}

static void finish_listing(struct bedrock_profiles *bp, const char *err)
{
    struct kept *k = bp->kept;
    bp->in_flight = 0;
    free(bp->next_token);
    bp->next_token = NULL;
    if (err != NULL) {
        free_ids(bp->ids, bp->n);
        snprintf(k->error, sizeof(k->error), "%s", err);
        redact_tokens_in_text(k->error);
        if (!k->failure_logged) {
            k->failure_logged = 1;
            if (k->listing.serial != 0)
                log_warn("%s: cannot list inference profiles (%s); keeping the %zu profile ids listed before", bp->name,
                         k->error, k->listing.n);
            else
                log_warn("%s: cannot list inference profiles (%s); using the static model table", bp->name, k->error);
        }
        schedule(bp, (uint64_t)(bp->refresh_s < RETRY_AFTER_FAILURE_S ? bp->refresh_s : RETRY_AFTER_FAILURE_S) * 1000);
    } else {
        size_t claude = count_claude(bp->ids, bp->n);
        int changed = k->listing.serial == 0 || k->listing.n != bp->n || k->failure_logged;
        if (changed)
            log_info("%s: listed %zu inference profiles (%zu of Claude models); model ids come from the listing",
                     bp->name, bp->n, claude);
        else
            log_debug("%s: listed %zu inference profiles again", bp->name, bp->n);
        free_ids(k->listing.ids, k->listing.n);
        k->listing = (struct bedrock_profiles_listing){bp->ids, bp->n, time(NULL), ++last_serial};
        k->error[0] = '\0';
        k->failure_logged = 0;
        schedule(bp, (uint64_t)bp->refresh_s * 1000);
    }
    bp->ids = NULL;
    bp->n = 0;
    notify_waiters(bp);
}

/* "AccessDeniedException: User ... is not authorized to perform: bedrock:ListInferenceProfiles" */
static void describe_refusal(const struct http_fetch_result *r, char *out, size_t outlen)
{
    char type[80] = "";
    const h2o_iovec_t *t = http_fetch_header(r, "x-amzn-errortype");
    if (t != NULL) {
        size_t n = t->len;
        const char *colon = memchr(t->base, ':', t->len);
        if (colon != NULL)
            n = (size_t)(colon - t->base);
        snprintf(type, sizeof(type), "%.*s", (int)n, t->base);
    }
    cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
    if (!cJSON_IsString(m))
        m = cJSON_GetObjectItemCaseSensitive(j, "Message");
    snprintf(out, outlen, "ListInferenceProfiles answered %d%s%s%s%.200s", r->status, type[0] ? " " : "", type,
             cJSON_IsString(m) ? ": " : "", cJSON_IsString(m) ? m->valuestring : "");
    cJSON_Delete(j);
}

static void send_page(struct bedrock_profiles *bp);

static void on_page(void *ud, const struct http_fetch_result *r)
{
    struct bedrock_profiles *bp = ud;
    bp->fetch = NULL;
    char err[400];
    if (r->err != NULL) {
        snprintf(err, sizeof(err), "%s: %s", bp->u->origin, r->err);
        finish_listing(bp, err);
        return;
    }
    if (r->status != 200) {
        describe_refusal(r, err, sizeof(err));
        finish_listing(bp, err);
        return;
    }
    char *next = NULL, why[200];
    if (bedrock_profiles_parse_page(r->body, r->body_len, &bp->ids, &bp->n, &next, why, sizeof(why)) != 0) {
        snprintf(err, sizeof(err), "ListInferenceProfiles: %s", why);
        finish_listing(bp, err);
        return;
    }
    free(bp->next_token);
    bp->next_token = next;
    if (next == NULL) {
        finish_listing(bp, NULL);
    } else if (++bp->pages >= MAX_PAGES) {
        finish_listing(bp, "ListInferenceProfiles: too many pages");
    } else {
        schedule(bp, 0); /* from the loop: this connection goes back to the pool first */
    }
}

static void on_creds(void *ud, const struct aws_creds *creds, const char *cred_err)
{
    struct bedrock_profiles *bp = ud;
    bp->waiting_creds = 0;
    bp->creds_wait = NULL;
    if (creds == NULL) {
        char err[400];
        snprintf(err, sizeof(err), "no usable AWS credentials: %s", cred_err ? cred_err : "unknown error");
        finish_listing(bp, err);
        return;
    }
    sbuf query = SBUF_INIT, head = SBUF_INIT;
    sbuf_printf(&query, "maxResults=%d&type=SYSTEM_DEFINED", PAGE_SIZE);
    if (bp->next_token != NULL) {
        sbuf_puts(&query, "&nextToken=");
        sigv4_uri_encode(&query, bp->next_token, strlen(bp->next_token), 1);
    }
    struct aws_request req = {"GET", "/inference-profiles", query.data, NULL, NULL, 0, bp->region, "bedrock"};
    if (aws_request_head(&head, bp->u, &req, creds) != 0)
        finish_listing(bp, "cannot sign the ListInferenceProfiles request");
    else
        bp->fetch = http_fetch_start(bp->u, head.data, head.len, NULL, 0, MAX_PAGE_BYTES, on_page, bp);
    sbuf_free(&query);
    sbuf_free(&head);
}

static void send_page(struct bedrock_profiles *bp)
{
    bp->waiting_creds = 1;
    struct aws_creds_wait *w = aws_cred_source_get(bp->creds, on_creds, bp);
    if (bp->waiting_creds)
        bp->creds_wait = w;
}

static void start_listing(struct bedrock_profiles *bp)
{
    bp->in_flight = 1;
    bp->forced = 0;
    bp->started_ms = monotonic_ms();
    bp->pages = 0;
    send_page(bp);
}

static void on_timer(uv_timer_t *t)
{
    struct bedrock_profiles *bp = t->data;
    if (bp->in_flight)
        send_page(bp); /* the next page */
    else
        start_listing(bp);
}

int bedrock_profiles_refresh(struct bedrock_profiles *bp)
{
    if (bp == NULL)
        return 0;
    if (bp->in_flight)
        return 1;
    uint64_t now = monotonic_ms();
    if (bp->last_forced_ms != 0 && now - bp->last_forced_ms < (uint64_t)bp->min_refresh_s * 1000)
        return 0;
    bp->last_forced_ms = now;
    uv_timer_stop(bp->timer);
    start_listing(bp);
    bp->forced = bp->in_flight;
    return bp->in_flight;
}

/* ---- lifetime ----------------------------------------------------------------------------- */

static uv_timer_t *new_timer(h2o_loop_t *loop, void *data)
{
    uv_timer_t *t = xmalloc(sizeof(*t));
    uv_timer_init(loop, t);
    t->data = data;
    return t;
}

static void close_timer(uv_timer_t *t)
{
    if (t != NULL)
        uv_close((uv_handle_t *)t, (uv_close_cb)free);
}

struct bedrock_profiles *bedrock_profiles_start(h2o_context_t *ctx, const struct bedrock_profiles_settings *s,
                                                struct aws_cred_source *creds, char *err, size_t errlen)
{
    struct upstream *u = upstream_get(ctx, s->control_url, s->ca_file, s->timeout_ms, err, errlen);
    if (u == NULL)
        return NULL;
    struct bedrock_profiles *bp = xcalloc(1, sizeof(*bp));
    bp->name = xstrdup(s->name);
    bp->region = xstrdup(s->region);
    bp->refresh_s = s->refresh_s ? s->refresh_s : 3600;
    bp->wait_ms = s->wait_ms;
    bp->min_refresh_s = s->min_refresh_s;
    bp->u = u;
    bp->creds = creds;
    bp->kept = kept_for(s->name, s->region, s->control_url);
    bp->loop = ctx->loop;
    bp->timer = new_timer(ctx->loop, bp);
    bp->wait_timer = new_timer(ctx->loop, bp);
    start_listing(bp);
    return bp;
}

void bedrock_profiles_free(struct bedrock_profiles *bp)
{
    if (bp == NULL)
        return;
    if (bp->creds_wait != NULL)
        aws_creds_wait_cancel(bp->creds_wait);
    if (bp->fetch != NULL)
        http_fetch_cancel(bp->fetch);
    while (bp->waiters != NULL) /* none: waiting requests hold the config this belongs to */
        bedrock_profiles_wait_cancel(bp->waiters);
    close_timer(bp->timer);
    close_timer(bp->wait_timer);
    free_ids(bp->ids, bp->n);
    free(bp->next_token);
    free(bp->name);
    free(bp->region);
    free(bp);
}

const struct bedrock_profiles_listing *bedrock_profiles_current(struct bedrock_profiles *bp)
{
    return bp != NULL && bp->kept->listing.serial != 0 ? &bp->kept->listing : NULL;
}

int bedrock_profiles_in_flight(struct bedrock_profiles *bp) { return bp != NULL && bp->in_flight; }

size_t bedrock_profiles_count_claude(const struct bedrock_profiles_listing *l)
{
    return l != NULL ? count_claude(l->ids, l->n) : 0;
}

const char *bedrock_profiles_error(struct bedrock_profiles *bp)
{
    return bp != NULL && bp->kept->error[0] ? bp->kept->error : NULL;
}

void bedrock_profiles_describe(struct bedrock_profiles *bp, sbuf *out)
{
    const struct bedrock_profiles_listing *l = bedrock_profiles_current(bp);
    struct kept *k = bp->kept;
    sbuf_puts(out, "\"model_ids\":{");
    if (l != NULL) {
        char at[32];
        struct tm tm;
        gmtime_r(&l->listed_at, &tm);
        strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
        sbuf_printf(out, "\"source\":\"listed\",\"profiles\":%zu,\"claude_profiles\":%zu,\"listed_at\":\"%s\"", l->n,
                    count_claude(l->ids, l->n), at);
        if (k->error[0]) {
            sbuf_puts(out, ",\"refresh_error\":");
            sbuf_json_string(out, k->error, strlen(k->error));
        }
    } else if (k->error[0]) {
        sbuf_puts(out, "\"source\":\"static\",\"reason\":");
        sbuf_json_string(out, k->error, strlen(k->error));
    } else {
        sbuf_puts(out, "\"source\":\"static\",\"reason\":\"listing inference profiles\"");
    }
    sbuf_putc(out, '}');
}
