/* `claude-proxy statusline`: one short line for Claude Code's statusLine setting. Claude Code
 * runs the command after each turn with a JSON description of the session on stdin and shows
 * the first line it prints; this one asks the running proxy's /health (loopback, within
 * STATUSLINE_TOTAL_MS) which provider serves, how full the quota windows are and when they reset
 * (local time), and what the fallback spent today. */
#ifndef CP_STATUSLINE_H
#define CP_STATUSLINE_H
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include "common/sbuf.h"

#define STATUSLINE_CONNECT_MS 50
#define STATUSLINE_TOTAL_MS 200

/* The line for a /health answer (JSON text) and the session JSON Claude Code sent (either may be
 * NULL or malformed). `now` decides which resets are past and how they are written. */
void statusline_format(const char *health, size_t health_len, const char *session, size_t session_len, time_t now,
                       sbuf *line);
/* GET /health from host:port within the time limits; 0 with body filled, else -1 with *why
 * ("not running", "no answer", ...). */
int statusline_fetch_health(const char *host, uint16_t port, sbuf *body, const char **why);
/* The whole command: reads the session JSON from in (when it is not a terminal), finds the proxy
 * through the config at config_path (NULL: the default lookup), prints the line to out. */
int statusline_main(const char *config_path, FILE *in, FILE *out);

#endif
