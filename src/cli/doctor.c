/* `claude-proxy doctor` (see doctor.h): loads the config, starts every provider's checks at once
 * and a look at a running proxy, runs the loop until they are answered, then reports each provider
 * in order and sums up whether the fallback is ready. The checks themselves are in
 * doctor_anthropic.c and doctor_bedrock.c. */
#include "cli/doctor.h"
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include "cli/doctor_internal.h"
#include "common/http_fetch.h"
#include "common/log.h"
#include "common/memory.h"
#include "common/netaddr.h"
#include "core/provider_state.h"
#include "providers/bedrock_profiles.h"

/* Claude Code's models: its default (direct mode), Opus (its Bedrock mode's default) and the
 * small model it uses for titles and summaries. */
static const char *const default_models[] = {"claude-sonnet-5-5", "claude-opus-5-5", "claude-haiku-4-5"};

static void run_until_done(struct doctor *d)
{
    while (d->pending > 0)
        uv_run(&d->loop, UV_RUN_ONCE);
}

/* A running proxy: its /health, asked while the providers' checks run. */
static struct answer health;

static void check_running_proxy(struct doctor *d)
{
    char url[300], err[200], dial[64];
    netaddr_http_url(url, sizeof(url), netaddr_dial_host(d->cfg->listen_host, dial, sizeof(dial)), d->cfg->port);
    struct upstream *u = upstream_get(&d->ctx, url, NULL, 3000, err, sizeof(err));
    if (u == NULL)
        return;
    sbuf head = SBUF_INIT;
    sbuf_printf(&head, "GET /health HTTP/1.1\r\nhost: %s\r\nconnection: close\r\n\r\n", u->host_header);
    doctor_fetch(d, u, &head, NULL, 0, &health);
    sbuf_free(&head);
}

static void report_running_proxy(struct doctor *d)
{
    struct doctor_report *r = d->report;
    char url[300];
    netaddr_http_url(url, sizeof(url), d->cfg->listen_host, d->cfg->port);
    if (!health.done || health.status == 0) {
        doctor_report_add(r, DOCTOR_SKIP, NULL, "no proxy is running on %s (start it with `claude-proxy`)", url);
        return;
    }
    cJSON *j = cJSON_ParseWithLength(health.body.data ? health.body.data : "", health.body.len);
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "config");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(cfg, "source");
    if (health.status == 200 && cJSON_IsString(src))
        doctor_report_add(r, DOCTOR_OK, NULL, "a proxy is running on %s (its /health: ok, config %s)", url,
                          src->valuestring);
    else
        doctor_report_add(r, DOCTOR_FAIL, "stop whatever listens there, or set another port (PROXY_PORT)",
                          "something else answers on %s (status %d, not claude-proxy's /health)", url, health.status);
    cJSON_Delete(j);
}

static const char usage[] = "usage: claude-proxy doctor [--config FILE] [--probe] [--model M ...] [--json]\n";

static void add_model(struct doctor *d, const char *model)
{
    for (size_t i = 0; i < d->num_models; i++)
        if (strcmp(d->models[i], model) == 0)
            return;
    d->models[d->num_models++] = model;
}

static int parse_args(struct doctor *d, int argc, char **argv, const char **config)
{
    for (int i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc)
            *config = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            *config = argv[i] + 9;
        else if (strcmp(argv[i], "--probe") == 0)
            d->probe = 1;
        else if (strcmp(argv[i], "--json") == 0)
            d->json = 1;
        else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc && d->num_models < MAX_MODELS)
            add_model(d, argv[++i]);
        else {
            fprintf(stderr, "claude-proxy doctor: unknown argument \"%s\"\n%s", argv[i], usage);
            return -1;
        }
    }
    return 0;
}

