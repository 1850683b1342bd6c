/* One client request on its way through the provider chain: attempt, fall back on trigger
 * outcomes, then relay the chosen upstream's response with backpressure. */
#ifndef CP_EXCHANGE_H
#define CP_EXCHANGE_H
#include <h2o.h>
#include "core/body_filter.h"
#include "core/errors.h"
#include "core/provider.h"

struct proxy_config;

/* How the client's API wants the response: the OpenAI endpoint converts Anthropic responses. */
struct client_format {
    enum api_format api;
    /* Called once the upstream answered: returns a filter turning the Anthropic-format response
     * (status, SSE or JSON) into the client's format, or NULL to relay it as is. */
    struct body_filter *(*make_filter)(void *ctx, int status, int is_sse);
    void *ctx;
};

struct exchange_params {
    int endpoint;     /* ENDPOINT_* (provider.h) */
    h2o_iovec_t body; /* Anthropic-format request body (lives in the req pool) */
    h2o_iovec_t path; /* upstream path + query, Anthropic form */
    struct client_format format;
};

/* Validates the body (for the messages endpoints), picks the provider order and starts the
 * first attempt. Always answers the client, one way or another, and logs and counts the request
 * itself (exchange_owns tells). */
void exchange_start(h2o_req_t *req, struct proxy_config *cfg, const struct exchange_params *params);
/* 1 if exchange_start took this request: its log line and metrics are the exchange's. */
int exchange_owns(const h2o_req_t *req);

/* 1 when no request is in flight (for a quick shutdown). */
int exchange_idle(void);
/* How many exchanges have started since the process began. */
uint64_t exchange_count(void);

#endif
