/* What the engine asks of every provider: its type by name, whether fallback_on lists a status,
 * whether it can serve now, and the one retry every provider makes for another model's thinking
 * signatures. */
#include "check.h"
#include "core/provider.h"

static const char *no_credentials(struct provider *p) { return p->impl; }

static const struct provider_ops with_problem = {.type = "with_problem", .problem = no_credentials};
static const struct provider_ops without_slot = {.type = "without_slot"};
static const struct provider_ops *const types[] = {&with_problem, &without_slot, NULL};

static void test_types(void)
{
    CHECK(provider_ops_find("with_problem") == NULL); /* nothing registered yet */
    provider_types_register(types);
    CHECK(provider_ops_find("with_problem") == &with_problem);
    CHECK(provider_ops_find("without_slot") == &without_slot);
    CHECK(provider_ops_find("without") == NULL);
    CHECK(provider_ops_find("") == NULL);
}

static void test_problem(void)
{
    char why[] = "no AWS credentials found";
    struct provider p = {.ops = &with_problem, .impl = why};
    CHECK_STR_EQ(provider_problem(&p), why);
    p.impl = NULL;
    CHECK(provider_problem(&p) == NULL);
    p.ops = &without_slot; /* no problem slot: never a problem */
    CHECK(provider_problem(&p) == NULL);
}

static void test_fallback_status(void)
{
    struct provider p = {.fallback_flags = FALLBACK_5XX, .fallback_statuses = {404, 529}, .num_fallback_statuses = 2};
    CHECK(provider_should_fallback_status(&p, 500));
    CHECK(provider_should_fallback_status(&p, 599));
    CHECK(!provider_should_fallback_status(&p, 600));
    CHECK(!provider_should_fallback_status(&p, 499));
    CHECK(provider_should_fallback_status(&p, 404));
    CHECK(!provider_should_fallback_status(&p, 429));
    p.fallback_flags = FALLBACK_THROTTLE;
    CHECK(provider_should_fallback_status(&p, 429)); /* one kind of 429 is enough */
    CHECK(!provider_should_fallback_status(&p, 503));
    CHECK(provider_should_fallback_status(&p, 529));
}

#define UNTOUCHED 99 /* what the verdict stays when it is another answer */

static int verdict_for(const struct client_request *cr, int status, const char *body, int *refused)
{
    enum provider_retry v = (enum provider_retry)UNTOUCHED;
    *refused = provider_thinking_refused(cr, status, body, body ? strlen(body) : 0, &v);
    return (int)v;
}

static void test_thinking_refused(void)
{
    const char *refused_body = "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":"
                               "\"messages.1.content.0: Invalid `signature` in `thinking` block\"}}";
    struct client_request cr = {.endpoint = ENDPOINT_MESSAGES};
    int refused;
    CHECK_INT_EQ(verdict_for(&cr, 400, refused_body, &refused), PROVIDER_RETRY_WITHOUT_THINKING);
    CHECK_INT_EQ(refused, 1);
    cr.without_thinking = 1; /* the retry itself: no third attempt */
    CHECK_INT_EQ(verdict_for(&cr, 400, refused_body, &refused), PROVIDER_RETRY_NO);
    CHECK_INT_EQ(refused, 1);
    cr = (struct client_request){.endpoint = ENDPOINT_PASSTHROUGH}; /* the client's body, not ours to edit */
    CHECK_INT_EQ(verdict_for(&cr, 400, refused_body, &refused), PROVIDER_RETRY_NO);
    CHECK_INT_EQ(refused, 1);
    cr.endpoint = ENDPOINT_COUNT_TOKENS;
    CHECK_INT_EQ(verdict_for(&cr, 400, refused_body, &refused), PROVIDER_RETRY_WITHOUT_THINKING);
    /* other answers: not this provider's retry */
    CHECK_INT_EQ(verdict_for(&cr, 500, refused_body, &refused), UNTOUCHED);
    CHECK_INT_EQ(refused, 0);
    CHECK_INT_EQ(verdict_for(&cr, 400, "{\"error\":{\"message\":\"Invalid signature\"}}", &refused), UNTOUCHED);
    CHECK_INT_EQ(refused, 0);
    CHECK_INT_EQ(verdict_for(&cr, 400, NULL, &refused), UNTOUCHED);
    CHECK_INT_EQ(refused, 0);
    /* the same as a retry_on_error slot: no for everything else */
    cr = (struct client_request){.endpoint = ENDPOINT_MESSAGES};
    CHECK_INT_EQ(provider_retry_on_thinking(NULL, &cr, NULL, 400, NULL, 0, refused_body, strlen(refused_body)),
                 PROVIDER_RETRY_WITHOUT_THINKING);
    CHECK_INT_EQ(provider_retry_on_thinking(NULL, &cr, NULL, 429, NULL, 0, refused_body, strlen(refused_body)),
                 PROVIDER_RETRY_NO);
    cr.without_thinking = 1;
    CHECK_INT_EQ(provider_retry_on_thinking(NULL, &cr, NULL, 400, NULL, 0, refused_body, strlen(refused_body)),
                 PROVIDER_RETRY_NO);
}

int main(void)
{
    test_types();
    test_problem();
    test_fallback_status();
    test_thinking_refused();
    CHECK_DONE();
}
