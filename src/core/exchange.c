#include "core/exchange.h"
#include "core/headers.h"
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "core/budget.h"
#include "core/client_http2.h"
#include "core/config.h"
#include <lauxlib.h>
#include "core/cooldown.h"
#include "core/ledger.h"
#include "common/log.h"
#include "core/metrics.h"
#include "core/prices.h"
#include "core/provider_state.h"
#include "core/quota.h"
#include "common/redact.h"
#include "common/sse.h"
#include "common/http_client.h"
#include "core/thinking_blocks.h"
#include "common/upstream.h"
#include "core/usage.h"
#include "common/memory.h"

/* Backpressure: stop reading the upstream when this much output waits for a slow client,
 * start again when it has drained below the low mark. */
#define PENDING_HIGH_WATER (1024 * 1024)
#define PENDING_LOW_WATER (256 * 1024)
/* Upstream error bodies are read whole (to convert them, classify them, decide on a retry); they
 * are small. One larger than this, or one that does not end within request_timeout of its head,
 * is a broken answer (error_body_failed). */
#define MAX_ERROR_BODY (1024 * 1024)
/* A provider may ask for the same request again after an error answer (another route, no
 * thinking blocks): at most this many times per request. */
#define MAX_PROVIDER_RETRIES 4

static uint64_t in_flight, started_total;

int exchange_idle(void) { return in_flight == 0; }
uint64_t exchange_count(void) { return started_total; }

/* A request the exchange took carries this marker in req->env (per-request name/value pairs that
 * only H2O's CGI-like handlers read, none used here); the marker is the key's address. */
static const char owned_by_exchange_key[] = "claude-proxy.owned-by-exchange";

static void mark_owned(h2o_req_t *req)
{
    h2o_vector_reserve(&req->pool, &req->env, req->env.size + 2);
    req->env.entries[req->env.size++] = h2o_iovec_init(H2O_STRLIT(owned_by_exchange_key));
    req->env.entries[req->env.size++] = h2o_iovec_init(H2O_STRLIT("1"));
}

int exchange_owns(const h2o_req_t *req)
{
    for (size_t i = 0; i + 1 < req->env.size; i += 2)
        if (req->env.entries[i].base == owned_by_exchange_key)
            return 1;
    return 0;
}

/* OUTCOME_INVALID: the upstream answered with a head that is no response to relay (see
 * HTTP_CLIENT_INVALID_RESPONSE); it had the request, so this is its failure, as a 502 would be. */
enum outcome { OUTCOME_CONNECT, OUTCOME_TIMEOUT, OUTCOME_INVALID, OUTCOME_STATUS, OUTCOME_UNAVAILABLE };

struct exchange {
    h2o_generator_t super;
    h2o_req_t *req;
    struct proxy_config *cfg;
    struct exchange_params params;
    struct client_request cr;
    char model_override[256];

    size_t order[CONFIG_MAX_PROVIDERS];
    size_t order_len, attempt;
    struct provider *provider;
    struct upstream_request ur;
    void *prepare_handle;
    int preparing;
    struct http_client *client;
    h2o_iovec_t reqbufs[1 + BODY_PARTS_MAX]; /* the head, then the body (in parts, if it is) */
    h2o_timeout_entry_t deferred;            /* runs the next attempt outside upstream callbacks */

    /* what happened so far, for the answer when every provider fails */
    int fallbacks;
    enum outcome last_outcome;
    char last_error[256];

    /* the response */
    int status;
    int started; /* h2o_start_response called */
    int is_sse;
    int upstream_sse; /* the upstream's own body is SSE (before any filter) */
    int error_mode;   /* collecting an upstream error body to convert it */
    int deciding;     /* ... or to tell what a 429/400 means before relaying it or falling back */
    int error_raw;    /* ... only to ask the provider whether to retry: relayed as it came */
    sbuf error_body;
    int retries;     /* same-provider retries the provider asked for */
    sbuf retry_body; /* the request without thinking blocks, once a retry needed it */
    h2o_header_t *up_headers;
    size_t num_up_headers;
    struct body_filter *filter;
    int filter_ended;
    sbuf scratch;
    h2o_buffer_t *pending;
    h2o_doublebuffer_t sending;
    int upstream_done;
    int send_error;
    int final_sent;
    int paused;
    int counted_stream;
    /* An SSE relay must end with message_stop (or an error event); H2O treats a connection
     * closed between chunks as a clean end, so the relay watches for it itself. */
    int sse_terminated;
    struct sse_event_watch sse_watch; /* zeroed: the state before any byte */

    uint64_t started_ms, ttfb_ms;
    uint64_t attempt_started_ms; /* when the current provider's request went out */
    int sent_any;                /* for the time to first byte */
    /* token usage read from a successful answer as it passes (unless its filter reads it) */
    int reading_usage;
    struct usage_reader usage_reader;

    h2o_timeout_entry_t client_check; /* while no response has started (see below) */
    h2o_timeout_entry_t ping;
    h2o_timeout_entry_t stall;          /* while the upstream is paused for a client that does not read */
    h2o_timeout_entry_t error_deadline; /* while an error body is read whole (error_mode) */

    /* last, and not zeroed: 6 KB that json_scan_object fills (count first) when a body is read */
    struct json_object_scan scan;
    struct quota answer_quota; /* the quota headers of the answer being decided (valid while `deciding`) */
};

/* An HTTP/2 connection runs several requests: each keeps less (see client_http2.h). */
static size_t pending_high_water(struct exchange *ex)
{
    return ex->req->version >= 0x200 ? HTTP2_PENDING_HIGH_WATER : PENDING_HIGH_WATER;
}

static size_t pending_low_water(struct exchange *ex)
{
    return ex->req->version >= 0x200 ? HTTP2_PENDING_LOW_WATER : PENDING_LOW_WATER;
}

static void next_attempt(struct exchange *ex);
static void decide_limit_answer(struct exchange *ex);
static void try_send(struct exchange *ex);
static void stop_checking_client(struct exchange *ex);

/* ------------------------------------------------------------------------------------------ */
/* Logging */

/* The answer's token usage, or NULL if it had none (errors, other endpoints). */
static const struct usage_counts *response_usage(struct exchange *ex)
{
    const struct usage_counts *u = NULL;
    if (ex->filter != NULL && ex->filter->usage != NULL) {
        u = ex->filter->usage;
    } else if (ex->reading_usage) {
        usage_reader_finish(&ex->usage_reader);
        u = &ex->usage_reader.counts;
    }
    return u != NULL && u->seen ? u : NULL;
}

/* What an answer cost at the provider's prices: spend on a metered provider, the API-equivalent
 * value under a subscription. */
struct answer_cost {
    const struct usage_counts *usage; /* NULL: the answer reported none */
    char model[128];                  /* the base id it is priced under */
    double usd;                       /* < 0: the model has no price */
    int subscription;
};

static void price_answer(struct exchange *ex, struct answer_cost *c)
{
    memset(c, 0, sizeof(*c));
    if (ex->provider == NULL || (c->usage = response_usage(ex)) == NULL)
        return;
    const char *model = ex->ur.model_sent[0] != '\0' ? ex->ur.model_sent : ex->cr.model;
    price_model_base(model, c->model, sizeof(c->model));
    const struct model_price *p = price_lookup_base(config_prices(ex->cfg, ex->provider), c->model);
    c->usd = p != NULL ? price_cost(p, c->usage) : -1;
    c->subscription = ex->ur.subscription;
    if (p == NULL) {
        /* said once per model (a few names; more are not remembered) */
        static char said[16][128];
        size_t i;
        for (i = 0; i < 16 && said[i][0] != '\0' && strcmp(said[i], c->model) != 0; i++)
            ;
        if (i < 16 && said[i][0] == '\0') {
            snprintf(said[i], sizeof(said[i]), "%s", c->model);
            log_warn("no price for model %s: its tokens are counted, its cost is not (add it to prices)", c->model);
        }
    }
}

static const char *endpoint_label(const struct exchange *ex)
{
    if (ex->params.format.api == API_OPENAI)
        return "chat_completions";
    return ex->cr.endpoint == ENDPOINT_MESSAGES       ? "messages"
           : ex->cr.endpoint == ENDPOINT_COUNT_TOKENS ? "count_tokens"
                                                      : "passthrough";
}

