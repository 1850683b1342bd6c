/* Prometheus text format 0.0.4. Every family is written as one contiguous group (HELP, TYPE,
 * then all of its samples): Prometheus rejects a family whose samples are split or come
 * before its TYPE. */
#include "core/metrics.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/config.h"
#include "core/errors.h"
#include "core/provider.h"
#include "core/provider_state.h"
#include "core/budget.h"
#include "core/ledger.h"
#include "core/usage.h"
#include "common/memory.h"

/* The provider label of responses the proxy made without asking any provider. */
#define PROXY_LABEL "proxy"

/* Upper bounds (seconds) of the latency histogram buckets. */
static const double bucket_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
#define NUM_BUCKETS (sizeof(bucket_bounds) / sizeof(bucket_bounds[0]))

struct histogram {
    uint64_t buckets[NUM_BUCKETS]; /* cumulative: buckets[i] counts observations <= bound i */
    uint64_t count;
    double sum;
};

/* One label set of a status counter (client responses, or upstream responses with endpoint
 * and api unused). */
struct status_series {
    char *provider;
    int endpoint, api, status;
    uint64_t count;
    struct status_series *next;
};

struct provider_series {
    char *provider; /* copied whole: a truncated name would never match again and grow the list */
    uint64_t fallbacks, cooldowns, connect_failures, timeouts, invalid_responses;
    struct histogram latency, ttfb;
    struct provider_series *next;
};

/* Tokens and cost by provider and model. Model names come from clients: past MAX_USAGE_SERIES
 * label sets the rest are counted under model="other". */
#define MAX_USAGE_SERIES 256
struct usage_series {
    char *provider, *model;
    uint64_t input, output, cache_write, cache_read;
    double spend_usd, value_usd;
    struct usage_series *next;
};
static struct usage_series *usage_series_list;
static size_t num_usage_series;

static struct status_series *client_responses, *upstream_responses;
static struct provider_series *providers;
static struct histogram request_duration;
struct metrics_streams metrics_streams;

/* ------------------------------------------------------------------------------------------ */
/* Recording */

static struct provider_series *provider_series(const char *name)
{
    for (struct provider_series *p = providers; p; p = p->next)
        if (strcmp(p->provider, name) == 0)
            return p;
    struct provider_series *p = xcalloc(1, sizeof(*p));
    p->provider = xstrdup(name);
    /* appended, so that series keep the order in which providers first appeared */
    struct provider_series **tail = &providers;
    while (*tail)
        tail = &(*tail)->next;
    *tail = p;
    return p;
}

static void count_status(struct status_series **list, const char *provider, int endpoint, int api, int status)
{
    struct status_series **tail = list;
    for (struct status_series *r = *list; r; tail = &r->next, r = r->next)
        if (r->endpoint == endpoint && r->api == api && r->status == status && strcmp(r->provider, provider) == 0) {
            r->count++;
            return;
        }
    struct status_series *r = xcalloc(1, sizeof(*r));
    r->provider = xstrdup(provider);
    r->endpoint = endpoint;
    r->api = api;
    r->status = status;
    r->count = 1;
    *tail = r;
}

static void observe(struct histogram *h, double seconds)
{
    for (size_t i = 0; i < NUM_BUCKETS; i++)
        if (seconds <= bucket_bounds[i])
            h->buckets[i]++;
    h->count++;
    h->sum += seconds;
}

void metrics_record_request(const char *provider, int endpoint, int api, int status, uint64_t duration_ms)
{
    /* no provider: the request was refused before any was asked */
    count_status(&client_responses, provider != NULL ? provider : PROXY_LABEL, endpoint, api, status);
    if (provider != NULL)
        observe(&request_duration, duration_ms / 1000.0);
}

void metrics_record_local_response(int endpoint, int api, int status)
{
    count_status(&client_responses, PROXY_LABEL, endpoint, api, status);
}

void metrics_record_upstream_response(const char *provider, int status, uint64_t ttfb_ms)
{
    count_status(&upstream_responses, provider, 0, 0, status);
    observe(&provider_series(provider)->ttfb, ttfb_ms / 1000.0);
}

void metrics_record_upstream_failure(const char *provider, enum metrics_failure reason)
{
    struct provider_series *p = provider_series(provider);
    if (reason == METRICS_FAILURE_TIMEOUT)
        p->timeouts++;
    else if (reason == METRICS_FAILURE_INVALID)
        p->invalid_responses++;
    else
        p->connect_failures++;
}

