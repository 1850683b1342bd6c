/* Logging to stderr (or a file), text for people or JSON lines for machines.
 * Never pass a secret to these functions unredacted: use redact_secret() (redact.h). Every
 * message is also scrubbed of token-shaped strings (redact_tokens_in_text) as a safety net. */
#ifndef CP_LOG_H
#define CP_LOG_H
#include <stdarg.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
int log_parse_level(const char *name, enum log_level *out); /* 0 on success */
const char *log_level_name(enum log_level level);
void log_set_json(int enabled);
int log_set_file(const char *path); /* NULL: stderr; returns 0 or -1 (errno set) */

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
