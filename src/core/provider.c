/* What the engine asks of every provider, whatever its type: which type a config names, and
 * whether a status is one its fallback_on lists. */
#include <string.h>
#include "core/provider.h"

static const struct provider_ops *const *registered_types;

void provider_types_register(const struct provider_ops *const *types)
{
    registered_types = types;
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
