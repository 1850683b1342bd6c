#include "core/ledger.h"
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "common/log.h"
#include "common/memory.h"

#define FLUSH_INTERVAL_MS 1000
#define REOPEN_INTERVAL_MS 30000      /* a file that could not be opened is tried again */
#define RETENTION_INTERVAL_MS 3600000 /* retention runs at start, then hourly */
#define MAX_QUEUED 50000              /* rows waiting while the file fails (~25 MB) */
/* A round's buffer that grew past this (a burst: thousands of requests a second in a benchmark)
 * is given back once the load is gone, rather than held at its peak for the life of the process. */
#define KEEP_ROWS 256

/* ------------------------------------------------------------------------------------------ */
/* Schema: migrations[i] takes a file from version i to i + 1. */

static const char *const migrations[LEDGER_SCHEMA_VERSION] = {
    "CREATE TABLE requests ("
    " id INTEGER PRIMARY KEY,"
    " time_ms INTEGER NOT NULL,"
    " provider TEXT NOT NULL,"
    " route TEXT,"
    " client_model TEXT,"
    " upstream_model TEXT,"
    " endpoint TEXT,"
    " status INTEGER,"
    " streamed INTEGER NOT NULL DEFAULT 0,"
    " fell_back INTEGER NOT NULL DEFAULT 0,"
    " billing TEXT NOT NULL," /* metered | subscription */
    " input_tokens INTEGER NOT NULL DEFAULT 0,"
    " output_tokens INTEGER NOT NULL DEFAULT 0,"
    " cache_write_tokens INTEGER NOT NULL DEFAULT 0,"
    " cache_read_tokens INTEGER NOT NULL DEFAULT 0,"
    " cost_usd REAL," /* NULL: the model had no price */
    " duration_ms INTEGER,"
    " ttfb_ms INTEGER,"
    " session_id TEXT);"
    "CREATE INDEX requests_by_time ON requests(time_ms);",
};

static const char insert_sql[] =
    "INSERT INTO requests (time_ms, provider, route, client_model, upstream_model, endpoint, status, streamed,"
    " fell_back, billing, input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost_usd, duration_ms,"
    " ttfb_ms, session_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

/* ------------------------------------------------------------------------------------------ */
/* Clock */

int64_t usage_clock_ms(void)
{
    static int64_t offset_ms = -1;
    if (offset_ms == -1) {
        const char *env = getenv("CLAUDE_PROXY_CLOCK_OFFSET");
        offset_ms = env != NULL ? (int64_t)(strtod(env, NULL) * 1000) : 0;
        if (offset_ms == -1)
            offset_ms = 0;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + offset_ms;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------------------------------ */
/* Paths */

const char *ledger_default_path(char *buf, size_t bufsize)
{
    const char *home = getenv("HOME");
#ifdef __APPLE__
    if (home == NULL || home[0] == '\0')
        return NULL;
    snprintf(buf, bufsize, "%s/Library/Application Support/claude-proxy/usage.db", home);
#else
    const char *state = getenv("XDG_STATE_HOME");
    if (state != NULL && state[0] == '/')
        snprintf(buf, bufsize, "%s/claude-proxy/usage.db", state);
    else if (home != NULL && home[0] != '\0')
        snprintf(buf, bufsize, "%s/.local/state/claude-proxy/usage.db", home);
    else
        return NULL;
#endif
    return buf;
}

/* mkdir -p of the file's directory, private to the user. */
static void make_parent_dirs(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0700);
            *p = '/';
        }
    }
    mkdir(dir, 0700);
}

/* ------------------------------------------------------------------------------------------ */
/* The writer */

struct row_queue {
    struct ledger_row *rows;
    size_t len, cap;
};

static struct {
    int started, stopping;
    char *path;
    unsigned retention_days;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct row_queue queue;    /* guarded by lock */
    size_t batch_cap;          /* guarded by lock: the worker's buffer's capacity, for stats */
    struct ledger_stats stats; /* guarded by lock */
    /* the worker's own */
    sqlite3 *db;
    sqlite3_stmt *insert;
    uint64_t next_open_ms, next_retention_ms;
    char last_error[300];
} L;

