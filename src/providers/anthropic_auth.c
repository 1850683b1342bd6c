#include "providers/anthropic_auth.h"
#include <string.h>
#include <strings.h>
#include "common/comma_list.h"

static int has_prefix(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

enum credential_kind credential_classify(const char *value, size_t len)
{
    if (value == NULL || len == 0)
        return CREDENTIAL_NONE;
    if (has_prefix(value, len, "sk-ant-oat"))
        return CREDENTIAL_OAUTH;
    if (has_prefix(value, len, "sk-ant-api"))
        return CREDENTIAL_API_KEY;
    return CREDENTIAL_OTHER;
}

/* "Bearer xyz" -> "xyz"; anything else -> NULL. */
static const char *bearer_value(const char *h, size_t len, size_t *out_len)
{
    if (h == NULL || len < 7 || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    len -= 7;
    while (len > 0 && *h == ' ')
        h++, len--;
    while (len > 0 && h[len - 1] == ' ')
        len--;
    *out_len = len;
    return len ? h : NULL;
}

struct credential credential_select(const char *authorization, size_t authorization_len, const char *x_api_key,
                                    size_t x_api_key_len, const char *configured_token)
{
    struct credential none = {CREDENTIAL_NONE, NULL, 0, 0};
    size_t blen = 0;
    const char *bearer = bearer_value(authorization, authorization_len, &blen);
    enum credential_kind bearer_kind = credential_classify(bearer, blen);
    enum credential_kind key_kind = credential_classify(x_api_key, x_api_key_len);

    if (bearer_kind == CREDENTIAL_OAUTH)
        return (struct credential){CREDENTIAL_OAUTH, bearer, blen, 1};
    if (key_kind == CREDENTIAL_OAUTH)
        return (struct credential){CREDENTIAL_OAUTH, x_api_key, x_api_key_len, 1};
    if (key_kind == CREDENTIAL_API_KEY)
        return (struct credential){CREDENTIAL_API_KEY, x_api_key, x_api_key_len, 0};
    if (bearer_kind == CREDENTIAL_API_KEY)
        return (struct credential){CREDENTIAL_API_KEY, bearer, blen, 0};
    if (configured_token != NULL && configured_token[0] != '\0') {
        size_t n = strlen(configured_token);
        enum credential_kind k = credential_classify(configured_token, n);
        return (struct credential){k == CREDENTIAL_API_KEY ? k : CREDENTIAL_OAUTH, configured_token, n,
                                   k != CREDENTIAL_API_KEY};
    }
    if (bearer_kind == CREDENTIAL_OTHER)
        return (struct credential){CREDENTIAL_OTHER, bearer, blen, 1};
    if (key_kind == CREDENTIAL_OTHER)
        return (struct credential){CREDENTIAL_OTHER, x_api_key, x_api_key_len, 0};
    return none;
}

struct merge_ctx {
    sbuf *out;
    size_t start; /* where the merged list begins in out */
};

static void merge_one(void *ud, const char *item, size_t len)
{
    struct merge_ctx *m = ud;
    const char *merged = m->out->data ? m->out->data + m->start : "";
    size_t merged_len = m->out->len - m->start;
    if (comma_list_has(merged, merged_len, item, len, COMMA_LIST_EXACT))
        return;
    if (merged_len)
        sbuf_putc(m->out, ',');
    sbuf_append(m->out, item, len);
}

void beta_merge(sbuf *out, const char *existing, size_t existing_len, const char *add)
{
    struct merge_ctx m = {out, out->len};
    comma_list_each(existing, existing_len, merge_one, &m);
    if (add != NULL)
        comma_list_each(add, strlen(add), merge_one, &m);
}
