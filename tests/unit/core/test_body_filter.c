/* Two body filters run as one: data goes through the first then the second, an end in either ends
 * the chain (the second gets to close its own stream), finish reaches both once, and the
 * client-facing status, content type, whole_body flag and usage come from the right one. */
#include <stdlib.h>
#include "check.h"
#include "core/body_filter.h"
#include "core/usage.h"

/* A filter that writes "<tag>(input)" for each chunk and "<tag>!" (or "<tag>!err") at finish.
 * It ends its stream when it sees end_on in its input. */
struct fake {
    struct body_filter super;
    char tag;
    char end_on;
    int status_at_end;
    int feeds, finishes, *destroyed;
    char last_err[32];
};

static int fake_feed(struct body_filter *f, const char *data, size_t len, sbuf *out)
{
    struct fake *x = (struct fake *)f;
    x->feeds++;
    sbuf_putc(out, x->tag);
    sbuf_putc(out, '(');
    sbuf_append(out, data, len);
    sbuf_putc(out, ')');
    if (x->end_on && memchr(data, x->end_on, len) != NULL) {
        x->super.final_status = x->status_at_end;
        return 1;
    }
    return 0;
}

static void fake_finish(struct body_filter *f, const char *err, sbuf *out)
{
    struct fake *x = (struct fake *)f;
    x->finishes++;
    snprintf(x->last_err, sizeof(x->last_err), "%s", err ? err : "");
    sbuf_putc(out, x->tag);
    sbuf_putc(out, '!');
    if (err != NULL)
        sbuf_puts(out, err);
    x->super.final_status = x->status_at_end;
}

static void fake_destroy(struct body_filter *f)
{
    struct fake *x = (struct fake *)f;
    ++*x->destroyed;
    /* freed by the test, which still reads its counters */
}

static void fake_init(struct fake *x, char tag, int *destroyed)
{
    memset(x, 0, sizeof(*x));
    x->super.feed = fake_feed;
    x->super.finish = fake_finish;
    x->super.destroy = fake_destroy;
    x->tag = tag;
    x->destroyed = destroyed;
}

static void test_null_halves(void)
{
    int destroyed = 0;
    struct fake a;
    fake_init(&a, 'a', &destroyed);
    CHECK(body_filter_chain(NULL, &a.super) == &a.super);
    CHECK(body_filter_chain(&a.super, NULL) == &a.super);
    CHECK(body_filter_chain(NULL, NULL) == NULL);
    CHECK_INT_EQ(destroyed, 0);
}

static void test_streams_through_both(void)
{
    int destroyed = 0;
    struct fake a, b;
    fake_init(&a, 'a', &destroyed);
    fake_init(&b, 'b', &destroyed);
    struct body_filter *c = body_filter_chain(&a.super, &b.super);
    sbuf out = SBUF_INIT;
    CHECK_INT_EQ(c->feed(c, "x", 1, &out), 0);
    CHECK_INT_EQ(c->feed(c, "yz", 2, &out), 0);
    /* each chunk's output comes at once: the second filter sees the first's output per chunk */
    CHECK_STR_EQ(out.data, "b(a(x))b(a(yz))");
    sbuf_reset(&out);
    c->finish(c, NULL, &out);
    CHECK_STR_EQ(out.data, "b(a!)b!");
    CHECK_INT_EQ(a.finishes, 1);
    CHECK_INT_EQ(b.finishes, 1);
    CHECK_STR_EQ(b.last_err, "");
    c->destroy(c);
    CHECK_INT_EQ(destroyed, 2);
    sbuf_free(&out);
}

/* The first filter ends its stream: the second closes its own, and later input is ignored. */
static void test_first_ends(void)
{
    int destroyed = 0;
    struct fake a, b;
    fake_init(&a, 'a', &destroyed);
    fake_init(&b, 'b', &destroyed);
    a.end_on = '.';
    a.status_at_end = 502;
    struct body_filter *c = body_filter_chain(&a.super, &b.super);
    sbuf out = SBUF_INIT;
    CHECK_INT_EQ(c->feed(c, "x.", 2, &out), 1);
    CHECK_STR_EQ(out.data, "b(a(x.))b!");
    CHECK_INT_EQ(b.finishes, 1);
    CHECK_INT_EQ(c->final_status, 502); /* the second set none: the first's word */
    sbuf_reset(&out);
    CHECK_INT_EQ(c->feed(c, "more", 4, &out), 1);
    c->finish(c, "late", &out);
    CHECK_INT_EQ(out.len, 0);
    CHECK_INT_EQ(a.feeds, 1);
    CHECK_INT_EQ(a.finishes, 0);
    CHECK_INT_EQ(b.finishes, 1);
    c->destroy(c);
    CHECK_INT_EQ(destroyed, 2);
    sbuf_free(&out);
}

