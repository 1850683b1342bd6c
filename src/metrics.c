#include "metrics.h"
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "exchange.h"
#include "provider.h"
#include "provider_state.h"

/* Upper bounds (seconds) of the latency histogram buckets. */
static const double bucket_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
#define NUM_BUCKETS (sizeof(bucket_bounds) / sizeof(bucket_bounds[0]))

struct histogram {
    uint64_t buckets[NUM_BUCKETS];
    uint64_t count;
    double sum;
};

struct request_series {
    char provider[64];
    int endpoint, api, status;
    uint64_t count;
    struct request_series *next;
};

struct provider_series {
    char provider[64];
    uint64_t fallbacks, cooldowns;
    struct histogram latency, ttfb;
    struct provider_series *next;
};

static struct request_series *requests;
static struct provider_series *providers;

static struct provider_series *provider_series(const char *name)
{
    for (struct provider_series *p = providers; p; p = p->next)
        if (strcmp(p->provider, name) == 0)
            return p;
    struct provider_series *p = calloc(1, sizeof(*p));
    if (p == NULL)
        abort();
    snprintf(p->provider, sizeof(p->provider), "%s", name);
    p->next = providers;
    providers = p;
    return p;
}

static void observe(struct histogram *h, double seconds)
{
    for (size_t i = 0; i < NUM_BUCKETS; i++)
        if (seconds <= bucket_bounds[i])
            h->buckets[i]++;
    h->count++;
    h->sum += seconds;
}

void metrics_record_request(const char *provider, int endpoint, int api, int status, uint64_t duration_ms,
                            uint64_t ttfb_ms, size_t bytes)
{
    (void)bytes;
    struct request_series *r;
    for (r = requests; r; r = r->next)
        if (r->endpoint == endpoint && r->api == api && r->status == status && strcmp(r->provider, provider) == 0)
            break;
    if (r == NULL) {
        r = calloc(1, sizeof(*r));
        if (r == NULL)
            abort();
        snprintf(r->provider, sizeof(r->provider), "%s", provider);
        r->endpoint = endpoint;
        r->api = api;
        r->status = status;
        r->next = requests;
        requests = r;
    }
    r->count++;
    struct provider_series *p = provider_series(provider);
    observe(&p->latency, duration_ms / 1000.0);
    observe(&p->ttfb, ttfb_ms / 1000.0);
}

void metrics_record_fallback(const char *provider) { provider_series(provider)->fallbacks++; }
void metrics_record_cooldown(const char *provider) { provider_series(provider)->cooldowns++; }

static const char *endpoint_name(int endpoint, int api)
{
    if (api == API_OPENAI)
        return "chat_completions";
    switch (endpoint) {
    case ENDPOINT_MESSAGES: return "messages";
    case ENDPOINT_COUNT_TOKENS: return "count_tokens";
    default: return "passthrough";
    }
}

static void render_histogram(sbuf *out, const char *name, const char *provider, const struct histogram *h)
{
    for (size_t i = 0; i < NUM_BUCKETS; i++)
        sbuf_printf(out, "%s_bucket{provider=\"%s\",le=\"%g\"} %llu\n", name, provider, bucket_bounds[i],
                    (unsigned long long)h->buckets[i]);
    sbuf_printf(out, "%s_bucket{provider=\"%s\",le=\"+Inf\"} %llu\n", name, provider, (unsigned long long)h->count);
    sbuf_printf(out, "%s_sum{provider=\"%s\"} %.6f\n", name, provider, h->sum);
    sbuf_printf(out, "%s_count{provider=\"%s\"} %llu\n", name, provider, (unsigned long long)h->count);
}

void metrics_render(sbuf *out, struct proxy_config *cfg)
{
    sbuf_puts(out, "# HELP claude_proxy_requests_total Requests answered, by provider, endpoint and status.\n"
                   "# TYPE claude_proxy_requests_total counter\n");
    for (struct request_series *r = requests; r; r = r->next)
        sbuf_printf(out, "claude_proxy_requests_total{provider=\"%s\",endpoint=\"%s\",status=\"%d\"} %llu\n",
                    r->provider, endpoint_name(r->endpoint, r->api), r->status, (unsigned long long)r->count);
    sbuf_puts(out, "# HELP claude_proxy_fallbacks_total Requests moved on from this provider to the next.\n"
                   "# TYPE claude_proxy_fallbacks_total counter\n");
    for (struct provider_series *p = providers; p; p = p->next)
        sbuf_printf(out, "claude_proxy_fallbacks_total{provider=\"%s\"} %llu\n", p->provider,
                    (unsigned long long)p->fallbacks);
    sbuf_puts(out, "# HELP claude_proxy_cooldowns_total Cooldowns started.\n"
                   "# TYPE claude_proxy_cooldowns_total counter\n");
    for (struct provider_series *p = providers; p; p = p->next)
        sbuf_printf(out, "claude_proxy_cooldowns_total{provider=\"%s\"} %llu\n", p->provider,
                    (unsigned long long)p->cooldowns);
    sbuf_puts(out, "# HELP claude_proxy_provider_cooling 1 while the provider is in cooldown.\n"
                   "# TYPE claude_proxy_provider_cooling gauge\n");
    uint64_t now = monotonic_ms();
    for (size_t i = 0; cfg && i < cfg->num_providers; i++) {
        struct provider_state *s = cfg->providers[i]->state;
        int cooling = provider_state_is_cooling(s, now);
        sbuf_printf(out, "claude_proxy_provider_cooling{provider=\"%s\"} %d\n", s->name, cooling);
        sbuf_printf(out, "claude_proxy_provider_cooldown_remaining_seconds{provider=\"%s\"} %llu\n", s->name,
                    (unsigned long long)(cooling ? (s->cooling_until_ms - now) / 1000 : 0));
    }
    sbuf_puts(out, "# HELP claude_proxy_upstream_latency_seconds Time from request to the end of the response.\n"
                   "# TYPE claude_proxy_upstream_latency_seconds histogram\n");
    for (struct provider_series *p = providers; p; p = p->next)
        render_histogram(out, "claude_proxy_upstream_latency_seconds", p->provider, &p->latency);
    sbuf_puts(out, "# HELP claude_proxy_time_to_first_byte_seconds Time from request to the first response byte.\n"
                   "# TYPE claude_proxy_time_to_first_byte_seconds histogram\n");
    for (struct provider_series *p = providers; p; p = p->next)
        render_histogram(out, "claude_proxy_time_to_first_byte_seconds", p->provider, &p->ttfb);
    sbuf_printf(out, "# HELP claude_proxy_bytes_streamed_total Response bytes sent to clients.\n"
                     "# TYPE claude_proxy_bytes_streamed_total counter\nclaude_proxy_bytes_streamed_total %llu\n",
                (unsigned long long)exchange_stats.bytes_streamed);
    sbuf_printf(out, "# HELP claude_proxy_active_streams Streaming responses in progress.\n"
                     "# TYPE claude_proxy_active_streams gauge\nclaude_proxy_active_streams %llu\n",
                (unsigned long long)exchange_stats.active_streams);
}
