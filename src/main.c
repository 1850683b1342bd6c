/* claude-proxy: keeps Claude Code working when the Anthropic subscription hits its rate limit.
 *
 *   Claude Code -> claude-proxy -> Anthropic (OAuth)  --429-->  AWS Bedrock (SigV4)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/ssl.h>
#include "core/config.h"
#include "core/budget.h"
#include "core/exchange.h"
#include "core/ledger.h"
#include "common/log.h"
#include "common/memory.h"
#include "common/netaddr.h"
#include "common/pidfile.h"
#include "providers/registry.h"
#include "core/provider_state.h"
#include "server/server.h"
#include "cli/doctor.h"
#include "cli/statusline.h"
#include "cli/usage_report.h"

/* How long in-flight requests get to finish after SIGTERM/SIGINT. */
#define SHUTDOWN_GRACE_MS 5000

static const char usage[] =
    "usage: claude-proxy [--config FILE]           run the proxy (foreground, logs to stderr)\n"
    "       claude-proxy --check [--config FILE]   validate the config and print what it would do\n"
    "       claude-proxy reload [--config FILE]    make the running proxy re-read its config (SIGHUP)\n"
    "       claude-proxy usage [--since 5h|24h|7d|30d|YYYY-MM-DD|TIME] [--by provider|model|day|session]\n"
    "                          [--json|--csv] [--config FILE]   tokens and cost from the usage ledger\n"
    "       claude-proxy statusline [--config FILE]  one line for Claude Code's statusLine (JSON on stdin)\n"
    "       claude-proxy doctor [--config FILE] [--probe] [--model M ...] [--json]\n"
    "                                              check the config, credentials and fallback, say what to fix\n"
    "       claude-proxy --version | --help\n"
    "\n"
    "Config: --config, else $CLAUDE_PROXY_CONFIG, else ~/.config/claude-proxy/claude-proxy.lua,\n"
    "else " CP_INSTALL_SYSCONFDIR "/claude-proxy/claude-proxy.lua, else the built-in default.\n"
    "Environment: CLAUDE_CODE_OAUTH_TOKEN, PROXY_PORT (47000), REQUEST_TIMEOUT (60),\n"
    "COOLDOWN_SECONDS (300), AWS_PROFILE, AWS_REGION (us-west-2), CLAUDE_PROXY_ANTHROPIC_URL.\n"
    "Point Claude Code at it: ANTHROPIC_BASE_URL=http://127.0.0.1:47000 claude (or use proxy-claude).\n";

static struct server server;
static uv_signal_t sig_hup, sig_term, sig_int;
static uv_timer_t shutdown_timer;
static char pid_path[4200];
static int shutting_down;

static void on_shutdown_timer(uv_timer_t *t)
{
    (void)t;
    uv_stop(server.loop);
}

static void on_signal(uv_signal_t *h, int signum)
{
    (void)h;
    if (signum == SIGHUP) {
        log_info("SIGHUP: reloading the config");
        server_reload(&server);
        return;
    }
    if (shutting_down++) {
        uv_stop(server.loop); /* a second signal: stop now */
        return;
    }
    log_info("%s: shutting down (in-flight requests get %d s)", signum == SIGTERM ? "SIGTERM" : "SIGINT",
             SHUTDOWN_GRACE_MS / 1000);
    server_stop_listening(&server);
    h2o_context_request_shutdown(&server.ctx);
    uv_timer_start(&shutdown_timer, on_shutdown_timer, exchange_idle() ? 0 : SHUTDOWN_GRACE_MS, 0);
}

