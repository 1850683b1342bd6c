#include "server/server.h"
#include <string.h>
#include <sys/time.h>
#include "server/access.h"
#include "core/budget.h"
#include "core/client_http2.h"
#include "core/config.h"
#include "core/errors.h"
#include "server/dashboard.h"
#include "server/usage_endpoint.h"
#include "core/exchange.h"
#include "core/ledger.h"
#include "common/log.h"
#include "common/netaddr.h"
#include "core/metrics.h"
#include "core/provider.h"
#include "core/provider_state.h"
#include "common/request_syntax.h"
#include "common/sbuf.h"
#include "openai/endpoint.h"
#include "common/memory.h"

struct proxy_handler {
    h2o_handler_t super;
    struct server *server;
};

/* ------------------------------------------------------------------------------------------ */
/* GET / and GET /health */

static void send_json(h2o_req_t *req, int status, const char *content_type, sbuf *body)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    send_response(req, status, content_type, body->data, body->len);
}

static void append_time(sbuf *out, time_t t)
{
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    sbuf_json_string(out, buf, strlen(buf));
}

/* "name":{"reset":epoch,"reset_at":"ISO 8601"} members for a reset time (nothing if unknown). */
static void append_reset(sbuf *out, const char *key, int64_t epoch)
{
    if (epoch <= 0)
        return;
    sbuf_printf(out, ",\"%s\":%lld,\"%s_at\":", key, (long long)epoch, key);
    append_time(out, (time_t)epoch);
}

static void append_status(sbuf *out, enum quota_status st)
{
    const char *name = quota_status_name(st);
    if (name != NULL)
        sbuf_printf(out, ",\"status\":\"%s\"", name);
}

/* What the provider's answers last said of its quota (Anthropic's unified headers). */
static void append_quota(sbuf *out, const struct quota *q)
{
    sbuf_puts(out, ",\"quota\":{\"last_seen\":");
    append_time(out, q->seen);
    sbuf_printf(out, ",\"last_seen_epoch\":%lld", (long long)q->seen);
    append_status(out, q->status);
    if (q->representative_claim[0] != '\0')
        sbuf_printf(out, ",\"representative_claim\":\"%s\"", q->representative_claim); /* plain characters only */
    append_reset(out, "reset", q->reset);
    if (q->has_fallback_percentage)
        sbuf_printf(out, ",\"fallback_percentage\":%g", q->fallback_percentage);
    sbuf_puts(out, ",\"windows\":{");
    for (size_t i = 0; i < q->num_windows; i++) {
        const struct quota_window *w = &q->windows[i];
        sbuf_printf(out, "%s\"%s\":{\"last_seen\":", i ? "," : "", w->name); /* names are plain characters */
        append_time(out, w->seen);
        if (w->has_utilization)
            sbuf_printf(out, ",\"utilization\":%g", w->utilization);
        append_status(out, w->status);
        append_reset(out, "reset", w->reset);
        sbuf_putc(out, '}');
    }
    sbuf_putc(out, '}');
    const struct quota_extra_usage *x = &q->extra_usage;
    if (x->present) {
        sbuf_printf(out, ",\"extra_usage\":{\"in_use\":%s", x->in_use ? "true" : "false");
        append_status(out, x->status);
        if (x->has_utilization)
            sbuf_printf(out, ",\"utilization\":%g", x->utilization);
        append_reset(out, "reset", x->reset);
        if (x->disabled_reason[0] != '\0')
            sbuf_printf(out, ",\"disabled_reason\":\"%s\"", x->disabled_reason);
        sbuf_putc(out, '}');
    }
    sbuf_putc(out, '}');
}

