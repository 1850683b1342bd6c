/* The quota parser and answer classifier against header sets captured from real answers
 * (tests/data/quota/README.md says where each comes from). */
#include <math.h>
#include "check.h"
#include "core/quota.h"

#define NOW 1785500000

/* Headers from a tests/data/quota file named .headers ("name: value" lines). */
struct header_set {
    char *text;
    h2o_iovec_t names[64];
    h2o_header_t headers[64];
    size_t n;
};

static int load(struct header_set *hs, const char *file)
{
    char rel[256];
    snprintf(rel, sizeof(rel), "quota/%s", file);
    memset(hs, 0, sizeof(*hs));
    if ((hs->text = check_read_data(rel, NULL)) == NULL) {
        fprintf(stderr, "cannot read %s\n", rel);
        return -1;
    }
    for (char *line = strtok(hs->text, "\n"); line != NULL && hs->n < 64; line = strtok(NULL, "\n")) {
        char *colon = strchr(line, ':');
        if (colon == NULL)
            continue;
        char *value = colon + 1;
        while (*value == ' ')
            value++;
        hs->names[hs->n] = h2o_iovec_init(line, (size_t)(colon - line));
        hs->headers[hs->n].name = &hs->names[hs->n];
        hs->headers[hs->n].value = h2o_iovec_init(value, strlen(value));
        hs->n++;
    }
    return 0;
}

static int parse_file(const char *file, struct quota *q)
{
    struct header_set hs;
    if (load(&hs, file) != 0)
        return -1;
    int r = quota_parse(hs.headers, hs.n, NOW, q);
    free(hs.text);
    return r;
}

static char *body(const char *file, size_t *len)
{
    char rel[256];
    snprintf(rel, sizeof(rel), "quota/%s", file);
    return check_read_data(rel, len);
}

static int near(double a, double b) { return fabs(a - b) < 1e-9; }

static void test_allowed(void)
{
    struct quota q;
    CHECK_INT_EQ(parse_file("allowed.headers", &q), 1);
    CHECK_INT_EQ(q.status, QUOTA_STATUS_ALLOWED);
    CHECK_STR_EQ(q.representative_claim, "five_hour");
    CHECK_INT_EQ(q.reset, 1785684600);
    CHECK_INT_EQ(q.seen, NOW);
    CHECK(q.has_fallback_percentage && near(q.fallback_percentage, 0.5));
    CHECK_INT_EQ(q.num_windows, 2);
    const struct quota_window *w5 = quota_find_window(&q, "5h"), *w7 = quota_find_window(&q, "7d");
    CHECK(w5 != NULL && w7 != NULL);
    if (w5 && w7) {
        CHECK(w5->has_utilization && near(w5->utilization, 0.13));
        CHECK_INT_EQ(w5->reset, 1785684600);
        CHECK_INT_EQ(w5->status, QUOTA_STATUS_ALLOWED);
        CHECK(near(w7->utilization, 0.1));
        CHECK_INT_EQ(w7->reset, 1786017600);
    }
    CHECK(q.extra_usage.present);
    CHECK_INT_EQ(q.extra_usage.status, QUOTA_STATUS_REJECTED);
    CHECK_STR_EQ(q.extra_usage.disabled_reason, "org_level_disabled");
    CHECK(!q.extra_usage.in_use);
    CHECK(!quota_is_plan_limit(&q));
    CHECK(!quota_serving_extra_usage(&q));
}

static void test_allowed_warning_model_window(void)
{
    struct quota q;
    CHECK_INT_EQ(parse_file("allowed-warning-fable.headers", &q), 1);
    CHECK_INT_EQ(q.status, QUOTA_STATUS_ALLOWED_WARNING);
    CHECK_STR_EQ(quota_status_name(q.status), "allowed_warning");
    CHECK_INT_EQ(q.num_windows, 3);
    const struct quota_window *oi = quota_find_window(&q, "7d_oi");
    CHECK(oi != NULL && oi->status == QUOTA_STATUS_ALLOWED_WARNING && near(oi->utilization, 0.78) &&
          oi->reset == 1784379600);
    CHECK(!q.extra_usage.present);
    CHECK(!quota_is_plan_limit(&q));
}

