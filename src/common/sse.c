#include "common/sse.h"
#include <stdint.h>
#include <string.h>

/* room for a field name and its colon on top of the payload when bounding a pending line */
#define SSE_LINE_SLACK 64

void sse_parser_init(struct sse_parser *p, size_t max_event)
{
    memset(p, 0, sizeof(*p));
    p->max_event = max_event;
}

void sse_parser_free(struct sse_parser *p)
{
    sbuf_free(&p->line);
    sbuf_free(&p->event);
    sbuf_free(&p->data);
}

static int dispatch(struct sse_parser *p, sse_event_cb cb, void *ud)
{
    int r = 0;
    if (p->has_data) {
        const char *name = p->event.len ? p->event.data : "message";
        r = cb(ud, name, p->event.len ? p->event.len : 7, p->data.data ? p->data.data : "", p->data.len);
    }
    sbuf_reset(&p->event);
    sbuf_reset(&p->data);
    p->has_data = 0;
    return r;
}

/* The longest line accepted: the payload limit plus room for a field name and its colon. */
static size_t max_line(const struct sse_parser *p) { return p->max_event + SSE_LINE_SLACK; }

static int process_line(struct sse_parser *p, const char *line, size_t len, sse_event_cb cb, void *ud)
{
    if (len == 0)
        return dispatch(p, cb, ud);
    if (line[0] == ':')
        return 0; /* a comment (feed() skips them before they get here) */
    if (len > max_line(p))
        return -1;
    const char *colon = memchr(line, ':', len);
    size_t name_len = colon ? (size_t)(colon - line) : len;
    const char *value = colon ? colon + 1 : line + len;
    size_t value_len = len - (size_t)(value - line);
    if (value_len > 0 && value[0] == ' ')
        value++, value_len--;
    if (name_len == 5 && memcmp(line, "event", 5) == 0) {
        sbuf_reset(&p->event);
        sbuf_append(&p->event, value, value_len);
    } else if (name_len == 4 && memcmp(line, "data", 4) == 0) {
        if (p->has_data)
            sbuf_putc(&p->data, '\n');
        sbuf_append(&p->data, value, value_len);
        p->has_data = 1;
    } /* id, retry and unknown fields are ignored */
    return p->data.len + p->event.len > p->max_event ? -1 : 0;
}

/* The same rules hold however the input is split: a line is too long when its complete form
 * would be, and a pending partial line longer than max_line() + 1 (its last byte may be a '\r'
 * that a following '\n' strips) can only complete, or stay, too long. */
static int feed(struct sse_parser *p, const char *data, size_t len, sse_event_cb cb, void *ud)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t consumed = nl ? (size_t)(nl - data) + 1 : len;
        if (p->in_comment || (p->line.len == 0 && data[0] == ':')) {
            /* a comment: nothing to keep, however long */
            p->in_comment = nl == NULL;
            len -= consumed;
            data += consumed;
            continue;
        }
        if (nl == NULL) {
            if (p->line.len + len > max_line(p) + 1)
                return -1;
            sbuf_append(&p->line, data, len);
            return 0;
        }
        size_t n = consumed - 1;
        const char *line = data;
        if (p->line.len) {
            char last = n ? data[n - 1] : p->line.data[p->line.len - 1];
            if (p->line.len + n - (last == '\r') > max_line(p))
                return -1;
            sbuf_append(&p->line, data, n);
            line = p->line.data;
            n = p->line.len;
        }
        if (n > 0 && line[n - 1] == '\r')
            n--;
        int r = process_line(p, line, n, cb, ud);
        sbuf_reset(&p->line);
        if (r != 0)
            return r;
        len -= consumed;
        data += consumed;
    }
    return 0;
}

int sse_parser_feed(struct sse_parser *p, const char *data, size_t len, sse_event_cb cb, void *ud)
{
    if (p->stopped == 0)
        p->stopped = feed(p, data, len, cb, ud);
    return p->stopped;
}

