#include "openai/endpoint.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/body_filter.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/exchange.h"
#include "openai/request.h"
#include "openai/response.h"
#include "openai/stream.h"
#include "common/sse.h"
#include "common/memory.h"

#define DEFAULT_MAX_TOKENS 4096 /* Anthropic requires max_tokens; OpenAI clients often omit it */
#define MAX_SSE_EVENT (8 * 1024 * 1024)
#define MAX_JSON_BODY (32 * 1024 * 1024)

struct openai_request {
    struct openai_request_info info;
};

/* Turns the Anthropic response (SSE stream, JSON message or error) into OpenAI's format. */
struct openai_filter {
    struct body_filter super;
    struct openai_request *request;
    int status;
    int streaming;
    struct sse_parser parser;
    struct openai_stream *stream;
    sbuf body;
    int body_too_large; /* a JSON answer over MAX_JSON_BODY: not kept, answered with a 502 */
    sbuf *out;
    int ended;
};

static int on_sse_event(void *ud, const char *event, size_t event_len, const char *data, size_t data_len)
{
    struct openai_filter *f = ud;
    if (openai_stream_event(f->stream, event, event_len, data, data_len, f->out) != 0) {
        f->ended = 1;
        return 1;
    }
    return 0;
}

static int filter_feed(struct body_filter *bf, const char *data, size_t len, sbuf *out)
{
    struct openai_filter *f = (struct openai_filter *)bf;
    if (f->ended)
        return 1;
    if (!f->streaming) {
        if (f->body.len + len <= MAX_JSON_BODY)
            sbuf_append(&f->body, data, len);
        else
            f->body_too_large = 1;
        return 0;
    }
    f->out = out;
    int r = sse_parser_feed(&f->parser, data, len, on_sse_event, f);
    f->out = NULL;
    if (r < 0 && !f->ended) {
        openai_stream_fail(f->stream, "api_error", "the upstream stream could not be read (an event over 8 MiB)", out);
        f->ended = 1;
    }
    if (f->ended)
        openai_stream_finish(f->stream, out);
    return f->ended;
}

/* A stream that breaks before message_stop ends with an error chunk and no [DONE], so that the
 * client does not take the part it got for the whole answer. */
static void stream_finish(struct openai_filter *f, const char *err, sbuf *out)
{
    if (err != NULL) {
        char msg[300];
        snprintf(msg, sizeof(msg), "the upstream stream broke off before the answer was complete (%s)", err);
        openai_stream_fail(f->stream, strstr(err, "timeout") ? "timeout_error" : "api_error", msg, out);
    }
    openai_stream_finish(f->stream, out);
}

/* The whole JSON answer is in: a chat.completion, or, when a 2xx answer cannot be translated, a
 * 502 (the exchange holds the response until now, so the status can still change). */
static void json_finish(struct openai_filter *f, const char *err, sbuf *out)
{
    const char *body = f->body.data ? f->body.data : "";
    if (f->status < 200 || f->status > 299) {
        openai_error_from_anthropic(f->status, body, f->body.len, out);
        return;
    }
    if (err == NULL && !f->body_too_large &&
        openai_response_from_anthropic(body, f->body.len, f->request->info.model, out) == 0)
        return;
    f->super.final_status = 502;
    char msg[300];
    if (err != NULL) {
        snprintf(msg, sizeof(msg), "the upstream answer broke off before it was complete (%s)", err);
        error_json(out, API_OPENAI, "api_error", msg);
    } else if (f->body_too_large) {
        snprintf(msg, sizeof(msg), "the upstream answer is larger than %d MiB", MAX_JSON_BODY / (1024 * 1024));
        error_json(out, API_OPENAI, "api_error", msg);
    } else {
        openai_error_for_bad_answer(f->status, body, f->body.len, out);
    }
}

static void filter_finish(struct body_filter *bf, const char *err, sbuf *out)
{
    struct openai_filter *f = (struct openai_filter *)bf;
    if (f->streaming)
        stream_finish(f, err, out);
    else
        json_finish(f, err, out);
}

static void filter_destroy(struct body_filter *bf)
{
    struct openai_filter *f = (struct openai_filter *)bf;
    sse_parser_free(&f->parser);
    if (f->stream)
        openai_stream_free(f->stream);
    sbuf_free(&f->body);
    free(f);
}

static struct body_filter *make_filter(void *ctx, int status, int is_sse)
{
    struct openai_request *r = ctx;
    struct openai_filter *f = xcalloc(1, sizeof(*f));
    f->request = r;
    f->status = status;
    f->streaming = is_sse && status >= 200 && status <= 299;
    f->super =
        (struct body_filter){.feed = filter_feed,
                             .finish = filter_finish,
                             .destroy = filter_destroy,
                             .content_type = f->streaming ? "text/event-stream; charset=utf-8" : "application/json",
                             /* a JSON answer goes out whole, so an unreadable one can still be a 502 */
                             .whole_body = !f->streaming};
    if (f->streaming) {
        sse_parser_init(&f->parser, MAX_SSE_EVENT);
        f->stream = openai_stream_new(r->info.model, r->info.include_usage);
    }
    return &f->super;
}

void endpoint_openai_chat(h2o_req_t *req, struct proxy_config *cfg)
{
    struct openai_request *r = h2o_mem_alloc_pool(&req->pool, sizeof(*r));
    sbuf translated = SBUF_INIT, err = SBUF_INIT;
    const char *body = req->entity.base ? req->entity.base : "";
    int status = openai_request_to_anthropic(body, req->entity.len, DEFAULT_MAX_TOKENS, &translated, &r->info, &err);
    if (status != 0) {
        send_json_response(req, status, err.data, err.len);
    } else {
        struct exchange_params params = {0};
        params.endpoint = ENDPOINT_MESSAGES;
        params.body = h2o_strdup(&req->pool, translated.data, translated.len);
        params.path = h2o_iovec_init(H2O_STRLIT("/v1/messages"));
        params.format = (struct client_format){API_OPENAI, make_filter, r};
        exchange_start(req, cfg, &params);
    }
    sbuf_free(&translated);
    sbuf_free(&err);
}

void endpoint_openai_models(h2o_req_t *req, struct proxy_config *cfg)
{
    sbuf out = SBUF_INIT;
    sbuf_puts(&out, "{\"object\":\"list\",\"data\":[");
    size_t n = config_model_list(cfg, &out);
    (void)n;
    sbuf_puts(&out, "]}");
    send_json_response(req, 200, out.data, out.len);
    sbuf_free(&out);
}
