/* The usage ledger with a real SQLite file: a burst of rows, a restart, retention, a migration
 * from an older schema, and files it cannot write (read-only, corrupt), which must cost nothing
 * but one log line. */
#include <sqlite3.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "core/ledger.h"
#include "common/log.h"

static char dir[256];
static int ro_tested;

struct spend {
    double bedrock, anthropic;
};

static void collect(void *ud, const char *provider, double usd)
{
    struct spend *out = ud;
    if (strcmp(provider, "bedrock") == 0)
        out->bedrock = usd;
    else
        out->anthropic = usd;
}

static long long query_int(const char *path, const char *sql)
{
    sqlite3 *db;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

static struct ledger_row row(int i, int64_t time_ms)
{
    struct ledger_row r;
    memset(&r, 0, sizeof(r));
    r.time_ms = time_ms;
    snprintf(r.provider, sizeof(r.provider), "%s", i % 2 ? "bedrock" : "anthropic");
    snprintf(r.route, sizeof(r.route), "%s", i % 2 ? "invoke" : "");
    snprintf(r.client_model, sizeof(r.client_model), "claude-sonnet-5-5");
    snprintf(r.upstream_model, sizeof(r.upstream_model), "%s", i % 2 ? "us.anthropic.claude-sonnet-5-5" : "");
    snprintf(r.endpoint, sizeof(r.endpoint), "messages");
    snprintf(r.session, sizeof(r.session), "%s", i % 3 ? "sess-1" : "");
    r.status = 200;
    r.streamed = 1;
    r.subscription = i % 2 == 0;
    r.input = 100, r.output = 10, r.cache_write = 1, r.cache_read = 1000;
    r.cost_usd = i % 2 ? 0.25 : 0.5;
    r.duration_ms = 1200, r.ttfb_ms = 300;
    return r;
}

static void wait_written(uint64_t n)
{
    struct ledger_stats st;
    for (int i = 0; i < 1000; i++) {
        ledger_get_stats(&st);
        if (st.written >= n)
            return;
        usleep(10000);
    }
}

/* Until the worker has met the failure (it tries at once, then every 30 s): at most 10 s. */
static int wait_failing(void)
{
    struct ledger_stats st;
    for (int i = 0; i < 1000; i++) {
        ledger_get_stats(&st);
        if (st.failing)
            return 1;
        usleep(10000);
    }
    return 0;
}

static void test_burst_restart_retention(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/state/claude-proxy/usage.db", dir);
    int64_t now = usage_clock_ms();
    CHECK_INT_EQ(ledger_start(path, 90), 0);
    for (int i = 0; i < 1000; i++) {
        struct ledger_row r = row(i, now);
        ledger_record(&r);
    }
    /* rows written about once a second, without being asked */
    wait_written(1000);
    struct ledger_stats st;
    ledger_get_stats(&st);
    CHECK_INT_EQ(st.written, 1000);
    CHECK_INT_EQ(query_int(path, "SELECT COUNT(*) FROM requests"), 1000);
    CHECK_INT_EQ(query_int(path, "PRAGMA user_version"), LEDGER_SCHEMA_VERSION);
    /* the burst's buffer (room for 1024 rows, 0.5 MB) is given back once the burst is over (the
     * round after it finds it empty, a second or two later) */
    for (int i = 0; i < 500; i++) {
        ledger_get_stats(&st);
        if (st.queue_capacity <= 256)
            break;
        usleep(10000);
    }
    CHECK(st.queue_capacity <= 256);
    char wal[600];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    CHECK(access(wal, F_OK) == 0); /* WAL mode */
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 077) == 0);
    /* an old row, then close: the queue is flushed on the way out */
    struct ledger_row old = row(1, now - 100LL * 86400 * 1000);
    ledger_record(&old);
    struct ledger_row last = row(2, now);
    ledger_record(&last);
    ledger_close();
    CHECK_INT_EQ(query_int(path, "SELECT COUNT(*) FROM requests"), 1002);
    CHECK_INT_EQ(query_int(path, "SELECT COUNT(*) FROM requests WHERE billing = 'metered'"), 501);
    CHECK_INT_EQ(query_int(path, "SELECT COUNT(*) FROM requests WHERE session_id = 'sess-1'"), 668);
    CHECK_INT_EQ(query_int(path, "SELECT COUNT(*) FROM requests WHERE route IS NULL"), 501);
    CHECK_INT_EQ(query_int(path, "SELECT SUM(cache_read_tokens) FROM requests"), 1002000);

    /* the spend of metered requests since a time, for budgets */
    char err[300];
    void *db = ledger_open_read(path, err, sizeof(err));
    CHECK(db != NULL);
    struct spend out = {-1, -1};
    CHECK_INT_EQ(ledger_spend_since(db, now - 1000, collect, &out), 0);
    CHECK(out.bedrock > 124.99 && out.bedrock < 125.01); /* 500 rows at $0.25; not the 100-day-old one */
    CHECK(out.anthropic == -1);                          /* the subscription's value is no spend */
    ledger_close_read(db);

    /* a restart: rows are added; the retention (90 days) removes the 100-day-old row */
    CHECK_INT_EQ(ledger_start(path, 90), 0);
    struct ledger_row again = row(3, now);
    ledger_record(&again);
    ledger_close();
    CHECK_INT_EQ(query_int(path, "SELECT COUNT(*) FROM requests"), 1002);
    CHECK_INT_EQ(query_int(path, "SELECT MIN(time_ms) >= 0 FROM requests"), 1);
    CHECK_INT_EQ(query_int(path, "SELECT COUNT(*) FROM requests WHERE time_ms < strftime('%s','now') * 1000 - 95 * "
                                 "86400000"),
                 0);
}

