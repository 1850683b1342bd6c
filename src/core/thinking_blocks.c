#include "core/thinking_blocks.h"
#include <stdlib.h>
#include <string.h>
#include "common/memory.h"

/* The type of a content block ("" if none or not a short string). */
static void block_type(struct json_span item, struct json_object_scan *scan, char *type, size_t size)
{
    const char *err;
    type[0] = '\0';
    if (json_scan_object(item.p, item.len, scan, &err) != 0)
        return;
    const struct json_member *t = json_scan_find(scan, "type");
    if (t == NULL || json_span_string(t->value, type, size) != 0)
        type[0] = '\0';
}

struct content_pass {
    struct json_object_scan *scan;
    sbuf *out;
    size_t kept, dropped;
};

static void keep_content_block(void *ud, struct json_span item)
{
    struct content_pass *c = ud;
    char type[32];
    block_type(item, c->scan, type, sizeof(type));
    if (strcmp(type, "thinking") == 0 || strcmp(type, "redacted_thinking") == 0) {
        c->dropped++;
        return;
    }
    if (c->kept++)
        sbuf_putc(c->out, ',');
    sbuf_append(c->out, item.p, item.len);
}

struct message_pass {
    struct json_object_scan *scan, *inner;
    sbuf *out;
    sbuf content;
    size_t count, dropped;
};

static int is_assistant(const struct json_object_scan *m)
{
    const struct json_member *role = json_scan_find(m, "role");
    char r[16];
    return role != NULL && json_span_string(role->value, r, sizeof(r)) == 0 && strcmp(r, "assistant") == 0;
}

static void strip_message(void *ud, struct json_span item)
{
    struct message_pass *mp = ud;
    if (mp->count++)
        sbuf_putc(mp->out, ',');
    const char *err;
    const struct json_member *content;
    if (json_scan_object(item.p, item.len, mp->scan, &err) != 0 || !is_assistant(mp->scan) ||
        (content = json_scan_find(mp->scan, "content")) == NULL || content->value.p[0] != '[') {
        sbuf_append(mp->out, item.p, item.len);
        return;
    }
    sbuf_reset(&mp->content);
    sbuf_putc(&mp->content, '[');
    struct content_pass c = {mp->inner, &mp->content, 0, 0};
    json_array_each(content->value, keep_content_block, &c);
    sbuf_putc(&mp->content, ']');
    if (c.dropped == 0 || c.kept == 0) {
        sbuf_append(mp->out, item.p, item.len);
        return;
    }
    mp->dropped += c.dropped;
    const char *keys[1] = {"content"}, *values[1] = {mp->content.data};
    json_splice(mp->scan, NULL, 0, keys, values, 1, NULL, mp->out);
}

size_t thinking_blocks_strip_messages(struct json_span messages, sbuf *out)
{
    /* two scans of 6 KB each: one for the message, one for its blocks */
    struct json_object_scan *scans = xmalloc(2 * sizeof(*scans));
    sbuf rebuilt = SBUF_INIT;
    sbuf_putc(&rebuilt, '[');
    struct message_pass mp = {&scans[0], &scans[1], &rebuilt, SBUF_INIT, 0, 0};
    int n = json_array_each(messages, strip_message, &mp);
    sbuf_putc(&rebuilt, ']');
    if (n >= 0 && mp.dropped > 0)
        sbuf_append(out, rebuilt.data, rebuilt.len);
    else
        mp.dropped = 0;
    sbuf_free(&rebuilt);
    sbuf_free(&mp.content);
    free(scans);
    return mp.dropped;
}

size_t thinking_blocks_strip_request(const struct json_object_scan *scan, sbuf *out)
{
    const struct json_member *messages = json_scan_find(scan, "messages");
    if (messages == NULL)
        return 0;
    sbuf stripped = SBUF_INIT;
    size_t n = thinking_blocks_strip_messages(messages->value, &stripped);
    if (n > 0) {
        const char *keys[1] = {"messages"}, *values[1] = {stripped.data};
        json_splice(scan, NULL, 0, keys, values, 1, NULL, out);
    }
    sbuf_free(&stripped);
    return n;
}

int thinking_blocks_signature_refused(int status, const char *body, size_t len)
{
    static const char needle[] = "Invalid `signature` in `thinking` block";
    return status == 400 && body != NULL && memmem(body, len, needle, sizeof(needle) - 1) != NULL;
}
