#ifndef CP_PROVIDERS_ANTHROPIC_H
#define CP_PROVIDERS_ANTHROPIC_H

/* What `claude-proxy doctor` reads of an Anthropic provider (after start): never a secret but the
 * token it shows as its last characters. */
struct provider;
struct upstream;
const char *provider_anthropic_token(const struct provider *p); /* NULL: the client's own login */
struct upstream *provider_anthropic_upstream(const struct provider *p);

#endif