static void append_providers(sbuf *out, struct proxy_config *c)
{
    uint64_t now = monotonic_ms();
    sbuf_puts(out, "\"providers\":[");
    for (size_t i = 0; i < c->num_providers; i++) {
        struct provider *p = c->providers[i];
        struct provider_state *s = p->state;
        const char *problem = provider_problem(p);
        int cooling = provider_state_is_cooling(s, now);
        struct budget_status spend;
        budget_get(p, usage_clock_ms(), &spend);
        if (i)
            sbuf_putc(out, ',');
        sbuf_puts(out, "{\"name\":");
        sbuf_json_string(out, p->name, strlen(p->name));
        sbuf_puts(out, ",\"type\":");
        sbuf_json_string(out, p->ops->type, strlen(p->ops->type));
        sbuf_printf(out, ",\"state\":\"%s\"",
                    cooling               ? "cooling"
                    : spend.over_until_ms ? "over_budget"
                    : problem             ? "unavailable"
                                          : "ok");
        if (cooling) {
            sbuf_puts(out, ",\"cooling_until\":");
            append_time(out, s->cooling_until_wall);
            sbuf_printf(out, ",\"cooling_seconds_left\":%llu,\"reason\":",
                        (unsigned long long)((s->cooling_until_ms - now + 999) / 1000));
            sbuf_json_string(out, s->reason, strlen(s->reason));
        } else if (spend.over_until_ms) {
            sbuf_puts(out, ",\"over_budget_until\":");
            append_time(out, (time_t)(spend.over_until_ms / 1000));
            sbuf_printf(out, ",\"reason\":\"its %s budget of $%.2f is reached\"", spend.which, spend.limit_usd);
        } else if (problem) {
            sbuf_puts(out, ",\"reason\":");
            sbuf_json_string(out, problem, strlen(problem));
        }
        sbuf_printf(out, ",\"requests\":%llu,\"fallbacks\":%llu,\"errors\":%llu", (unsigned long long)s->requests,
                    (unsigned long long)s->fallbacks, (unsigned long long)s->errors);
        if (s->quota.present)
            append_quota(out, &s->quota);
        /* metered spend (Bedrock, API keys; a subscription's value is not spend) and its budget */
        sbuf_printf(out, ",\"spend\":{\"today_usd\":%.6f,\"month_usd\":%.6f},\"budget\":{", spend.today_usd,
                    spend.month_usd);
        if (p->budget_usd_per_day > 0)
            sbuf_printf(out, "\"usd_per_day\":%g,", p->budget_usd_per_day);
        else
            sbuf_puts(out, "\"usd_per_day\":null,");
        if (p->budget_usd_per_month > 0)
            sbuf_printf(out, "\"usd_per_month\":%g,", p->budget_usd_per_month);
        else
            sbuf_puts(out, "\"usd_per_month\":null,");
        sbuf_puts(out, "\"over_until\":");
        if (spend.over_until_ms)
            append_time(out, (time_t)(spend.over_until_ms / 1000));
        else
            sbuf_puts(out, "null");
        sbuf_putc(out, '}');
        if (p->ops->describe) {
            sbuf d = SBUF_INIT;
            p->ops->describe(p, &d);
            if (d.len) {
                sbuf_putc(out, ',');
                sbuf_append(out, d.data, d.len);
            }
            sbuf_free(&d);
        }
        sbuf_putc(out, '}');
    }
    sbuf_puts(out, "],\"order\":[");
    for (size_t i = 0; i < c->order_len; i++) {
        const char *n = c->providers[c->order[i]]->name;
        if (i)
            sbuf_putc(out, ',');
        sbuf_json_string(out, n, strlen(n));
    }
    sbuf_putc(out, ']');
}

static void append_config_state(sbuf *out, struct server *s)
{
    sbuf_puts(out, ",\"config\":{\"source\":");
    sbuf_json_string(out, s->config->source, strlen(s->config->source));
    sbuf_printf(out, ",\"reloads\":%llu", (unsigned long long)s->reloads);
    if (s->last_reload_error) {
        sbuf_puts(out, ",\"reload_error\":");
        sbuf_json_string(out, s->last_reload_error, strlen(s->last_reload_error));
    }
    sbuf_putc(out, '}');
}

/* The usage ledger's writer: where, how many rows, whether the file is failing. */
static void append_ledger_state(sbuf *out)
{
    const char *path = ledger_running_path();
    if (path == NULL) {
        sbuf_puts(out, ",\"usage_ledger\":null");
        return;
    }
    struct ledger_stats st;
    ledger_get_stats(&st);
    sbuf_puts(out, ",\"usage_ledger\":{\"path\":");
    sbuf_json_string(out, path, strlen(path));
    sbuf_printf(out, ",\"rows_written\":%llu,\"rows_dropped\":%llu,\"failing\":%s}", (unsigned long long)st.written,
                (unsigned long long)st.dropped, st.failing ? "true" : "false");
}

static void handle_health(struct server *s, h2o_req_t *req)
{
    sbuf out = SBUF_INIT;
    sbuf_puts(&out, "{\"status\":\"ok\",");
    append_providers(&out, s->config);
    append_config_state(&out, s);
    append_ledger_state(&out);
    sbuf_printf(&out, ",\"active_streams\":%llu}", (unsigned long long)metrics_streams.active_streams);
    send_json(req, 200, "application/json", &out);
    sbuf_free(&out);
}

