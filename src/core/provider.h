/* A provider does the protocol work for one upstream (Anthropic, Bedrock, ...): it reads its
 * settings from the Lua config, turns a client request into an upstream request, and can
 * convert the upstream's response into Anthropic's format. Adding a provider is one file with a
 * `const struct provider_ops` and one line in provider_registry.c. */
#ifndef CP_PROVIDER_H
#define CP_PROVIDER_H
#include <h2o.h>
#include <lua.h>
#include <stdint.h>
#include "common/body_parts.h"
#include "common/json_scan.h"
#include "common/sbuf.h"

struct provider;
struct upstream;
struct body_filter;

/* What the core knows about an incoming request; providers read it, never change it. */
struct client_request {
    h2o_req_t *req;
    enum {
        ENDPOINT_MESSAGES,     /* POST /v1/messages */
        ENDPOINT_COUNT_TOKENS, /* POST /v1/messages/count_tokens */
        ENDPOINT_PASSTHROUGH,  /* any other /v1/... request, relayed unchanged */
    } endpoint;
    h2o_iovec_t body;              /* Anthropic-format JSON (translated for OpenAI clients) */
    struct json_object_scan *scan; /* top-level members of body (NULL for passthrough) */
    char model[256];               /* the model the client asked for ("" if none) */
    const char *model_override;    /* from route(); NULL if none */
    int stream;                    /* "stream": true */
    h2o_iovec_t path;              /* Anthropic path + query to request ("/v1/messages?beta=true") */
    int without_thinking;          /* the exchange left out the history's thinking blocks (a retry) */
};

/* One attempt's upstream request, built by the provider. */
struct upstream_request {
    struct upstream *target;
    sbuf head;        /* request line + headers + blank line */
    h2o_iovec_t body; /* points into the client request or into owned_body; with body_parts, only
                       * its length is set */
    sbuf owned_body;
    /* the body in parts, when a provider rewrote it and kept long members as the client sent them
     * (nbody_parts > 0): they point into owned_body and the client request, in order */
    struct iovec body_parts[BODY_PARTS_MAX];
    unsigned long body_part_stamps[BODY_PARTS_MAX]; /* body_parts_span's stamps, 0 for written bytes */
    size_t nbody_parts;
    enum {
        RESPONSE_NATIVE,          /* Anthropic's format, relayed as is */
        RESPONSE_EVENTSTREAM,     /* AWS event-stream (InvokeModel streaming) */
        RESPONSE_TOKEN_COUNT,     /* Anthropic's {"input_tokens":N}, checked before it is relayed */
        RESPONSE_AWS_TOKEN_COUNT, /* Bedrock CountTokens' {"inputTokens":N} */
    } response_format;
    char model_sent[256]; /* for the log line */
    int subscription;     /* served under a subscription (OAuth): its cost is a value, not spend */
    const char *route;    /* how the provider reached the model ("invoke", "mantle"...), or NULL */
    int variant;          /* the provider's own notes on this attempt (Bedrock: the route it took, */
    char note[256];       /* and the model its route memory knows it by) */
};

/* What a provider says about an error answer that reached nobody yet (see retry_on_error). */
enum provider_retry {
    PROVIDER_RETRY_NO,               /* relay it (or fall back, as the chain's rules say) */
    PROVIDER_RETRY_AGAIN,            /* send the request to this provider again: it changed its choice */
    PROVIDER_RETRY_WITHOUT_THINKING, /* again, without the thinking blocks of earlier turns */
};

typedef void (*provider_prepared_cb)(void *ud, const char *error_type, const char *error);

struct provider_ops {
    const char *type;
    /* The endpoints it can serve, as bits (1 << ENDPOINT_*); 0: every endpoint. A provider that
     * cannot serve a request's endpoint is left out of its chain (not tried, not cooled). */
    unsigned endpoints;
    /* Reads settings from the Lua table at index idx; returns 0, or -1 with err filled. */
    int (*configure)(struct provider *p, lua_State *L, int idx, char *err, size_t errlen);
    /* Opens connection pools etc. Called only when the config goes live (not for --check). */
    int (*start)(struct provider *p, h2o_context_t *ctx, char *err, size_t errlen);
    /* Fills out (already zeroed) for one attempt. May finish later (credential lookups): calls
     * done(ud, NULL, NULL) when ready or done(ud, type, message) if the request cannot go to this
     * provider. Returns a cancel handle or NULL if done already ran. */
    void *(*prepare)(struct provider *p, const struct client_request *cr, struct upstream_request *out,
                     provider_prepared_cb done, void *ud);
    void (*cancel_prepare)(void *handle);
    /* A filter that turns a successful upstream body into Anthropic SSE/JSON; NULL: relay as is. */
    struct body_filter *(*response_filter)(struct provider *p, const struct upstream_request *ur, int status);
    /* Turns an upstream error body into an Anthropic error (NULL to relay as is). Returns 1 if
     * it wrote out_json/out_status. */
    int (*convert_error)(struct provider *p, int status, const h2o_header_t *headers, size_t num_headers,
                         const char *body, size_t len, int *out_status, sbuf *out_json);
    /* An error answer (status >= 400, the whole body) before any byte went to the client: whether
     * to send the same request to this provider again. Protocol knowledge lives here (Bedrock:
     * "this route does not serve the model" -> its next route; a thinking signature written by
     * another model), the policy in the exchange (a bounded number of retries, each at most once).
     * NULL: never. */
    enum provider_retry (*retry_on_error)(struct provider *p, const struct client_request *cr,
                                          const struct upstream_request *ur, int status, const h2o_header_t *headers,
                                          size_t num_headers, const char *body, size_t len);
    /* Why the provider cannot serve now (missing credentials...), or NULL. Never a secret. */
    const char *(*problem)(struct provider *p);
    /* Extra facts for /health (non-secret), appended as JSON members ("k":v,...) or nothing. */
    void (*describe)(struct provider *p, sbuf *json_members);
    void (*destroy)(struct provider *p);
};

