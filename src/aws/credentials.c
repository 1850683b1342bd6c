#include "aws/credentials.h"
#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aws/ini.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "common/timeparse.h"
#include "common/memory.h"

#define MAX_PROCESS_OUTPUT (64 * 1024)
#define REFRESH_BEFORE_EXPIRY 300    /* seconds, as the AWS SDKs do */
#define NO_EXPIRY_CACHE_SECONDS 3600 /* re-run a process that gives no Expiration this often */
#define FAILURE_BACKOFF_MS 30000     /* after a failed credential_process, wait before retrying */
#define MAX_SOURCE_PROFILE_DEPTH 5

enum source_kind { SOURCE_NONE, SOURCE_STATIC, SOURCE_PROCESS };

struct aws_creds_wait {
    struct aws_cred_source *source;
    aws_creds_cb cb;
    void *ud;
    struct aws_creds_wait *next;
};

struct aws_cred_source {
    uv_loop_t *loop;
    unsigned timeout_ms;
    enum source_kind kind;
    char kind_text[160];
    char problem[640];
    struct aws_creds creds; /* static, or the cached process result */
    time_t cached_until;
    char *command;
    /* the running credential_process */
    int running;
    int pending_events; /* exit + stdout EOF + stderr EOF */
    int open_handles;
    uv_process_t proc;
    uv_pipe_t out_pipe, err_pipe;
    uv_timer_t timer;
    sbuf out, err;
    int timed_out;
    int64_t exit_status;
    int term_signal;
    uint64_t failed_at_ms;
    char last_error[400];
    struct aws_creds_wait *waiters;
    int freed; /* aws_cred_source_free was called; free when the handles are closed */
};

void aws_creds_clear(struct aws_creds *c)
{
    free(c->access_key_id);
    free_secret(c->secret_access_key);
    free_secret(c->session_token);
    memset(c, 0, sizeof(*c));
}

static int valid_region(const char *r) { return r != NULL && r[0] != '\0' && strpbrk(r, "/. \t") == NULL; }

static void file_paths(char *creds, char *config, size_t n)
{
    const char *home = getenv("HOME");
    const char *c = getenv("AWS_SHARED_CREDENTIALS_FILE"), *g = getenv("AWS_CONFIG_FILE");
    if (c && *c)
        snprintf(creds, n, "%s", c);
    else
        snprintf(creds, n, "%s/.aws/credentials", home ? home : ".");
    if (g && *g)
        snprintf(config, n, "%s", g);
    else
        snprintf(config, n, "%s/.aws/config", home ? home : ".");
}

static const char *profile_name(const char *configured)
{
    if (configured && *configured)
        return configured;
    const char *env = getenv("AWS_PROFILE");
    return env && *env ? env : "default";
}

/* A key of a profile: the credentials file first, then the config file. */
static char *profile_get(const char *profile, const char *key)
{
    char creds[1024], config[1024], section[300];
    file_paths(creds, config, sizeof(creds));
    char *v = aws_ini_get(creds, profile, key);
    if (v != NULL)
        return v;
    if (strcmp(profile, "default") == 0)
        snprintf(section, sizeof(section), "default");
    else
        snprintf(section, sizeof(section), "profile %s", profile);
    v = aws_ini_get(config, section, key);
    if (v == NULL && strcmp(profile, "default") == 0)
        v = aws_ini_get(config, "profile default", key);
    return v;
}

char *aws_resolve_region(const char *configured, const char *profile)
{
    if (valid_region(configured))
        return xstrdup(configured);
    const char *env = getenv("AWS_REGION");
    if (valid_region(env))
        return xstrdup(env);
    env = getenv("AWS_DEFAULT_REGION");
    if (valid_region(env))
        return xstrdup(env);
    char *r = profile_get(profile_name(profile), "region");
    if (valid_region(r))
        return r;
    free(r);
    return xstrdup("us-west-2");
}