static void handle_root(struct server *s, h2o_req_t *req)
{
    sbuf out = SBUF_INIT;
    sbuf_printf(&out, "{\"name\":\"claude-proxy\",\"version\":\"%s\",\"listen\":", CP_VERSION);
    char listen[300];
    netaddr_http_url(listen, sizeof(listen), s->config->listen_host, s->config->port);
    sbuf_json_string(&out, listen, strlen(listen));
    sbuf_puts(&out, ",\"started\":");
    append_time(&out, s->started_at);
    sbuf_puts(&out, ",\"endpoints\":[\"GET /\",\"GET /health\",\"GET /metrics\",\"GET /usage\",\"GET /dashboard\","
                    "\"POST /v1/messages\","
                    "\"POST /v1/messages/count_tokens\",\"POST /v1/chat/completions\",\"POST /chat/completions\"],");
    append_providers(&out, s->config);
    append_config_state(&out, s);
    sbuf_putc(&out, '}');
    send_json(req, 200, "application/json", &out);
    sbuf_free(&out);
}

static void handle_metrics(struct server *s, h2o_req_t *req)
{
    sbuf out = SBUF_INIT;
    metrics_render(&out, s->config);
    send_json(req, 200, "text/plain; version=0.0.4", &out);
    sbuf_free(&out);
}

/* ------------------------------------------------------------------------------------------ */
/* Routing */

static int path_is(h2o_iovec_t path, const char *s) { return h2o_memis(path.base, path.len, s, strlen(s)); }

static int method_is(h2o_req_t *req, const char *m)
{
    return h2o_memis(req->method.base, req->method.len, m, strlen(m));
}

static void method_not_allowed(h2o_req_t *req, enum api_format api, const char *allowed)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "method %.*s is not allowed here; use %s", (int)req->method.len, req->method.base,
             allowed);
    send_error(req, api, 405, "invalid_request_error", msg, "allow", allowed);
}

/* H2O answers some errors before it normalises the path. */
static h2o_iovec_t request_path(h2o_req_t *req) { return req->path_normalized.base ? req->path_normalized : req->path; }

/* What a request is: the endpoint (ENDPOINT_* of provider.h, or METRICS_ENDPOINT_* for the
 * paths no provider serves; the labels of /metrics) and the API whose format it speaks. route()
 * dispatches on it, the logger counts with it, errors take its format. */
struct request_class {
    int endpoint;
    enum api_format api;
};

static struct request_class classify(h2o_req_t *req)
{
    h2o_iovec_t path = request_path(req);
    if (path_is(path, "/chat/completions") || path_is(path, "/v1/chat/completions"))
        return (struct request_class){ENDPOINT_MESSAGES, API_OPENAI};
    if (path_is(path, "/") || path_is(path, "/health") || path_is(path, "/metrics") || path_is(path, "/usage") ||
        path_is(path, "/dashboard"))
        return (struct request_class){METRICS_ENDPOINT_INFO, API_ANTHROPIC};
    /* OpenAI clients list models at /v1/models (or /models, for a base URL without /v1); a
     * request with anthropic-version is an Anthropic client and goes to Anthropic. */
    if ((path_is(path, "/v1/models") || path_is(path, "/models")) &&
        (method_is(req, "GET") || method_is(req, "HEAD")) &&
        h2o_find_header_by_str(&req->headers, H2O_STRLIT("anthropic-version"), -1) < 0)
        return (struct request_class){METRICS_ENDPOINT_MODELS, API_OPENAI};
    if (path_is(path, "/v1/messages"))
        return (struct request_class){ENDPOINT_MESSAGES, API_ANTHROPIC};
    if (path_is(path, "/v1/messages/count_tokens"))
        return (struct request_class){ENDPOINT_COUNT_TOKENS, API_ANTHROPIC};
    if (path.len >= 4 && memcmp(path.base, "/v1/", 4) == 0)
        return (struct request_class){ENDPOINT_PASSTHROUGH, API_ANTHROPIC};
    return (struct request_class){METRICS_ENDPOINT_OTHER, API_ANTHROPIC};
}

/* Which API's error format a request gets. */
static enum api_format request_api(h2o_req_t *req) { return classify(req).api; }