void metrics_record_upstream_latency(const char *provider, uint64_t latency_ms)
{
    observe(&provider_series(provider)->latency, latency_ms / 1000.0);
}

void metrics_record_usage(const char *provider, const char *model, const struct usage_counts *u, double usd,
                          int subscription)
{
    struct usage_series **tail = &usage_series_list, *r;
    for (int pass = 0; pass < 2; pass++) {
        for (tail = &usage_series_list; (r = *tail) != NULL; tail = &r->next)
            if (strcmp(r->provider, provider) == 0 && strcmp(r->model, model) == 0)
                goto Found;
        if (num_usage_series < MAX_USAGE_SERIES)
            break;
        model = "other";
    }
    r = xcalloc(1, sizeof(*r));
    r->provider = xstrdup(provider);
    r->model = xstrdup(model);
    *tail = r;
    num_usage_series++;
Found:
    r->input += u->input;
    r->output += u->output;
    r->cache_write += u->cache_write;
    r->cache_read += u->cache_read;
    if (usd > 0 && subscription)
        r->value_usd += usd;
    else if (usd > 0)
        r->spend_usd += usd;
}

void metrics_record_fallback(const char *provider) { provider_series(provider)->fallbacks++; }
void metrics_record_cooldown(const char *provider) { provider_series(provider)->cooldowns++; }

/* ------------------------------------------------------------------------------------------ */
/* Rendering */

static const char *endpoint_name(int endpoint, int api)
{
    switch (endpoint) {
    case METRICS_ENDPOINT_MODELS: return "models";
    case METRICS_ENDPOINT_INFO: return "info";
    case METRICS_ENDPOINT_OTHER: return "other";
    default: break;
    }
    if (api == API_OPENAI)
        return "chat_completions";
    switch (endpoint) {
    case ENDPOINT_MESSAGES: return "messages";
    case ENDPOINT_COUNT_TOKENS: return "count_tokens";
    default: return "passthrough";
    }
}

static void family(sbuf *out, const char *name, const char *type, const char *help)
{
    sbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped as the format requires: provider names come from the config and may
 * hold any character. */
static void label_value(sbuf *out, const char *v)
{
    sbuf_putc(out, '"');
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            sbuf_putc(out, '\\');
        if (*v == '\n')
            sbuf_puts(out, "\\n");
        else
            sbuf_putc(out, *v);
    }
    sbuf_putc(out, '"');
}

/* One sample line: name and suffix, the labels (provider first, then `extra`, already
 * formatted; either may be NULL: no braces without labels), the value. */
static void sample(sbuf *out, const char *name, const char *suffix, const char *provider, const char *extra,
                   const char *value)
{
    sbuf_printf(out, "%s%s", name, suffix);
    if (provider != NULL || extra != NULL) {
        sbuf_putc(out, '{');
        if (provider != NULL) {
            sbuf_puts(out, "provider=");
            label_value(out, provider);
        }
        if (extra != NULL)
            sbuf_printf(out, "%s%s", provider != NULL ? "," : "", extra);
        sbuf_putc(out, '}');
    }
    sbuf_printf(out, " %s\n", value);
}

static void sample_u64(sbuf *out, const char *name, const char *suffix, const char *provider, const char *extra,
                       uint64_t v)
{
    char value[24];
    snprintf(value, sizeof(value), "%llu", (unsigned long long)v);
    sample(out, name, suffix, provider, extra, value);
}

static void render_histogram(sbuf *out, const char *name, const char *provider, const struct histogram *h)
{
    char le[32], sum[48];
    for (size_t i = 0; i < NUM_BUCKETS; i++) {
        snprintf(le, sizeof(le), "le=\"%g\"", bucket_bounds[i]);
        sample_u64(out, name, "_bucket", provider, le, h->buckets[i]);
    }
    sample_u64(out, name, "_bucket", provider, "le=\"+Inf\"", h->count);
    snprintf(sum, sizeof(sum), "%.6f", h->sum);
    sample(out, name, "_sum", provider, NULL, sum);
    sample_u64(out, name, "_count", provider, NULL, h->count);
}

