/* The provider types this binary knows: one line here and one `const struct provider_ops` per
 * provider. main hands the table to provider_types_register (core/provider.h). */
#ifndef CP_PROVIDER_REGISTRY_H
#define CP_PROVIDER_REGISTRY_H
#include "core/provider.h"

extern const struct provider_ops provider_anthropic;
extern const struct provider_ops provider_bedrock;

/* NULL-terminated. */
extern const struct provider_ops *const provider_types[];

#endif
