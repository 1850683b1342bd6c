#include "sse.h"
#include <string.h>

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

static int process_line(struct sse_parser *p, const char *line, size_t len, sse_event_cb cb, void *ud)
{
    if (len == 0)
        return dispatch(p, cb, ud);
    if (line[0] == ':')
        return 0; /* comment */
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
    }
    if (p->data.len + p->event.len > p->max_event)
        return -1;
    return 0;
}

int sse_parser_feed(struct sse_parser *p, const char *data, size_t len, sse_event_cb cb, void *ud)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        if (nl == NULL) {
            sbuf_append(&p->line, data, len);
            return p->line.len > p->max_event ? -1 : 0;
        }
        size_t n = (size_t)(nl - data);
        const char *line = data;
        if (p->line.len) {
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
        len -= (size_t)(nl - data) + 1;
        data = nl + 1;
    }
    return 0;
}