static void render_responses(sbuf *out)
{
    char labels[96];
    family(out, "claude_proxy_requests_total", "counter",
           "Responses to clients, by the provider whose answer was relayed (the last one tried; proxy when "
           "the proxy answered without asking one), endpoint and status.");
    for (struct status_series *r = client_responses; r; r = r->next) {
        snprintf(labels, sizeof(labels), "endpoint=\"%s\",status=\"%d\"", endpoint_name(r->endpoint, r->api),
                 r->status);
        sample_u64(out, "claude_proxy_requests_total", "", r->provider, labels, r->count);
    }
    family(out, "claude_proxy_request_duration_seconds", "histogram",
           "From a request arriving to the end of its response, for requests sent to a provider; "
           "includes the time lost on providers that failed before the one that answered.");
    render_histogram(out, "claude_proxy_request_duration_seconds", NULL, &request_duration);
    family(out, "claude_proxy_upstream_responses_total", "counter",
           "Responses from providers, one per attempt, including those that made the proxy fall back.");
    for (struct status_series *r = upstream_responses; r; r = r->next) {
        snprintf(labels, sizeof(labels), "status=\"%d\"", r->status);
        sample_u64(out, "claude_proxy_upstream_responses_total", "", r->provider, labels, r->count);
    }
}

static void render_provider_counters(sbuf *out)
{
    static const char failures[] = "claude_proxy_upstream_failures_total";
    family(out, failures, "counter",
           "Attempts that got no response to relay: connection, TLS or send errors, no answer within request_timeout, "
           "or an invalid response head.");
    for (struct provider_series *p = providers; p; p = p->next) {
        sample_u64(out, failures, "", p->provider, "reason=\"connect\"", p->connect_failures);
        sample_u64(out, failures, "", p->provider, "reason=\"timeout\"", p->timeouts);
        sample_u64(out, failures, "", p->provider, "reason=\"invalid\"", p->invalid_responses);
    }
    family(out, "claude_proxy_fallbacks_total", "counter", "Requests moved on from this provider to the next.");
    for (struct provider_series *p = providers; p; p = p->next)
        sample_u64(out, "claude_proxy_fallbacks_total", "", p->provider, NULL, p->fallbacks);
    family(out, "claude_proxy_cooldowns_total", "counter", "Cooldowns started.");
    for (struct provider_series *p = providers; p; p = p->next)
        sample_u64(out, "claude_proxy_cooldowns_total", "", p->provider, NULL, p->cooldowns);
}

static void render_cooldown_state(sbuf *out, struct proxy_config *cfg)
{
    uint64_t now = monotonic_ms();
    family(out, "claude_proxy_provider_cooling", "gauge", "1 while the provider is in cooldown, else 0.");
    for (size_t i = 0; cfg && i < cfg->num_providers; i++) {
        struct provider_state *s = cfg->providers[i]->state;
        sample_u64(out, "claude_proxy_provider_cooling", "", s->name, NULL, provider_state_is_cooling(s, now) != 0);
    }
    family(out, "claude_proxy_provider_cooldown_remaining_seconds", "gauge",
           "Seconds until the provider's cooldown ends (0 when not cooling).");
    for (size_t i = 0; cfg && i < cfg->num_providers; i++) {
        struct provider_state *s = cfg->providers[i]->state;
        uint64_t left = provider_state_is_cooling(s, now) ? s->cooling_until_ms - now : 0;
        char value[32];
        snprintf(value, sizeof(value), "%.3f", left / 1000.0);
        sample(out, "claude_proxy_provider_cooldown_remaining_seconds", "", s->name, NULL, value);
    }
}

/* The quota each provider's answers last stated (Anthropic's unified headers): utilization and
 * reset per window, statuses as one 0/1 series per known status (window "overall" is the overall
 * status, "extra_usage" the extra-usage state). Providers that never sent the headers have none. */