/* Resolves static keys or a credential_process for the profile (following source_profile). */
static void resolve_profile(struct aws_cred_source *s, const char *profile, int depth)
{
    char *id = profile_get(profile, "aws_access_key_id");
    char *secret = profile_get(profile, "aws_secret_access_key");
    char *process = profile_get(profile, "credential_process");
    char *role = profile_get(profile, "role_arn");
    char *source = profile_get(profile, "source_profile");
    char *sso = profile_get(profile, "sso_start_url");
    char *sso_session = profile_get(profile, "sso_session");
    if (id && secret && !role) {
        s->kind = SOURCE_STATIC;
        s->creds.access_key_id = id;
        s->creds.secret_access_key = secret;
        s->creds.session_token = profile_get(profile, "aws_session_token");
        snprintf(s->kind_text, sizeof(s->kind_text), "profile:%s", profile);
        id = secret = NULL;
    } else if (process && !role) {
        s->kind = SOURCE_PROCESS;
        s->command = process;
        process = NULL;
        snprintf(s->kind_text, sizeof(s->kind_text), "process:%s", profile);
    } else if (role) {
        snprintf(
            s->problem, sizeof(s->problem),
            "profile '%.64s' uses role_arn, which needs STS AssumeRole (not supported); set credential_process = aws "
            "configure export-credentials --profile %.64s --format process",
            profile, profile);
    } else if (sso || sso_session) {
        snprintf(s->problem, sizeof(s->problem),
                 "profile '%.64s' is an SSO profile; set credential_process = aws configure export-credentials "
                 "--profile %.64s "
                 "--format process (after aws sso login)",
                 profile, profile);
    } else if (source && depth < MAX_SOURCE_PROFILE_DEPTH && strcmp(source, profile) != 0) {
        resolve_profile(s, source, depth + 1);
    } else if (source) {
        snprintf(s->problem, sizeof(s->problem), "profile '%.64s': source_profile chain is too long or loops", profile);
    } else {
        char creds[1024], config[1024];
        file_paths(creds, config, sizeof(creds));
        snprintf(s->problem, sizeof(s->problem),
                 "no AWS credentials found (AWS_ACCESS_KEY_ID, or profile '%.64s' in %.150s / %.150s)", profile, creds,
                 config);
    }
    free(id), free(secret), free(process), free(role), free(source), free(sso), free(sso_session);
}

struct aws_cred_source *aws_cred_source_new(uv_loop_t *loop, const char *profile, unsigned process_timeout_ms)
{
    struct aws_cred_source *s = xcalloc(1, sizeof(*s));
    s->loop = loop;
    s->timeout_ms = process_timeout_ms;
    snprintf(s->kind_text, sizeof(s->kind_text), "none");
    const char *id = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");
    if (id && *id && secret && *secret) {
        s->kind = SOURCE_STATIC;
        s->creds.access_key_id = xstrdup(id);
        s->creds.secret_access_key = xstrdup(secret);
        const char *token = getenv("AWS_SESSION_TOKEN");
        s->creds.session_token = token && *token ? xstrdup(token) : NULL;
        snprintf(s->kind_text, sizeof(s->kind_text), "env");
    } else {
        resolve_profile(s, profile_name(profile), 0);
    }
    return s;
}

const char *aws_cred_source_kind(struct aws_cred_source *s) { return s->kind_text; }

static uint64_t now_ms(struct aws_cred_source *s) { return uv_now(s->loop); }

const char *aws_cred_source_problem(struct aws_cred_source *s)
{
    if (s->kind == SOURCE_NONE)
        return s->problem;
    if (s->kind == SOURCE_PROCESS && s->failed_at_ms && now_ms(s) - s->failed_at_ms < FAILURE_BACKOFF_MS)
        return s->last_error;
    return NULL;
}

/* ---- credential_process ---------------------------------------------------------------- */

int aws_parse_process_output(const char *json, size_t len, struct aws_creds *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    cJSON *j = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsObject(j)) {
        snprintf(err, errlen, "credential_process did not print a JSON object");
        cJSON_Delete(j);
        return -1;
    }
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(j, "Version");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "AccessKeyId");
    const cJSON *secret = cJSON_GetObjectItemCaseSensitive(j, "SecretAccessKey");
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(j, "SessionToken");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(j, "Expiration");
    int ok = 0;
    if (!cJSON_IsNumber(version) || version->valueint != 1)
        snprintf(err, errlen, "credential_process output has Version %s (expected 1)",
                 cJSON_IsNumber(version) ? "other than 1" : "missing");
    else if (!cJSON_IsString(id) || !cJSON_IsString(secret) || !*id->valuestring || !*secret->valuestring)
        snprintf(err, errlen, "credential_process output lacks AccessKeyId or SecretAccessKey");
    else if (exp != NULL && !cJSON_IsNull(exp) &&
             (!cJSON_IsString(exp) || time_parse_rfc3339(exp->valuestring, &out->expiration) != 0))
        snprintf(err, errlen, "credential_process output has an unreadable Expiration");
    else
        ok = 1;
    if (ok) {
        out->access_key_id = xstrdup(id->valuestring);
        out->secret_access_key = xstrdup(secret->valuestring);
        out->session_token = cJSON_IsString(token) && *token->valuestring ? xstrdup(token->valuestring) : NULL;
    }
    if (cJSON_IsString(secret))
        OPENSSL_cleanse(secret->valuestring, strlen(secret->valuestring));
    if (cJSON_IsString(token))
        OPENSSL_cleanse(token->valuestring, strlen(token->valuestring));
    cJSON_Delete(j);
    return ok ? 0 : -1;
}

