/* The usage ledger: one SQLite row per request (never content, never a credential), in WAL mode.
 *
 * The event loop never waits for the disk: ledger_record() copies the row into an in-memory queue
 * (a mutex held for a memcpy); a worker thread writes what queued in one transaction about once a
 * second, applies the retention, and flushes the queue when ledger_close() is called. A locked,
 * full, read-only or corrupt database is logged once (and once more when it works again) and
 * never stops a request: rows wait in the queue (bounded, the oldest dropped) and are retried.
 * The schema's version is PRAGMA user_version; opening migrates an older file.
 * Readers (the `usage` command, budgets at start) open the file themselves (ledger_open_read). */
#ifndef CP_LEDGER_H
#define CP_LEDGER_H
#include <stddef.h>
#include <stdint.h>

#define LEDGER_SCHEMA_VERSION 1

struct ledger_row {
    int64_t time_ms; /* wall clock (usage_clock_ms), when the request ended */
    char provider[64];
    char route[16];           /* how the provider reached the model ("invoke", "mantle"), or "" */
    char client_model[128];   /* as the client asked */
    char upstream_model[128]; /* as sent upstream */
    char endpoint[24];        /* messages, count_tokens, chat_completions, passthrough */
    char session[72];         /* Claude Code's x-claude-code-session-id, or "" */
    int status, streamed, fell_back, subscription;
    uint64_t input, output, cache_write, cache_read;
    double cost_usd; /* < 0: no price known (stored as NULL) */
    uint32_t duration_ms, ttfb_ms;
};

/* The default file: $XDG_STATE_HOME/claude-proxy/usage.db, else ~/.local/state/claude-proxy/
 * (macOS: ~/Library/Application Support/claude-proxy/). Returns buf, or NULL without a home. */
const char *ledger_default_path(char *buf, size_t bufsize);

/* Starts the writer for the file at path (its directory is created, 0700). Returns 0; the file
 * itself is opened by the worker, whose failures are logged, never returned. */
int ledger_start(const char *path, unsigned retention_days);
/* Queues a row (any thread; no-op when the ledger is not started). */
void ledger_record(const struct ledger_row *row);
/* Writes what is queued and stops the worker. */
void ledger_close(void);
/* The path the running ledger writes to, or NULL. */
const char *ledger_running_path(void);

/* What the worker has done, for /health and tests. */
struct ledger_stats {
    uint64_t written, dropped, failed_batches;
    int failing;
    size_t queue_capacity; /* rows the queue's two buffers have room for: the memory they hold */
};
void ledger_get_stats(struct ledger_stats *out);

/* Wall-clock ms since the epoch, shifted by $CLAUDE_PROXY_CLOCK_OFFSET seconds (for tests of
 * day and month boundaries; read once). Rows and budgets use this clock. */
int64_t usage_clock_ms(void);

/* Opens the file for reading (sqlite3 *, as void * to keep sqlite3.h out of callers); NULL with
 * err when it cannot be read. The schema is checked, not migrated. */
void *ledger_open_read(const char *path, char *err, size_t errlen);
void ledger_close_read(void *db);
/* Sum of metered spend per provider since since_ms: calls fn for each. Returns 0 or -1. */
int ledger_spend_since(void *db, int64_t since_ms, void (*fn)(void *ud, const char *provider, double usd), void *ud);

#endif