static void queue_push(struct row_queue *q, const struct ledger_row *rows, size_t n)
{
    if (n == 0)
        return;
    if (q->len + n > q->cap) {
        size_t cap = q->cap ? q->cap : 64;
        while (cap < q->len + n)
            cap *= 2;
        q->rows = xrealloc(q->rows, cap * sizeof(*q->rows));
        q->cap = cap;
    }
    memcpy(q->rows + q->len, rows, n * sizeof(*rows));
    q->len += n;
}

void ledger_record(const struct ledger_row *row)
{
    if (!L.started)
        return;
    pthread_mutex_lock(&L.lock);
    if (L.queue.len >= MAX_QUEUED) {
        /* the file has been failing for a long while: the oldest row gives way */
        memmove(L.queue.rows, L.queue.rows + 1, (L.queue.len - 1) * sizeof(*L.queue.rows));
        L.queue.len--;
        L.stats.dropped++;
    }
    queue_push(&L.queue, row, 1);
    pthread_mutex_unlock(&L.lock);
}

/* One log line when the ledger starts failing, one when it works again. */
static void set_failing(const char *what, int rc)
{
    char msg[300];
    snprintf(msg, sizeof(msg), "%s: %s", what, L.db != NULL ? sqlite3_errmsg(L.db) : sqlite3_errstr(rc));
    pthread_mutex_lock(&L.lock);
    int was = L.stats.failing;
    L.stats.failing = 1;
    L.stats.failed_batches++;
    pthread_mutex_unlock(&L.lock);
    if (!was)
        log_warn("usage ledger %s: %s; requests go on, rows wait in memory and are retried (said once)", L.path, msg);
    snprintf(L.last_error, sizeof(L.last_error), "%s", msg);
}

static void set_working(void)
{
    pthread_mutex_lock(&L.lock);
    int was = L.stats.failing;
    L.stats.failing = 0;
    pthread_mutex_unlock(&L.lock);
    if (was)
        log_info("usage ledger %s: writing again", L.path);
}

static void close_db(void)
{
    sqlite3_finalize(L.insert);
    L.insert = NULL;
    sqlite3_close(L.db);
    L.db = NULL;
}

static int exec(sqlite3 *db, const char *sql) { return sqlite3_exec(db, sql, NULL, NULL, NULL); }

