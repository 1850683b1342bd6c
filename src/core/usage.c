#include "core/usage.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/json_scan.h"

/* An event with usage is small (message_start's message has no content yet): a bigger one is
 * not read, rather than held. */
#define MAX_USAGE_EVENT (256 * 1024)

/* A JSON number's value as cJSON reads it, or -1 for any other value. */
static int span_number(struct json_span v, double *out)
{
    char buf[64];
    if (v.len == 0 || v.len >= sizeof(buf) || !(v.p[0] == '-' || (v.p[0] >= '0' && v.p[0] <= '9')))
        return -1;
    memcpy(buf, v.p, v.len);
    buf[v.len] = '\0';
    *out = strtod(buf, NULL);
    return 0;
}

static void take_span_count(const struct json_object_scan *o, const char *name, uint64_t *out, int *seen)
{
    const struct json_member *m = json_scan_find(o, name);
    double v;
    if (m != NULL && span_number(m->value, &v) == 0 && v >= 0 && v < 1e15) {
        *out = (uint64_t)v;
        *seen = 1;
    }
}

/* The usage object's counts (the raw JSON text of an object; no tree is built). */
static int apply_usage_span(struct usage_counts *u, struct json_span v)
{
    struct json_object_scan o;
    const char *err;
    if (json_scan_object(v.p, v.len, &o, &err) != 0)
        return -1;
    take_span_count(&o, "input_tokens", &u->input, &u->seen);
    take_span_count(&o, "output_tokens", &u->output, &u->seen);
    take_span_count(&o, "cache_creation_input_tokens", &u->cache_write, &u->seen);
    take_span_count(&o, "cache_read_input_tokens", &u->cache_read, &u->seen);
    return 0;
}

int usage_apply_json(struct usage_counts *u, const char *json, size_t len)
{
    return apply_usage_span(u, (struct json_span){json, len});
}

/* An event's members: message_start's message.usage, message_delta's usage. */
void usage_apply_event_scan(struct usage_counts *u, const struct json_object_scan *ev)
{
    const char *err;
    char type[16];
    const struct json_member *t = json_scan_find(ev, "type"), *m;
    if (t == NULL || json_span_string(t->value, type, sizeof(type)) != 0)
        return;
    if (strcmp(type, "message_start") == 0) {
        struct json_object_scan message;
        if ((m = json_scan_find(ev, "message")) != NULL &&
            json_scan_object(m->value.p, m->value.len, &message, &err) == 0 &&
            (m = json_scan_find(&message, "usage")) != NULL)
            apply_usage_span(u, m->value);
    } else if (strcmp(type, "message_delta") == 0) {
        if ((m = json_scan_find(ev, "usage")) != NULL)
            apply_usage_span(u, m->value);
    }
}

/* An SSE event's data. */
static void apply_event_span(struct usage_counts *u, struct json_span data)
{
    struct json_object_scan ev;
    const char *err;
    if (json_scan_object(data.p, data.len, &ev, &err) == 0)
        usage_apply_event_scan(u, &ev);
}

void usage_reader_init(struct usage_reader *r, int is_sse)
{
    memset(r, 0, sizeof(*r));
    r->is_sse = is_sse;
}

void usage_reader_dispose(struct usage_reader *r) { sbuf_free(&r->capture); }

static void capture(struct usage_reader *r, const char *data, size_t len)
{
    if (r->overflow || r->capture.len + len > MAX_USAGE_EVENT) {
        r->overflow = 1;
        return;
    }
    sbuf_append(&r->capture, data, len);
}

static void parse_captured_event(struct usage_reader *r)
{
    if (!r->overflow && r->capture.len != 0) {
        apply_event_span(&r->counts, (struct json_span){r->capture.data, r->capture.len});
    }
    sbuf_reset(&r->capture);
    r->overflow = 0;
}

/* ---- SSE ---- */