static int cmd_reload(const char *config_path)
{
    char err[1024];
    struct proxy_config *c = config_load(config_path, err, sizeof(err));
    if (c == NULL) {
        fprintf(stderr, "claude-proxy: not reloading, the config has an error:\n  %s\n", err);
        return 1;
    }
    char path[4200];
    pidfile_path(c->pid_file, c->port, path, sizeof(path));
    pid_t pid = pidfile_read(path);
    if (pid <= 0 && c->pid_file == NULL) {
        /* the config may compute another port here than in the service's environment */
        pid_t pids[8];
        char paths[8][4200];
        size_t n = pidfile_find_running(pids, paths, 8);
        if (n == 1) {
            pid = pids[0];
            snprintf(path, sizeof(path), "%s", paths[0]);
        } else if (n > 1) {
            fprintf(stderr, "claude-proxy: several instances are running; say which with PROXY_PORT or --config:\n");
            for (size_t i = 0; i < n; i++)
                fprintf(stderr, "  pid %d (%s)\n", (int)pids[i], paths[i]);
            config_release(c);
            return 1;
        }
    }
    if (pid <= 0) {
        fprintf(stderr,
                "claude-proxy: no running instance found (pid file %s: absent, not a file of this user's that only "
                "they may write, or not naming a running claude-proxy)\n",
                path);
        config_release(c);
        return 1;
    }
    config_release(c);
    if (kill(pid, SIGHUP) != 0) {
        fprintf(stderr, "claude-proxy: cannot signal pid %d: %s\n", (int)pid, strerror(errno));
        return 1;
    }
    printf("claude-proxy: asked pid %d to reload its config (see its log or GET /health)\n", (int)pid);
    return 0;
}

/* The usage ledger lives as long as the process: a reload that moves it takes effect at restart. */
static void start_ledger(struct proxy_config *cfg)
{
    char buf[4096];
    const char *path = cfg->usage_db ? cfg->usage_db : ledger_default_path(buf, sizeof(buf));
    if (cfg->usage_db_off) {
        log_info("usage ledger: off (usage_db = false)");
        return;
    }
    if (path == NULL) {
        log_warn("usage ledger: no HOME or XDG_STATE_HOME to keep it in; set usage_db");
        return;
    }
    budget_load(path); /* before serving: today's and this month's spend count against budgets */
    ledger_start(path, cfg->usage_retention_days);
}

/* claude-proxy usage ...: finds the ledger through the config, as the proxy does. */
static int cmd_usage(int argc, char **argv)
{
    const char *config_arg = NULL, *since = "24h";
    struct usage_query q = {0};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if ((strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) && v != NULL)
            config_arg = v, i++;
        else if (strncmp(a, "--config=", 9) == 0)
            config_arg = a + 9;
        else if (strcmp(a, "--since") == 0 && v != NULL)
            since = v, i++;
        else if (strcmp(a, "--by") == 0 && v != NULL && usage_parse_by(v, &q.by) == 0)
            i++;
        else if (strcmp(a, "--json") == 0)
            q.format = USAGE_JSON;
        else if (strcmp(a, "--csv") == 0)
            q.format = USAGE_CSV;
        else {
            fprintf(stderr, "claude-proxy usage: bad argument \"%s\"%s\n%s", a,
                    strcmp(a, "--by") == 0 ? " (provider, model, day or session)" : "", usage);
            return 2;
        }
    }
    if (usage_parse_since(since, usage_clock_ms(), &q.since_ms) != 0) {
        fprintf(stderr,
                "claude-proxy usage: --since %s: use 5h, 24h, 7d, 30d (m, h, d), a date YYYY-MM-DD or a time "
                "2026-12-01T09:00:00Z\n",
                since);
        return 2;
    }
    q.since_label = since;
    char pathbuf[4096], err[1024], dbbuf[4096];
    const char *config_path = config_arg ? config_arg : config_default_path(pathbuf, sizeof(pathbuf));
    struct proxy_config *c = config_load(config_path, err, sizeof(err));
    if (c == NULL) {
        fprintf(stderr, "claude-proxy usage: config error:\n  %s\n", err);
        return 1;
    }
    const char *db = c->usage_db ? c->usage_db : ledger_default_path(dbbuf, sizeof(dbbuf));
    int r;
    if (c->usage_db_off || db == NULL) {
        fprintf(stderr, "claude-proxy usage: this config keeps no usage ledger (usage_db = false)\n");
        r = 1;
    } else {
        r = usage_report(db, &q, stdout, stderr);
    }
    config_release(c);
    provider_state_free_all();
    return r;
}

/* claude-proxy statusline [--config FILE]: for Claude Code's statusLine setting. */
static int cmd_statusline(int argc, char **argv)
{
    const char *config_arg = NULL;
    for (int i = 2; i < argc; i++) {
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc)
            config_arg = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            config_arg = argv[i] + 9;
        else {
            fprintf(stderr, "claude-proxy statusline: bad argument \"%s\"\n%s", argv[i], usage);
            return 2;
        }
    }
    char pathbuf[4096];
    return statusline_main(config_arg ? config_arg : config_default_path(pathbuf, sizeof(pathbuf)), stdin, stdout);
}