/* A file whose schema is older (version 0 with no table, as an interrupted first run leaves it)
 * is migrated; one from a newer claude-proxy is left alone. */
static void test_versions(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/newer.db", dir);
    sqlite3 *db;
    CHECK_INT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_INT_EQ(sqlite3_exec(db, "CREATE TABLE requests (x); PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    CHECK_INT_EQ(ledger_start(path, 90), 0);
    struct ledger_row r = row(0, usage_clock_ms());
    ledger_record(&r);
    CHECK(wait_failing());
    ledger_close();
    CHECK_INT_EQ(query_int(path, "PRAGMA user_version"), 99);
    char err[300];
    CHECK(ledger_open_read(path, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "schema version 99") != NULL);
}

/* Read-only and corrupt files: ledger_record never blocks or fails; the worker keeps the rows
 * (bounded) and says so once. */
static void test_unwritable(void)
{
    char ro[512], corrupt[512];
    snprintf(ro, sizeof(ro), "%s/ro.db", dir);
    CHECK_INT_EQ(ledger_start(ro, 90), 0);
    ledger_close(); /* creates it */
    chmod(ro, 0400);
    if (access(ro, W_OK) == 0) {
        fprintf(stderr, "running as root: the read-only case is not testable here\n");
    } else {
        ro_tested = 1;
        CHECK_INT_EQ(ledger_start(ro, 90), 0);
        for (int i = 0; i < 5000; i++) {
            struct ledger_row r = row(i, usage_clock_ms());
            ledger_record(&r);
        }
        CHECK(wait_failing());
        usleep(1200000); /* another round: still nothing written, nothing said again */
        struct ledger_stats st;
        ledger_get_stats(&st);
        CHECK_INT_EQ(st.written, 0);
        ledger_close();
        CHECK_INT_EQ(query_int(ro, "SELECT COUNT(*) FROM requests"), 0);
    }

    /* a place where no file can be made (what root meets instead of a read-only file) */
    CHECK_INT_EQ(ledger_start("/dev/null/cannot/usage.db", 90), 0);
    for (int i = 0; i < 100; i++) {
        struct ledger_row r = row(i, usage_clock_ms());
        ledger_record(&r);
    }
    CHECK(wait_failing());
    ledger_close();

    snprintf(corrupt, sizeof(corrupt), "%s/corrupt.db", dir);
    FILE *f = fopen(corrupt, "w");
    for (int i = 0; i < 1000; i++)
        fputs("this is not a database file, it is garbage ", f);
    fclose(f);
    CHECK_INT_EQ(ledger_start(corrupt, 90), 0);
    for (int i = 0; i < 100; i++) {
        struct ledger_row r = row(i, usage_clock_ms());
        ledger_record(&r);
    }
    CHECK(wait_failing());
    usleep(1200000);
    struct ledger_stats st;
    ledger_get_stats(&st);
    CHECK_INT_EQ(st.written, 0);
    ledger_close();
    char err[300];
    CHECK(ledger_open_read(corrupt, err, sizeof(err)) == NULL);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/cp-ledger-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return 1;
    char log_path[300];
    snprintf(log_path, sizeof(log_path), "%s/log", dir);
    log_set_file(log_path);
    test_burst_restart_retention();
    test_versions();
    test_unwritable();
    log_set_file(NULL);
    /* each failing file was logged once, however many rounds failed */
    size_t len = 0;
    FILE *f = fopen(log_path, "r");
    char line[1024];
    int ro_lines = 0, corrupt_lines = 0, newer_lines = 0, cannot_lines = 0;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        len++;
        ro_lines += strstr(line, "ro.db: writing") != NULL || strstr(line, "ro.db: switching") != NULL;
        corrupt_lines += strstr(line, "corrupt.db: switching it to WAL mode: file is not a database") != NULL;
        newer_lines += strstr(line, "newer.db: was written by a newer claude-proxy") != NULL;
        cannot_lines += strstr(line, "/dev/null/cannot/usage.db: opening it") != NULL;
    }
    if (f != NULL)
        fclose(f);
    CHECK_INT_EQ(ro_lines, ro_tested);
    CHECK_INT_EQ(corrupt_lines, 1);
    CHECK_INT_EQ(newer_lines, 1);
    CHECK_INT_EQ(cannot_lines, 1);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "chmod -R u+w %s && rm -rf %s", dir, dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    CHECK_DONE();
}
