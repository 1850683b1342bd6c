/* Error responses in the caller's API format:
 *   Anthropic: {"type":"error","error":{"type":...,"message":...}}
 *   OpenAI:    {"error":{"message":...,"type":...,"param":null,"code":null}} */
#ifndef CP_ERRORS_H
#define CP_ERRORS_H
#include <h2o.h>
#include "common/sbuf.h"

enum api_format { API_ANTHROPIC, API_OPENAI };

/* The reason phrase for an HTTP/1.1 status line (429 -> "Too Many Requests"). */
const char *http_reason_phrase(int status);
/* The Anthropic error type for an HTTP status (429 -> rate_limit_error, ...). */
const char *error_type_for_status(int status);
void error_json(sbuf *out, enum api_format api, const char *type, const char *message);
/* The OpenAI form with its param and code members too (NULL writes null): the one builder of
 * OpenAI error bodies, for the proxy's own answers and the translators alike. */
void error_json_openai(sbuf *out, const char *type, const char *message, const char *param, const char *code);
/* Sends a complete error response; extra_header (e.g. "retry-after") may be NULL. */
void send_error(h2o_req_t *req, enum api_format api, int status, const char *type, const char *message,
                const char *extra_header, const char *extra_value);
/* Every complete response the proxy makes itself goes through here: status, Content-Type and
 * body, with no body for HEAD (the headers still give its length). */
void send_response(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len);
/* Sends a complete JSON response. */
void send_json_response(h2o_req_t *req, int status, const char *json, size_t len);
/* An SSE error event carrying an Anthropic error (for streams that already started). */
void sse_error_event(sbuf *out, const char *type, const char *message);

#endif