static int cache_valid(struct aws_cred_source *s)
{
    return s->creds.access_key_id != NULL && time(NULL) < s->cached_until;
}

static void notify_all(struct aws_cred_source *s, const struct aws_creds *creds, const char *err)
{
    struct aws_creds_wait *w = s->waiters;
    s->waiters = NULL;
    while (w != NULL) {
        struct aws_creds_wait *next = w->next;
        w->cb(w->ud, creds, err);
        free(w);
        w = next;
    }
}

static void maybe_free(struct aws_cred_source *s)
{
    if (s->freed && s->open_handles == 0) {
        aws_creds_clear(&s->creds);
        sbuf_free(&s->out);
        sbuf_free(&s->err);
        free(s->command);
        free(s);
    }
}

static void on_handle_closed(uv_handle_t *h)
{
    struct aws_cred_source *s = h->data;
    s->open_handles--;
    maybe_free(s);
}

static void close_handle(struct aws_cred_source *s, uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, on_handle_closed);
    (void)s;
}

static void process_done(struct aws_cred_source *s)
{
    s->running = 0;
    uv_timer_stop(&s->timer);
    close_handle(s, (uv_handle_t *)&s->timer);
    close_handle(s, (uv_handle_t *)&s->proc);
    if (s->freed)
        return;
    char err[400] = "";
    struct aws_creds fresh;
    memset(&fresh, 0, sizeof(fresh));
    if (s->timed_out) {
        snprintf(err, sizeof(err), "credential_process timed out after %u ms", s->timeout_ms);
    } else if (s->exit_status != 0 || s->term_signal != 0) {
        /* only the first line of stderr: tools may print more than they should */
        size_t n = s->err.len ? strcspn(s->err.data, "\r\n") : 0;
        snprintf(err, sizeof(err), "credential_process failed (exit %lld%s)%s%.*s", (long long)s->exit_status,
                 s->term_signal ? ", killed" : "", n ? ": " : "", (int)(n > 200 ? 200 : n),
                 s->err.data ? s->err.data : "");
    } else if (aws_parse_process_output(s->out.data ? s->out.data : "", s->out.len, &fresh, err, sizeof(err)) == 0) {
        aws_creds_clear(&s->creds);
        s->creds = fresh;
        s->cached_until =
            fresh.expiration ? fresh.expiration - REFRESH_BEFORE_EXPIRY : time(NULL) + NO_EXPIRY_CACHE_SECONDS;
        s->failed_at_ms = 0;
        s->last_error[0] = '\0';
    }
    if (s->out.data)
        OPENSSL_cleanse(s->out.data, s->out.len);
    sbuf_reset(&s->out);
    sbuf_reset(&s->err);
    if (err[0] != '\0') {
        s->failed_at_ms = now_ms(s) ? now_ms(s) : 1;
        snprintf(s->last_error, sizeof(s->last_error), "%s", err);
        log_warn("bedrock credentials (%s): %s", s->kind_text, err);
        notify_all(s, NULL, s->last_error);
    } else {
        notify_all(s, &s->creds, NULL);
    }
}

static void event_done(struct aws_cred_source *s)
{
    if (--s->pending_events == 0)
        process_done(s);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
    struct aws_cred_source *s = p->data;
    s->exit_status = status;
    s->term_signal = sig;
    event_done(s);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

static void on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    struct aws_cred_source *s = stream->data;
    sbuf *dst = stream == (uv_stream_t *)&s->out_pipe ? &s->out : &s->err;
    size_t cap = dst == &s->out ? MAX_PROCESS_OUTPUT : 4096;
    if (n > 0 && dst->len + (size_t)n <= cap)
        sbuf_append(dst, buf->base, (size_t)n);
    if (buf->base) {
        if (n > 0)
            OPENSSL_cleanse(buf->base, (size_t)n);
        free(buf->base);
    }
    if (n < 0) {
        uv_read_stop(stream);
        close_handle(s, (uv_handle_t *)stream);
        event_done(s);
    }
}

