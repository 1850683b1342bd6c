/* What Bedrock answered: the body filters (the event stream of InvokeModelWithResponseStream into
 * SSE, a token count into Anthropic's shape), its errors in Anthropic's shape, and whether an
 * error means "this route does not serve the model", so that the same request goes to the next
 * route (or, for an id the listing named, once more after listing again). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "providers/bedrock_internal.h"
#include "providers/bedrock_models.h"
#include "providers/bedrock_profiles.h"
#include "providers/bedrock_routes.h"
#include "providers/bedrock_stream.h"
#include "core/body_filter.h"
#include "core/errors.h"
#include "common/http_client.h"
#include "common/log.h"
#include "common/memory.h"

/* AWS's x-amzn-errortype ("ValidationException:http://...") into type, left alone if absent. */
static void error_type_header(const h2o_header_t *headers, size_t num_headers, char *type, size_t size)
{
    const h2o_iovec_t *v = http_header_find(headers, num_headers, "x-amzn-errortype");
    if (v != NULL)
        snprintf(type, size, "%.*s", (int)v->len, v->base);
}

/* A route that does not serve the model: remembered, and the next route (if one is left) gets
 * the same request. A refused thinking signature: once more without the thinking blocks. */
enum provider_retry bedrock_retry_on_error(struct provider *p, const struct client_request *cr,
                                           const struct upstream_request *ur, int status, const h2o_header_t *headers,
                                           size_t num_headers, const char *body, size_t len)
{
    struct bedrock *b = p->impl;
    enum provider_retry verdict = PROVIDER_RETRY_NO;
    if (provider_thinking_refused(cr, status, body, len, &verdict))
        return verdict;
    char type[128] = "", why[300];
    error_type_header(headers, num_headers, type, sizeof(type));
    if (!bedrock_error_is_route_refusal(status, type, body, len, why, sizeof(why)))
        return PROVIDER_RETRY_NO;
    char key[300];
    bedrock_memory_key(cr, key, sizeof(key));
    enum bedrock_route route = (enum bedrock_route)ur->variant;
    /* An id from the account's listing refused as invalid may be a profile the account no longer
     * has: list again (at most once a minute) and retry once; the retry waits for that listing and
     * goes on to the next route only if it names the same id (build_request). Ids from the static
     * table (no listing ever worked) go to the next route at once. */
    if (route != BEDROCK_MANTLE && strstr(why, "model identifier is invalid") != NULL &&
        bedrock_profiles_current(b->profiles) != NULL && bedrock_profiles_refresh(b->profiles)) {
        log_warn("%s: Bedrock refused %s as invalid (%s); once more after listing the account's inference profiles",
                 p->name, ur->model_sent, why);
        snprintf(b->refused_id, sizeof(b->refused_id), "%s", ur->model_sent);
        snprintf(b->refused_why, sizeof(b->refused_why), "%s", why);
        return PROVIDER_RETRY_AGAIN;
    }
    bedrock_route_note(p->name, b->region, key, route, BEDROCK_ROUTE_REFUSED, why);
    /* is a route left? */
    char err[400];
    verdict = PROVIDER_RETRY_NO;
    const struct bedrock_plan *plan = bedrock_resolve(p, cr, err, sizeof(err));
    if (plan != NULL) {
        const struct bedrock_route_plan *next = bedrock_choose_route(p, cr, plan);
        if (next != NULL && bedrock_route_known(p->name, b->region, key, next->route) != BEDROCK_ROUTE_REFUSED) {
            log_warn("%s: route %s does not serve %s in %s (%s); trying %s", p->name, bedrock_route_name(route), key,
                     b->region, why, bedrock_route_name(next->route));
            verdict = PROVIDER_RETRY_AGAIN;
        } else {
            log_warn("%s: route %s does not serve %s in %s (%s); no route left", p->name, bedrock_route_name(route),
                     key, b->region, why);
        }
    }
    return verdict;
}

/* ------------------------------------------------------------------------------------------ */
/* Body filters */

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
    struct count_filter *f = xcalloc(1, sizeof(*f));
    f->super = (struct body_filter){.feed = count_feed,
                                    .finish = count_finish,
                                    .destroy = count_destroy,
                                    .content_type = "application/json",
                                    .whole_body = 1};
    f->aws = aws;
    return &f->super;
}

struct body_filter *bedrock_response_filter(struct provider *p, const struct upstream_request *ur, int status)
{
    struct bedrock *b = p->impl;
    if (status >= 200 && status <= 299 && ur->note[0] != '\0' &&
        bedrock_route_known(p->name, b->region, ur->note, (enum bedrock_route)ur->variant) != BEDROCK_ROUTE_SERVES)
        bedrock_route_note(p->name, b->region, ur->note, (enum bedrock_route)ur->variant, BEDROCK_ROUTE_SERVES,
                           ur->model_sent);
    switch (ur->response_format) {
    case RESPONSE_EVENTSTREAM: {
        struct eventstream_filter *f = xcalloc(1, sizeof(*f));
        f->super = (struct body_filter){.feed = es_feed,
                                        .finish = es_finish,
                                        .destroy = es_destroy,
                                        .content_type = "text/event-stream; charset=utf-8"};
        f->stream = bedrock_stream_new();
        f->super.usage = bedrock_stream_usage(f->stream);
        return &f->super;
    }
    case RESPONSE_AWS_TOKEN_COUNT: return count_filter_new(1);
    case RESPONSE_TOKEN_COUNT: return count_filter_new(0);
    case RESPONSE_NATIVE: break;
    }
    return NULL;
}

int bedrock_convert_error(struct provider *p, int status, const h2o_header_t *headers, size_t num_headers,
                          const char *body, size_t len, int *out_status, sbuf *out_json)
{
    (void)p;
    char type[128] = "";
    error_type_header(headers, num_headers, type, sizeof(type));
    /* the Messages-format endpoint may already answer in Anthropic's shape */
    if (type[0] == '\0' && len > 0 && memmem(body, len, "\"type\":\"error\"", 14) != NULL)
        return 0;
    bedrock_error_to_anthropic(status, type[0] ? type : NULL, body, len, out_status, out_json);
    return 1;
}
