/* Anthropic's subscription quota, as its `anthropic-ratelimit-unified-*` response headers state it
 * (undocumented; seen on OAuth traffic, see tests/data/quota/README.md): an overall status, the
 * windows the headers name (5h, 7d, model-specific ones such as 7d_oi, read generically by
 * name), and the extra-usage ("overage") state. A parser over H2O headers and what it fills; it
 * knows nothing of providers or the config. */
#ifndef CP_QUOTA_H
#define CP_QUOTA_H
#include <h2o.h>
#include <stdint.h>
#include <time.h>

#define QUOTA_MAX_WINDOWS 8
#define QUOTA_WINDOW_NAME_MAX 24

enum quota_status {
    QUOTA_STATUS_NONE = 0, /* not stated */
    QUOTA_STATUS_ALLOWED,
    QUOTA_STATUS_ALLOWED_WARNING,
    QUOTA_STATUS_REJECTED,
    QUOTA_STATUS_OTHER, /* a value this version does not know */
};

struct quota_window {
    char name[QUOTA_WINDOW_NAME_MAX]; /* as the headers spell it: "5h", "7d", "7d_oi", ... */
    double utilization;               /* fraction of the window used; may exceed 1 */
    int has_utilization;
    int64_t reset; /* epoch seconds; 0 if not stated */
    enum quota_status status;
    time_t seen; /* when an answer last stated it (kept per window when snapshots are merged) */
};

struct quota_extra_usage {
    int present; /* any -overage-* header */
    enum quota_status status;
    int in_use; /* -overage-in-use: true (answers are billed as extra usage) */
    double utilization;
    int has_utilization;
    int64_t reset;
    char disabled_reason[48];
};

struct quota {
    int present; /* any anthropic-ratelimit-unified-* header */
    enum quota_status status;
    char representative_claim[32]; /* five_hour, seven_day, ... ("" if not stated) */
    int64_t reset;                 /* -reset: epoch seconds, 0 if not stated */
    double fallback_percentage;
    int has_fallback_percentage;
    struct quota_window windows[QUOTA_MAX_WINDOWS];
    size_t num_windows;
    struct quota_extra_usage extra_usage;
    time_t seen; /* when an answer last carried the headers */
};

/* Fills q (zeroed first) from one answer's headers; returns q->present. `now` becomes q->seen. */
int quota_parse(const h2o_header_t *headers, size_t num_headers, time_t now, struct quota *q);
/* Merges a newer snapshot into the state kept for a provider: the overall fields and extra
 * usage are replaced (extra usage only when the answer stated it), windows are updated by name
 * and the others kept (a model's weekly window is stated only on answers for that model). */
void quota_merge(struct quota *state, const struct quota *latest);

const char *quota_status_name(enum quota_status s); /* "allowed", ..., NULL for NONE */
const struct quota_window *quota_find_window(const struct quota *q, const char *name);

/* The plan's own limit is reached: the overall status is rejected. */
int quota_is_plan_limit(const struct quota *q);
/* Answers are being served as extra usage: -overage-in-use says so, or the plan is rejected
 * while extra usage is allowed (the test Claude Code itself applies). */
int quota_serving_extra_usage(const struct quota *q);
/* When the plan limit lifts: the latest reset among rejected windows (the limits all apply, so
 * the last one to reopen decides), else -reset. 0 if unknown. *window names the window (or
 * "unified"). */
int64_t quota_limit_reset(const struct quota *q, const char **window);

/* What an error answer of an Anthropic provider means for the fallback. */
enum quota_answer_kind {
    QUOTA_ANSWER_OTHER = 0,           /* not a limit (relayed as any other error) */
    QUOTA_ANSWER_PLAN_LIMIT,          /* 429, quota headers say rejected */
    QUOTA_ANSWER_THROTTLE,            /* 429 that is not the plan limit: a short server throttle */
    QUOTA_ANSWER_EXTRA_USAGE_REQUIRED /* 429 or 400 "Extra usage is required ..." */
};
/* Classifies an answer from its status, parsed headers and (error) body. A 429 that is not a
 * plan limit needs the body to tell a throttle from "extra usage is required"; so does a 400. */
enum quota_answer_kind quota_classify(int status, const struct quota *q, const char *body, size_t len);
/* 1 if classifying this status needs the body (see quota_classify). */
int quota_classify_needs_body(int status, const struct quota *q);
const char *quota_answer_kind_name(enum quota_answer_kind k); /* the fallback_on names */

#endif