static void test_rejected_with_retry_after(void)
{
    struct quota q;
    CHECK_INT_EQ(parse_file("rejected-5h.headers", &q), 1);
    CHECK(quota_is_plan_limit(&q));
    const struct quota_window *w5 = quota_find_window(&q, "5h");
    CHECK(w5 != NULL && w5->status == QUOTA_STATUS_REJECTED && near(w5->utilization, 1.01));
    const char *window = NULL;
    CHECK_INT_EQ(quota_limit_reset(&q, &window), 1785518400);
    CHECK_STR_EQ(window, "5h");
    size_t len;
    char *b = body("plan-limit-429.body", &len);
    CHECK(b != NULL);
    CHECK(!quota_classify_needs_body(429, &q));
    CHECK_INT_EQ(quota_classify(429, &q, b, len), QUOTA_ANSWER_PLAN_LIMIT);
    CHECK_INT_EQ(quota_classify(429, &q, NULL, 0), QUOTA_ANSWER_PLAN_LIMIT);
    CHECK_STR_EQ(quota_answer_kind_name(QUOTA_ANSWER_PLAN_LIMIT), "plan_limit");
    free(b);
}

/* A plan-limit 429 without retry-after: the rejected window's reset is when it lifts (not the
 * 5h window's, which is allowed). */
static void test_rejected_model_window_without_retry_after(void)
{
    struct quota q;
    CHECK_INT_EQ(parse_file("rejected-7d_oi-no-retry-after.headers", &q), 1);
    CHECK(quota_is_plan_limit(&q));
    const char *window = NULL;
    CHECK_INT_EQ(quota_limit_reset(&q, &window), 1785736800);
    CHECK_STR_EQ(window, "7d_oi");
    const struct quota_window *w7 = quota_find_window(&q, "7d");
    CHECK(w7 != NULL && w7->status == QUOTA_STATUS_ALLOWED_WARNING);
    CHECK_INT_EQ(quota_classify(429, &q, NULL, 0), QUOTA_ANSWER_PLAN_LIMIT);
}

/* Several windows rejected: the latest reset decides (every limit applies). */
static void test_latest_rejected_reset(void)
{
    struct quota q;
    CHECK_INT_EQ(parse_file("rejected-5h.headers", &q), 1);
    struct quota_window *w7 = (struct quota_window *)quota_find_window(&q, "7d");
    w7->status = QUOTA_STATUS_REJECTED;
    const char *window = NULL;
    CHECK_INT_EQ(quota_limit_reset(&q, &window), 1785909600);
    CHECK_STR_EQ(window, "7d");
}

static void test_extra_usage(void)
{
    struct quota q;
    CHECK_INT_EQ(parse_file("overage-in-use.headers", &q), 1);
    CHECK_INT_EQ(q.status, QUOTA_STATUS_ALLOWED);
    CHECK_INT_EQ(q.num_windows, 0);
    CHECK(q.extra_usage.present && q.extra_usage.in_use);
    CHECK_INT_EQ(q.extra_usage.status, QUOTA_STATUS_ALLOWED);
    CHECK(q.extra_usage.has_utilization && near(q.extra_usage.utilization, 0));
    CHECK_INT_EQ(q.extra_usage.reset, 1793491200);
    CHECK(quota_serving_extra_usage(&q));
    const char *window = NULL;
    CHECK_INT_EQ(quota_limit_reset(&q, &window), 1793491200);
    CHECK_STR_EQ(window, "unified");

    /* rejected plan while extra usage is allowed: served as extra usage too */
    q.extra_usage.in_use = 0;
    CHECK(!quota_serving_extra_usage(&q));
    q.status = QUOTA_STATUS_REJECTED;
    CHECK(quota_serving_extra_usage(&q));

    /* extra usage switched off by an admin: a plan limit, not extra usage */
    CHECK_INT_EQ(parse_file("overage-disabled-429.headers", &q), 1);
    CHECK(quota_is_plan_limit(&q));
    CHECK(!quota_serving_extra_usage(&q));
    CHECK_STR_EQ(q.extra_usage.disabled_reason, "member_zero_credit_limit");
    CHECK_INT_EQ(quota_classify(429, &q, NULL, 0), QUOTA_ANSWER_PLAN_LIMIT);
}

