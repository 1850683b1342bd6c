#include "common/log.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include "common/redact.h"

static enum log_level current_level = LOG_INFO;
static int json_lines;
static FILE *log_out;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level) { current_level = level; }
enum log_level log_get_level(void) { return current_level; }
void log_set_json(int enabled) { json_lines = enabled; }

const char *log_level_name(enum log_level level) { return level_names[level]; }

int log_parse_level(const char *name, enum log_level *out)
{
    for (int i = LOG_DEBUG; i <= LOG_ERROR; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *out = LOG_WARN;
        return 0;
    }
    return -1;
}

int log_set_file(const char *path)
{
    FILE *f = NULL;
    if (path != NULL && (f = fopen(path, "a")) == NULL)
        return -1;
    if (log_out != NULL && log_out != stderr)
        fclose(log_out);
    log_out = f;
    if (f != NULL)
        setvbuf(f, NULL, _IOLBF, 0);
    return 0;
}

/* Writes s as the body of a JSON string (without quotes). */
static void put_json_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
}

/* Writes s with its control characters escaped as JSON escapes them (\u000a), so that one message
 * is one line: a client's method or path (or a Lua error) cannot add lines that look like the
 * proxy's own. */
static void put_text_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level < current_level)
        return;
    FILE *f = log_out != NULL ? log_out : stderr;
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Callers log what clients send (paths with queries, model names) and what Lua says: mask
     * anything token-shaped here, once, rather than trusting every caller to. */
    redact_tokens_in_text(msg);

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char when[40];
    size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof(when) - n, ".%03d", (int)(tv.tv_usec / 1000));

    flockfile(f); /* one whole line at a time: the usage ledger's thread logs too */
    if (json_lines) {
        fprintf(f, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"", when, level_names[level]);
        put_json_escaped(f, msg);
        fputs("\"}\n", f);
    } else {
        fprintf(f, "%s %-5s ", when, level_names[level]);
        put_text_escaped(f, msg);
        fputc('\n', f);
    }
    fflush(f);
    funlockfile(f);
}