/* Claude Code's session id, when it sent one: kept only if it looks like one (an id, no text). */
static void session_id(const h2o_req_t *req, char *out, size_t outsize)
{
    out[0] = '\0';
    const h2o_iovec_t *v = headers_client(req, "x-claude-code-session-id");
    if (v == NULL || v->len == 0 || v->len >= outsize)
        return;
    for (size_t i = 0; i < v->len; i++) {
        char c = v->base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return;
    }
    memcpy(out, v->base, v->len);
    out[v->len] = '\0';
}

/* The request's row in the usage ledger (queued; the ledger's thread writes it). */
/* s into out, cut to fit (a row's fixed-size text field) */
static void copy_field(char *out, size_t outsize, const char *s)
{
    size_t n = strnlen(s, outsize - 1);
    memcpy(out, s, n);
    out[n] = '\0';
}

static void record_in_ledger(struct exchange *ex, const struct answer_cost *cost, uint64_t duration_ms)
{
    if (ledger_running_path() == NULL)
        return;
    struct ledger_row row;
    memset(&row, 0, sizeof(row));
    row.time_ms = usage_clock_ms();
    copy_field(row.provider, sizeof(row.provider), ex->provider ? ex->provider->name : "proxy");
    copy_field(row.route, sizeof(row.route), ex->ur.route ? ex->ur.route : "");
    copy_field(row.client_model, sizeof(row.client_model), ex->cr.model);
    copy_field(row.upstream_model, sizeof(row.upstream_model), ex->ur.model_sent);
    copy_field(row.endpoint, sizeof(row.endpoint), endpoint_label(ex));
    session_id(ex->req, row.session, sizeof(row.session));
    row.status = ex->req->res.status;
    row.streamed = ex->is_sse;
    row.fell_back = ex->fallbacks != 0;
    row.subscription = cost->subscription;
    if (cost->usage != NULL) {
        row.input = cost->usage->input;
        row.output = cost->usage->output;
        row.cache_write = cost->usage->cache_write;
        row.cache_read = cost->usage->cache_read;
        row.cost_usd = cost->usd;
    }
    row.duration_ms = (uint32_t)duration_ms;
    row.ttfb_ms = (uint32_t)ex->ttfb_ms;
    ledger_record(&row);
}

static void log_request(struct exchange *ex)
{
    h2o_req_t *req = ex->req;
    uint64_t dur = monotonic_ms() - ex->started_ms;
    const char *sent = ex->ur.model_sent;
    int renamed = sent[0] != '\0' && strcmp(sent, ex->cr.model) != 0;
    struct answer_cost cost;
    price_answer(ex, &cost);
    const struct usage_counts *u = cost.usage;
    char tokens[200] = "";
    if (u != NULL && log_get_level() <= LOG_INFO) { /* formatted only for a line that is written */
        int n = snprintf(tokens, sizeof(tokens), " input=%llu output=%llu cache_write=%llu cache_read=%llu",
                         (unsigned long long)u->input, (unsigned long long)u->output,
                         (unsigned long long)u->cache_write, (unsigned long long)u->cache_read);
        if (cost.usd < 0)
            snprintf(tokens + n, sizeof(tokens) - (size_t)n, " cost=unpriced");
        else
            snprintf(tokens + n, sizeof(tokens) - (size_t)n, " %s=%.6f", cost.subscription ? "value_usd" : "spend_usd",
                     cost.usd);
    }
    if (u != NULL) {
        metrics_record_usage(ex->provider->name, cost.model, u, cost.usd, cost.subscription);
        if (!cost.subscription && cost.usd > 0)
            budget_add_spend(ex->provider->name, cost.usd);
    }
    log_info("%.*s %.*s model=%s%s%s provider=%s status=%d %llums ttfb=%llums bytes=%zu%s%s%s", (int)req->method.len,
             req->method.base, (int)req->path.len, req->path.base, ex->cr.model[0] ? ex->cr.model : "-",
             renamed ? " upstream_model=" : "", renamed ? sent : "", ex->provider ? ex->provider->name : "-",
             req->res.status, (unsigned long long)dur, (unsigned long long)ex->ttfb_ms, req->bytes_sent,
             ex->fallbacks ? " fallback=" : "", ex->fallbacks ? "yes" : "", tokens);
    record_in_ledger(ex, &cost, dur);
    metrics_record_request(ex->provider ? ex->provider->name : NULL, ex->cr.endpoint, ex->params.format.api,
                           req->res.status, dur);
}

/* ------------------------------------------------------------------------------------------ */
/* Lifetime */

static void stop_error_deadline(struct exchange *ex)
{
    if (h2o_timeout_is_linked(&ex->error_deadline))
        h2o_timeout_unlink(&ex->error_deadline);
}

/* Every path that abandons the upstream (the client gone or stalled, a deadline, dispose) comes
 * here: the error body's deadline goes with it. */
static void cancel_upstream(struct exchange *ex)
{
    stop_error_deadline(ex);
    if (ex->preparing && ex->prepare_handle != NULL && ex->provider->ops->cancel_prepare != NULL)
        ex->provider->ops->cancel_prepare(ex->prepare_handle);
    ex->preparing = 0;
    ex->prepare_handle = NULL;
    if (ex->client != NULL) {
        http_client_cancel(ex->client);
        ex->client = NULL;
    }
}

static void reset_upstream_request(struct exchange *ex)
{
    sbuf_free(&ex->ur.head);
    sbuf_free(&ex->ur.owned_body);
    memset(&ex->ur, 0, sizeof(ex->ur));
}

static void on_dispose(void *p)
{
    struct exchange *ex = p;
    in_flight--;
    if (h2o_timeout_is_linked(&ex->deferred))
        h2o_timeout_unlink(&ex->deferred);
    if (h2o_timeout_is_linked(&ex->ping))
        h2o_timeout_unlink(&ex->ping);
    if (h2o_timeout_is_linked(&ex->stall))
        h2o_timeout_unlink(&ex->stall);
    stop_checking_client(ex);
    cancel_upstream(ex);
    if (ex->req->res.status != 0)
        log_request(ex);
    if (ex->status != 0) /* an upstream answer was relayed */
        metrics_record_upstream_latency(ex->provider->name, monotonic_ms() - ex->attempt_started_ms);
    if (ex->counted_stream)
        metrics_streams.active_streams--;
    if (ex->filter != NULL)
        ex->filter->destroy(ex->filter);
    if (ex->reading_usage)
        usage_reader_dispose(&ex->usage_reader);
    reset_upstream_request(ex);
    sbuf_free(&ex->error_body);
    sbuf_free(&ex->retry_body);
    sbuf_free(&ex->scratch);
    h2o_buffer_dispose(&ex->pending);
    h2o_doublebuffer_dispose(&ex->sending);
    config_release(ex->cfg);
}

/* ------------------------------------------------------------------------------------------ */
/* Sending to the client */

static void append_pending(struct exchange *ex, const char *data, size_t len)
{
    if (len == 0)
        return;
    h2o_iovec_t dst = h2o_buffer_reserve(&ex->pending, len);
    memcpy(dst.base, data, len);
    ex->pending->size += len;
}

/* H2O timeouts are lists of entries that share one interval: one list per interval in use (a
 * reload rarely adds one), living as long as the process. */
struct shared_timeout {
    h2o_timeout_t timeout;
    struct shared_timeout *next;
};

static h2o_timeout_t *shared_timeout(struct exchange *ex, uint64_t ms)
{
    static struct shared_timeout *all;
    struct shared_timeout *t;
    for (t = all; t != NULL; t = t->next)
        if (t->timeout.timeout == ms)
            return &t->timeout;
    t = xcalloc(1, sizeof(*t));
    h2o_timeout_init(ex->req->conn->ctx->loop, &t->timeout, ms);
    t->next = all;
    all = t;
    return &t->timeout;
}

/* A translated stream (Bedrock, OpenAI) gets a ping after `ping_interval` without output, as
 * Anthropic's own streams do: the client, and anything in between, sees a live connection (Claude
 * Code gives up on a stream silent for 5 minutes). */
