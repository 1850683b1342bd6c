#include "core/provider_state.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/log.h"
#include "common/memory.h"

static struct provider_state *all_states;

uint64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct provider_state *provider_state_get(const char *name)
{
    for (struct provider_state *s = all_states; s != NULL; s = s->next)
        if (strcmp(s->name, name) == 0)
            return s;
    struct provider_state *s = xcalloc(1, sizeof(*s));
    s->name = xstrdup(name);
    s->next = all_states;
    all_states = s;
    return s;
}

int provider_state_is_cooling(struct provider_state *s, uint64_t now_ms)
{
    if (s->cooling_until_ms == 0)
        return 0;
    if (now_ms >= s->cooling_until_ms) {
        /* the end of a cooldown is a transition too: one line, when it is first noticed */
        log_info("%s: cooldown over (%s), back in the chain", s->name, s->reason);
        s->cooling_until_ms = 0;
        s->cooling_until_wall = 0;
        s->reason[0] = '\0';
        return 0;
    }
    return 1;
}

int provider_state_cool(struct provider_state *s, uint64_t now_ms, unsigned seconds, const char *reason)
{
    int was_cooling = provider_state_is_cooling(s, now_ms);
    uint64_t until = now_ms + (uint64_t)seconds * 1000;
    if (was_cooling && until <= s->cooling_until_ms)
        return 0;
    s->cooling_until_ms = until;
    s->cooling_until_wall = time(NULL) + (time_t)seconds;
    snprintf(s->reason, sizeof(s->reason), "%s", reason);
    return !was_cooling;
}

void provider_state_free_all(void)
{
    while (all_states != NULL) {
        struct provider_state *next = all_states->next;
        free(all_states->name);
        free(all_states);
        all_states = next;
    }
}