void sse_append_event(sbuf *out, const char *event, const char *data, size_t data_len)
{
    if (event != NULL) {
        sbuf_puts(out, "event: ");
        sbuf_append(out, event, strcspn(event, "\r\n")); /* a line break would end the field */
        sbuf_putc(out, '\n');
    }
    /* one data: line per line of data; "\r\n", "\r" and "\n" all end a line for SSE clients */
    size_t i = 0;
    do {
        size_t start = i;
        while (i < data_len && data[i] != '\n' && data[i] != '\r')
            i++;
        sbuf_puts(out, "data: ");
        sbuf_append(out, data + start, i - start);
        sbuf_putc(out, '\n');
        if (i < data_len && data[i] == '\r' && i + 1 < data_len && data[i + 1] == '\n')
            i++;
    } while (i++ < data_len);
    sbuf_putc(out, '\n');
}

void sse_event_watch_init(struct sse_event_watch *w) { memset(w, 0, sizeof(*w)); }

static int watch_dispatch(struct sse_event_watch *w, const char *const *names)
{
    int hit = 0;
    if (w->has_data && w->name_len != SIZE_MAX) {
        const char *name = w->name_len ? w->name : "message";
        size_t len = w->name_len ? w->name_len : 7;
        for (size_t i = 0; names[i] != NULL && !hit; i++)
            hit = names[i][0] == name[0] && strlen(names[i]) == len && memcmp(names[i], name, len) == 0;
    }
    w->name_len = 0;
    w->has_data = w->has_fields = 0;
    return hit;
}

/* A complete line; only its first sizeof(w->line) bytes were kept. */
static int watch_line(struct sse_event_watch *w, const char *const *names)
{
    size_t len = w->line_len, kept = len < sizeof(w->line) ? len : sizeof(w->line);
    if (len == kept && len > 0 && w->line[len - 1] == '\r')
        len = --kept;
    if (len == 0)
        return watch_dispatch(w, names);
    w->has_fields = 1;
    if (w->line[0] == ':')
        return 0; /* a comment */
    const char *colon = memchr(w->line, ':', kept);
    size_t name_len = colon ? (size_t)(colon - w->line) : kept;
    if (name_len == 4 && memcmp(w->line, "data", 4) == 0) {
        w->has_data = 1;
    } else if (name_len == 5 && memcmp(w->line, "event", 5) == 0) {
        size_t at = colon ? name_len + 1 : len;
        if (at < kept && w->line[at] == ' ')
            at++;
        size_t value_len = len - at;
        if (len == kept && value_len < sizeof(w->name)) {
            memcpy(w->name, w->line + at, value_len);
            w->name_len = value_len;
        } else {
            w->name_len = SIZE_MAX;
        }
    }
    return 0;
}

int sse_event_watch_feed(struct sse_event_watch *w, const char *data, size_t len, const char *const *names)
{
    int hit = 0;
    while (len > 0) {
        if (w->line_len == 0 && data[0] == '\n') { /* a blank line: the event is dispatched */
            hit |= watch_dispatch(w, names);
            data++;
            len--;
            continue;
        }
        const char *nl = memchr(data, '\n', len);
        /* the common line, a whole data line: all it tells is that the event has data */
        if (w->line_len == 0 && nl != NULL && nl - data >= 5 && memcmp(data, "data:", 5) == 0) {
            w->has_data = w->has_fields = 1;
            len -= (size_t)(nl + 1 - data);
            data = nl + 1;
            continue;
        }
        size_t n = nl ? (size_t)(nl - data) : len;
        if (w->line_len < sizeof(w->line)) {
            size_t room = sizeof(w->line) - w->line_len;
            memcpy(w->line + w->line_len, data, n < room ? n : room);
        }
        w->line_len += n;
        if (nl == NULL)
            break;
        hit |= watch_line(w, names);
        w->line_len = 0;
        data += n + 1;
        len -= n + 1;
    }
    return hit;
}

int sse_event_watch_at_boundary(const struct sse_event_watch *w) { return w->line_len == 0 && !w->has_fields; }
