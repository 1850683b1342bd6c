#include "core/budget.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/ledger.h"
#include "common/log.h"
#include "core/provider.h"
#include "common/memory.h"

struct spend_entry {
    char *provider;
    double today, month;
    int over; /* logged as over budget */
    struct spend_entry *next;
};

static struct spend_entry *entries;
/* the current local day and month, [start, end) in ms */
static int64_t day_start, day_end, month_start, month_end;

static int64_t local_ms(struct tm *tm)
{
    tm->tm_isdst = -1;
    return (int64_t)mktime(tm) * 1000;
}

/* Moves to the day and month that hold now, zeroing what ended. */
static void roll(int64_t now)
{
    if (now >= day_start && now < day_end)
        return;
    time_t t = (time_t)(now / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    struct tm d = tm;
    int64_t new_day = local_ms(&d);
    d = tm;
    d.tm_mday++;
    day_end = local_ms(&d);
    d = tm;
    d.tm_mday = 1;
    int64_t new_month = local_ms(&d);
    d = tm;
    d.tm_mday = 1;
    d.tm_mon++;
    month_end = local_ms(&d);
    for (struct spend_entry *e = entries; e != NULL; e = e->next) {
        if (new_day != day_start)
            e->today = 0;
        if (new_month != month_start)
            e->month = 0;
    }
    day_start = new_day;
    month_start = new_month;
}

static struct spend_entry *entry(const char *provider)
{
    for (struct spend_entry *e = entries; e != NULL; e = e->next)
        if (strcmp(e->provider, provider) == 0)
            return e;
    struct spend_entry *e = xcalloc(1, sizeof(*e));
    e->provider = xstrdup(provider);
    e->next = entries;
    entries = e;
    return e;
}

void budget_add_spend(const char *provider, double usd)
{
    roll(usage_clock_ms());
    struct spend_entry *e = entry(provider);
    e->today += usd;
    e->month += usd;
}

static void add_today(void *ud, const char *provider, double usd)
{
    (void)ud;
    entry(provider)->today += usd;
}

static void add_month(void *ud, const char *provider, double usd)
{
    (void)ud;
    entry(provider)->month += usd;
}

void budget_load(const char *ledger_path)
{
    roll(usage_clock_ms());
    char err[600];
    void *db = ledger_open_read(ledger_path, err, sizeof(err));
    if (db == NULL)
        return; /* nothing recorded yet, or the writer will say what is wrong with the file */
    if (ledger_spend_since(db, day_start, add_today, NULL) != 0 ||
        ledger_spend_since(db, month_start, add_month, NULL) != 0)
        log_warn("budgets: cannot sum today's spend from %s; counting from zero", ledger_path);
    ledger_close_read(db);
}

void budget_get(const struct provider *p, int64_t now_ms, struct budget_status *out)
{
    roll(now_ms);
    memset(out, 0, sizeof(*out));
    struct spend_entry *e = NULL;
    for (struct spend_entry *x = entries; x != NULL; x = x->next)
        if (strcmp(x->provider, p->name) == 0)
            e = x;
    if (e == NULL)
        return;
    out->today_usd = e->today;
    out->month_usd = e->month;
    /* the month's budget first: it lasts longer */
    if (p->budget_usd_per_month > 0 && e->month >= p->budget_usd_per_month) {
        out->over_until_ms = month_end;
        out->which = "monthly";
        out->limit_usd = p->budget_usd_per_month;
    } else if (p->budget_usd_per_day > 0 && e->today >= p->budget_usd_per_day) {
        out->over_until_ms = day_end;
        out->which = "daily";
        out->limit_usd = p->budget_usd_per_day;
    }
}

int budget_blocks(const struct provider *p, int64_t now_ms)
{
    if (p->budget_usd_per_day <= 0 && p->budget_usd_per_month <= 0)
        return 0;
    struct budget_status st;
    budget_get(p, now_ms, &st);
    struct spend_entry *e = entry(p->name);
    if (st.over_until_ms != 0 && !e->over) {
        time_t until = (time_t)(st.over_until_ms / 1000);
        struct tm tm;
        localtime_r(&until, &tm);
        char when[32];
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
        log_warn("%s over its %s budget ($%.2f spent of $%.2f): skipped until %s", p->name, st.which,
                 st.which[0] == 'd' ? st.today_usd : st.month_usd, st.limit_usd, when);
    } else if (st.over_until_ms == 0 && e->over) {
        log_info("%s: within its budget again, back in the chain", p->name);
    }
    e->over = st.over_until_ms != 0;
    return e->over;
}

void budget_free_all(void)
{
    while (entries != NULL) {
        struct spend_entry *e = entries;
        entries = e->next;
        free(e->provider);
        free(e);
    }
}
