#include "core/quota.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "common/http_client.h"
#include "common/timeparse.h"

#define PREFIX "anthropic-ratelimit-unified-"
#define PREFIX_LEN (sizeof(PREFIX) - 1)
/* Enough of an error body to find the phrase in (Anthropic's error bodies are short). */
#define CLASSIFY_BODY_MAX 4096

static enum quota_status parse_status(const h2o_iovec_t *v)
{
    if (h2o_memis(v->base, v->len, H2O_STRLIT("allowed")))
        return QUOTA_STATUS_ALLOWED;
    if (h2o_memis(v->base, v->len, H2O_STRLIT("allowed_warning")))
        return QUOTA_STATUS_ALLOWED_WARNING;
    if (h2o_memis(v->base, v->len, H2O_STRLIT("rejected")))
        return QUOTA_STATUS_REJECTED;
    return QUOTA_STATUS_OTHER;
}

/* A fraction such as "0.42", "1.01" or "-0.0"; refuses NaN, infinities and negatives. */
static int parse_fraction(const h2o_iovec_t *v, double *out)
{
    char buf[32], *end;
    if (http_header_copy(v, buf, sizeof(buf)) != 0 || buf[0] == '\0')
        return -1;
    double d = strtod(buf, &end);
    if (*end != '\0' || !isfinite(d) || d < 0) /* -0.0 is not below 0 */
        return -1;
    *out = d + 0.0; /* -0.0 becomes 0 */
    return 0;
}

/* Epoch seconds ("1785518400"); an RFC 3339 time is read too, should the format change. */
static int parse_epoch(const h2o_iovec_t *v, int64_t *out)
{
    char buf[64], *end;
    if (http_header_copy(v, buf, sizeof(buf)) != 0 || buf[0] == '\0')
        return -1;
    long long n = strtoll(buf, &end, 10);
    if (*end == '\0' && n > 0) {
        *out = n > 100000000000LL ? n / 1000 : n; /* milliseconds, just in case */
        return 0;
    }
    time_t t;
    if (time_parse_rfc3339(buf, &t) == 0 && t > 0) {
        *out = (int64_t)t;
        return 0;
    }
    return -1;
}

/* A name that fits in `size` bytes with plain characters only: window names become metrics
 * labels and JSON keys, and the other names are shown the same way. */