static int user_version(sqlite3 *db, int *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int migrate(sqlite3 *db, const char **what)
{
    int version, rc;
    *what = "reading its schema version";
    if ((rc = user_version(db, &version)) != SQLITE_OK)
        return rc;
    if (version == LEDGER_SCHEMA_VERSION)
        return SQLITE_OK;
    if (version > LEDGER_SCHEMA_VERSION) {
        *what = "was written by a newer claude-proxy (schema version too high); not touched";
        return SQLITE_MISMATCH;
    }
    *what = "migrating its schema";
    if ((rc = exec(db, "BEGIN IMMEDIATE")) != SQLITE_OK)
        return rc;
    for (int v = version; v < LEDGER_SCHEMA_VERSION && rc == SQLITE_OK; v++)
        rc = exec(db, migrations[v]);
    if (rc == SQLITE_OK) {
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", LEDGER_SCHEMA_VERSION);
        rc = exec(db, sql);
    }
    if (rc == SQLITE_OK)
        rc = exec(db, "COMMIT");
    if (rc != SQLITE_OK)
        exec(db, "ROLLBACK");
    else if (version > 0)
        log_info("usage ledger %s: schema migrated from version %d to %d", L.path, version, LEDGER_SCHEMA_VERSION);
    return rc;
}

static int open_db(void)
{
    const char *what = "opening it";
    int rc = sqlite3_open_v2(L.path, &L.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(L.db, 2000); /* another writer (a second proxy, the usage command) */
        chmod(L.path, 0600);
        what = "switching it to WAL mode";
        rc = exec(L.db, "PRAGMA journal_mode=WAL");
    }
    if (rc == SQLITE_OK)
        rc = exec(L.db, "PRAGMA synchronous=NORMAL");
    if (rc == SQLITE_OK)
        rc = migrate(L.db, &what);
    if (rc == SQLITE_OK) {
        what = "preparing its insert";
        rc = sqlite3_prepare_v2(L.db, insert_sql, -1, &L.insert, NULL);
    }
    if (rc != SQLITE_OK) {
        set_failing(what, rc);
        close_db();
        return -1;
    }
    return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s[0] == '\0')
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static int insert_row(const struct ledger_row *r)
{
    sqlite3_stmt *st = L.insert;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, r->time_ms);
    sqlite3_bind_text(st, 2, r->provider, -1, SQLITE_STATIC);
    bind_text(st, 3, r->route);
    bind_text(st, 4, r->client_model);
    bind_text(st, 5, r->upstream_model);
    bind_text(st, 6, r->endpoint);
    sqlite3_bind_int(st, 7, r->status);
    sqlite3_bind_int(st, 8, r->streamed);
    sqlite3_bind_int(st, 9, r->fell_back);
    sqlite3_bind_text(st, 10, r->subscription ? "subscription" : "metered", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, (sqlite3_int64)r->input);
    sqlite3_bind_int64(st, 12, (sqlite3_int64)r->output);
    sqlite3_bind_int64(st, 13, (sqlite3_int64)r->cache_write);
    sqlite3_bind_int64(st, 14, (sqlite3_int64)r->cache_read);
    if (r->cost_usd < 0)
        sqlite3_bind_null(st, 15);
    else
        sqlite3_bind_double(st, 15, r->cost_usd);
    sqlite3_bind_int64(st, 16, r->duration_ms);
    sqlite3_bind_int64(st, 17, r->ttfb_ms);
    bind_text(st, 18, r->session);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Writes the batch in one transaction. Returns 0, or -1 (the batch is to be retried). */
static int write_batch(const struct ledger_row *rows, size_t n)
{
    int rc = exec(L.db, "BEGIN IMMEDIATE");
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++)
        rc = insert_row(&rows[i]);
    if (rc == SQLITE_OK)
        rc = exec(L.db, "COMMIT");
    if (rc != SQLITE_OK) {
        set_failing("writing", rc);
        exec(L.db, "ROLLBACK");
        /* a file that is no database (any more), or read-only: open it afresh later */
        int primary = rc & 0xff;
        if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB || primary == SQLITE_READONLY ||
            primary == SQLITE_CANTOPEN || primary == SQLITE_IOERR) {
            close_db();
            L.next_open_ms = mono_ms() + REOPEN_INTERVAL_MS;
        }
        return -1;
    }
    set_working();
    return 0;
}

static void apply_retention(void)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(L.db, "DELETE FROM requests WHERE time_ms < ?", -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, usage_clock_ms() - (int64_t)L.retention_days * 86400 * 1000);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        set_failing("applying the retention", rc);
    else if (sqlite3_changes(L.db) > 0)
        log_debug("usage ledger: %d rows older than %u days deleted", sqlite3_changes(L.db), L.retention_days);
}

/* One round: open if needed, write what queued, retention when due. */
static void work(struct row_queue *batch)
{
    uint64_t now = mono_ms();
    if (L.db == NULL && now >= L.next_open_ms && open_db() != 0)
        L.next_open_ms = now + REOPEN_INTERVAL_MS;
    if (L.db != NULL && now >= L.next_retention_ms) {
        apply_retention();
        L.next_retention_ms = now + RETENTION_INTERVAL_MS;
    }
    if (batch->len == 0)
        return;
    if (L.db != NULL && write_batch(batch->rows, batch->len) == 0) {
        pthread_mutex_lock(&L.lock);
        L.stats.written += batch->len;
        pthread_mutex_unlock(&L.lock);
        batch->len = 0;
        return;
    }
    /* not written: back to the front of the queue, newer rows after them, within the bound */
    pthread_mutex_lock(&L.lock);
    queue_push(batch, L.queue.rows, L.queue.len);
    size_t excess = batch->len > MAX_QUEUED ? batch->len - MAX_QUEUED : 0;
    L.queue.len = 0;
    queue_push(&L.queue, batch->rows + excess, batch->len - excess);
    L.stats.dropped += excess;
    pthread_mutex_unlock(&L.lock);
    batch->len = 0;
}