static void route(struct server *s, h2o_req_t *req)
{
    h2o_iovec_t path = req->path_normalized;
    struct proxy_config *cfg = s->config;
    struct request_class rc = classify(req);
    int info = rc.endpoint == METRICS_ENDPOINT_INFO;
    const char *malformed = request_syntax_problem(req);
    if (malformed != NULL) {
        send_error(req, rc.api, 400, "invalid_request_error", malformed, NULL, NULL);
        return;
    }
    /* /usage tells what was spent: with client keys, only a client with a key may read it */
    if (access_check(req, cfg, rc.api, !info || path_is(path, "/usage")) != 0)
        return;

    struct exchange_params params = {0};
    switch (rc.endpoint) {
    case METRICS_ENDPOINT_INFO:
        if (!method_is(req, "GET") && !method_is(req, "HEAD")) {
            method_not_allowed(req, API_ANTHROPIC, "GET");
        } else if (path_is(path, "/health")) {
            handle_health(s, req);
        } else if (path_is(path, "/metrics")) {
            handle_metrics(s, req);
        } else if (path_is(path, "/usage")) {
            usage_endpoint(req);
        } else if (path_is(path, "/dashboard") || dashboard_wanted(req)) {
            dashboard_serve(req);
        } else {
            handle_root(s, req);
        }
        return;
    case METRICS_ENDPOINT_MODELS: endpoint_openai_models(req, cfg); return;
    case ENDPOINT_MESSAGES:
    case ENDPOINT_COUNT_TOKENS:
        if (!method_is(req, "POST")) {
            method_not_allowed(req, rc.api, "POST");
            return;
        }
        if (rc.api == API_OPENAI) {
            endpoint_openai_chat(req, cfg);
            return;
        }
        /* fall through */
    case ENDPOINT_PASSTHROUGH:
        params.endpoint = rc.endpoint;
        params.body = req->entity.base ? req->entity : h2o_iovec_init("", 0);
        params.path = req->path;
        params.format.api = API_ANTHROPIC;
        exchange_start(req, cfg, &params);
        return;
    }
    char msg[300];
    snprintf(msg, sizeof(msg), "no endpoint %.*s %.*s (this is claude-proxy: use POST /v1/messages)",
             (int)req->method.len, req->method.base, (int)(path.len > 200 ? 200 : path.len), path.base);
    send_error(req, API_ANTHROPIC, 404, "not_found_error", msg, NULL, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* One log line and one metrics count per request. The exchange logs and counts the requests it
 * takes, with their model, provider and time to first byte, as it is disposed of. H2O calls this
 * logger as every request ends, so the rest get the same line here from one place: the proxy's
 * own answers (/, /health, /metrics, 404, 405), refusals (401, 403, 415), the OpenAI endpoint's
 * 400s and H2O's own errors (413...). A request the exchange took (exchange_owns) is left to it,
 * so none is logged twice; a route added later is logged without anyone remembering to. */

static uint64_t ms_since(const struct timeval *start, const struct timeval *end)
{
    if (start->tv_sec == 0 || end->tv_sec == 0)
        return 0; /* never set: H2O answered before it timed anything */
    int64_t us = (int64_t)(end->tv_sec - start->tv_sec) * 1000000 + (end->tv_usec - start->tv_usec);
    return us > 0 ? (uint64_t)us / 1000 : 0;
}

static void log_local_response(h2o_logger_t *self, h2o_req_t *req)
{
    (void)self;
    if (exchange_owns(req))
        return;
    struct request_class rc = classify(req);
    metrics_record_local_response(rc.endpoint, rc.api, req->res.status);
    struct timeval now;
    gettimeofday(&now, NULL);
    uint64_t duration = ms_since(&req->timestamps.request_begin_at, &now);
    uint64_t ttfb = ms_since(&req->timestamps.request_begin_at, &req->timestamps.response_start_at);
    /* the same fields as the exchange's line, so that one parser reads both */
    log_info("%.*s %.*s model=- provider=- status=%d %llums ttfb=%llums bytes=%zu", (int)req->method.len,
             req->method.base, (int)req->path.len, req->path.base, req->res.status, (unsigned long long)duration,
             (unsigned long long)ttfb, req->bytes_sent);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    client_http2_tune_request(req);
    route(((struct proxy_handler *)self)->server, req);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Errors that H2O itself answers once it has parsed a request (413 body too large, 400 broken
 * Content-Length or chunked encoding, unknown Transfer-Encoding, 417 unknown Expect) come as
 * text/plain, through the fallback path's filters; give clients the JSON error shape of their API
 * instead, with H2O's explanation as the message.
 * Not covered, because H2O 2.2.5 writes them straight to the socket before any request exists (no
 * filter or handler runs; http1.c send_bad_request): a request line or header block it cannot
 * parse, more than 100 headers (H2O_MAX_HEADERS) and a header block over 417,792 bytes
 * (H2O_MAX_REQLEN) get "400 Bad Request" as text/plain and the connection is closed. */

struct json_error_ostream {
    h2o_ostream_t super;
};

static void json_error_do_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt,
                               h2o_send_state_t state)
{
    /* H2O sends its whole text body in this one call (none for HEAD); headers are not out yet */
    char text[200];
    size_t n = 0;
    for (size_t i = 0; i < bufcnt && n < sizeof(text) - 1; i++) {
        size_t take = bufs[i].len < sizeof(text) - 1 - n ? bufs[i].len : sizeof(text) - 1 - n;
        memcpy(text + n, bufs[i].base, take);
        n += take;
    }
    text[n] = '\0';
    if (req->res.status == 413)
        snprintf(text, sizeof(text), "request body is larger than max_body (%zu bytes)",
                 req->conn->ctx->globalconf->max_request_entity_size);
    else if (n == 0)
        snprintf(text, sizeof(text), "%s", req->res.reason);
    sbuf body = SBUF_INIT;
    error_json(&body, request_api(req), error_type_for_status(req->res.status), text);
    h2o_iovec_t buf = h2o_strdup(&req->pool, body.data, body.len);
    sbuf_free(&body);
    req->res.content_length = buf.len;
    int head = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    h2o_ostream_send_next(self, req, &buf, head ? 0 : 1, state);
}

static void json_error_setup(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    ssize_t ct = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1);
    const h2o_iovec_t *type = ct >= 0 ? &req->res.headers.entries[ct].value : NULL;
    if (req->res.status >= 400 && type != NULL && type->len >= 10 &&
        h2o_memis(type->base, 10, H2O_STRLIT("text/plain"))) {
        struct json_error_ostream *o = (void *)h2o_add_ostream(req, sizeof(*o), slot);
        o->super.do_send = json_error_do_send;
        req->res.headers.entries[ct].value = h2o_iovec_init(H2O_STRLIT("application/json"));
        slot = &o->super.next;
    }
    h2o_setup_next_ostream(req, slot);
}

/* ------------------------------------------------------------------------------------------ */
/* Listener */

/* A client's requests arrive in its socket's input buffer, which H2O 2.2.5 starts at 8 KiB and
 * doubles as a body comes in, copying what it holds each time (about a body's worth of memcpy
 * for a 112 KiB Claude Code request, and more, smaller reads). Client sockets start at 256 KiB
 * instead, which Claude Code's requests fit: the buffer is taken whole as it is, its pages are
 * touched only as far as a request fills them, and it goes back to the pool (a few kept) when the
 * request is done. */
#define CLIENT_INPUT_CAPACITY (256 * 1024)
static h2o_buffer_prototype_t client_input_prototype = {.allocator = {.max = 4},
                                                        ._initial_buf = {.capacity = CLIENT_INPUT_CAPACITY},
                                                        .mmap_settings = &h2o_socket_buffer_mmap_settings};

static void on_accept(uv_stream_t *listener, int status)
{
    struct server *s = listener->data;
    if (status != 0)
        return;
    uv_tcp_t *conn = h2o_mem_alloc(sizeof(*conn));
    uv_tcp_init(listener->loop, conn);
    if (uv_accept(listener, (uv_stream_t *)conn) != 0) {
        uv_close((uv_handle_t *)conn, (uv_close_cb)free);
        return;
    }
    uv_tcp_nodelay(conn, 1);
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)conn, (uv_close_cb)free);
    h2o_buffer_set_prototype(&sock->input, &client_input_prototype);
    h2o_accept(&s->accept_ctx, sock);
}

