#include "core/errors.h"
#include <string.h>

const char *error_type_for_status(int status)
{
    switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 402: return "billing_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 405: return "invalid_request_error";
    case 409: return "conflict_error";
    case 413: return "request_too_large";
    case 415: return "invalid_request_error";
    case 429: return "rate_limit_error";
    case 504: return "timeout_error";
    case 503:
    case 529: return "overloaded_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

static void json_string_or_null(sbuf *out, const char *s)
{
    if (s != NULL)
        sbuf_json_string(out, s, strlen(s));
    else
        sbuf_puts(out, "null");
}

void error_json_openai(sbuf *out, const char *type, const char *message, const char *param, const char *code)
{
    sbuf_puts(out, "{\"error\":{\"message\":");
    sbuf_json_string(out, message, strlen(message));
    sbuf_puts(out, ",\"type\":");
    sbuf_json_string(out, type, strlen(type));
    sbuf_puts(out, ",\"param\":");
    json_string_or_null(out, param);
    sbuf_puts(out, ",\"code\":");
    json_string_or_null(out, code);
    sbuf_puts(out, "}}");
}

void error_json(sbuf *out, enum api_format api, const char *type, const char *message)
{
    if (api == API_OPENAI) {
        error_json_openai(out, type, message, NULL, NULL);
    } else {
        sbuf_puts(out, "{\"type\":\"error\",\"error\":{\"type\":");
        sbuf_json_string(out, type, strlen(type));
        sbuf_puts(out, ",\"message\":");
        sbuf_json_string(out, message, strlen(message));
        sbuf_puts(out, "}}");
    }
}

const char *http_reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 529: return "Overloaded";
    default: return status < 400 ? "OK" : "Error";
    }
}

void send_response(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len)
{
    static h2o_generator_t generator = {NULL, NULL};
    h2o_iovec_t buf = h2o_strdup(&req->pool, body, len);
    req->res.status = status;
    req->res.reason = http_reason_phrase(status);
    req->res.content_length = buf.len; /* for HEAD too: the length a GET would get */
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type, strlen(content_type));
    h2o_start_response(req, &generator);
    /* A body after a HEAD response would be read by the client as the start of the next
     * response on a kept-alive connection. */
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    else
        h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
}

void send_error(h2o_req_t *req, enum api_format api, int status, const char *type, const char *message,
                const char *extra_header, const char *extra_value)
{
    sbuf body = SBUF_INIT;
    error_json(&body, api, type ? type : error_type_for_status(status), message);
    if (extra_header != NULL && extra_value != NULL)
        h2o_add_header_by_str(&req->pool, &req->res.headers, extra_header, strlen(extra_header), 0, NULL,
                              h2o_strdup(&req->pool, extra_value, SIZE_MAX).base, strlen(extra_value));
    send_response(req, status, "application/json", body.data, body.len);
    sbuf_free(&body);
}

void send_json_response(h2o_req_t *req, int status, const char *json, size_t len)
{
    send_response(req, status, "application/json", json, len);
}

void sse_error_event(sbuf *out, const char *type, const char *message)
{
    sbuf_puts(out, "event: error\ndata: ");
    error_json(out, API_ANTHROPIC, type, message);
    sbuf_puts(out, "\n\n");
}
