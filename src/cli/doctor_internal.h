/* What the files of `claude-proxy doctor` share: doctor.c runs the checks and says what they
 * found; doctor_anthropic.c checks an Anthropic provider, doctor_bedrock.c a Bedrock one (and
 * probes it with --probe); doctor_answer.c sends their requests and keeps the answers;
 * doctor_report.c formats the report. Each check starts its requests (doctor_fetch), doctor.c runs
 * the loop until none is pending, then each check reports. */
#ifndef CP_DOCTOR_INTERNAL_H
#define CP_DOCTOR_INTERNAL_H
#include <h2o.h>
#include <time.h>
#include "aws/request.h"
#include "common/http_fetch.h"
#include "common/json_scan.h"
#include "common/redact.h"
#include "common/sbuf.h"
#include "common/upstream.h"
#include "core/config.h"
#include "core/provider.h"
#include "providers/bedrock.h"
#include "cli/doctor_report.h"

#define DEFAULT_MODEL "claude-sonnet-5-5"
#define MAX_MODELS 16
#define MAX_ANSWER (256 * 1024)

struct doctor {
    uv_loop_t loop;
    h2o_globalconf_t globalconf;
    h2o_context_t ctx;
    struct proxy_config *cfg;
    struct doctor_report *report;
    int probe, json;
    const char *models[MAX_MODELS];
    size_t num_models;
    int pending; /* async checks under way */
};

/* One answer of an upstream, copied out of the fetch's callback. */
struct answer {
    int done, status;
    char err[300];
    char error_type[80]; /* x-amzn-errortype, without its ":http..." tail */
    sbuf body;
    char unified[16][2][64]; /* anthropic-ratelimit-unified-* headers: name tail, value */
    size_t num_unified;
};

/* A request under way: the answer it fills (see doctor_bedrock.c for a second use). */
struct fetch_job {
    struct doctor *d;
    struct answer *a;
};

/* doctor_answer.c. Copies what a fetch's callback got into a (the result lives only during the callback). */
void doctor_answer_take(struct answer *a, const struct http_fetch_result *r);
/* Sends head (and body) on u; the answer lands in a once the loop has run it (d->pending says). */
void doctor_fetch(struct doctor *d, struct upstream *u, sbuf *head, const char *body, size_t len, struct answer *a);
/* The message of an error answer: Anthropic's error.message, AWS's message / Message, STS's
 * <Message>, else the start of the body. */
void doctor_answer_message(const struct answer *a, char *out, size_t outlen);

/* doctor_anthropic.c: count_tokens with the provider's token (and a one-token request with
 * --probe), then what they said. */
struct anthropic_check {
    struct provider *p;
    struct answer count, probe;
};
void doctor_anthropic_start(struct doctor *d, struct anthropic_check *ac);
/* Returns 1 if the provider is usable. */
int doctor_anthropic_report(struct doctor *d, struct anthropic_check *ac);

/* doctor_bedrock.c: the credentials and STS GetCallerIdentity, the listing, each model's route and
 * id, and with --probe a one-token request per model through the provider's own request path. */
struct model_check {
    const char *model;
    char id[256], route[32], err[400];
    char later[64]; /* the model's other routes, in order */
    int listed;     /* 1 the listing has the id, 0 not, -1 nothing to compare with */
    /* --probe */
    struct bedrock_check *bc;
    struct doctor *d;
    int tries, done, status;
    char served_route[32], served_id[256], refusal[1000];
    char first_refusal[1000]; /* what the first route answered, when a later one served */
    h2o_req_t *req;
    struct client_request cr;
    struct json_object_scan *scan;
    sbuf body;
    struct upstream_request ur;
};

struct bedrock_check {
    struct provider *p;
    struct bedrock_facts f;
    int creds_done, creds_ok;
    char creds_err[400], access_key[REDACT_BUFSZ];
    time_t expiration;
    int has_session;
    char sts_url[512];
    struct answer sts;
    struct model_check models[MAX_MODELS];
};
void doctor_bedrock_start(struct doctor *d, struct bedrock_check *bc);
/* Once the credentials and the listing are in: each model's route plan. */
void doctor_bedrock_resolve_models(struct doctor *d, struct bedrock_check *bc);
void doctor_bedrock_start_probe(struct doctor *d, struct model_check *mc);
/* Reports the provider's section and frees its probes. Returns 1 if it serves Claude Code's
 * default model; *usable: its identity checked out. */
int doctor_bedrock_report(struct doctor *d, struct bedrock_check *bc, int *usable);

#endif
