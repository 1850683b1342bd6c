#include "cli/statusline.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "core/config.h"
#include "core/provider_state.h"
#include "common/netaddr.h"

#define SESSION_MAX (256 * 1024) /* Claude Code's session JSON is a few KB */
#define SESSION_WAIT_MS 50       /* for it to arrive on stdin */
#define HEALTH_MAX (1024 * 1024)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
    int64_t left = deadline - now_ms();
    if (left <= 0)
        return 0;
    struct pollfd p = {fd, events, 0};
    int r;
    while ((r = poll(&p, 1, (int)left)) < 0 && errno == EINTR)
        ;
    return r > 0;
}

/* ---- asking the proxy ---- */

static int connect_within(const char *host, uint16_t port, int64_t deadline, const char **why)
{
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%u", port);
    if (getaddrinfo(host, portstr, &hints, &ai) != 0) {
        *why = "bad listen address";
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(ai);
        *why = "no socket";
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (r != 0 && errno != EINPROGRESS) {
        *why = errno == ECONNREFUSED ? "not running" : "cannot connect";
        close(fd);
        return -1;
    }
    if (r != 0) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (!wait_fd(fd, POLLOUT, deadline)) {
            *why = "no answer";
            close(fd);
            return -1;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            *why = err == ECONNREFUSED ? "not running" : "cannot connect";
            close(fd);
            return -1;
        }
    }
    return fd;
}

int statusline_fetch_health(const char *host, uint16_t port, sbuf *body, const char **why)
{
    int64_t start = now_ms();
    int fd = connect_within(host, port, start + STATUSLINE_CONNECT_MS, why);
    if (fd < 0)
        return -1;
    int64_t deadline = start + STATUSLINE_TOTAL_MS;
    /* HTTP/1.0: the answer ends with the connection, never chunked */
    char req[128];
    int n = snprintf(req, sizeof(req), "GET /health HTTP/1.0\r\nHost: 127.0.0.1:%u\r\n\r\n", port);
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        *why = "no answer";
        close(fd);
        return -1;
    }
    sbuf in = SBUF_INIT;
    int done = 0;
    while (!done && in.len < HEALTH_MAX && wait_fd(fd, POLLIN, deadline)) {
        char buf[16384];
        ssize_t got = recv(fd, buf, sizeof(buf), 0);
        if (got > 0)
            sbuf_append(&in, buf, (size_t)got);
        else if (got == 0 || (errno != EAGAIN && errno != EINTR))
            done = 1;
    }
    close(fd);
    const char *sep = in.data ? memmem(in.data, in.len, "\r\n\r\n", 4) : NULL;
    if (!done || sep == NULL || in.len < 12 || memcmp(in.data + 8, " 200", 4) != 0) {
        *why = done ? "unexpected answer" : "no answer";
        sbuf_free(&in);
        return -1;
    }
    sbuf_append(body, sep + 4, in.len - (size_t)(sep + 4 - in.data));
    sbuf_free(&in);
    return 0;
}

/* ---- the line ---- */

static const char *string_of(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double number_of(const cJSON *obj, const char *key, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* "14:05" today or within a day, else "Tue 09:00" (local time). */
static void local_time(time_t t, time_t now, char *buf, size_t size)
{
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, size, t - now < 20 * 3600 ? "%H:%M" : "%a %H:%M", &tm);
}

static const cJSON *provider_named(const cJSON *providers, const char *name)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, providers)
    {
        const char *n = string_of(p, "name");
        if (n != NULL && strcmp(n, name) == 0)
            return p;
    }
    return NULL;
}

static void separator(sbuf *line)
{
    if (line->len != 0)
        sbuf_puts(line, " · ");
}

/* "5h 42% (resets 14:05)"; nothing for a window whose reset has passed (what it said is stale). */
static void append_window(sbuf *line, const char *name, const cJSON *w, time_t now)
{
    double reset = number_of(w, "reset", 0), util = number_of(w, "utilization", -1);
    if (util < 0 || (reset > 0 && reset <= (double)now))
        return;
    separator(line);
    sbuf_printf(line, "%s %.0f%%", name, util * 100);
    const char *status = string_of(w, "status");
    if (status != NULL && strcmp(status, "rejected") == 0)
        sbuf_puts(line, " limit");
    if (reset > 0) {
        char when[32];
        local_time((time_t)reset, now, when, sizeof(when));
        sbuf_printf(line, " (resets %s)", when);
    }
}