static void *worker(void *arg)
{
    (void)arg;
    struct row_queue batch = {0};
    pthread_mutex_lock(&L.lock);
    for (;;) {
        int stopping = L.stopping;
        /* take the queue, leave an empty one (the two buffers swap, no copy) */
        struct row_queue t = L.queue;
        L.queue = batch;
        batch = t;
        pthread_mutex_unlock(&L.lock);
        size_t taken = batch.len;
        work(&batch);
        /* given back when written and a quarter full at most, so that a steady load keeps its
         * buffers and the end of a burst frees them (each of the two, within two rounds) */
        if (batch.len == 0 && batch.cap > KEEP_ROWS && taken * 4 <= batch.cap) {
            free(batch.rows);
            batch = (struct row_queue){0};
        }
        pthread_mutex_lock(&L.lock);
        L.batch_cap = batch.cap;
        if (stopping)
            break;
        if (!L.stopping) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += FLUSH_INTERVAL_MS / 1000;
            pthread_cond_timedwait(&L.wake, &L.lock, &until);
        }
    }
    pthread_mutex_unlock(&L.lock);
    free(batch.rows);
    close_db();
    return NULL;
}

int ledger_start(const char *path, unsigned retention_days)
{
    if (L.started)
        return 0;
    memset(&L, 0, sizeof(L));
    L.path = xstrdup(path);
    L.retention_days = retention_days;
    make_parent_dirs(path);
    pthread_mutex_init(&L.lock, NULL);
    pthread_cond_init(&L.wake, NULL);
    if (pthread_create(&L.thread, NULL, worker, NULL) != 0) {
        log_error("usage ledger: cannot start its writer thread: %s", strerror(errno));
        free(L.path);
        L.path = NULL;
        return -1;
    }
    L.started = 1;
    return 0;
}

void ledger_close(void)
{
    if (!L.started)
        return;
    pthread_mutex_lock(&L.lock);
    L.stopping = 1;
    pthread_cond_signal(&L.wake);
    pthread_mutex_unlock(&L.lock);
    pthread_join(L.thread, NULL);
    L.started = 0;
    if (L.queue.len != 0)
        log_warn("usage ledger %s: %zu rows could not be written (%s)", L.path, L.queue.len, L.last_error);
    free(L.queue.rows);
    pthread_mutex_destroy(&L.lock);
    pthread_cond_destroy(&L.wake);
    free(L.path);
    memset(&L, 0, sizeof(L));
}

const char *ledger_running_path(void) { return L.started ? L.path : NULL; }

void ledger_get_stats(struct ledger_stats *out)
{
    if (!L.started) {
        memset(out, 0, sizeof(*out));
        return;
    }
    pthread_mutex_lock(&L.lock);
    *out = L.stats;
    out->queue_capacity = L.queue.cap + L.batch_cap;
    pthread_mutex_unlock(&L.lock);
}

/* ------------------------------------------------------------------------------------------ */
/* Reading */

void *ledger_open_read(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    int version = 0;
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 2000);
        rc = user_version(db, &version);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    if (version != LEDGER_SCHEMA_VERSION) {
        snprintf(err, errlen, "%s: schema version %d, this claude-proxy reads version %d%s", path, version,
                 LEDGER_SCHEMA_VERSION, version == 0 ? " (no requests recorded yet?)" : "");
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

void ledger_close_read(void *db) { sqlite3_close(db); }

int ledger_spend_since(void *db, int64_t since_ms, void (*fn)(void *ud, const char *provider, double usd), void *ud)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT provider, SUM(cost_usd) FROM requests WHERE time_ms >= ? AND billing = 'metered'"
                           " AND cost_usd IS NOT NULL GROUP BY provider",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, since_ms);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(ud, (const char *)sqlite3_column_text(st, 0), sqlite3_column_double(st, 1));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}