static int bind_listener(struct server *s, const char *host, uint16_t port, char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    int r;
    const char *bind_host = strcmp(host, "localhost") == 0 ? "127.0.0.1" : host;
    if (uv_ip4_addr(bind_host, port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(bind_host, port, (struct sockaddr_in6 *)&addr) != 0) {
        snprintf(err, errlen, "listen address \"%s\" is not an IP address", host);
        return -1;
    }
    uv_tcp_init(s->loop, &s->listener);
    s->listener.data = s;
    if ((r = uv_tcp_bind(&s->listener, (struct sockaddr *)&addr, 0)) != 0 ||
        (r = uv_listen((uv_stream_t *)&s->listener, 1024, on_accept)) != 0) {
        snprintf(err, errlen, "cannot listen on %s:%u: %s%s", host, port, uv_strerror(r),
                 r == UV_EADDRINUSE ? " (is another claude-proxy running? set PROXY_PORT)" : "");
        uv_close((uv_handle_t *)&s->listener, NULL);
        return -1;
    }
    return 0;
}

static void apply_globals(struct server *s, struct proxy_config *c)
{
    s->globalconf.max_request_entity_size = c->max_body;
    s->globalconf.http1.req_timeout = c->header_timeout_ms;
    client_http2_configure(&s->globalconf, c->http2);
    log_set_level(c->log_level);
    log_set_json(c->log_json);
    if (c->log_file != NULL && log_set_file(c->log_file) != 0)
        log_error("cannot open log file %s: %s", c->log_file, strerror(errno));
}

int server_start(struct server *s, uv_loop_t *loop, struct proxy_config *cfg, const char *config_path, char *err,
                 size_t errlen)
{
    memset(s, 0, sizeof(*s));
    s->loop = loop;
    s->config = cfg;
    s->config_path = config_path ? xstrdup(config_path) : NULL;
    s->started_at = time(NULL);
    h2o_config_init(&s->globalconf);
    s->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("claude-proxy"));
    apply_globals(s, cfg);
    h2o_hostconf_t *hostconf = h2o_config_register_host(&s->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(hostconf, "/", 0);
    struct proxy_handler *handler = (void *)h2o_create_handler(pathconf, sizeof(*handler));
    handler->super.on_req = on_req;
    handler->server = s;
    h2o_filter_t *filter = h2o_create_filter(&hostconf->fallback_path, sizeof(*filter));
    filter->on_setup_ostream = json_error_setup;
    /* the fallback path is where H2O answers requests that never reached on_req */
    h2o_create_logger(pathconf, sizeof(h2o_logger_t))->log_access = log_local_response;
    h2o_create_logger(&hostconf->fallback_path, sizeof(h2o_logger_t))->log_access = log_local_response;
    h2o_context_init(&s->ctx, loop, &s->globalconf);
    s->accept_ctx.ctx = &s->ctx;
    s->accept_ctx.hosts = s->globalconf.hosts;
    if (config_start(cfg, &s->ctx, err, errlen) != 0)
        return -1;
    return bind_listener(s, cfg->listen_host, cfg->port, err, errlen);
}

int server_reload(struct server *s)
{
    char err[1024];
    struct proxy_config *c = config_load(s->config_path, err, sizeof(err));
    if (c != NULL && (c->port != s->config->port || strcmp(c->listen_host, s->config->listen_host) != 0)) {
        snprintf(err, sizeof(err), "%s: listen address and port cannot change on reload (restart instead)", c->source);
        config_release(c);
        c = NULL;
    }
    if (c != NULL && config_start(c, &s->ctx, err, sizeof(err)) != 0) {
        config_release(c);
        c = NULL;
    }
    if (c == NULL) {
        log_error("reload failed, keeping the running config: %s", err);
        free(s->last_reload_error);
        s->last_reload_error = xstrdup(err);
        return -1;
    }
    if (c->usage_db_off != s->config->usage_db_off || (c->usage_db != NULL) != (s->config->usage_db != NULL) ||
        (c->usage_db != NULL && strcmp(c->usage_db, s->config->usage_db) != 0))
        log_warn("usage_db changed: the usage ledger moves at the next restart");
    struct proxy_config *old = s->config;
    s->config = c;
    apply_globals(s, c);
    free(s->last_reload_error);
    s->last_reload_error = NULL;
    s->reloads++;
    s->last_reload_at = time(NULL);
    log_info("config reloaded from %s (order:%s%s%s)", c->source, c->order_len > 0 ? " " : "",
             c->providers[c->order[0]]->name, c->order_len > 1 ? " ..." : "");
    config_release(old); /* in-flight requests hold their own reference */
    return 0;
}

void server_stop_listening(struct server *s)
{
    if (!uv_is_closing((uv_handle_t *)&s->listener))
        uv_close((uv_handle_t *)&s->listener, NULL);
}
