/* The Bedrock account's system-defined inference profiles, as Claude Code discovers them before
 * its first turn: ListInferenceProfiles (GET /inference-profiles?type=SYSTEM_DEFINED on the
 * control plane, SigV4 service "bedrock", paginated with nextToken/maxResults), when a provider
 * starts and then every `refresh_s`, without blocking the loop.
 *
 * The last good listing is kept per provider name, region and endpoint for the life of the
 * process: a config reload lists again (credentials or access may have changed, which is why
 * people reload) but requests meanwhile keep using the previous listing instead of waiting. A
 * listing that is refused or fails leaves the previous one in use, or none (the static table). */
#ifndef CP_BEDROCK_PROFILES_H
#define CP_BEDROCK_PROFILES_H
#include <h2o.h>
#include <stdint.h>
#include <time.h>
#include "aws/credentials.h"
#include "common/sbuf.h"

struct bedrock_profiles;
struct bedrock_profiles_wait;

struct bedrock_profiles_settings {
    const char *name;        /* the provider's: for logs, and the key of the kept listing */
    const char *control_url; /* https://bedrock.{region}.amazonaws.com or an override */
    const char *region;
    const char *ca_file; /* may be NULL */
    uint64_t timeout_ms;
    unsigned refresh_s;     /* between listings (3600) */
    unsigned wait_ms;       /* how long a request may wait for a listing in flight */
    unsigned min_refresh_s; /* between refreshes asked for after a refused id (60) */
};

/* The listing in use. */
struct bedrock_profiles_listing {
    char **ids; /* inference profile ids, every vendor's */
    size_t n;
    time_t listed_at;
    uint64_t serial; /* differs for every listing the process made */
};

/* Starts the first listing. creds must outlive the result. NULL with err on a bad URL. */
struct bedrock_profiles *bedrock_profiles_start(h2o_context_t *ctx, const struct bedrock_profiles_settings *s,
                                                struct aws_cred_source *creds, char *err, size_t errlen);
void bedrock_profiles_free(struct bedrock_profiles *bp);

/* The listing to use, or NULL (none succeeded yet: use the static table). */
const struct bedrock_profiles_listing *bedrock_profiles_current(struct bedrock_profiles *bp);

/* Waits for a listing in flight: the first one (when there is no listing to use yet), one asked
 * for by bedrock_profiles_refresh, or with even_if_listed any one, but never past wait_ms after it
 * started. Returns NULL when there is
 * nothing to wait for (cb is not called), else a handle; cb runs once from the loop. */
typedef void (*bedrock_profiles_cb)(void *ud);
struct bedrock_profiles_wait *bedrock_profiles_wait(struct bedrock_profiles *bp, int even_if_listed,
                                                    bedrock_profiles_cb cb, void *ud);
void bedrock_profiles_wait_cancel(struct bedrock_profiles_wait *w);

/* Bedrock refused an id as invalid: list again, unless the last such refresh was less than
 * min_refresh_s ago. Returns 1 if a listing is now in flight (worth waiting for), else 0. */
int bedrock_profiles_refresh(struct bedrock_profiles *bp);

/* 1 while a listing is in flight. */
int bedrock_profiles_in_flight(struct bedrock_profiles *bp);

/* How many of the listed ids are Claude profiles ("<prefix>.anthropic.*"). */
size_t bedrock_profiles_count_claude(const struct bedrock_profiles_listing *l);
/* Why the last listing failed (refused, unreachable...), or NULL when it worked. */
const char *bedrock_profiles_error(struct bedrock_profiles *bp);

/* "model_ids":{...} for /health: "listed" with the count and time, or "static" and why. */
void bedrock_profiles_describe(struct bedrock_profiles *bp, sbuf *json_members);

/* Parses one ListInferenceProfiles page: appends the ids to *ids (n of them, realloc'd) and
 * sets *next_token (malloc'd) when there is another page. Returns 0 or -1 with err. */
int bedrock_profiles_parse_page(const char *json, size_t len, char ***ids, size_t *n, char **next_token, char *err,
                                size_t errlen);

#endif
