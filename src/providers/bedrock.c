/* AWS Bedrock with the proxy's own AWS credentials (SigV4 and the credential chain) or a Bedrock
 * API key, model ids and routes from lua/models.lua, three routes (bedrock_routes.h):
 *   invoke:  bedrock-runtime InvokeModel / InvokeModelWithResponseStream (event-stream -> SSE)
 *   runtime: bedrock-runtime's Messages API (/anthropic/v1/messages), native SSE
 *   mantle:  bedrock-mantle's Messages API, native SSE
 * A model's routes are tried in order: a route that answers that it does not serve the model
 * hands the same request to the next one (retry_on_error), and the process remembers it.
 * This file: the ops table, start, problem, describe, destroy and the facts doctor reads; the
 * settings, the request and the response are in the files bedrock_internal.h names. */
#include <stdlib.h>
#include <string.h>
#include "providers/bedrock.h"
#include "providers/bedrock_internal.h"
#include "providers/bedrock_models.h"
#include "aws/credentials.h"
#include "providers/bedrock_profiles.h"
#include "providers/bedrock_routes.h"
#include "core/config.h"
#include "common/memory.h"
#include "common/redact.h"

#define CREDENTIAL_PROCESS_TIMEOUT_MS 30000

static int bedrock_start(struct provider *p, h2o_context_t *ctx, char *err, size_t errlen)
{
    struct bedrock *b = p->impl;
    uint64_t timeout = p->config->timeout_ms;
    if ((b->runtime = upstream_get(ctx, b->runtime_url, b->ca_file, timeout, err, errlen)) == NULL ||
        (b->mantle = upstream_get(ctx, b->mantle_url, b->ca_file, timeout, err, errlen)) == NULL)
        return -1;
    if (b->api_key != NULL)
        return 0; /* no AWS credentials, so no listing: the control plane takes SigV4 */
    b->creds = aws_cred_source_new(ctx->loop, b->profile, CREDENTIAL_PROCESS_TIMEOUT_MS);
    if (b->list_profiles) {
        struct bedrock_profiles_settings s = {p->name,
                                              b->control_url,
                                              b->region,
                                              b->ca_file,
                                              timeout,
                                              (unsigned)b->list_interval_s,
                                              (unsigned)(b->list_wait_s * 1000),
                                              (unsigned)b->list_min_refresh_s};
        if ((b->profiles = bedrock_profiles_start(ctx, &s, b->creds, err, errlen)) == NULL)
            return -1;
    }
    return 0;
}

static const char *bedrock_problem(struct provider *p)
{
    struct bedrock *b = p->impl;
    if (b->creds == NULL)
        return NULL; /* --check: credentials are looked up when the config goes live */
    return aws_cred_source_problem(b->creds);
}

static void bedrock_describe(struct provider *p, sbuf *out)
{
    struct bedrock *b = p->impl;
    sbuf_json_field(out, "region", b->region);
    sbuf_json_field(out, "endpoint", b->runtime_parsed.origin);
    sbuf_json_field(out, "mantle_endpoint", b->mantle_parsed.origin);
    sbuf_json_field(out, "control_endpoint", b->control_parsed.origin);
    if (b->region_prefix != NULL)
        sbuf_json_field(out, "region_prefix", b->region_prefix);
    if (b->service_tier != NULL)
        sbuf_json_field(out, "service_tier", b->service_tier);
    if (b->api_key != NULL) {
        char tail[REDACT_BUFSZ], kind[96];
        snprintf(kind, sizeof(kind), "%s %s", b->api_key_source, redact_secret(b->api_key, strlen(b->api_key), tail));
        sbuf_json_field(out, "credentials", kind);
        sbuf_puts(out, ",\"model_ids\":{\"source\":\"static\",\"reason\":\"an API key: no listing\"}");
    } else if (b->creds != NULL) {
        sbuf_json_field(out, "credentials", aws_cred_source_kind(b->creds));
    }
    if (b->profiles != NULL) {
        sbuf_putc(out, ',');
        bedrock_profiles_describe(b->profiles, out);
    } else if (b->creds != NULL) {
        sbuf_puts(out, ",\"model_ids\":{\"source\":\"static\",\"reason\":\"list_profiles = false\"}");
    }
    bedrock_route_describe(p->name, out);
}

static void bedrock_destroy(struct provider *p)
{
    struct bedrock *b = p->impl;
    if (b == NULL)
        return;
    bedrock_profiles_free(b->profiles); /* before the credentials it uses */
    if (b->creds != NULL)
        aws_cred_source_free(b->creds);
    free(b->control_url);
    free(b->region), free(b->profile), free(b->ca_file), free(b->region_prefix), free(b->service_tier),
        free(b->runtime_url), free(b->mantle_url);
    free_secret(b->api_key);
    bedrock_plan_cache_free(b->plans);
    free(b);
}

const struct provider_ops provider_bedrock = {
    .type = "bedrock",
    .endpoints = 1u << ENDPOINT_MESSAGES | 1u << ENDPOINT_COUNT_TOKENS, /* no /v1/models etc. on Bedrock */
    .configure = bedrock_configure,
    .start = bedrock_start,
    .prepare = bedrock_prepare,
    .cancel_prepare = bedrock_cancel_prepare,
    .response_filter = bedrock_response_filter,
    .convert_error = bedrock_convert_error,
    .retry_on_error = bedrock_retry_on_error,
    .problem = bedrock_problem,
    .describe = bedrock_describe,
    .destroy = bedrock_destroy,
};

/* For `claude-proxy doctor`: what the provider resolved from its config and the environment. */
void provider_bedrock_facts(struct provider *p, struct bedrock_facts *f)
{
    struct bedrock *b = p->impl;
    *f = (struct bedrock_facts){.region = b->region,
                                .region_prefix = b->region_prefix,
                                .runtime_origin = b->runtime_parsed.origin,
                                .mantle_origin = b->mantle_parsed.origin,
                                .control_origin = b->control_parsed.origin,
                                .ca_file = b->ca_file,
                                .creds = b->creds,
                                .profiles = b->profiles};
    if (b->api_key != NULL) {
        char tail[REDACT_BUFSZ];
        snprintf(f->api_key, sizeof(f->api_key), "%s %s", b->api_key_source,
                 redact_secret(b->api_key, strlen(b->api_key), tail));
    }
}