static int run_checks(struct doctor *d)
{
    struct proxy_config *c = d->cfg;
    struct doctor_report *r = d->report;
    struct anthropic_check anth[CONFIG_MAX_PROVIDERS] = {0};
    static struct bedrock_check bed[CONFIG_MAX_PROVIDERS];
    memset(bed, 0, sizeof(bed));
    check_running_proxy(d);
    for (size_t i = 0; i < c->order_len; i++) {
        struct provider *p = c->providers[c->order[i]];
        if (strcmp(p->ops->type, "anthropic") == 0) {
            anth[i].p = p;
            doctor_anthropic_start(d, &anth[i]);
        } else if (strcmp(p->ops->type, "bedrock") == 0) {
            bed[i].p = p;
            doctor_bedrock_start(d, &bed[i]);
        }
    }
    run_until_done(d);
    /* the listings started with the providers: wait for them (up to the request timeout) */
    uint64_t deadline = monotonic_ms() + c->timeout_ms;
    for (size_t i = 0; i < c->order_len; i++)
        while (bed[i].p != NULL && bedrock_profiles_in_flight(bed[i].f.profiles) && monotonic_ms() < deadline)
            uv_run(&d->loop, UV_RUN_ONCE);
    for (size_t i = 0; i < c->order_len; i++) {
        if (bed[i].p == NULL)
            continue;
        doctor_bedrock_resolve_models(d, &bed[i]);
        if (d->probe && bed[i].creds_ok)
            for (size_t m = 0; m < d->num_models; m++)
                doctor_bedrock_start_probe(d, &bed[i].models[m]);
    }
    run_until_done(d);

    report_running_proxy(d); /* the last line of the config section */
    int first_usable = 0, fallback_ready = 0;
    char fallback_name[64] = "";
    for (size_t i = 0; i < c->order_len; i++) {
        struct provider *p = c->providers[c->order[i]];
        char section[128];
        snprintf(section, sizeof(section), "provider %s (%s)%s", p->name, p->ops->type,
                 i == 0 ? ", first" : ", fallback");
        doctor_report_section(r, section);
        int usable = 0, serves_default = 0;
        if (anth[i].p != NULL) {
            usable = doctor_anthropic_report(d, &anth[i]);
            serves_default = usable;
        } else if (bed[i].p != NULL) {
            serves_default = doctor_bedrock_report(d, &bed[i], &usable);
        }
        if (i == 0)
            first_usable = usable;
        else if (serves_default && !fallback_ready) {
            fallback_ready = 1;
            snprintf(fallback_name, sizeof(fallback_name), "%s", p->name);
        }
        sbuf_free(&anth[i].count.body);
        sbuf_free(&anth[i].probe.body);
        sbuf_free(&bed[i].sts.body);
    }
    char summary[700];
    int ready = first_usable && fallback_ready;
    if (ready) {
        size_t n = (size_t)snprintf(summary, sizeof(summary), "fallback ready for");
        for (size_t m = 0; m < d->num_models; m++)
            n += (size_t)snprintf(summary + n, sizeof(summary) - n, "%s %s", m ? "," : "", d->models[m]);
        snprintf(summary + n, sizeof(summary) - n, " (%s)", fallback_name);
    } else {
        snprintf(summary, sizeof(summary), "not ready: %s%s%s", first_usable ? "" : "the first provider is not usable",
                 !first_usable && !fallback_ready ? "; " : "",
                 fallback_ready     ? ""
                 : c->order_len < 2 ? "no fallback provider is configured"
                                    : "no fallback provider serves Claude Code's default model " DEFAULT_MODEL);
    }
    doctor_report_summary(r, ready, summary);
    return ready ? 0 : 1;
}

int doctor_main(int argc, char **argv)
{
    static struct doctor d; /* static: h2o's context is still reachable at exit */
    const char *config_arg = NULL;
    /* Claude Code's models first, then each --model */
    for (size_t i = 0; i < sizeof(default_models) / sizeof(default_models[0]); i++)
        d.models[d.num_models++] = default_models[i];
    if (parse_args(&d, argc, argv, &config_arg) != 0)
        return 2;
    log_set_level(LOG_ERROR); /* the report says what matters; the providers' own lines would repeat it */
    d.report = doctor_report_new();
    doctor_report_section(d.report, "config");
    char pathbuf[4096], err[1024];
    const char *path = config_arg ? config_arg : config_default_path(pathbuf, sizeof(pathbuf));
    d.cfg = config_load(path, err, sizeof(err));
    int status = 1;
    if (d.cfg == NULL) {
        char fix[600];
        snprintf(fix, sizeof(fix), "correct it, then check again with: claude-proxy --check%s%s",
                 path ? " --config " : "", path ? path : "");
        doctor_report_add(d.report, DOCTOR_FAIL, fix, "config %s: %s", path ? path : "(built-in default)", err);
        doctor_report_summary(d.report, 0, "not ready: the config does not load");
    } else {
        doctor_report_add(d.report, DOCTOR_OK, NULL, "config: %s loads and validates", d.cfg->source);
        char url[300];
        netaddr_http_url(url, sizeof(url), d.cfg->listen_host, d.cfg->port);
        doctor_report_add(d.report, DOCTOR_OK, NULL, "listen: %s", url);
        sbuf order = SBUF_INIT;
        for (size_t i = 0; i < d.cfg->order_len; i++)
            sbuf_printf(&order, "%s%s", i ? " \u2192 " : "", d.cfg->providers[d.cfg->order[i]]->name);
        doctor_report_add(d.report, DOCTOR_OK, NULL, "provider order: %s", order.data ? order.data : "");
        sbuf_free(&order);
        uv_loop_init(&d.loop);
        h2o_config_init(&d.globalconf);
        h2o_config_register_host(&d.globalconf, h2o_iovec_init(H2O_STRLIT("doctor")), 65535); /* h2o wants one */
        h2o_context_init(&d.ctx, &d.loop, &d.globalconf);
        if (config_start(d.cfg, &d.ctx, err, sizeof(err)) != 0) {
            doctor_report_add(d.report, DOCTOR_FAIL, "correct the provider's settings", "%s", err);
            doctor_report_summary(d.report, 0, "not ready: a provider cannot start");
        } else {
            status = run_checks(&d);
        }
    }
    doctor_report_print(d.report, stdout, d.json);
    doctor_report_free(d.report);
    /* The config, its providers and h2o's context stay: 2.2.5 cannot tear a context down with
     * connections open; all of it is reachable from `d` and the OS takes it back. */
    return status;
}