static h2o_timeout_t *ping_timeout(struct exchange *ex) { return shared_timeout(ex, ex->cfg->ping_interval_ms); }

/* ---- the client connection while the answer has not started ----
 * H2O stops reading an HTTP/1 connection while its request is handled, so it would notice a
 * client that went away only when the response is written: minutes later for a non-streaming
 * request, with the upstream still working (and billing) for nobody. So every
 * CLIENT_CHECK_INTERVAL_MS until the response starts, the exchange peeks at the connection: an
 * end of stream cancels the upstream request. Peeking leaves H2O's socket, its read state and
 * its input buffer (where the request body lives) untouched, and quick answers never pay for it.
 * (HTTP/2 streams share a connection that H2O reads anyway.) */
#define CLIENT_CHECK_INTERVAL_MS 250

static void on_client_gone(struct exchange *ex);

static int client_fd(struct exchange *ex)
{
    h2o_req_t *req = ex->req;
    if (req->version >= 0x200 || req->conn->callbacks->get_socket == NULL)
        return -1;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    return sock != NULL ? h2o_socket_get_fd(sock) : -1;
}

static void stop_checking_client(struct exchange *ex)
{
    if (h2o_timeout_is_linked(&ex->client_check))
        h2o_timeout_unlink(&ex->client_check);
}

static void on_client_check(h2o_timeout_entry_t *entry)
{
    struct exchange *ex = H2O_STRUCT_FROM_MEMBER(struct exchange, client_check, entry);
    int fd = client_fd(ex);
    if (fd < 0)
        return;
    char byte;
    ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        on_client_gone(ex);
        return;
    }
    /* still there (or a pipelined request waits, which H2O reads after this answer) */
    h2o_timeout_link(ex->req->conn->ctx->loop, shared_timeout(ex, CLIENT_CHECK_INTERVAL_MS), &ex->client_check);
}

static void check_client_while_waiting(struct exchange *ex)
{
    ex->client_check.cb = on_client_check;
    h2o_timeout_link(ex->req->conn->ctx->loop, shared_timeout(ex, CLIENT_CHECK_INTERVAL_MS), &ex->client_check);
}

static void try_send(struct exchange *ex)
{
    if (ex->final_sent || ex->sending.bytes_inflight != 0 || !ex->started)
        return;
    h2o_iovec_t vec = h2o_doublebuffer_prepare(&ex->sending, &ex->pending, ex->req->preferred_chunk_size);
    h2o_send_state_t state = H2O_SEND_STATE_IN_PROGRESS;
    if (ex->upstream_done && vec.len == ex->sending.buf->size && ex->pending->size == 0)
        state = ex->send_error ? H2O_SEND_STATE_ERROR : H2O_SEND_STATE_FINAL;
    else if (vec.len == 0)
        return;
    if (state != H2O_SEND_STATE_IN_PROGRESS)
        ex->final_sent = 1;
    if (vec.len != 0 && !ex->sent_any) {
        ex->sent_any = 1;
        ex->ttfb_ms = monotonic_ms() - ex->started_ms;
    }
    if (vec.len != 0 && h2o_timeout_is_linked(&ex->ping)) {
        h2o_timeout_unlink(&ex->ping);
        h2o_timeout_link(ex->req->conn->ctx->loop, ping_timeout(ex), &ex->ping);
    }
    metrics_streams.bytes_streamed += vec.len;
    h2o_send(ex->req, &vec, vec.len ? 1 : 0, state);
}

static void on_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    struct exchange *ex = (struct exchange *)gen;
    (void)req;
    if (ex->sending.bytes_inflight != 0)
        h2o_doublebuffer_consume(&ex->sending);
    if (ex->paused && ex->client != NULL && ex->pending->size < pending_low_water(ex)) {
        ex->paused = 0;
        h2o_timeout_unlink(&ex->stall);
        http_client_resume(ex->client);
    }
    try_send(ex);
}

static void on_stop(h2o_generator_t *gen, h2o_req_t *req)
{
    struct exchange *ex = (struct exchange *)gen;
    (void)req;
    /* the client went away: nobody wants the rest of the upstream response */
    cancel_upstream(ex);
}

/* A complete response from the proxy itself (errors), in the client's API format. */
static void respond_error(struct exchange *ex, int status, const char *type, const char *message,
                          const char *retry_after)
{
    stop_checking_client(ex);
    send_error(ex->req, ex->params.format.api, status, type, message, retry_after ? "retry-after" : NULL, retry_after);
}

/* ------------------------------------------------------------------------------------------ */
/* Upstream response */

/* Keeps a copy of the upstream's headers (for converting an error body later, or for deciding
 * what an error means before relaying it). */
static void keep_response_headers(struct exchange *ex, const h2o_header_t *headers, size_t n)
{
    h2o_req_t *req = ex->req;
    ex->up_headers = h2o_mem_alloc_pool(&req->pool, sizeof(*ex->up_headers) * (n ? n : 1));
    ex->num_up_headers = n;
    for (size_t i = 0; i < n; i++) {
        ex->up_headers[i].name = h2o_mem_alloc_pool(&req->pool, sizeof(h2o_iovec_t));
        *ex->up_headers[i].name = h2o_strdup(&req->pool, headers[i].name->base, headers[i].name->len);
        ex->up_headers[i].value = h2o_strdup(&req->pool, headers[i].value.base, headers[i].value.len);
        ex->up_headers[i].orig_name = NULL;
    }
}

/* Adds the kept headers to the response (all but hop-by-hop ones, and the content type when a
 * filter or conversion sets its own). */
static void add_kept_headers(struct exchange *ex, const h2o_header_t *orig, int replace_type)
{
    h2o_req_t *req = ex->req;
    for (size_t i = 0; i < ex->num_up_headers; i++) {
        h2o_iovec_t name = *ex->up_headers[i].name, value = ex->up_headers[i].value;
        if (headers_is_not_relayed(name.base, name.len))
            continue;
        if (replace_type && (h2o_memis(name.base, name.len, H2O_STRLIT("content-type")) ||
                             h2o_memis(name.base, name.len, H2O_STRLIT("content-encoding"))))
            continue;
        h2o_add_header_by_str(&req->pool, &req->res.headers, name.base, name.len, 1,
                              orig != NULL ? orig[i].orig_name : NULL, value.base, value.len);
    }
}

/* Copies the upstream's headers into the response and keeps a copy. */
static void copy_response_headers(struct exchange *ex, const h2o_header_t *headers, size_t n, int replace_type)
{
    keep_response_headers(ex, headers, n);
    add_kept_headers(ex, headers, replace_type);
}

static void on_ping(h2o_timeout_entry_t *entry);

static void start_response(struct exchange *ex)
{
    stop_checking_client(ex);
    ex->started = 1;
    ex->req->res.reason = http_reason_phrase(ex->req->res.status); /* the status may be the filter's */
    if (ex->is_sse && ex->filter != NULL) {
        /* translated streams carry whole events, so a ping never lands inside one */
        ex->ping.cb = on_ping;
        h2o_timeout_link(ex->req->conn->ctx->loop, ping_timeout(ex), &ex->ping);
    }
    if (ex->is_sse) {
        ex->counted_stream = 1;
        metrics_streams.active_streams++;
    }
    h2o_start_response(ex->req, &ex->super);
}

static void on_ping(h2o_timeout_entry_t *entry)
{
    struct exchange *ex = H2O_STRUCT_FROM_MEMBER(struct exchange, ping, entry);
    static const char anthropic_ping[] = "event: ping\ndata: {\"type\": \"ping\"}\n\n";
    static const char comment_ping[] = ": ping\n\n"; /* OpenAI streams have no ping event */
    if (ex->upstream_done || ex->final_sent)
        return;
    if (ex->params.format.api == API_OPENAI)
        append_pending(ex, comment_ping, sizeof(comment_ping) - 1);
    else
        append_pending(ex, anthropic_ping, sizeof(anthropic_ping) - 1);
    h2o_timeout_link(ex->req->conn->ctx->loop, ping_timeout(ex), &ex->ping);
    try_send(ex);
}