/* Outcomes a provider's `fallback_on` can name. */
#define FALLBACK_CONNECT 0x1 /* no connection / TLS failure before any response */
#define FALLBACK_TIMEOUT 0x2 /* no response headers within request_timeout */
#define FALLBACK_5XX 0x4     /* any 500-599 */
/* What a 429 (or a 400) of Anthropic's means (quota.h classifies it): */
#define FALLBACK_PLAN_LIMIT 0x8            /* 429 whose quota headers say rejected: cool until the reset */
#define FALLBACK_THROTTLE 0x10             /* any other 429: cool for retry-after or throttle_cooldown only */
#define FALLBACK_EXTRA_USAGE_REQUIRED 0x20 /* 429 or 400 "Extra usage is required ...": no cooldown */
/* A numeric 429 in fallback_on stands for all three (what it meant before they were told apart). */
#define FALLBACK_429_KINDS (FALLBACK_PLAN_LIMIT | FALLBACK_THROTTLE | FALLBACK_EXTRA_USAGE_REQUIRED)
#define FALLBACK_MAX_STATUSES 16

struct price_table;
struct provider_state; /* survives reloads: cooldown and counters, keyed by name */

struct provider {
    const struct provider_ops *ops;
    char *name;
    unsigned cooldown_s;
    unsigned throttle_cooldown_s; /* a throttle without retry-after cools this long */
    int extra_usage_avoid;        /* extra_usage = "avoid": answers billed as extra usage count as a plan limit */
    unsigned fallback_flags;
    int fallback_statuses[FALLBACK_MAX_STATUSES];
    size_t num_fallback_statuses;
    struct provider_state *state;
    struct price_table *prices;                      /* its own `prices` over the config's, or NULL: the config's */
    double budget_usd_per_day, budget_usd_per_month; /* 0: no budget */
    struct proxy_config *config;                     /* the config this provider belongs to */
    void *impl;
};

/* The provider types a config may name. The table (NULL-terminated, static) is the providers
 * layer's (provider_types in provider_registry.h): main hands it over before the first
 * config_load, as nginx's generated module list is handed to its core, so that this layer never
 * names a provider. */
/* Makes a body in parts one piece, in owned_body (for a sender that takes one buffer: the doctor). */
void upstream_request_join_body(struct upstream_request *ur);

void provider_types_register(const struct provider_ops *const *types);
/* The registered type called `type`, or NULL. */
const struct provider_ops *provider_ops_find(const char *type);

/* 1 if fallback_on lists this status (for 429: any of its kinds). */
int provider_should_fallback_status(const struct provider *p, int status);

/* Why p cannot serve now (its problem slot: missing credentials...), or NULL; what the exchange,
 * /health, --check and the start-up log ask of every provider. */
const char *provider_problem(struct provider *p);

/* For a provider's retry_on_error: 1 if the upstream refused the history's thinking blocks as
 * signed by another model (400 "Invalid `signature` in `thinking` block"), with *verdict
 * PROVIDER_RETRY_WITHOUT_THINKING, or PROVIDER_RETRY_NO when this attempt already went without
 * them or relayed the client's body untouched (passthrough). 0 for any other answer. */
int provider_thinking_refused(const struct client_request *cr, int status, const char *body, size_t len,
                              enum provider_retry *verdict);
/* A retry_on_error slot that makes only that retry (the Anthropic provider's). */
enum provider_retry provider_retry_on_thinking(struct provider *p, const struct client_request *cr,
                                               const struct upstream_request *ur, int status,
                                               const h2o_header_t *headers, size_t num_headers, const char *body,
                                               size_t len);

#endif