/* The command runs in its own process group (it is a shell; its children hold the pipes
 * open): a timeout kills the whole group. */
static void kill_group(struct aws_cred_source *s)
{
    if (s->proc.pid > 0)
        kill(-s->proc.pid, SIGKILL);
}

static void on_timeout(uv_timer_t *t)
{
    struct aws_cred_source *s = t->data;
    s->timed_out = 1;
    kill_group(s);
}

static int start_process(struct aws_cred_source *s, char *err, size_t errlen)
{
    uv_pipe_init(s->loop, &s->out_pipe, 0);
    uv_pipe_init(s->loop, &s->err_pipe, 0);
    uv_timer_init(s->loop, &s->timer);
    s->out_pipe.data = s->err_pipe.data = s->timer.data = s->proc.data = s;
    s->open_handles += 3;
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)&s->out_pipe;
    stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[2].data.stream = (uv_stream_t *)&s->err_pipe;
    char *args[] = {"/bin/sh", "-c", s->command, NULL};
    uv_process_options_t opt;
    memset(&opt, 0, sizeof(opt));
    opt.file = "/bin/sh";
    opt.args = args;
    opt.exit_cb = on_exit_cb;
    opt.stdio = stdio;
    opt.stdio_count = 3;
    opt.flags = UV_PROCESS_DETACHED; /* setsid: a process group of its own, see kill_group */
    int r = uv_spawn(s->loop, &s->proc, &opt);
    s->open_handles++; /* the process handle must be closed even when spawning failed */
    if (r != 0) {
        snprintf(err, errlen, "cannot run credential_process: %s", uv_strerror(r));
        close_handle(s, (uv_handle_t *)&s->out_pipe);
        close_handle(s, (uv_handle_t *)&s->err_pipe);
        close_handle(s, (uv_handle_t *)&s->timer);
        close_handle(s, (uv_handle_t *)&s->proc);
        return -1;
    }
    s->running = 1;
    s->timed_out = 0;
    s->pending_events = 3;
    uv_read_start((uv_stream_t *)&s->out_pipe, alloc_cb, on_read);
    uv_read_start((uv_stream_t *)&s->err_pipe, alloc_cb, on_read);
    uv_timer_start(&s->timer, on_timeout, s->timeout_ms, 0);
    return 0;
}

struct aws_creds_wait *aws_cred_source_get(struct aws_cred_source *s, aws_creds_cb cb, void *ud)
{
    if (s->kind == SOURCE_NONE) {
        cb(ud, NULL, s->problem);
        return NULL;
    }
    if (s->kind == SOURCE_STATIC || cache_valid(s)) {
        cb(ud, &s->creds, NULL);
        return NULL;
    }
    if (!s->running && s->failed_at_ms && now_ms(s) - s->failed_at_ms < FAILURE_BACKOFF_MS) {
        cb(ud, NULL, s->last_error);
        return NULL;
    }
    if (!s->running) {
        char err[300];
        if (start_process(s, err, sizeof(err)) != 0) {
            s->failed_at_ms = now_ms(s) ? now_ms(s) : 1;
            snprintf(s->last_error, sizeof(s->last_error), "%s", err);
            cb(ud, NULL, s->last_error);
            return NULL;
        }
    }
    struct aws_creds_wait *w = xcalloc(1, sizeof(*w));
    w->source = s;
    w->cb = cb;
    w->ud = ud;
    w->next = s->waiters;
    s->waiters = w;
    return w;
}

void aws_creds_wait_cancel(struct aws_creds_wait *w)
{
    struct aws_creds_wait **p = &w->source->waiters;
    while (*p != NULL && *p != w)
        p = &(*p)->next;
    if (*p == w)
        *p = w->next;
    free(w);
}

void aws_cred_source_free(struct aws_cred_source *s)
{
    if (s == NULL)
        return;
    while (s->waiters != NULL) {
        struct aws_creds_wait *next = s->waiters->next;
        free(s->waiters);
        s->waiters = next;
    }
    s->freed = 1;
    if (s->running) {
        kill_group(s);
        uv_timer_stop(&s->timer);
        close_handle(s, (uv_handle_t *)&s->timer);
        close_handle(s, (uv_handle_t *)&s->out_pipe);
        close_handle(s, (uv_handle_t *)&s->err_pipe);
        close_handle(s, (uv_handle_t *)&s->proc);
    }
    maybe_free(s);
}
