/* `claude-proxy doctor` for an Anthropic provider: where its token comes from and its shape,
 * count_tokens with it (free), with --probe a one-token request and the quota windows its answer
 * reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/doctor_internal.h"
#include "providers/anthropic.h"
#include "providers/anthropic_auth.h"

static void anthropic_request(struct doctor *d, struct provider *p, const char *path, const char *body,
                              struct answer *a)
{
    const char *token = provider_anthropic_token(p);
    struct upstream *u = provider_anthropic_upstream(p);
    enum credential_kind kind = credential_classify(token, strlen(token));
    sbuf head = SBUF_INIT;
    sbuf_printf(&head,
                "POST %s%s HTTP/1.1\r\nhost: %s\r\ncontent-type: application/json\r\ncontent-length: %zu\r\n"
                "anthropic-version: 2023-06-01\r\naccept-encoding: identity\r\nconnection: keep-alive\r\n",
                u->base_path, path, u->host_header, strlen(body));
    if (kind == CREDENTIAL_API_KEY)
        sbuf_printf(&head, "x-api-key: %s\r\n", token);
    else
        sbuf_printf(&head, "authorization: Bearer %s\r\nanthropic-beta: " OAUTH_BETA ",claude-code-20250219\r\n",
                    token);
    sbuf_puts(&head, "\r\n");
    doctor_fetch(d, u, &head, body, strlen(body), a);
    sbuf_free(&head);
}

void doctor_anthropic_start(struct doctor *d, struct anthropic_check *ac)
{
    if (provider_anthropic_token(ac->p) == NULL)
        return;
    /* count_tokens costs nothing and checks the credential */
    anthropic_request(d, ac->p, "/v1/messages/count_tokens",
                      "{\"model\":\"" DEFAULT_MODEL "\",\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}]}",
                      &ac->count);
    if (d->probe)
        anthropic_request(d, ac->p, "/v1/messages",
                          "{\"model\":\"claude-haiku-4-5\",\"max_tokens\":1,\"system\":\"You are Claude Code, "
                          "Anthropic's official CLI for Claude.\",\"messages\":[{\"role\":\"user\",\"content\":"
                          "\"ping\"}]}",
                          &ac->probe);
}

/* Where the token came from, as util.oauth_token() looks for it. */
static void token_source(const char *token, char *out, size_t outlen)
{
    const char *env = getenv("CLAUDE_CODE_OAUTH_TOKEN");
    if (env != NULL && strcmp(env, token) == 0) {
        snprintf(out, outlen, "from CLAUDE_CODE_OAUTH_TOKEN");
        return;
    }
    char path[1024];
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg != NULL && xdg[0] != '\0')
        snprintf(path, sizeof(path), "%s/claude-proxy/token", xdg);
    else
        snprintf(path, sizeof(path), "%s/.config/claude-proxy/token", home ? home : ".");
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        char line[4096] = "";
        int same =
            fgets(line, sizeof(line), f) != NULL && (line[strcspn(line, "\r\n")] = '\0', 1) && strcmp(line, token) == 0;
        fclose(f);
        struct stat st;
        if (same && stat(path, &st) == 0) {
            snprintf(out, outlen, "from the token file %s (mode %04o)", path, (unsigned)(st.st_mode & 07777));
            return;
        }
    }
    snprintf(out, outlen, "from the config (token, or token_command)");
}

static const char *unified(const struct answer *a, const char *name)
{
    for (size_t i = 0; i < a->num_unified; i++)
        if (strcmp(a->unified[i][0], name) == 0)
            return a->unified[i][1];
    return NULL;
}

