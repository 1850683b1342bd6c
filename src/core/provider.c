/* What the engine asks of every provider, whatever its type: which type a config names, whether
 * a status is one its fallback_on lists, whether it can serve now, and the retry every provider
 * makes when the upstream refuses another model's thinking signatures. */
#include <string.h>
#include "core/provider.h"
#include "core/thinking_blocks.h"

static const struct provider_ops *const *registered_types;

void provider_types_register(const struct provider_ops *const *types) { registered_types = types; }

void upstream_request_join_body(struct upstream_request *ur)
{
    if (ur->nbody_parts == 0)
        return;
    sbuf joined = SBUF_INIT;
    sbuf_reserve(&joined, ur->body.len);
    for (size_t i = 0; i < ur->nbody_parts; i++)
        sbuf_append(&joined, ur->body_parts[i].iov_base, ur->body_parts[i].iov_len);
    sbuf_free(&ur->owned_body); /* after the parts that pointed into it were copied */
    ur->owned_body = joined;
    ur->body = h2o_iovec_init(ur->owned_body.data, ur->owned_body.len);
    ur->nbody_parts = 0;
}

const struct provider_ops *provider_ops_find(const char *type)
{
    for (size_t i = 0; registered_types != NULL && registered_types[i] != NULL; i++)
        if (strcmp(registered_types[i]->type, type) == 0)
            return registered_types[i];
    return NULL;
}

int provider_should_fallback_status(const struct provider *p, int status)
{
    if (status == 429) /* some kind of 429 at least (which ones: the FALLBACK_429_KINDS flags) */
        return (p->fallback_flags & FALLBACK_429_KINDS) != 0;
    if ((p->fallback_flags & FALLBACK_5XX) && status >= 500 && status <= 599)
        return 1;
    for (size_t i = 0; i < p->num_fallback_statuses; i++)
        if (p->fallback_statuses[i] == status)
            return 1;
    return 0;
}

const char *provider_problem(struct provider *p) { return p->ops->problem != NULL ? p->ops->problem(p) : NULL; }

int provider_thinking_refused(const struct client_request *cr, int status, const char *body, size_t len,
                              enum provider_retry *verdict)
{
    if (!thinking_blocks_signature_refused(status, body, len))
        return 0;
    int retried = cr->without_thinking || cr->endpoint == ENDPOINT_PASSTHROUGH;
    *verdict = retried ? PROVIDER_RETRY_NO : PROVIDER_RETRY_WITHOUT_THINKING;
    return 1;
}

enum provider_retry provider_retry_on_thinking(struct provider *p, const struct client_request *cr,
                                               const struct upstream_request *ur, int status,
                                               const h2o_header_t *headers, size_t num_headers, const char *body,
                                               size_t len)
{
    (void)p, (void)ur, (void)headers, (void)num_headers;
    enum provider_retry verdict = PROVIDER_RETRY_NO;
    provider_thinking_refused(cr, status, body, len, &verdict);
    return verdict;
}