static void on_client_gone(struct exchange *ex)
{
    if (h2o_timeout_is_linked(&ex->deferred))
        h2o_timeout_unlink(&ex->deferred);
    cancel_upstream(ex);
    ex->req->http1_is_persistent = 0;
    /* 499 (nginx's "client closed request") is what the log line shows; nobody reads the body */
    respond_error(ex, 499, "api_error", "the client closed the connection before the answer", NULL);
}

/* A filter that needed the whole body has it now: the response starts, complete. */
static void start_held_response(struct exchange *ex)
{
    if (ex->started)
        return;
    if (ex->filter != NULL && ex->filter->final_status != 0)
        ex->req->res.status = ex->status = ex->filter->final_status;
    ex->req->res.content_length = ex->pending->size;
    start_response(ex);
}

static void defer_next_attempt_cb(h2o_timeout_entry_t *entry);

/* The provider may want the same request again after this error answer, which nobody has seen
 * yet: its next route, or without the thinking blocks of earlier turns (a signature written by
 * another model). Returns 1 if the retry is under way. */
static int retry_if_asked(struct exchange *ex)
{
    struct provider *p = ex->provider;
    if (ex->started || p->ops->retry_on_error == NULL || ex->status < 400 || ex->retries >= MAX_PROVIDER_RETRIES)
        return 0;
    const char *body = ex->error_body.data ? ex->error_body.data : "";
    enum provider_retry verdict = p->ops->retry_on_error(p, &ex->cr, &ex->ur, ex->status, ex->up_headers,
                                                         ex->num_up_headers, body, ex->error_body.len);
    if (verdict == PROVIDER_RETRY_NO)
        return 0;
    if (verdict == PROVIDER_RETRY_WITHOUT_THINKING) {
        if (ex->cr.without_thinking || ex->cr.scan == NULL)
            return 0;
        size_t dropped = thinking_blocks_strip_request(ex->cr.scan, &ex->retry_body);
        const char *err;
        if (dropped == 0 || json_scan_object(ex->retry_body.data, ex->retry_body.len, &ex->scan, &err) != 0)
            return 0; /* (the spliced body of a valid one is valid: the scan cannot fail) */
        ex->cr.body = h2o_iovec_init(ex->retry_body.data, ex->retry_body.len);
        ex->cr.without_thinking = 1;
        log_warn("%s: a thinking block's signature was refused (%d); once more without the %zu thinking block%s of "
                 "earlier turns",
                 p->name, ex->status, dropped, dropped == 1 ? "" : "s");
    }
    ex->retries++;
    ex->status = 0;
    ex->error_mode = ex->error_raw = 0;
    sbuf_reset(&ex->error_body);
    ex->up_headers = NULL;
    ex->num_up_headers = 0;
    ex->upstream_sse = 0;
    ex->req->res.status = 0;
    ex->req->res.headers = (h2o_headers_t){NULL, 0, 0};
    ex->req->res.content_length = SIZE_MAX;
    ex->attempt--; /* the same provider again */
    ex->deferred.cb = defer_next_attempt_cb;
    h2o_timeout_link(ex->req->conn->ctx->loop, &ex->req->conn->ctx->zero_timeout, &ex->deferred);
    return 1;
}

/* Turns the collected upstream error body into the client's format and sends it whole. */
static void finish_error_response(struct exchange *ex)
{
    h2o_req_t *req = ex->req;
    if (retry_if_asked(ex))
        return;
    int status = ex->status;
    sbuf converted = SBUF_INIT;
    const char *body = ex->error_body.data ? ex->error_body.data : "";
    size_t len = ex->error_body.len;
    if (ex->provider->ops->convert_error != NULL &&
        ex->provider->ops->convert_error(ex->provider, ex->status, ex->up_headers, ex->num_up_headers, body, len,
                                         &status, &converted) == 1) {
        body = converted.data;
        len = converted.len;
    }
    sbuf client_body = SBUF_INIT;
    struct body_filter *f = ex->params.format.make_filter && !ex->error_raw
                                ? ex->params.format.make_filter(ex->params.format.ctx, status, 0)
                                : NULL;
    if (f != NULL) {
        f->feed(f, body, len, &client_body);
        f->finish(f, NULL, &client_body);
        f->destroy(f);
        body = client_body.data ? client_body.data : "";
        len = client_body.len;
    }
    req->res.status = status;
    if (!ex->error_raw)
        h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, H2O_STRLIT("application/json"), 1);
    append_pending(ex, body, len);
    sbuf_free(&converted);
    sbuf_free(&client_body);
    ex->upstream_done = 1;
    req->res.content_length = ex->pending->size;
    start_response(ex);
    try_send(ex);
}

/* Notes whether the relayed SSE stream dispatched an event that properly ends it: at an event
 * boundary, never a name inside an event's data (a text delta may quote it). */
static void watch_sse_end(struct exchange *ex, const char *data, size_t len)
{
    static const char *const ends[] = {"message_stop", "error", NULL};
    if (sse_event_watch_feed(&ex->sse_watch, data, len, ends))
        ex->sse_terminated = 1;
}

/* A client that stopped reading holds the upstream back (backpressure), but not for ever: H2O
 * 2.2.5 has no write timeout, so after `stalled_client_timeout` the exchange ends it, shutting the
 * connection down so that H2O's pending write fails and the request is disposed. On HTTP/2 the
 * other streams of the connection may be reading fine: only this stream is reset (RST_STREAM),
 * unless the socket itself takes nothing. */
static void on_client_stalled(h2o_timeout_entry_t *entry)
{
    struct exchange *ex = H2O_STRUCT_FROM_MEMBER(struct exchange, stall, entry);
    enum client_http2_stall remedy = client_http2_stall_remedy(ex->req);
    log_warn("%s: the client read nothing for %llu s; %s", ex->provider->name,
             (unsigned long long)(ex->cfg->stalled_client_timeout_ms / 1000),
             remedy == CLIENT_HTTP2_RESET_STREAM ? "resetting its HTTP/2 stream" : "closing its connection");
    cancel_upstream(ex);
    if (remedy != CLIENT_HTTP2_NOT_HTTP2) {
        client_http2_end_stalled(ex->req, remedy); /* ex may be gone */
        return;
    }
    int fd = client_fd(ex);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
}

static void pause_upstream(struct exchange *ex)
{
    /* only a response that started can drain: before that, nothing would resume the upstream */
    if (ex->paused || ex->client == NULL || !ex->started)
        return;
    ex->paused = 1;
    http_client_pause(ex->client);
    ex->stall.cb = on_client_stalled;
    h2o_timeout_link(ex->req->conn->ctx->loop, shared_timeout(ex, ex->cfg->stalled_client_timeout_ms), &ex->stall);
}

static void log_upstream_failure(struct exchange *ex, const char *what)
{
    log_warn("%s: %s (%s)", ex->provider->name, what, ex->ur.target ? ex->ur.target->origin : "-");
}

static void error_body_failed(struct exchange *ex, enum outcome outcome, const char *why);

