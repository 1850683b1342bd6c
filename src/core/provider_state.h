/* Per-provider state that outlives config reloads (keyed by provider name): cooldown, counters
 * and the last quota the provider's answers stated, shown in /health and / and used to skip a
 * cooling provider. */
#ifndef CP_PROVIDER_STATE_H
#define CP_PROVIDER_STATE_H
#include <stdint.h>
#include <time.h>
#include "core/quota.h"

struct provider_state {
    char *name;
    uint64_t cooling_until_ms; /* monotonic ms; 0 when not cooling */
    time_t cooling_until_wall;
    char reason[160];
    uint64_t requests, fallbacks, errors;
    struct quota quota; /* merged from every answer that carried the quota headers */
    struct provider_state *next;
};

uint64_t monotonic_ms(void);
struct provider_state *provider_state_get(const char *name); /* created on first use */
int provider_state_is_cooling(struct provider_state *s, uint64_t now_ms);
/* Starts (or extends) a cooldown. Returns 1 if this is a new cooldown (the caller logs the
 * transition once), 0 if the provider was already cooling. */
int provider_state_cool(struct provider_state *s, uint64_t now_ms, unsigned seconds, const char *reason);
void provider_state_free_all(void);

#endif