static int valid_name(const char *s, size_t len, size_t size)
{
    if (len == 0 || len >= size)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int valid_window_name(const char *s, size_t len) { return valid_name(s, len, QUOTA_WINDOW_NAME_MAX); }

static struct quota_window *window_slot(struct quota *q, const char *name, size_t len)
{
    /* the names /metrics gives the overall and extra-usage states are no window's */
    if (h2o_lcstris(name, len, H2O_STRLIT("overall")) || h2o_lcstris(name, len, H2O_STRLIT("extra_usage")))
        return NULL;
    for (size_t i = 0; i < q->num_windows; i++)
        if (strlen(q->windows[i].name) == len && strncasecmp(q->windows[i].name, name, len) == 0)
            return &q->windows[i];
    if (q->num_windows == QUOTA_MAX_WINDOWS)
        return NULL;
    struct quota_window *w = &q->windows[q->num_windows++];
    memset(w, 0, sizeof(*w));
    for (size_t i = 0; i < len; i++)
        w->name[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    w->seen = q->seen;
    return w;
}

static int ends_with(const char *s, size_t len, const char *suffix, size_t *stem)
{
    size_t n = strlen(suffix);
    if (len <= n || strncasecmp(s + len - n, suffix, n) != 0)
        return 0;
    *stem = len - n;
    return 1;
}

static void parse_extra_usage(struct quota *q, const char *field, size_t len, const h2o_iovec_t *v)
{
    struct quota_extra_usage *x = &q->extra_usage;
    x->present = 1;
    if (h2o_memis(field, len, H2O_STRLIT("status")))
        x->status = parse_status(v);
    else if (h2o_memis(field, len, H2O_STRLIT("in-use")))
        x->in_use = h2o_memis(v->base, v->len, H2O_STRLIT("true")) || h2o_memis(v->base, v->len, H2O_STRLIT("1"));
    else if (h2o_memis(field, len, H2O_STRLIT("utilization")))
        x->has_utilization = parse_fraction(v, &x->utilization) == 0;
    else if (h2o_memis(field, len, H2O_STRLIT("reset")))
        parse_epoch(v, &x->reset);
    else if (h2o_memis(field, len, H2O_STRLIT("disabled-reason")) &&
             valid_name(v->base, v->len, sizeof(x->disabled_reason)))
        http_header_copy(v, x->disabled_reason, sizeof(x->disabled_reason));
}

/* One header after the prefix: "status", "5h-utilization", "overage-in-use", ... */
static void parse_field(struct quota *q, const char *f, size_t len, const h2o_iovec_t *v)
{
    size_t stem;
    if (len > 8 && strncasecmp(f, "overage-", 8) == 0) {
        parse_extra_usage(q, f + 8, len - 8, v);
        return;
    }
    if (h2o_memis(f, len, H2O_STRLIT("status"))) {
        q->status = parse_status(v);
    } else if (h2o_memis(f, len, H2O_STRLIT("reset"))) {
        parse_epoch(v, &q->reset);
    } else if (h2o_memis(f, len, H2O_STRLIT("representative-claim"))) {
        if (valid_name(v->base, v->len, sizeof(q->representative_claim)))
            http_header_copy(v, q->representative_claim, sizeof(q->representative_claim));
    } else if (h2o_memis(f, len, H2O_STRLIT("fallback-percentage"))) {
        q->has_fallback_percentage = parse_fraction(v, &q->fallback_percentage) == 0;
    } else if (h2o_memis(f, len, H2O_STRLIT("fallback")) || h2o_memis(f, len, H2O_STRLIT("upgrade-paths"))) {
        /* not a window; nothing here uses them */
    } else if (ends_with(f, len, "-utilization", &stem)) {
        struct quota_window *w = valid_window_name(f, stem) ? window_slot(q, f, stem) : NULL;
        if (w != NULL)
            w->has_utilization = parse_fraction(v, &w->utilization) == 0;
    } else if (ends_with(f, len, "-reset", &stem)) {
        struct quota_window *w = valid_window_name(f, stem) ? window_slot(q, f, stem) : NULL;
        if (w != NULL)
            parse_epoch(v, &w->reset);
    } else if (ends_with(f, len, "-status", &stem)) {
        struct quota_window *w = valid_window_name(f, stem) ? window_slot(q, f, stem) : NULL;
        if (w != NULL)
            w->status = parse_status(v);
    }
    /* anything else (-surpassed-threshold, ...) is relayed but not kept */
}

int quota_parse(const h2o_header_t *headers, size_t num_headers, time_t now, struct quota *q)
{
    memset(q, 0, sizeof(*q));
    q->seen = now;
    for (size_t i = 0; i < num_headers; i++) {
        const h2o_iovec_t *name = headers[i].name;
        if (name->len <= PREFIX_LEN || strncasecmp(name->base, PREFIX, PREFIX_LEN) != 0)
            continue;
        q->present = 1;
        parse_field(q, name->base + PREFIX_LEN, name->len - PREFIX_LEN, &headers[i].value);
    }
    if (!q->present)
        q->seen = 0;
    return q->present;
}

void quota_merge(struct quota *state, const struct quota *latest)
{
    if (!latest->present)
        return;
    struct quota old = *state;
    *state = *latest;
    if (!latest->extra_usage.present)
        state->extra_usage = old.extra_usage;
    /* windows the latest answer did not state are kept, the least recently seen dropped first */
    for (size_t i = 0; i < old.num_windows; i++) {
        if (quota_find_window(latest, old.windows[i].name) != NULL)
            continue;
        if (state->num_windows < QUOTA_MAX_WINDOWS) {
            state->windows[state->num_windows++] = old.windows[i];
            continue;
        }
        size_t oldest = 0;
        for (size_t j = 1; j < state->num_windows; j++)
            if (state->windows[j].seen < state->windows[oldest].seen)
                oldest = j;
        if (state->windows[oldest].seen < old.windows[i].seen)
            state->windows[oldest] = old.windows[i];
    }
}

const char *quota_status_name(enum quota_status s)
{
    switch (s) {
    case QUOTA_STATUS_ALLOWED: return "allowed";
    case QUOTA_STATUS_ALLOWED_WARNING: return "allowed_warning";
    case QUOTA_STATUS_REJECTED: return "rejected";
    case QUOTA_STATUS_OTHER: return "other";
    default: return NULL;
    }
}

const struct quota_window *quota_find_window(const struct quota *q, const char *name)
{
    for (size_t i = 0; i < q->num_windows; i++)
        if (strcmp(q->windows[i].name, name) == 0)
            return &q->windows[i];
    return NULL;
}

int quota_is_plan_limit(const struct quota *q) { return q->present && q->status == QUOTA_STATUS_REJECTED; }

int quota_serving_extra_usage(const struct quota *q)
{
    if (!q->present)
        return 0;
    if (q->extra_usage.in_use)
        return 1;
    return q->status == QUOTA_STATUS_REJECTED &&
           (q->extra_usage.status == QUOTA_STATUS_ALLOWED || q->extra_usage.status == QUOTA_STATUS_ALLOWED_WARNING);
}

int64_t quota_limit_reset(const struct quota *q, const char **window)
{
    int64_t latest = 0;
    for (size_t i = 0; i < q->num_windows; i++) {
        const struct quota_window *w = &q->windows[i];
        if (w->status == QUOTA_STATUS_REJECTED && w->reset > latest) {
            latest = w->reset;
            *window = w->name;
        }
    }
    if (latest == 0 && q->reset != 0) {
        latest = q->reset;
        *window = "unified";
    }
    return latest;
}

int quota_classify_needs_body(int status, const struct quota *q)
{
    return (status == 429 && !quota_is_plan_limit(q)) || status == 400;
}

/* The phrases of answers that need extra usage (case as Anthropic writes them varies):
 * "Extra usage is required for long context requests." and, once it ran out, "You're out of
 * extra usage. Add more at claude.ai/settings/usage". */
static int says_extra_usage_required(const char *body, size_t len)
{
    char text[CLASSIFY_BODY_MAX + 1];
    size_t n = len < CLASSIFY_BODY_MAX ? len : CLASSIFY_BODY_MAX;
    for (size_t i = 0; i < n; i++)
        text[i] = body[i] == '\0' ? ' ' : body[i];
    text[n] = '\0';
    return strcasestr(text, "extra usage is required") != NULL || strcasestr(text, "out of extra usage") != NULL;
}

enum quota_answer_kind quota_classify(int status, const struct quota *q, const char *body, size_t len)
{
    if (status == 429) {
        if (quota_is_plan_limit(q))
            return QUOTA_ANSWER_PLAN_LIMIT;
        return body != NULL && says_extra_usage_required(body, len) ? QUOTA_ANSWER_EXTRA_USAGE_REQUIRED
                                                                    : QUOTA_ANSWER_THROTTLE;
    }
    if (status == 400 && body != NULL && says_extra_usage_required(body, len))
        return QUOTA_ANSWER_EXTRA_USAGE_REQUIRED;
    return QUOTA_ANSWER_OTHER;
}

const char *quota_answer_kind_name(enum quota_answer_kind k)
{
    switch (k) {
    case QUOTA_ANSWER_PLAN_LIMIT: return "plan_limit";
    case QUOTA_ANSWER_THROTTLE: return "throttle";
    case QUOTA_ANSWER_EXTRA_USAGE_REQUIRED: return "extra_usage_required";
    default: return "other";
    }
}