static int on_body(struct http_client *client, const char *errstr)
{
    struct exchange *ex = client->data;
    h2o_buffer_t **inbuf = &client->sock->input;
    int stop_reading = 0;

    if (ex->error_mode) {
        char why[160];
        if (ex->error_body.len + (*inbuf)->size > MAX_ERROR_BODY) {
            /* no error answer is that large: stop reading (the client closes the connection) */
            h2o_buffer_consume(inbuf, (*inbuf)->size);
            ex->client = NULL;
            snprintf(why, sizeof(why), "its %d error body is larger than 1 MiB", ex->status);
            error_body_failed(ex, OUTCOME_INVALID, why);
            return -1;
        }
        sbuf_append(&ex->error_body, (*inbuf)->bytes, (*inbuf)->size);
        h2o_buffer_consume(inbuf, (*inbuf)->size);
        if (errstr != NULL) {
            ex->client = NULL;
            stop_error_deadline(ex);
            if (strcmp(errstr, "I/O timeout") == 0) { /* silent past request_timeout: as the deadline */
                snprintf(why, sizeof(why), "its %d error body went silent for longer than request_timeout", ex->status);
                error_body_failed(ex, OUTCOME_TIMEOUT, why);
            } else if (ex->deciding)
                decide_limit_answer(ex);
            else
                finish_error_response(ex);
        }
        return 0;
    }

    if ((*inbuf)->size != 0) {
        if (ex->reading_usage)
            usage_reader_feed(&ex->usage_reader, (*inbuf)->bytes, (*inbuf)->size);
        if (ex->upstream_sse)
            watch_sse_end(ex, (*inbuf)->bytes, (*inbuf)->size);
        if (ex->filter != NULL) {
            if (!ex->filter_ended) {
                sbuf_reset(&ex->scratch);
                int r = ex->filter->feed(ex->filter, (*inbuf)->bytes, (*inbuf)->size, &ex->scratch);
                append_pending(ex, ex->scratch.data, ex->scratch.len);
                if (r == 1) {
                    ex->filter_ended = 1;
                    stop_reading = 1;
                }
            }
            h2o_buffer_consume(inbuf, (*inbuf)->size);
        } else if (ex->pending->size == 0) {
            /* the common case: hand the socket's buffer over instead of copying it */
            h2o_buffer_t *t = ex->pending;
            ex->pending = *inbuf;
            *inbuf = t;
        } else {
            append_pending(ex, (*inbuf)->bytes, (*inbuf)->size);
            h2o_buffer_consume(inbuf, (*inbuf)->size);
        }
    }

    if (errstr != NULL || stop_reading) {
        ex->client = NULL; /* the client closes itself after this callback */
        ex->upstream_done = 1;
        const char *err = errstr == http_client_error_is_eos ? NULL : errstr;
        if (stop_reading)
            err = NULL;
        if (err == NULL && ex->upstream_sse && !ex->sse_terminated && ex->status == 200)
            err = "the stream ended before message_stop";
        if (err != NULL) {
            log_upstream_failure(ex, err);
            ex->provider->state->errors++;
        }
        if (ex->filter != NULL && !ex->filter_ended) {
            sbuf_reset(&ex->scratch);
            ex->filter->finish(ex->filter, err, &ex->scratch);
            append_pending(ex, ex->scratch.data, ex->scratch.len);
        } else if (err != NULL && ex->filter == NULL) {
            if (ex->is_sse) {
                /* bytes already went out: no replay, but a clean end the client understands */
                sbuf e = SBUF_INIT;
                /* the upstream may have stopped inside an event: close it first, so that the
                 * error event is read as an event of its own (an event without data is dropped) */
                if (!sse_event_watch_at_boundary(&ex->sse_watch))
                    sbuf_puts(&e, "\n\n");
                int timeout = strcmp(err, "I/O timeout") == 0;
                char msg[300];
                snprintf(msg, sizeof(msg), "upstream %s %s mid-stream (%s)", ex->provider->name,
                         timeout ? "went silent for longer than request_timeout" : "failed", err);
                sse_error_event(&e, timeout ? "timeout_error" : "api_error", msg);
                append_pending(ex, e.data, e.len);
                sbuf_free(&e);
            } else {
                ex->send_error = 1;
            }
        }
        start_held_response(ex);
        try_send(ex);
        return stop_reading ? -1 : 0;
    }

    if (ex->pending->size > pending_high_water(ex))
        pause_upstream(ex);
    try_send(ex);
    return 0;
}

/* Cooling, or over its budget: not asked. */
static int provider_resting(struct provider *p, uint64_t now)
{
    return provider_state_is_cooling(p->state, now) ||
           ((p->budget_usd_per_day > 0 || p->budget_usd_per_month > 0) && budget_blocks(p, usage_clock_ms()));
}

/* Is there a provider after the current one that could still take the request? */
static int later_provider_available(struct exchange *ex)
{
    uint64_t now = monotonic_ms();
    for (size_t i = ex->attempt; i < ex->order_len; i++) {
        struct provider *p = ex->cfg->providers[ex->order[i]];
        if (!provider_resting(p, now) && provider_problem(p) == NULL)
            return 1;
    }
    return 0;
}

static const char *next_provider_name(struct exchange *ex)
{
    uint64_t now = monotonic_ms();
    for (size_t i = ex->attempt; i < ex->order_len; i++) {
        struct provider *p = ex->cfg->providers[ex->order[i]];
        if (!provider_resting(p, now) && provider_problem(p) == NULL)
            return p->name;
    }
    return NULL;
}

/* Puts the current provider in cooldown after a trigger outcome, with one log line per
 * transition (concurrent failures extend the same cooldown silently). */
static void cool_provider(struct exchange *ex, unsigned seconds, const char *why)
{
    struct provider *p = ex->provider;
    char reason[160];
    snprintf(reason, sizeof(reason), "%s", why);
    if (provider_state_cool(p->state, monotonic_ms(), seconds, reason)) {
        struct tm tm;
        localtime_r(&p->state->cooling_until_wall, &tm);
        char until[16];
        strftime(until, sizeof(until), "%H:%M:%S", &tm);
        const char *next = next_provider_name(ex);
        if (next != NULL)
            log_warn("%s %s, using %s until %s", p->name, why, next, until);
        else
            log_warn("%s %s, cooling until %s (no other provider available)", p->name, why, until);
        metrics_record_cooldown(p->name);
    }
}

static void defer_next_attempt_cb(h2o_timeout_entry_t *entry)
{
    struct exchange *ex = H2O_STRUCT_FROM_MEMBER(struct exchange, deferred, entry);
    next_attempt(ex);
}

/* Moves on to the next provider from outside the current upstream's callbacks. */
static void fall_back(struct exchange *ex)
{
    ex->fallbacks++;
    ex->provider->state->fallbacks++;
    metrics_record_fallback(ex->provider->name);
    ex->deferred.cb = defer_next_attempt_cb;
    h2o_timeout_link(ex->req->conn->ctx->loop, &ex->req->conn->ctx->zero_timeout, &ex->deferred);
}

/* A failure before any response to relay (connect, TLS, reset, timeout, an invalid head). */
static void on_failure_before_response(struct exchange *ex, enum outcome outcome, const char *errstr)
{
    struct provider *p = ex->provider;
    p->state->errors++;
    metrics_record_upstream_failure(p->name, outcome == OUTCOME_TIMEOUT   ? METRICS_FAILURE_TIMEOUT
                                             : outcome == OUTCOME_INVALID ? METRICS_FAILURE_INVALID
                                                                          : METRICS_FAILURE_CONNECT);
    ex->last_outcome = outcome;
    snprintf(ex->last_error, sizeof(ex->last_error), "%s: %s", p->name, errstr);
    log_upstream_failure(ex, errstr);
    /* an invalid response falls back as a 5xx would: the upstream may have acted on the request */
    unsigned flag = outcome == OUTCOME_TIMEOUT   ? FALLBACK_TIMEOUT
                    : outcome == OUTCOME_INVALID ? FALLBACK_5XX
                                                 : FALLBACK_CONNECT;
    /* A network failure cools the provider only when another one can take over: with no
     * alternative the client is better served by the real error than by a cooldown. */
    if ((p->fallback_flags & flag) && later_provider_available(ex)) {
        char why[200];
        snprintf(why, sizeof(why), "%s (%s)",
                 outcome == OUTCOME_TIMEOUT   ? "timed out"
                 : outcome == OUTCOME_INVALID ? "sent an invalid response"
                                              : "unreachable",
                 errstr);
        cool_provider(ex, p->cooldown_s, why);
        fall_back(ex);
        return;
    }
    if (outcome == OUTCOME_INVALID) {
        char msg[400];
        snprintf(msg, sizeof(msg), "upstream %s sent an invalid response: %s", p->name, errstr);
        respond_error(ex, 502, "api_error", msg, NULL);
    } else if (outcome == OUTCOME_TIMEOUT) {
        char msg[400];
        snprintf(msg, sizeof(msg), "upstream %s did not answer within %llu ms (%s)", p->name,
                 (unsigned long long)ex->cfg->timeout_ms, errstr);
        respond_error(ex, 504, "timeout_error", msg, NULL);
    } else {
        char msg[400];
        snprintf(msg, sizeof(msg), "upstream %s unreachable: %s", p->name, errstr);
        respond_error(ex, 502, "api_error", msg, NULL);
    }
}