/* "allowed · 5h 23% (resets 14:00 UTC) · 7d 41% (resets 2026-12-05 09:00 UTC)" */
static void quota_line(const struct answer *a, char *out, size_t outlen)
{
    const char *st = unified(a, "status");
    size_t n = (size_t)snprintf(out, outlen, "%s", st ? st : "no unified quota headers");
    static const char *const windows[] = {"5h", "7d", "7d_oi", "7d-sonnet", "overage"};
    for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]) && n < outlen; i++) {
        char key[64];
        snprintf(key, sizeof(key), "%s-utilization", windows[i]);
        const char *u = unified(a, key);
        snprintf(key, sizeof(key), "%s-reset", windows[i]);
        const char *reset = unified(a, key);
        if (u == NULL)
            continue;
        char when[40] = "";
        if (reset != NULL) {
            time_t t = (time_t)strtoll(reset, NULL, 10);
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(when, sizeof(when), " (resets %Y-%m-%d %H:%M UTC)", &tm);
        }
        n += (size_t)snprintf(out + n, outlen - n, " \u00b7 %s %.0f%%%s", windows[i], strtod(u, NULL) * 100, when);
    }
}

/* Returns 1 if the provider can serve. */
int doctor_anthropic_report(struct doctor *d, struct anthropic_check *ac)
{
    struct doctor_report *r = d->report;
    const char *token = provider_anthropic_token(ac->p);
    if (token == NULL) {
        doctor_report_add(r, DOCTOR_SKIP, NULL,
                          "token: none configured; the client's own login is used (Claude Code sends its OAuth token)");
        return 1;
    }
    char src[1200], masked[REDACT_BUFSZ];
    token_source(token, src, sizeof(src));
    redact_secret(token, strlen(token), masked);
    enum credential_kind kind = credential_classify(token, strlen(token));
    if (kind == CREDENTIAL_OAUTH || kind == CREDENTIAL_API_KEY) {
        doctor_report_add(r, DOCTOR_OK, NULL, "token: %s %s %s",
                          kind == CREDENTIAL_OAUTH ? "an OAuth token" : "an API key", masked, src);
    } else {
        doctor_report_add(r, DOCTOR_FAIL,
                          "run `claude setup-token` and put the sk-ant-oat01-... token it prints in "
                          "~/.config/claude-proxy/token (chmod 600)",
                          "token: %s %s has the shape of neither an OAuth token (sk-ant-oat...) nor an API key "
                          "(sk-ant-api...)",
                          masked, src);
    }
    int usable = 0;
    char msg[400];
    doctor_answer_message(&ac->count, msg, sizeof(msg));
    if (ac->count.status == 200) {
        doctor_report_add(r, DOCTOR_OK, NULL,
                          "Anthropic accepts the token (count_tokens answered 200; no quota spent)");
        usable = 1;
    } else if (ac->count.status == 0) {
        doctor_report_add(r, DOCTOR_FAIL, "check the network and base_url (CLAUDE_PROXY_ANTHROPIC_URL)",
                          "Anthropic cannot be reached: %s", ac->count.err);
    } else if (ac->count.status == 401 || ac->count.status == 403) {
        doctor_report_add(r, DOCTOR_FAIL,
                          "get a new token: `claude setup-token`, then put it in ~/.config/claude-proxy/token "
                          "(chmod 600) or CLAUDE_CODE_OAUTH_TOKEN",
                          "Anthropic refuses the token (%d: %s)", ac->count.status, msg);
    } else if (ac->count.status == 429) {
        doctor_report_add(r, DOCTOR_SKIP, NULL, "Anthropic rate-limits count_tokens right now (429: %s)", msg);
        usable = 1;
    } else {
        doctor_report_add(r, DOCTOR_FAIL, "see Anthropic's status page; try again later",
                          "count_tokens answered %d: %s", ac->count.status, msg);
    }
    if (d->probe && ac->probe.done) {
        char q[600];
        quota_line(&ac->probe, q, sizeof(q));
        doctor_answer_message(&ac->probe, msg, sizeof(msg));
        if (ac->probe.status == 200)
            doctor_report_add(r, DOCTOR_OK, NULL, "probe (claude-haiku-4-5, max_tokens 1): 200; quota: %s", q);
        else if (ac->probe.status == 429)
            doctor_report_add(r, DOCTOR_FAIL, "wait for the window to reset; the fallback serves meanwhile",
                              "probe: rate-limited (429: %s); quota: %s", msg, q);
        else
            doctor_report_add(r, DOCTOR_FAIL, "see the message; `claude setup-token` if the token is refused",
                              "probe: %d %s", ac->probe.status, ac->probe.status ? msg : ac->probe.err);
    }
    return usable;
}
