/* Spend budgets: what each provider's metered answers cost today and this month (local calendar,
 * on usage_clock_ms), loaded from the usage ledger at start so that a restart does not reset it,
 * then added to in memory. A provider whose `budget` is reached is skipped like a cooling one
 * until the day (or month) ends. Keyed by provider name: it outlives config reloads. All calls come
 * from the event loop. */
#ifndef CP_BUDGET_H
#define CP_BUDGET_H
#include <stdint.h>

struct provider;

/* Sums today's and this month's metered spend per provider from the ledger file (if it can be
 * read; a missing file is a zero start). */
void budget_load(const char *ledger_path);
void budget_add_spend(const char *provider, double usd);

struct budget_status {
    double today_usd, month_usd;
    int64_t over_until_ms; /* 0 when under budget, else when the budget that stopped it resets */
    const char *which;     /* "daily" or "monthly" when over */
    double limit_usd;      /* that budget */
};
void budget_get(const struct provider *p, int64_t now_ms, struct budget_status *out);
/* 1 while the provider is over one of its budgets; logs the transitions (one line each way). */
int budget_blocks(const struct provider *p, int64_t now_ms);
void budget_free_all(void);

#endif