/* An error answer whose body could not be read whole (error_mode: larger than MAX_ERROR_BODY, or
 * not ended within request_timeout of its head) is a broken upstream answer, like an invalid
 * head: nothing of it reached the client, so it falls back under "5xx" (or "timeout"), else the
 * client gets a 502 (or 504) in its format. The caller has let go of the upstream client. */
static void error_body_failed(struct exchange *ex, enum outcome outcome, const char *why)
{
    stop_error_deadline(ex);
    /* on_head counted the error answer already (unless it was still deciding what it meant):
     * it counts once, as this failure */
    if (!ex->deciding)
        ex->provider->state->errors--;
    ex->status = 0;
    ex->error_mode = ex->deciding = ex->error_raw = 0;
    sbuf_free(&ex->error_body);
    ex->up_headers = NULL;
    ex->num_up_headers = 0;
    ex->req->res.status = 0;
    ex->req->res.headers = (h2o_headers_t){NULL, 0, 0};
    ex->req->res.content_length = SIZE_MAX;
    on_failure_before_response(ex, outcome, why);
}

/* The whole error body has request_timeout from the response head: a body trickled in a byte at
 * a time would never trip the silence timeout. */
static void on_error_body_deadline(h2o_timeout_entry_t *entry)
{
    struct exchange *ex = H2O_STRUCT_FROM_MEMBER(struct exchange, error_deadline, entry);
    char why[160];
    snprintf(why, sizeof(why), "its %d error body did not end within request_timeout of the response head", ex->status);
    cancel_upstream(ex);
    error_body_failed(ex, OUTCOME_TIMEOUT, why);
}

static void start_error_deadline(struct exchange *ex)
{
    ex->error_deadline.cb = on_error_body_deadline;
    h2o_timeout_link(ex->req->conn->ctx->loop, shared_timeout(ex, ex->cfg->timeout_ms), &ex->error_deadline);
}

/* A status fallback_on lists (529, 5xx, ...; not 429, whose kinds are told apart below): cools
 * the provider from the answer's headers and falls back (returns 1) if another provider can
 * take the request; else returns 0 and the answer is relayed. */
static int status_fallback(struct exchange *ex, int status, const h2o_header_t *headers, size_t num_headers)
{
    struct provider *p = ex->provider;
    const char *source;
    unsigned secs = cooldown_seconds(headers, num_headers, time(NULL), p->cooldown_s, ex->cfg->cooldown_min_s,
                                     ex->cfg->cooldown_max_s, &source);
    char why[200];
    snprintf(why, sizeof(why), "%s (%d, cooldown %us from %s)", status == 529 ? "overloaded" : "failed", status, secs,
             source);
    cool_provider(ex, secs, why);
    ex->last_outcome = OUTCOME_STATUS;
    if (!later_provider_available(ex))
        return 0; /* the last provider in the chain: its own answer is the most precise one */
    fall_back(ex);
    return 1;
}

/* A plan limit, a throttle or an answer that needs extra usage (quota.h tells them apart): each
 * kind that fallback_on lists cools the provider as long as it means, is logged as what it is,
 * and moves the request on (returns 1) if another provider can take it; else returns 0 and the
 * answer is relayed. */
static int limit_fallback(struct exchange *ex, int status, enum quota_answer_kind kind, const struct quota *q,
                          const h2o_header_t *headers, size_t num_headers)
{
    static const unsigned flag_of_kind[] = {[QUOTA_ANSWER_PLAN_LIMIT] = FALLBACK_PLAN_LIMIT,
                                            [QUOTA_ANSWER_THROTTLE] = FALLBACK_THROTTLE,
                                            [QUOTA_ANSWER_EXTRA_USAGE_REQUIRED] = FALLBACK_EXTRA_USAGE_REQUIRED};
    struct provider *p = ex->provider;
    if (kind == QUOTA_ANSWER_OTHER || !(p->fallback_flags & flag_of_kind[kind]))
        return 0;
    time_t now = time(NULL);
    long long retry_after = cooldown_retry_after(headers, num_headers, now);
    char why[200];
    if (kind == QUOTA_ANSWER_PLAN_LIMIT) {
        /* retry-after when sent; else the rejected window's reset, which a plan-limit 429 carries */
        const char *window = "unified";
        int64_t reset = quota_limit_reset(q, &window);
        char what[48], source[80] = "retry-after";
        long long secs = retry_after;
        if (secs < 0 && reset != 0) {
            secs = reset > now ? reset - now : 0;
            if (strcmp(window, "unified") != 0)
                snprintf(source, sizeof(source), "anthropic-ratelimit-unified-%s-reset", window);
            else
                snprintf(source, sizeof(source), "anthropic-ratelimit-unified-reset");
        }
        unsigned cool =
            secs >= 0 ? cooldown_clamp(secs, ex->cfg->cooldown_min_s, ex->cfg->cooldown_max_s) : p->cooldown_s;
        if (secs < 0)
            snprintf(source, sizeof(source), "the configured cooldown");
        if (strcmp(window, "unified") != 0)
            snprintf(what, sizeof(what), "%s window", window);
        else
            snprintf(what, sizeof(what), "%s", q->representative_claim[0] ? q->representative_claim : "quota");
        snprintf(why, sizeof(why), "at its plan limit (429, %s rejected; cooldown %us from %s)", what, cool, source);
        cool_provider(ex, cool, why);
    } else if (kind == QUOTA_ANSWER_THROTTLE) {
        /* a short server throttle, not the plan: only as long as it asks, or a few seconds */
        unsigned cool = retry_after >= 0 ? cooldown_clamp(retry_after, ex->cfg->cooldown_min_s, ex->cfg->cooldown_max_s)
                                         : p->throttle_cooldown_s;
        snprintf(why, sizeof(why), "throttled (429, not the plan limit; cooldown %us from %s)", cool,
                 retry_after >= 0 ? "retry-after" : "throttle_cooldown");
        if (cool > 0)
            cool_provider(ex, cool, why);
    } else {
        /* this request needs what the plan does not include (e.g. a long context); others are fine */
        const char *next = next_provider_name(ex);
        log_warn("%s: extra usage is required for this request (%d); %s%s, no cooldown", p->name, status,
                 next != NULL ? "it goes to " : "relayed, no other provider", next != NULL ? next : "");
    }
    ex->last_outcome = OUTCOME_STATUS;
    if (!later_provider_available(ex))
        return 0;
    fall_back(ex);
    return 1;
}

/* Every answer's quota headers go into the provider's state. With extra_usage = "avoid", an
 * answer served as extra usage puts the provider in a plan-limit cooldown until the window
 * resets (this answer is relayed: it is already paid for). */
static void note_quota(struct exchange *ex, const struct quota *q)
{
    struct provider *p = ex->provider;
    quota_merge(&p->state->quota, q);
    if (!p->extra_usage_avoid || !quota_serving_extra_usage(q))
        return;
    const char *window = "unified";
    int64_t reset = quota_limit_reset(q, &window);
    time_t now = time(NULL);
    unsigned secs =
        reset > now ? cooldown_clamp(reset - now, ex->cfg->cooldown_min_s, ex->cfg->cooldown_max_s) : p->cooldown_s;
    char why[200];
    snprintf(why, sizeof(why),
             "served as extra usage, which extra_usage = \"avoid\" refuses (plan limit; cooldown %us "
             "from %s)",
             secs, reset > now ? "the reset" : "the configured cooldown");
    cool_provider(ex, secs, why);
}

/* 1 if telling what this answer means needs its body (see quota_classify) and fallback_on
 * lists a kind that depends on it. */
static int limit_needs_body(const struct provider *p, int status, const struct quota *q)
{
    if (!quota_classify_needs_body(status, q))
        return 0;
    unsigned wanted = status == 429 ? FALLBACK_THROTTLE | FALLBACK_EXTRA_USAGE_REQUIRED : FALLBACK_EXTRA_USAGE_REQUIRED;
    return (p->fallback_flags & wanted) != 0;
}