/* The second filter ends: the chain has ended, and the second's status wins over the first's. */
static void test_second_ends(void)
{
    int destroyed = 0;
    struct fake a, b;
    fake_init(&a, 'a', &destroyed);
    fake_init(&b, 'b', &destroyed);
    a.status_at_end = 500;
    b.end_on = '!';
    b.status_at_end = 200;
    struct body_filter *c = body_filter_chain(&a.super, &b.super);
    sbuf out = SBUF_INIT;
    CHECK_INT_EQ(c->feed(c, "x", 1, &out), 0);
    sbuf_reset(&out);
    /* the first's closing bytes end the second: its finish is not called on top */
    c->finish(c, NULL, &out);
    CHECK_STR_EQ(out.data, "b(a!)");
    CHECK_INT_EQ(a.finishes, 1);
    CHECK_INT_EQ(b.finishes, 0);
    CHECK_INT_EQ(c->final_status, 200);
    c->destroy(c);
    sbuf_free(&out);
}

/* A chunk the first filter swallows is not handed to the second as an empty one. */
static int swallow_feed(struct body_filter *f, const char *data, size_t len, sbuf *out)
{
    ((struct fake *)f)->feeds++;
    return 0;
}

static void swallow_finish(struct body_filter *f, const char *err, sbuf *out) { ((struct fake *)f)->finishes++; }

static void test_empty_middle_and_error(void)
{
    int destroyed = 0;
    struct fake a, b;
    fake_init(&a, 'a', &destroyed);
    fake_init(&b, 'b', &destroyed);
    a.super.feed = swallow_feed;
    a.super.finish = swallow_finish;
    struct body_filter *c = body_filter_chain(&a.super, &b.super);
    sbuf out = SBUF_INIT;
    CHECK_INT_EQ(c->feed(c, "x", 1, &out), 0);
    CHECK_INT_EQ(b.feeds, 0);
    CHECK_INT_EQ(out.len, 0);
    /* a broken upstream: the error reaches the second filter's finish */
    c->finish(c, "reset", &out);
    CHECK_STR_EQ(out.data, "b!reset");
    CHECK_STR_EQ(b.last_err, "reset");
    CHECK_INT_EQ(c->final_status, 0);
    c->destroy(c);
    sbuf_free(&out);
}

static void test_properties(void)
{
    int destroyed = 0;
    struct fake a, b;
    struct usage_counts ua, ub;
    fake_init(&a, 'a', &destroyed);
    fake_init(&b, 'b', &destroyed);
    a.super.content_type = "text/event-stream";
    a.super.usage = &ua;
    b.super.whole_body = 1;
    struct body_filter *c = body_filter_chain(&a.super, &b.super);
    CHECK_STR_EQ(c->content_type, "text/event-stream");
    CHECK_INT_EQ(c->whole_body, 1);
    CHECK(c->usage == &ua);
    c->destroy(c);

    fake_init(&a, 'a', &destroyed);
    fake_init(&b, 'b', &destroyed);
    a.super.content_type = "text/event-stream";
    b.super.content_type = "application/json";
    a.super.whole_body = 1;
    b.super.usage = &ub;
    c = body_filter_chain(&a.super, &b.super);
    CHECK_STR_EQ(c->content_type, "application/json");
    CHECK_INT_EQ(c->whole_body, 1);
    CHECK(c->usage == &ub);
    c->destroy(c);

    fake_init(&a, 'a', &destroyed);
    fake_init(&b, 'b', &destroyed);
    c = body_filter_chain(&a.super, &b.super);
    CHECK(c->content_type == NULL);
    CHECK_INT_EQ(c->whole_body, 0);
    CHECK(c->usage == NULL);
    c->destroy(c);
}

/* Chains nest: (a then b) then c. */
static void test_nested(void)
{
    int destroyed = 0;
    struct fake a, b, d;
    fake_init(&a, 'a', &destroyed);
    fake_init(&b, 'b', &destroyed);
    fake_init(&d, 'c', &destroyed);
    struct body_filter *c = body_filter_chain(body_filter_chain(&a.super, &b.super), &d.super);
    sbuf out = SBUF_INIT;
    c->feed(c, "x", 1, &out);
    CHECK_STR_EQ(out.data, "c(b(a(x)))");
    c->destroy(c);
    CHECK_INT_EQ(destroyed, 3);
    sbuf_free(&out);
}

int main(void)
{
    test_null_halves();
    test_streams_through_both();
    test_first_ends();
    test_second_ends();
    test_empty_middle_and_error();
    test_properties();
    test_nested();
    CHECK_DONE();
}
