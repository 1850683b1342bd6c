/* AWS credentials for the Bedrock provider, resolved as the AWS CLI does:
 *   1. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN)
 *   2. the profile (the config's `profile`, else AWS_PROFILE, else "default") in the shared
 *      credentials file (AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials) and config file
 *      (AWS_CONFIG_FILE, ~/.aws/config, sections [profile NAME]); credentials-file keys win:
 *      static keys, a source_profile chain to static keys, or credential_process
 *      (run without blocking the loop, cached until 5 minutes before its Expiration).
 * SSO profiles: set `credential_process = aws configure export-credentials --profile P
 * --format process`. role_arn (STS AssumeRole) is not supported. Secrets never reach logs. */
#ifndef CP_AWS_CREDENTIALS_H
#define CP_AWS_CREDENTIALS_H
#include <time.h>
#include <uv.h>

struct aws_creds {
    char *access_key_id, *secret_access_key, *session_token; /* session_token may be NULL */
    time_t expiration;                                       /* 0: none */
};

struct aws_cred_source;
struct aws_creds_wait;

/* profile: NULL for AWS_PROFILE / "default". */
struct aws_cred_source *aws_cred_source_new(uv_loop_t *loop, const char *profile, unsigned process_timeout_ms);
/* Why the source cannot give credentials now (NULL when it can, or may after a retry). */
const char *aws_cred_source_problem(struct aws_cred_source *s);
/* "env", "profile:NAME", "process:NAME" or "none" */
const char *aws_cred_source_kind(struct aws_cred_source *s);

/* creds is valid only during the call; NULL on failure with err set. */
typedef void (*aws_creds_cb)(void *ud, const struct aws_creds *creds, const char *err);
/* Calls cb before returning (and returns NULL) when the answer is at hand; otherwise returns a
 * handle and calls cb later from the loop, unless the handle is cancelled first. */
struct aws_creds_wait *aws_cred_source_get(struct aws_cred_source *s, aws_creds_cb cb, void *ud);
void aws_creds_wait_cancel(struct aws_creds_wait *w);
/* Safe while a credential_process runs: it is killed and freed once its handles are closed. */
void aws_cred_source_free(struct aws_cred_source *s);

/* Region: configured, else AWS_REGION, else AWS_DEFAULT_REGION, else the profile's region,
 * else us-west-2; values with '/', '.' or spaces are ignored. malloc'd. */
char *aws_resolve_region(const char *configured, const char *profile);

/* Parses credential_process output; returns 0 or -1 with err. (Exposed for tests.) */
int aws_parse_process_output(const char *json, size_t len, struct aws_creds *out, char *err, size_t errlen);
void aws_creds_clear(struct aws_creds *c);

#endif