/* The body of a 429/400 has arrived: fall back, or relay it as the error it is. */
static void decide_limit_answer(struct exchange *ex)
{
    struct provider *p = ex->provider;
    const char *body = ex->error_body.data ? ex->error_body.data : "";
    ex->deciding = 0;
    enum quota_answer_kind kind = quota_classify(ex->status, &ex->answer_quota, body, ex->error_body.len);
    int fell_back = kind != QUOTA_ANSWER_OTHER
                        ? limit_fallback(ex, ex->status, kind, &ex->answer_quota, ex->up_headers, ex->num_up_headers)
                        : provider_should_fallback_status(p, ex->status) &&
                              status_fallback(ex, ex->status, ex->up_headers, ex->num_up_headers);
    if (fell_back) {
        ex->status = 0;
        ex->error_mode = 0;
        sbuf_free(&ex->error_body);
        ex->up_headers = NULL;
        ex->num_up_headers = 0;
        return;
    }
    p->state->errors++;
    ex->req->res.status = ex->status;
    add_kept_headers(ex, NULL, 1);
    finish_error_response(ex);
}

/* Whether an error answer is worth reading whole for the provider's retry_on_error: one it can
 * read (not compressed), while retries are left. */
static int may_retry(struct exchange *ex, int status, const h2o_header_t *headers, size_t num_headers)
{
    if (ex->provider->ops->retry_on_error == NULL || status < 400 || ex->retries >= MAX_PROVIDER_RETRIES)
        return 0;
    const h2o_iovec_t *enc = http_header_find(headers, num_headers, "content-encoding");
    return enc == NULL || h2o_memis(enc->base, enc->len, H2O_STRLIT("identity"));
}

static http_client_body_cb on_head(struct http_client *client, const char *errstr, int status, h2o_header_t *headers,
                                   size_t num_headers)
{
    struct exchange *ex = client->data;
    struct provider *p = ex->provider;

    if (errstr != NULL && errstr != http_client_error_is_eos) {
        ex->client = NULL;
        on_failure_before_response(ex,
                                   client->failure == HTTP_CLIENT_TIMEOUT            ? OUTCOME_TIMEOUT
                                   : client->failure == HTTP_CLIENT_INVALID_RESPONSE ? OUTCOME_INVALID
                                                                                     : OUTCOME_CONNECT,
                                   errstr);
        return NULL;
    }
    metrics_record_upstream_response(p->name, status, monotonic_ms() - ex->attempt_started_ms);

    struct quota *q = &ex->answer_quota;
    if (quota_parse(headers, num_headers, time(NULL), q))
        note_quota(ex, q);
    if (limit_needs_body(p, status, q)) {
        /* the body says whether it is a throttle or "extra usage is required": read it first */
        ex->status = status;
        ex->deciding = ex->error_mode = 1;
        keep_response_headers(ex, headers, num_headers);
        if (errstr == NULL) {
            start_error_deadline(ex);
            return on_body;
        }
        ex->client = NULL;
        decide_limit_answer(ex);
        return NULL;
    }
    if (status == 429
            ? limit_fallback(ex, status, quota_classify(status, q, NULL, 0), q, headers, num_headers)
            : provider_should_fallback_status(p, status) && status_fallback(ex, status, headers, num_headers)) {
        ex->client = NULL;
        return NULL;
    }

    ex->status = status;
    h2o_req_t *req = ex->req;
    req->res.status = status;
    const h2o_iovec_t *ctype = http_header_find(headers, num_headers, "content-type");
    int upstream_sse =
        ctype != NULL && h2o_strstr(ctype->base, ctype->len, H2O_STRLIT("text/event-stream")) != SIZE_MAX;
    ex->upstream_sse = upstream_sse && status >= 200 && status <= 299;

    if (status < 200 || status > 299) {
        p->state->errors++;
        int needs_conversion = p->ops->convert_error != NULL || ex->params.format.make_filter != NULL;
        copy_response_headers(ex, headers, num_headers, needs_conversion);
        if (needs_conversion || may_retry(ex, status, headers, num_headers)) {
            ex->error_mode = 1;
            ex->error_raw = !needs_conversion;
            if (errstr == NULL) {
                start_error_deadline(ex);
                return on_body;
            }
            ex->client = NULL; /* an error without a body: convert it now */
            finish_error_response(ex);
            return NULL;
        }
    } else {
        if (p->ops->response_filter != NULL)
            ex->filter = p->ops->response_filter(p, &ex->ur, status);
        int provider_sse = ex->filter != NULL ? ex->filter->content_type != NULL &&
                                                    strstr(ex->filter->content_type, "event-stream") != NULL
                                              : upstream_sse;
        if (ex->params.format.make_filter != NULL)
            ex->filter = body_filter_chain(ex->filter,
                                           ex->params.format.make_filter(ex->params.format.ctx, status, provider_sse));
        copy_response_headers(ex, headers, num_headers, ex->filter != NULL);
        if (ex->filter != NULL && ex->filter->content_type != NULL)
            h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, ex->filter->content_type,
                           strlen(ex->filter->content_type), 1);
        ex->is_sse = ex->filter != NULL
                         ? ex->filter->content_type != NULL && strstr(ex->filter->content_type, "event-stream") != NULL
                         : upstream_sse;
        /* an Anthropic-format answer whose filter does not read its usage: read it here */
        if (ex->cr.endpoint == ENDPOINT_MESSAGES && ex->ur.response_format == RESPONSE_NATIVE &&
            (ex->filter == NULL || ex->filter->usage == NULL)) {
            usage_reader_init(&ex->usage_reader, upstream_sse);
            ex->reading_usage = 1;
        }
    }
    if (ex->filter == NULL) /* the length the upstream's framing gave, never one beside chunks */
        req->res.content_length = client->content_length;
    if (ex->is_sse) /* no buffering anywhere between us and the client */
        h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, H2O_STRLIT("no-cache"), 1);
    if (ex->filter == NULL || !ex->filter->whole_body)
        start_response(ex);
    if (errstr == http_client_error_is_eos) {
        ex->client = NULL;
        ex->upstream_done = 1;
        if (ex->filter != NULL) {
            sbuf_reset(&ex->scratch);
            ex->filter->finish(ex->filter, NULL, &ex->scratch);
            append_pending(ex, ex->scratch.data, ex->scratch.len);
        }
        start_held_response(ex);
        try_send(ex);
        return NULL;
    }
    return on_body;
}

/* ------------------------------------------------------------------------------------------ */
/* Attempts */

static void on_prepared(void *ud, const char *error_type, const char *error)
{
    struct exchange *ex = ud;
    ex->preparing = 0;
    ex->prepare_handle = NULL;
    if (error != NULL) {
        /* this provider cannot take the request (credentials, unknown model...): try the next */
        log_warn("%s: cannot serve this request: %s", ex->provider->name, error);
        ex->last_outcome = OUTCOME_UNAVAILABLE;
        snprintf(ex->last_error, sizeof(ex->last_error), "%s: %s", ex->provider->name, error);
        ex->provider->state->errors++;
        if (later_provider_available(ex)) {
            fall_back(ex);
        } else {
            int status = strcmp(error_type, "invalid_request_error") == 0 ? 400 : 502;
            respond_error(ex, status, error_type, ex->last_error, NULL);
        }
        return;
    }
    ex->attempt_started_ms = monotonic_ms();
    size_t nbufs = 0;
    ex->reqbufs[nbufs++] = h2o_iovec_init(ex->ur.head.data, ex->ur.head.len);
    if (ex->ur.nbody_parts > 0)
        for (size_t i = 0; i < ex->ur.nbody_parts; i++)
            ex->reqbufs[nbufs++] = h2o_iovec_init(ex->ur.body_parts[i].iov_base, ex->ur.body_parts[i].iov_len);
    else if (ex->ur.body.len != 0)
        ex->reqbufs[nbufs++] = ex->ur.body;
    ex->client =
        http_client_request(ex->ur.target, ex->reqbufs, nbufs,
                            h2o_memis(ex->req->method.base, ex->req->method.len, H2O_STRLIT("HEAD")), on_head, ex);
}

