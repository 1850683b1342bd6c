/* The provider types this binary knows. */
#include <stddef.h>
#include "providers/registry.h"

const struct provider_ops *const provider_types[] = {
    &provider_anthropic,
    &provider_bedrock,
    NULL,
};