static void render_quota(sbuf *out, struct proxy_config *cfg)
{
    static const enum quota_status statuses[] = {QUOTA_STATUS_ALLOWED, QUOTA_STATUS_ALLOWED_WARNING,
                                                 QUOTA_STATUS_REJECTED};
    char labels[96], value[32];
    family(out, "claude_proxy_quota_utilization_ratio", "gauge",
           "Fraction of the quota window used, as the provider's last answer stating it said (may exceed 1).");
    for (size_t i = 0; cfg && i < cfg->num_providers; i++) {
        const struct provider_state *s = cfg->providers[i]->state;
        for (size_t j = 0; s->quota.present && j < s->quota.num_windows; j++) {
            const struct quota_window *w = &s->quota.windows[j];
            if (!w->has_utilization)
                continue;
            snprintf(labels, sizeof(labels), "window=\"%s\"", w->name); /* plain characters only */
            snprintf(value, sizeof(value), "%g", w->utilization);
            sample(out, "claude_proxy_quota_utilization_ratio", "", s->name, labels, value);
        }
        if (s->quota.present && s->quota.extra_usage.has_utilization) {
            snprintf(value, sizeof(value), "%g", s->quota.extra_usage.utilization);
            sample(out, "claude_proxy_quota_utilization_ratio", "", s->name, "window=\"extra_usage\"", value);
        }
    }
    family(out, "claude_proxy_quota_reset_timestamp_seconds", "gauge",
           "When the quota window resets (Unix time), as the provider's last answer stating it said.");
    for (size_t i = 0; cfg && i < cfg->num_providers; i++) {
        const struct provider_state *s = cfg->providers[i]->state;
        if (!s->quota.present)
            continue;
        if (s->quota.reset > 0)
            sample_u64(out, "claude_proxy_quota_reset_timestamp_seconds", "", s->name, "window=\"overall\"",
                       (uint64_t)s->quota.reset);
        for (size_t j = 0; j < s->quota.num_windows; j++) {
            const struct quota_window *w = &s->quota.windows[j];
            snprintf(labels, sizeof(labels), "window=\"%s\"", w->name);
            if (w->reset > 0)
                sample_u64(out, "claude_proxy_quota_reset_timestamp_seconds", "", s->name, labels, (uint64_t)w->reset);
        }
        if (s->quota.extra_usage.reset > 0)
            sample_u64(out, "claude_proxy_quota_reset_timestamp_seconds", "", s->name, "window=\"extra_usage\"",
                       (uint64_t)s->quota.extra_usage.reset);
    }
    family(out, "claude_proxy_quota_status", "gauge",
           "1 for the status the provider's last answer stated for the window (overall: the plan as a whole, "
           "extra_usage: extra usage), 0 for the other statuses.");
    for (size_t i = 0; cfg && i < cfg->num_providers; i++) {
        const struct provider_state *s = cfg->providers[i]->state;
        if (!s->quota.present)
            continue;
        for (int j = -1; j <= (int)s->quota.num_windows; j++) {
            const char *window = j < 0                           ? "overall"
                                 : j < (int)s->quota.num_windows ? s->quota.windows[j].name
                                                                 : "extra_usage";
            enum quota_status st = j < 0                           ? s->quota.status
                                   : j < (int)s->quota.num_windows ? s->quota.windows[j].status
                                                                   : s->quota.extra_usage.status;
            if (st == QUOTA_STATUS_NONE)
                continue;
            for (size_t k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++) {
                snprintf(labels, sizeof(labels), "window=\"%s\",status=\"%s\"", window, quota_status_name(statuses[k]));
                sample_u64(out, "claude_proxy_quota_status", "", s->name, labels, st == statuses[k]);
            }
        }
    }
    family(out, "claude_proxy_quota_extra_usage_in_use", "gauge",
           "1 while the provider's answers are billed as extra usage (beyond the plan), else 0.");
    for (size_t i = 0; cfg && i < cfg->num_providers; i++) {
        const struct provider_state *s = cfg->providers[i]->state;
        if (s->quota.present)
            sample_u64(out, "claude_proxy_quota_extra_usage_in_use", "", s->name, NULL,
                       quota_serving_extra_usage(&s->quota));
    }
    family(out, "claude_proxy_quota_last_seen_timestamp_seconds", "gauge",
           "When an answer of the provider last carried quota headers (Unix time).");
    for (size_t i = 0; cfg && i < cfg->num_providers; i++) {
        const struct provider_state *s = cfg->providers[i]->state;
        if (s->quota.present)
            sample_u64(out, "claude_proxy_quota_last_seen_timestamp_seconds", "", s->name, NULL,
                       (uint64_t)s->quota.seen);
    }
}