static int starts_with(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

static int is_usage_event_name(const char *s, size_t len)
{
    return (len == 13 && (memcmp(s, "message_start", 13) == 0 || memcmp(s, "message_delta", 13) == 0));
}

/* A data line whose event name we did not see (a stream without event: lines) still says its
 * type first, as Anthropic writes it. */
static int data_says_usage_event(const char *d, size_t len)
{
    return starts_with(d, len, "{\"type\":\"message_start\"") || starts_with(d, len, "{\"type\":\"message_delta\"") ||
           starts_with(d, len, "{\"type\": \"message_start\"") || starts_with(d, len, "{\"type\": \"message_delta\"");
}

/* Decides what the line held in prefix is, once it is complete or the prefix is full. */
static void decide_line(struct usage_reader *r, int complete)
{
    const char *line = r->prefix;
    size_t len = r->prefix_len;
    r->prefix_len = 0;
    if (complete && len > 0 && line[len - 1] == '\r')
        len--;
    r->state = complete ? UR_LINE_START : UR_SKIP_LINE;
    if (len == 0) {
        if (complete)
            r->want_data = r->named = 0; /* the event is over */
        return;
    }
    if (starts_with(line, len, "event:")) {
        const char *name = line + 6;
        size_t n = len - 6;
        if (n > 0 && *name == ' ')
            name++, n--;
        r->want_data = complete && is_usage_event_name(name, n);
        r->named = 1;
        return;
    }
    if (starts_with(line, len, "data:")) {
        const char *d = line + 5;
        size_t n = len - 5;
        if (n > 0 && *d == ' ')
            d++, n--;
        if (!r->want_data && !data_says_usage_event(d, n))
            return;
        sbuf_reset(&r->capture);
        r->overflow = 0;
        capture(r, d, n);
        if (complete)
            parse_captured_event(r);
        else
            r->state = UR_CAPTURE;
    }
}

static void feed_sse(struct usage_reader *r, const char *p, const char *end)
{
    while (p < end) {
        switch (r->state) {
        case UR_SKIP_LINE: {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (nl == NULL)
                return;
            p = nl + 1;
            r->state = UR_LINE_START;
            break;
        }
        case UR_LINE_START: {
            if (r->prefix_len == 0 && *p == '\n') { /* a blank line: the event is over */
                r->want_data = r->named = 0;
                p++;
                break;
            }
            /* the common line: the data of a named event without usage, skipped unread */
            if (r->prefix_len == 0 && *p == 'd' && r->named && !r->want_data) {
                r->state = UR_SKIP_LINE;
                break;
            }
            size_t room = USAGE_PREFIX_LEN - r->prefix_len, avail = (size_t)(end - p);
            size_t look = room < avail ? room : avail;
            const char *nl = memchr(p, '\n', look);
            size_t take = nl != NULL ? (size_t)(nl - p) : look;
            memcpy(r->prefix + r->prefix_len, p, take);
            r->prefix_len += take;
            p += take;
            if (nl != NULL) {
                p++;
                decide_line(r, 1);
            } else if (r->prefix_len == USAGE_PREFIX_LEN) {
                decide_line(r, 0);
            }
            break;
        }
        case UR_CAPTURE: {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t take = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
            if (nl != NULL && take > 0 && p[take - 1] == '\r')
                capture(r, p, take - 1);
            else
                capture(r, p, take);
            p += take;
            if (nl != NULL) {
                p++;
                parse_captured_event(r);
                r->state = UR_LINE_START;
            }
            break;
        }
        }
    }
}

/* ---- JSON: the value of the top-level "usage" member ---- */

/* The first '"' or '\\' at or after p, or end: eight bytes at a time (a zero-byte test of the
 * word XORed with each), the bytes of the word that has one looked at one by one. */
static const char *string_stop(const char *p, const char *end)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (end - p >= 8) {
        uint64_t w, q, b;
        memcpy(&w, p, 8);
        q = w ^ (ones * '"');
        b = w ^ (ones * '\\');
        if ((((q - ones) & ~q) | ((b - ones) & ~b)) & highs)
            break;
        p += 8;
    }
    while (p < end && *p != '"' && *p != '\\')
        p++;
    return p;
}

static void feed_json(struct usage_reader *r, const char *p, const char *end)
{
    const char *cap = p; /* while capturing: where this chunk's part of the usage object starts */
    while (p < end) {
        if (r->in_string) {
            if (r->escaped) {
                r->escaped = 0;
                r->key_len = sizeof(r->key); /* an escape in a key: not "usage" */
                p++;
                continue;
            }
            /* the string's plain bytes at once; only a top-level name's first few are kept */
            const char *stop = string_stop(p, end);
            if (r->key_len < sizeof(r->key)) {
                size_t n = (size_t)(stop - p), room = sizeof(r->key) - r->key_len;
                if (n > room)
                    n = room;
                memcpy(r->key + r->key_len, p, n);
                r->key_len += n;
            }
            p = stop;
            if (p == end)
                break;
            if (*p == '\\') {
                r->escaped = 1;
            } else {
                r->in_string = 0;
                r->key_pending = r->depth == 1 && r->key_len == 5 && memcmp(r->key, "usage", 5) == 0;
            }
            p++;
            continue;
        }
        char c = *p;
        switch (c) {
        case ' ':
        case '\t':
        case '\r':
        case '\n': break;
        case '"':
            r->in_string = 1;
            r->key_len = 0;
            r->key_pending = r->armed = 0;
            break;
        case ':':
            r->armed = r->key_pending;
            r->key_pending = 0;
            break;
        case '{':
        case '[':
            if (c == '{' && r->depth == 1 && r->armed && !r->capturing) {
                r->capturing = 1;
                sbuf_reset(&r->capture);
                r->overflow = 0;
                cap = p;
            }
            r->depth++;
            r->armed = r->key_pending = 0;
            break;
        case '}':
        case ']':
            if (r->depth > 0)
                r->depth--;
            if (r->capturing && r->depth == 1) {
                r->capturing = 0;
                capture(r, cap, (size_t)(p + 1 - cap));
                if (!r->overflow)
                    usage_apply_json(&r->counts, r->capture.data, r->capture.len);
                sbuf_reset(&r->capture);
            }
            r->armed = r->key_pending = 0;
            break;
        default: r->armed = r->key_pending = 0; break;
        }
        p++;
    }
    if (r->capturing)
        capture(r, cap, (size_t)(end - cap));
}

void usage_reader_feed(struct usage_reader *r, const char *data, size_t len)
{
    if (r->is_sse)
        feed_sse(r, data, data + len);
    else
        feed_json(r, data, data + len);
}

void usage_reader_finish(struct usage_reader *r)
{
    /* a last SSE line without its newline: complete it */
    if (r->is_sse && r->state == UR_CAPTURE) {
        parse_captured_event(r);
        r->state = UR_LINE_START;
    }
    sbuf_free(&r->capture);
}
