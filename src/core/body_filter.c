#include "core/body_filter.h"
#include <stdlib.h>
#include "common/memory.h"

struct chain {
    struct body_filter super;
    struct body_filter *first, *second;
    sbuf mid;
    int ended;
};

/* The client-facing status is the last filter's word, else the first's. */
static void chain_take_status(struct chain *c)
{
    c->super.final_status = c->second->final_status ? c->second->final_status : c->first->final_status;
}

static int chain_feed(struct body_filter *f, const char *data, size_t len, sbuf *out)
{
    struct chain *c = (struct chain *)f;
    if (c->ended)
        return 1;
    sbuf_reset(&c->mid);
    int r1 = c->first->feed(c->first, data, len, &c->mid);
    int r2 = c->mid.len ? c->second->feed(c->second, c->mid.data, c->mid.len, out) : 0;
    if (r1 == 1 && r2 != 1) {
        /* the first filter has ended its stream: let the second one close its own */
        c->second->finish(c->second, NULL, out);
        r2 = 1;
    }
    c->ended = r2 == 1;
    chain_take_status(c);
    return c->ended;
}

static void chain_finish(struct body_filter *f, const char *err, sbuf *out)
{
    struct chain *c = (struct chain *)f;
    if (!c->ended) {
        sbuf_reset(&c->mid);
        c->first->finish(c->first, err, &c->mid);
        if (!(c->mid.len && c->second->feed(c->second, c->mid.data, c->mid.len, out) == 1))
            c->second->finish(c->second, err, out);
    }
    chain_take_status(c);
}

static void chain_destroy(struct body_filter *f)
{
    struct chain *c = (struct chain *)f;
    c->first->destroy(c->first);
    c->second->destroy(c->second);
    sbuf_free(&c->mid);
    free(c);
}

struct body_filter *body_filter_chain(struct body_filter *first, struct body_filter *second)
{
    if (first == NULL)
        return second;
    if (second == NULL)
        return first;
    struct chain *c = xcalloc(1, sizeof(*c));
    c->super.feed = chain_feed;
    c->super.finish = chain_finish;
    c->super.destroy = chain_destroy;
    c->super.content_type = second->content_type ? second->content_type : first->content_type;
    c->super.whole_body = first->whole_body || second->whole_body;
    c->super.usage = first->usage ? first->usage : second->usage;
    c->first = first;
    c->second = second;
    return &c->super;
}