int main(int argc, char **argv)
{
    provider_types_register(provider_types);
    if (argc >= 2 && strcmp(argv[1], "usage") == 0)
        return cmd_usage(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "statusline") == 0)
        return cmd_statusline(argc, argv);
    if (argc > 1 && strcmp(argv[1], "doctor") == 0) {
        int status = doctor_main(argc - 2, argv + 2);
        provider_state_free_all();
        return status;
    }
    const char *config_arg = NULL;
    int check = 0, reload = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) {
            if (++i == argc) {
                fprintf(stderr, "claude-proxy: --config needs a file\n%s", usage);
                return 2;
            }
            config_arg = argv[i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            config_arg = argv[i] + 9;
        } else if (strcmp(argv[i], "--check") == 0) {
            check = 1;
        } else if (strcmp(argv[i], "reload") == 0) {
            reload = 1;
        } else if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
            printf("claude-proxy %s (h2o %s, %s, %s)\n", CP_VERSION, H2O_VERSION, LUA_RELEASE,
                   OpenSSL_version(OPENSSL_VERSION));
            return 0;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else {
            fprintf(stderr, "claude-proxy: unknown argument \"%s\"\n%s", argv[i], usage);
            return 2;
        }
    }

    char pathbuf[4096];
    const char *config_path = config_arg ? config_arg : config_default_path(pathbuf, sizeof(pathbuf));
    if (reload)
        return cmd_reload(config_path);

    char err[1024];
    struct proxy_config *cfg = config_load(config_path, err, sizeof(err));
    if (cfg == NULL) {
        fprintf(stderr, "claude-proxy: config error:\n  %s\n", err);
        return 1;
    }
    if (check) {
        config_describe(cfg, stdout);
        printf("config OK\n");
        config_release(cfg);
        provider_state_free_all();
        return 0;
    }

    signal(SIGPIPE, SIG_IGN);
    start_ledger(cfg);
    memory_tune();
    static uv_loop_t loop; /* static: still reachable if we exit with connections open */
    uv_loop_init(&loop);
    if (server_start(&server, &loop, cfg, config_path, err, sizeof(err)) != 0) {
        fprintf(stderr, "claude-proxy: %s\n", err);
        return 1;
    }
    pidfile_path(cfg->pid_file, cfg->port, pid_path, sizeof(pid_path));
    if (pidfile_write(pid_path, cfg->pid_file == NULL || cfg->pid_file[0] == '\0') != 0)
        log_warn("cannot write pid file %s: %s (claude-proxy reload will not find this instance)", pid_path,
                 strerror(errno));
    uv_signal_init(&loop, &sig_hup);
    uv_signal_start(&sig_hup, on_signal, SIGHUP);
    uv_signal_init(&loop, &sig_term);
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_signal_init(&loop, &sig_int);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    uv_timer_init(&loop, &shutdown_timer);
    memory_trim_when_idle(&loop, exchange_idle, exchange_count);

    if (!netaddr_is_loopback(cfg->listen_host, strlen(cfg->listen_host)) && cfg->client_keys[0] == NULL)
        log_warn("listening on %s without client_keys: anyone who can reach this address can use your subscription",
                 cfg->listen_host);
    char listen_url[300];
    netaddr_http_url(listen_url, sizeof(listen_url), cfg->listen_host, cfg->port);
    log_info("claude-proxy %s listening on %s (config: %s)", CP_VERSION, listen_url, cfg->source);
    for (size_t i = 0; i < cfg->order_len; i++) {
        struct provider *p = cfg->providers[cfg->order[i]];
        const char *problem = provider_problem(p);
        if (problem)
            log_warn("provider %s unavailable: %s", p->name, problem);
    }

    uv_run(&loop, UV_RUN_DEFAULT);

    pidfile_remove(pid_path);
    ledger_close(); /* what is still queued is written now */
    /* No teardown of H2O's context: 2.2.5 cannot close idle keep-alive client connections and
     * asserts when their timers are still linked. What is still allocated is reachable from the
     * loop and `server` (so LeakSanitizer still reports any real leak); the OS takes it back. */
    log_info("stopped");
    return 0;
}