/* Every provider in the chain is cooling or failed for this request. */
static void respond_exhausted(struct exchange *ex)
{
    uint64_t now = monotonic_ms(), soonest = 0;
    sbuf msg = SBUF_INIT;
    sbuf_puts(&msg, "all providers are rate-limited or unavailable:");
    for (size_t i = 0; i < ex->order_len; i++) {
        struct provider *p = ex->cfg->providers[ex->order[i]];
        if (provider_state_is_cooling(p->state, now)) {
            uint64_t left = p->state->cooling_until_ms - now;
            if (soonest == 0 || left < soonest)
                soonest = left;
            sbuf_printf(&msg, " %s cooling for %llus (%s);", p->name, (unsigned long long)((left + 999) / 1000),
                        p->state->reason);
        } else if (budget_blocks(p, usage_clock_ms())) {
            struct budget_status b;
            int64_t wall = usage_clock_ms();
            budget_get(p, wall, &b);
            uint64_t left = b.over_until_ms > wall ? (uint64_t)(b.over_until_ms - wall) : 1000;
            if (soonest == 0 || left < soonest)
                soonest = left;
            time_t until = (time_t)(b.over_until_ms / 1000);
            struct tm tm;
            localtime_r(&until, &tm);
            char when[40];
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", &tm);
            sbuf_printf(&msg, " %s reached its %s budget of $%.2f ($%.2f spent), which resets at %s;", p->name, b.which,
                        b.limit_usd, b.which[0] == 'd' ? b.today_usd : b.month_usd, when);
        } else if (provider_problem(p) != NULL) {
            sbuf_printf(&msg, " %s unavailable (%s);", p->name, provider_problem(p));
        }
    }
    if (ex->last_error[0] != '\0')
        sbuf_printf(&msg, " last error: %s", ex->last_error);
    if (soonest == 0 && ex->last_outcome != OUTCOME_STATUS && ex->last_error[0] != '\0') {
        respond_error(ex, ex->last_outcome == OUTCOME_TIMEOUT ? 504 : 502,
                      ex->last_outcome == OUTCOME_TIMEOUT ? "timeout_error" : "api_error", msg.data, NULL);
    } else {
        char retry[24];
        snprintf(retry, sizeof(retry), "%llu", (unsigned long long)(soonest ? (soonest + 999) / 1000 : 1));
        respond_error(ex, 429, "rate_limit_error", msg.data, retry);
    }
    sbuf_free(&msg);
}

static void next_attempt(struct exchange *ex)
{
    uint64_t now = monotonic_ms();
    while (ex->attempt < ex->order_len) {
        struct provider *p = ex->cfg->providers[ex->order[ex->attempt++]];
        if (provider_resting(p, now))
            continue;
        const char *problem = provider_problem(p);
        if (problem != NULL) {
            snprintf(ex->last_error, sizeof(ex->last_error), "%s: %s", p->name, problem);
            ex->last_outcome = OUTCOME_UNAVAILABLE;
            continue;
        }
        ex->provider = p;
        p->state->requests++;
        reset_upstream_request(ex);
        ex->preparing = 1;
        void *handle = p->ops->prepare(p, &ex->cr, &ex->ur, on_prepared, ex);
        if (ex->preparing)
            ex->prepare_handle = handle;
        return;
    }
    respond_exhausted(ex);
}

/* ------------------------------------------------------------------------------------------ */
/* Entry */

/* The members Claude Code repeats unchanged in every request of a session (json_scan_object_memo):
 * checked once, then compared. One set for the process: requests are scanned on the event loop's
 * thread only. */
static struct json_value_memo repeated_members[] = {{.name = "tools"}, {.name = "system"}};

static int validate_body(struct exchange *ex, const char **err)
{
    struct client_request *cr = &ex->cr;
    if (json_scan_object_memo(cr->body.base, cr->body.len, &ex->scan, err, repeated_members,
                              sizeof(repeated_members) / sizeof(repeated_members[0])) != 0)
        return -1;
    cr->scan = &ex->scan;
    const struct json_member *model = json_scan_find(&ex->scan, "model");
    if (model == NULL) {
        *err = "model: field required";
        return -1;
    }
    if (json_span_string(model->value, cr->model, sizeof(cr->model)) != 0 || cr->model[0] == '\0') {
        *err = "model: must be a non-empty string";
        return -1;
    }
    const struct json_member *messages = json_scan_find(&ex->scan, "messages");
    if (messages == NULL) {
        *err = "messages: field required";
        return -1;
    }
    if (messages->value.p[0] != '[') {
        *err = "messages: must be an array";
        return -1;
    }
    const struct json_member *stream = json_scan_find(&ex->scan, "stream");
    cr->stream = stream != NULL && json_span_is(stream->value, "true");
    return 0;
}

/* The order for this request: route() if the config has one, else the static order. */
static void choose_order(struct exchange *ex)
{
    struct proxy_config *c = ex->cfg;
    if (c->route_ref != LUA_NOREF) {
        h2o_req_t *req = ex->req;
        const char *names[65], *values[65];
        size_t n = 0;
        for (size_t i = 0; i < req->headers.size && n < 64; i++) {
            const h2o_header_t *h = &req->headers.entries[i];
            if (redact_header_is_secret(h->name->base, h->name->len))
                continue;
            names[n] = h2o_strdup(&req->pool, h->name->base, h->name->len).base;
            values[n] = h2o_strdup(&req->pool, h->value.base, h->value.len).base;
            n++;
        }
        names[n] = values[n] = NULL;
        char addr[64] = "";
        struct sockaddr_storage ss;
        socklen_t sslen = req->conn->callbacks->get_peername(req->conn, (void *)&ss);
        if (sslen > 0)
            h2o_socket_getnumerichost((void *)&ss, sslen, addr);
        char path[1024];
        snprintf(path, sizeof(path), "%.*s", (int)req->path_normalized.len, req->path_normalized.base);
        struct route_view view = {path, ex->cr.model, ex->cr.stream, addr, names, values};
        ex->order_len = config_route(c, &view, ex->order, ex->model_override, sizeof(ex->model_override));
        if (ex->model_override[0] != '\0')
            ex->cr.model_override = ex->model_override;
    }
    if (ex->order_len == 0) {
        memcpy(ex->order, c->order, sizeof(c->order[0]) * c->order_len);
        ex->order_len = c->order_len;
    }
    /* leave out providers that cannot serve this endpoint at all */
    size_t kept = 0;
    for (size_t i = 0; i < ex->order_len; i++) {
        unsigned endpoints = c->providers[ex->order[i]]->ops->endpoints;
        if (endpoints == 0 || (endpoints & 1u << ex->cr.endpoint))
            ex->order[kept++] = ex->order[i];
    }
    ex->order_len = kept;
}

void exchange_start(h2o_req_t *req, struct proxy_config *cfg, const struct exchange_params *params)
{
    struct exchange *ex = h2o_mem_alloc_shared(&req->pool, sizeof(*ex), on_dispose);
    memset(ex, 0, offsetof(struct exchange, scan));
    ex->super.proceed = on_proceed;
    ex->super.stop = on_stop;
    ex->req = req;
    ex->cfg = cfg;
    config_retain(cfg);
    ex->params = *params;
    ex->started_ms = monotonic_ms();
    in_flight++;
    started_total++;
    mark_owned(req);
    h2o_buffer_init(&ex->pending, &h2o_socket_buffer_prototype);
    h2o_doublebuffer_init(&ex->sending, &h2o_socket_buffer_prototype);
    ex->cr.req = req;
    ex->cr.endpoint = params->endpoint;
    ex->cr.body = params->body;
    ex->cr.path = params->path;

    if (params->endpoint != ENDPOINT_PASSTHROUGH) {
        const char *err = NULL;
        if (validate_body(ex, &err) != 0) {
            respond_error(ex, 400, "invalid_request_error", err, NULL);
            return;
        }
    }
    choose_order(ex);
    if (ex->order_len == 0) {
        respond_error(ex, 404, "not_found_error", "no provider in the chain serves this endpoint", NULL);
        return;
    }
    check_client_while_waiting(ex);
    next_attempt(ex);
}