static void test_throttle_and_extra_usage_required(void)
{
    struct quota q;
    CHECK_INT_EQ(parse_file("throttle-429.headers", &q), 0);
    CHECK(!q.present);
    CHECK(quota_classify_needs_body(429, &q));
    size_t len;
    char *b = body("throttle-429.body", &len);
    CHECK_INT_EQ(quota_classify(429, &q, b, len), QUOTA_ANSWER_THROTTLE);
    free(b);
    b = body("extra-usage-required-429.body", &len);
    CHECK_INT_EQ(quota_classify(429, &q, b, len), QUOTA_ANSWER_EXTRA_USAGE_REQUIRED);
    CHECK_INT_EQ(quota_classify(400, &q, b, len), QUOTA_ANSWER_EXTRA_USAGE_REQUIRED);
    CHECK_INT_EQ(quota_classify(500, &q, b, len), QUOTA_ANSWER_OTHER);
    free(b);
    b = body("out-of-extra-usage-400.body", &len);
    CHECK(quota_classify_needs_body(400, &q));
    CHECK_INT_EQ(quota_classify(400, &q, b, len), QUOTA_ANSWER_EXTRA_USAGE_REQUIRED);
    free(b);
    const char plain400[] =
        "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"max_tokens\"}}";
    CHECK_INT_EQ(quota_classify(400, &q, plain400, sizeof(plain400) - 1), QUOTA_ANSWER_OTHER);
    /* a 429 whose quota headers say allowed is no plan limit: a throttle unless the body says otherwise */
    CHECK_INT_EQ(parse_file("allowed.headers", &q), 1);
    CHECK(quota_classify_needs_body(429, &q));
    CHECK_INT_EQ(quota_classify(429, &q, plain400, sizeof(plain400) - 1), QUOTA_ANSWER_THROTTLE);
    /* a body with a NUL in it is still searched past it */
    const char nul[] = "{\"x\":\"\0\",\"message\":\"Extra usage is required\"}";
    CHECK_INT_EQ(quota_classify(429, &q, nul, sizeof(nul) - 1), QUOTA_ANSWER_EXTRA_USAGE_REQUIRED);
}

static void test_unknown_windows(void)
{
    struct quota q;
    CHECK_INT_EQ(parse_file("unknown-windows.headers", &q), 1);
    const struct quota_window *grace = quota_find_window(&q, "grace-5h");
    CHECK(grace != NULL && near(grace->utilization, 0.4) && grace->status == QUOTA_STATUS_NONE);
    const struct quota_window *slow = quota_find_window(&q, "slow");
    CHECK(slow != NULL && slow->status == QUOTA_STATUS_OTHER && !slow->has_utilization);
    const struct quota_window *sonnet = quota_find_window(&q, "7d-sonnet");
    CHECK(sonnet != NULL && sonnet->has_utilization && sonnet->utilization == 0 && !signbit(sonnet->utilization) &&
          sonnet->reset == 1780840800);
    CHECK(quota_find_window(&q, "bad window") == NULL);
    CHECK_INT_EQ(q.num_windows, 4); /* 5h, grace-5h, slow, 7d-sonnet; surpassed-threshold is no window */
    CHECK(q.extra_usage.present && q.extra_usage.status == QUOTA_STATUS_ALLOWED_WARNING);
}

static h2o_header_t hdr(h2o_iovec_t *name, const char *n, const char *v)
{
    *name = h2o_iovec_init(n, strlen(n));
    h2o_header_t h = {name, NULL, h2o_iovec_init(v, strlen(v))};
    return h;
}

