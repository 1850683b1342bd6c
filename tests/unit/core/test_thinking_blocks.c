/* Thinking blocks of earlier assistant turns (core/thinking_blocks.c): left out of a request (as
 * the providers do when another model signed them), and the answer that says a signature was
 * refused. */
#include <string.h>
#include "check.h"
#include "common/json_scan.h"
#include "core/thinking_blocks.h"

static void scan(const char *json, struct json_object_scan *o)
{
    const char *err;
    if (json_scan_object(json, strlen(json), o, &err) != 0)
        abort();
}

static const char *const HISTORY =
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":["
    "{\"type\":\"thinking\",\"thinking\":\"hm\",\"signature\":\"c2ln\"},{\"type\":\"redacted_thinking\",\"data\":\"x\"}"
    ","
    "{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"Read\",\"input\":{}}]},"
    "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"content\":\"r\"},"
    "{\"type\":\"thinking\",\"thinking\":\"not an assistant's\"}]},"
    "{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"only\",\"signature\":\"s\"}]}]}";

/* Thinking blocks of assistant turns go, nothing else: a user turn's and the text around them stay. */
static void test_strip_request(void)
{
    struct json_object_scan o;
    scan(HISTORY, &o);
    sbuf out = SBUF_INIT;
    CHECK_INT_EQ(thinking_blocks_strip_request(&o, &out), 2);
    CHECK_STR_EQ(
        out.data,
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":"
        "[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"Read\",\"input\":{}}]},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"content\":\"r\"},"
        "{\"type\":\"thinking\",\"thinking\":\"not an assistant's\"}]},"
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"only\",\"signature\":\"s\"}]}]}");
    sbuf_reset(&out);
    scan("{\"messages\":[{\"role\":\"assistant\",\"content\":\"text\"}]}", &o);
    CHECK_INT_EQ(thinking_blocks_strip_request(&o, &out), 0);
    CHECK_INT_EQ(out.len, 0);
    sbuf_free(&out);
}

/* A 400 naming an invalid `signature` in a `thinking` block, and nothing else. */
static void test_signature_refused(void)
{
    const char *refused = "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":"
                          "\"messages.1.content.0: Invalid `signature` in `thinking` block\"}}";
    CHECK(thinking_blocks_signature_refused(400, refused, strlen(refused)));
    CHECK(!thinking_blocks_signature_refused(429, refused, strlen(refused)));
    CHECK(!thinking_blocks_signature_refused(400, "{\"message\":\"bad\"}", 17));
}

int main(void)
{
    test_strip_request();
    test_signature_refused();
    CHECK_DONE();
}