static void append_serving(sbuf *line, const cJSON *h, const char *model, time_t now)
{
    const cJSON *providers = cJSON_GetObjectItemCaseSensitive(h, "providers");
    const cJSON *order = cJSON_GetObjectItemCaseSensitive(h, "order");
    const cJSON *o, *first = NULL, *serving = NULL;
    cJSON_ArrayForEach(o, order)
    {
        const cJSON *p = cJSON_IsString(o) ? provider_named(providers, o->valuestring) : NULL;
        if (p == NULL)
            continue;
        if (first == NULL)
            first = p;
        const char *state = string_of(p, "state");
        if (serving == NULL && state != NULL && strcmp(state, "ok") == 0)
            serving = p;
    }
    if (model != NULL)
        sbuf_printf(line, "%s ", model);
    if (serving == NULL) {
        sbuf_puts(line, "claude-proxy: no provider available");
        return;
    }
    sbuf_printf(line, "→ %s", string_of(serving, "name"));
    if (first != NULL && first != serving) {
        const char *until = string_of(first, "cooling_until") ? string_of(first, "cooling_until")
                                                              : string_of(first, "over_budget_until");
        struct tm tm = {0};
        if (until != NULL && strptime(until, "%Y-%m-%dT%H:%M:%SZ", &tm) != NULL) {
            char when[32];
            local_time(timegm(&tm), now, when, sizeof(when));
            sbuf_printf(line, " (%s back %s)", string_of(first, "name"), when);
        } else {
            sbuf_printf(line, " (%s %s)", string_of(first, "name"),
                        string_of(first, "state") ? string_of(first, "state") : "");
        }
    }
}

void statusline_format(const char *health, size_t health_len, const char *session, size_t session_len, time_t now,
                       sbuf *line)
{
    cJSON *h = health != NULL ? cJSON_ParseWithLength(health, health_len) : NULL;
    cJSON *s = session != NULL && session_len != 0 ? cJSON_ParseWithLength(session, session_len) : NULL;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(s, "model");
    const char *model = string_of(m, "display_name") ? string_of(m, "display_name") : string_of(m, "id");
    if (!cJSON_IsObject(h)) {
        sbuf_puts(line, "claude-proxy: unexpected /health answer");
        goto Done;
    }
    append_serving(line, h, model, now);
    /* the quota of the first provider that has one (the subscription), 5h and 7d, and any other
     * window at its limit */
    const cJSON *providers = cJSON_GetObjectItemCaseSensitive(h, "providers"), *p, *quota = NULL;
    cJSON_ArrayForEach(p, providers)
    {
        if (quota == NULL && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(p, "quota")))
            quota = cJSON_GetObjectItemCaseSensitive(p, "quota");
    }
    const cJSON *windows = cJSON_GetObjectItemCaseSensitive(quota, "windows"), *w;
    append_window(line, "5h", cJSON_GetObjectItemCaseSensitive(windows, "5h"), now);
    append_window(line, "7d", cJSON_GetObjectItemCaseSensitive(windows, "7d"), now);
    cJSON_ArrayForEach(w, windows)
    {
        const char *status = string_of(w, "status");
        if (strcmp(w->string, "5h") != 0 && strcmp(w->string, "7d") != 0 && status != NULL &&
            strcmp(status, "rejected") == 0)
            append_window(line, w->string, w, now);
    }
    /* today's spend of the metered providers (the ledger's; a subscription's value is not spend),
     * once there is some */
    double today = 0;
    cJSON_ArrayForEach(p, providers)
    {
        today += number_of(cJSON_GetObjectItemCaseSensitive(p, "spend"), "today_usd", 0);
    }
    if (today >= 0.005) {
        separator(line);
        sbuf_printf(line, "fallback $%.2f today", today);
    }
Done:
    cJSON_Delete(h);
    cJSON_Delete(s);
}

/* ---- the command ---- */

/* Claude Code writes the session JSON and closes stdin; a terminal (run by hand) sends none. */
static void read_session(FILE *in, sbuf *out)
{
    int fd = fileno(in);
    if (isatty(fd))
        return;
    int64_t deadline = now_ms() + SESSION_WAIT_MS;
    while (out->len < SESSION_MAX && wait_fd(fd, POLLIN, deadline)) {
        char buf[8192];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0 && !(n < 0 && errno == EINTR))
            break;
        if (n > 0)
            sbuf_append(out, buf, (size_t)n);
    }
}

int statusline_main(const char *config_path, FILE *in, FILE *out)
{
    sbuf session = SBUF_INIT, body = SBUF_INIT, line = SBUF_INIT;
    read_session(in, &session);
    char err[1024];
    log_set_level(LOG_ERROR); /* the status line shows stdout; keep config warnings out of the way */
    struct proxy_config *c = config_load(config_path, err, sizeof(err));
    if (c == NULL) {
        fprintf(out, "claude-proxy: config error (claude-proxy --check)\n");
        sbuf_free(&session);
        return 1;
    }
    const char *why = NULL;
    char dial[64];
    const char *host = netaddr_dial_host(c->listen_host, dial, sizeof(dial));
    if (statusline_fetch_health(host, c->port, &body, &why) == 0) {
        statusline_format(body.data, body.len, session.data, session.len, time(NULL), &line);
        fprintf(out, "%.*s\n", (int)line.len, line.data ? line.data : "");
    } else {
        fprintf(out, "claude-proxy: %s on %s:%u\n", why, host, c->port);
    }
    config_release(c);
    provider_state_free_all();
    sbuf_free(&session);
    sbuf_free(&body);
    sbuf_free(&line);
    return 0;
}