static void render_budgets(sbuf *out, struct proxy_config *cfg)
{
    static const char over[] = "claude_proxy_provider_over_budget", spend[] = "claude_proxy_provider_spend_usd",
                      resets[] = "claude_proxy_provider_over_budget_until_timestamp_seconds";
    int64_t now = usage_clock_ms();
    family(out, over, "gauge", "1 while the provider is skipped because its daily or monthly budget is reached.");
    for (size_t i = 0; cfg && i < cfg->num_providers; i++) {
        struct budget_status b;
        budget_get(cfg->providers[i], now, &b);
        sample_u64(out, over, "", cfg->providers[i]->name, NULL, b.over_until_ms != 0);
    }
    family(out, resets, "gauge", "When the budget that stops the provider resets (Unix time; 0 when not over budget).");
    for (size_t i = 0; cfg && i < cfg->num_providers; i++) {
        struct budget_status b;
        budget_get(cfg->providers[i], now, &b);
        sample_u64(out, resets, "", cfg->providers[i]->name, NULL, (uint64_t)(b.over_until_ms / 1000));
    }
    family(out, spend, "gauge", "Metered spend counted against budgets: this local day and this month (USD).");
    for (size_t i = 0; cfg && i < cfg->num_providers; i++) {
        struct budget_status b;
        budget_get(cfg->providers[i], now, &b);
        char v[48];
        snprintf(v, sizeof(v), "%.6f", b.today_usd);
        sample(out, spend, "", cfg->providers[i]->name, "period=\"day\"", v);
        snprintf(v, sizeof(v), "%.6f", b.month_usd);
        sample(out, spend, "", cfg->providers[i]->name, "period=\"month\"", v);
    }
}

static void render_upstream_times(sbuf *out)
{
    family(out, "claude_proxy_upstream_time_to_first_byte_seconds", "histogram",
           "From sending a request to a provider to its response head, for every attempt that got one "
           "(a 429 that made the proxy fall back counts under the provider that sent it).");
    for (struct provider_series *p = providers; p; p = p->next)
        render_histogram(out, "claude_proxy_upstream_time_to_first_byte_seconds", p->provider, &p->ttfb);
    family(out, "claude_proxy_upstream_latency_seconds", "histogram",
           "From sending a request to a provider to the end of the response relayed to the client, for the "
           "attempt that answered only (time spent on providers tried before it is not included).");
    for (struct provider_series *p = providers; p; p = p->next)
        render_histogram(out, "claude_proxy_upstream_latency_seconds", p->provider, &p->latency);
}

static void usage_labels(sbuf *labels, const struct usage_series *r, const char *type)
{
    sbuf_reset(labels);
    sbuf_puts(labels, "model=");
    label_value(labels, r->model);
    if (type != NULL)
        sbuf_printf(labels, ",type=\"%s\"", type);
}

static void render_usage(sbuf *out)
{
    static const char tokens[] = "claude_proxy_tokens_total";
    static const char *const types[] = {"input", "output", "cache_write", "cache_read"};
    sbuf labels = SBUF_INIT;
    family(out, tokens, "counter",
           "Tokens of the answers relayed, by provider, model and type (input, output, cache_write, cache_read), "
           "as the answers reported them.");
    for (struct usage_series *r = usage_series_list; r; r = r->next) {
        uint64_t counts[] = {r->input, r->output, r->cache_write, r->cache_read};
        for (size_t i = 0; i < 4; i++) {
            usage_labels(&labels, r, types[i]);
            sample_u64(out, tokens, "", r->provider, labels.data, counts[i]);
        }
    }
    for (int v = 0; v < 2; v++) {
        const char *name = v ? "claude_proxy_subscription_value_usd_total" : "claude_proxy_spend_usd_total";
        family(out, name, "counter",
               v ? "What the answers served under a subscription (OAuth) would have cost at API prices: a value, "
                   "not spend."
                 : "USD spent on metered providers (Bedrock, an Anthropic API key) at the configured prices.");
        for (struct usage_series *r = usage_series_list; r; r = r->next) {
            char num[48];
            snprintf(num, sizeof(num), "%.6f", v ? r->value_usd : r->spend_usd);
            usage_labels(&labels, r, NULL);
            sample(out, name, "", r->provider, labels.data, num);
        }
    }
    sbuf_free(&labels);
}

void metrics_render(sbuf *out, struct proxy_config *cfg)
{
    /* every configured provider has its series from the start, at 0 (rate() needs them) */
    for (size_t i = 0; cfg && i < cfg->num_providers; i++)
        provider_series(cfg->providers[i]->name);
    render_responses(out);
    render_provider_counters(out);
    render_cooldown_state(out, cfg);
    render_quota(out, cfg);
    render_upstream_times(out);
    render_usage(out);
    render_budgets(out, cfg);
    family(out, "claude_proxy_bytes_streamed_total", "counter", "Response bytes sent to clients.");
    sample_u64(out, "claude_proxy_bytes_streamed_total", "", NULL, NULL, metrics_streams.bytes_streamed);
    family(out, "claude_proxy_active_streams", "gauge", "Streaming responses in progress.");
    sample_u64(out, "claude_proxy_active_streams", "", NULL, NULL, metrics_streams.active_streams);
}