static void test_bad_values(void)
{
    h2o_iovec_t names[8];
    h2o_header_t h[] = {
        hdr(&names[0], "Anthropic-Ratelimit-Unified-5H-Utilization", "nan"),
        hdr(&names[1], "anthropic-ratelimit-unified-5h-reset", "soon"),
        hdr(&names[2], "anthropic-ratelimit-unified-7d-utilization", "-0.5"),
        hdr(&names[3], "anthropic-ratelimit-unified-7d-reset", "2026-08-01T12:00:00Z"),
        hdr(&names[4], "anthropic-ratelimit-unified-status", "REJECTED"),
        hdr(&names[5], "anthropic-ratelimit-unified-", "x"),
        hdr(&names[6], "anthropic-ratelimit-unified-representative-claim", "five hour\"}"),
        hdr(&names[7], "anthropic-ratelimit-unified-overage-reset", "1793491200000"),
    };
    struct quota q;
    CHECK_INT_EQ(quota_parse(h, 8, NOW, &q), 1);
    const struct quota_window *w5 = quota_find_window(&q, "5h"), *w7 = quota_find_window(&q, "7d");
    CHECK(w5 != NULL && !w5->has_utilization && w5->reset == 0);
    CHECK(w7 != NULL && !w7->has_utilization && w7->reset == 1785585600);
    CHECK_INT_EQ(q.status, QUOTA_STATUS_OTHER); /* values are case-sensitive, as Anthropic sends them */
    CHECK_STR_EQ(q.representative_claim, "");
    CHECK_INT_EQ(q.extra_usage.reset, 1793491200);

    /* more windows than fit: the first ones are kept, nothing overflows */
    h2o_iovec_t many_names[QUOTA_MAX_WINDOWS + 4];
    h2o_header_t many[QUOTA_MAX_WINDOWS + 4];
    char text[QUOTA_MAX_WINDOWS + 4][64];
    for (int i = 0; i < QUOTA_MAX_WINDOWS + 4; i++) {
        snprintf(text[i], sizeof(text[i]), "anthropic-ratelimit-unified-w%d-utilization", i);
        many[i] = hdr(&many_names[i], text[i], "0.5");
    }
    CHECK_INT_EQ(quota_parse(many, QUOTA_MAX_WINDOWS + 4, NOW, &q), 1);
    CHECK_INT_EQ(q.num_windows, QUOTA_MAX_WINDOWS);
}

/* A Haiku answer states 5h and 7d only: the model window seen on a Fable answer stays. */
static void test_merge(void)
{
    struct quota state = {0}, fable, haiku;
    CHECK_INT_EQ(parse_file("allowed-warning-fable.headers", &fable), 1);
    quota_merge(&state, &fable);
    CHECK_INT_EQ(state.num_windows, 3);
    CHECK_INT_EQ(parse_file("allowed.headers", &haiku), 1);
    haiku.seen = NOW + 60;
    for (size_t i = 0; i < haiku.num_windows; i++)
        haiku.windows[i].seen = NOW + 60;
    quota_merge(&state, &haiku);
    CHECK_INT_EQ(state.status, QUOTA_STATUS_ALLOWED);
    CHECK_INT_EQ(state.seen, NOW + 60);
    CHECK_INT_EQ(state.num_windows, 3);
    const struct quota_window *oi = quota_find_window(&state, "7d_oi"), *w5 = quota_find_window(&state, "5h");
    CHECK(oi != NULL && near(oi->utilization, 0.78) && oi->seen == NOW);
    CHECK(w5 != NULL && near(w5->utilization, 0.13) && w5->seen == NOW + 60);
    CHECK(state.extra_usage.present && state.extra_usage.status == QUOTA_STATUS_REJECTED);
    /* an answer without extra-usage headers keeps the last known extra-usage state */
    quota_merge(&state, &fable);
    CHECK(state.extra_usage.present && state.extra_usage.status == QUOTA_STATUS_REJECTED);
    /* an answer without any quota header changes nothing */
    struct quota none;
    CHECK_INT_EQ(quota_parse(NULL, 0, NOW + 120, &none), 0);
    quota_merge(&state, &none);
    CHECK_INT_EQ(state.status, QUOTA_STATUS_ALLOWED_WARNING);
    CHECK_INT_EQ(state.seen, NOW);
}

int main(void)
{
    test_allowed();
    test_allowed_warning_model_window();
    test_rejected_with_retry_after();
    test_rejected_model_window_without_retry_after();
    test_latest_rejected_reset();
    test_extra_usage();
    test_throttle_and_extra_usage_required();
    test_unknown_windows();
    test_bad_values();
    test_merge();
    CHECK_DONE();
}
