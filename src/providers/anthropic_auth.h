/* Which credential goes to Anthropic, and the anthropic-beta list that goes with it. */
#ifndef CP_ANTHROPIC_AUTH_H
#define CP_ANTHROPIC_AUTH_H
#include <stddef.h>
#include "common/sbuf.h"

#define OAUTH_BETA "oauth-2025-04-20"

enum credential_kind {
    CREDENTIAL_NONE,
    CREDENTIAL_OAUTH,   /* sk-ant-oat...: Authorization: Bearer + the OAuth beta */
    CREDENTIAL_API_KEY, /* sk-ant-api...: x-api-key */
    CREDENTIAL_OTHER,   /* something else (a gateway key): passed on as the client sent it */
};

enum credential_kind credential_classify(const char *value, size_t len);

struct credential {
    enum credential_kind kind;
    const char *value;
    size_t len;
    int as_bearer; /* for CREDENTIAL_OTHER: 1 if it came as Authorization: Bearer */
};

/* Picks the credential for the upstream request: the client's OAuth token (Bearer or
 * x-api-key), else the client's API key, else the configured token, else whatever the client
 * sent. `authorization` and `x_api_key` are the client's header values (NULL if absent). */
struct credential credential_select(const char *authorization, size_t authorization_len, const char *x_api_key,
                                    size_t x_api_key_len, const char *configured_token);

/* Appends to out the comma-separated union of `existing` (the client's anthropic-beta, may be
 * NULL) and `add` (may be NULL), keeping the client's order, dropping duplicates and blanks. */
void beta_merge(sbuf *out, const char *existing, size_t existing_len, const char *add);

#endif
