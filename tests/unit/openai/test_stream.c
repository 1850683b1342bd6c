/* An Anthropic SSE stream -> chat.completion.chunk lines (openai/stream.c), event by event: text,
 * tool calls, usage, errors, a broken upstream, odd orders. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "check.h"
#include "json_check.h"
#include "openai/stream.h"

/* Replaces every "@T" in the single-quoted text by created and quotes it. */
static char *expand(const char *sq, long long created)
{
    char *d = dq(sq);
    sbuf out = SBUF_INIT;
    for (const char *c = d; *c; c++) {
        if (c[0] == '@' && c[1] == 'T') {
            sbuf_printf(&out, "%lld", created);
            c++;
        } else {
            sbuf_putc(&out, *c);
        }
    }
    free(d);
    return sbuf_steal(&out);
}

struct step {
    const char *event; /* NULL: openai_stream_finish, or openai_stream_fail if data is set */
    const char *data;  /* single-quoted; for openai_stream_fail the message, as is */
    int result;
    const char *out; /* what this one event must append, single-quoted, "@T" for created */
};

static long long created_of(const char *out)
{
    const char *c = out ? strstr(out, "\"created\":") : NULL;
    return c ? strtoll(c + 10, NULL, 10) : -1;
}

/* Runs the steps through one stream, checking each event's output as soon as it is fed. */
static void run_stream_at(int line, const char *model, int include_usage, const struct step *steps, size_t n)
{
    long long before = (long long)time(NULL);
    struct openai_stream *s = openai_stream_new(model, include_usage);
    long long created = -1;
    for (size_t i = 0; i < n; i++) {
        sbuf out = SBUF_INIT;
        int r = 0;
        if (steps[i].event) {
            char *data = dq(steps[i].data);
            r = openai_stream_event(s, steps[i].event, strlen(steps[i].event), data, strlen(data), &out);
            free(data);
        } else if (steps[i].data) {
            openai_stream_fail(s, "api_error", steps[i].data, &out);
        } else {
            openai_stream_finish(s, &out);
        }
        if (created < 0 && created_of(out.data) >= 0) {
            created = created_of(out.data);
            CHECK(created >= before && created <= before + 5);
        }
        char *exp = expand(steps[i].out, created);
        check_count++;
        if (r != steps[i].result || strcmp(out.data ? out.data : "", exp) != 0) {
            check_failures++;
            fprintf(stderr, "line %d, step %zu (%s): result %d (expected %d)\n  got:      %s\n  expected: %s\n", line,
                    i,
                    steps[i].event  ? steps[i].event
                    : steps[i].data ? "fail"
                                    : "finish",
                    r, steps[i].result, out.data ? out.data : "", exp);
        }
        free(exp);
        sbuf_free(&out);
    }
    openai_stream_free(s);
}
#define run_stream(model, usage, steps)                                                                                \
    run_stream_at(__LINE__, (model), (usage), (steps), sizeof(steps) / sizeof((steps)[0]))

#define HEAD "data: {'id':'chatcmpl-msg_1','object':'chat.completion.chunk','created':@T,'model':'gpt-4o','choices':["
#define NOFIN ",'finish_reason':null,'logprobs':null}]"

static void test_stream_text_and_tools(void)
{
    static const struct step steps[] = {
        {"message_start",
         "{'type':'message_start','message':{'id':'msg_1','type':'message','role':'assistant','content':[],"
         "'model':'claude-x','stop_reason':null,'usage':{'input_tokens':20,'cache_read_input_tokens':5,"
         "'cache_creation_input_tokens':3,'output_tokens':1}}}",
         0, HEAD "{'index':0,'delta':{'role':'assistant','content':''}" NOFIN ",'usage':null}\n\n"},
        {"ping", "{'type': 'ping'}", 0, ""},
        {"content_block_start",
         "{'type':'content_block_start','index':0,'content_block':{'type':'thinking','thinking':''}}", 0, ""},
        {"content_block_delta",
         "{'type':'content_block_delta','index':0,'delta':{'type':'thinking_delta','thinking':'hmm'}}", 0, ""},
        {"content_block_delta",
         "{'type':'content_block_delta','index':0,'delta':{'type':'signature_delta','signature':'s'}}", 0, ""},
        {"content_block_stop", "{'type':'content_block_stop','index':0}", 0, ""},
        {"content_block_start", "{'type':'content_block_start','index':1,'content_block':{'type':'text','text':''}}", 0,
         ""},
        {"content_block_delta", "{'type':'content_block_delta','index':1,'delta':{'type':'text_delta','text':'Hello'}}",
         0, HEAD "{'index':0,'delta':{'content':'Hello'}" NOFIN ",'usage':null}\n\n"},
        {"content_block_delta",
         "{'type':'content_block_delta','index':1,'delta':{'type':'text_delta','text':' \\'world\\'\\n'}}", 0,
         HEAD "{'index':0,'delta':{'content':' \\'world\\'\\n'}" NOFIN ",'usage':null}\n\n"},
        {"content_block_stop", "{'type':'content_block_stop','index':1}", 0, ""},
        {"content_block_start",
         "{'type':'content_block_start','index':2,'content_block':{'type':'tool_use','id':'toolu_9','name':'get_"
         "weather','input':{}}}",
         0,
         HEAD "{'index':0,'delta':{'tool_calls':[{'index':0,'id':'toolu_9','type':'function','function':"
              "{'name':'get_weather','arguments':''}}]}" NOFIN ",'usage':null}\n\n"},
        {"content_block_delta",
         "{'type':'content_block_delta','index':2,'delta':{'type':'input_json_delta','partial_json':''}}", 0, ""},
        {"content_block_delta",
         "{'type':'content_block_delta','index':2,'delta':{'type':'input_json_delta','partial_json':'{\\'city\\':'}}",
         0,
         HEAD "{'index':0,'delta':{'tool_calls':[{'index':0,'function':{'arguments':'{\\'city\\':'}}]}" NOFIN
              ",'usage':null}\n\n"},
        {"content_block_delta",
         "{'type':'content_block_delta','index':2,'delta':{'type':'input_json_delta','partial_json':' \\'Paris\\'}'}}",
         0,
         HEAD "{'index':0,'delta':{'tool_calls':[{'index':0,'function':{'arguments':' \\'Paris\\'}'}}]}" NOFIN
              ",'usage':null}\n\n"},
        {"content_block_stop", "{'type':'content_block_stop','index':2}", 0, ""},
        {"content_block_start",
         "{'type':'content_block_start','index':3,'content_block':{'type':'tool_use','id':'toolu_10','name':'now','"
         "input':{}}}",
         0,
         HEAD "{'index':0,'delta':{'tool_calls':[{'index':1,'id':'toolu_10','type':'function','function':"
              "{'name':'now','arguments':''}}]}" NOFIN ",'usage':null}\n\n"},
        {"content_block_delta",
         "{'type':'content_block_delta','index':3,'delta':{'type':'input_json_delta','partial_json':'{}'}}", 0,
         HEAD "{'index':0,'delta':{'tool_calls':[{'index':1,'function':{'arguments':'{}'}}]}" NOFIN
              ",'usage':null}\n\n"},
        {"content_block_stop", "{'type':'content_block_stop','index':3}", 0, ""},
        {"message_delta",
         "{'type':'message_delta','delta':{'stop_reason':'tool_use','stop_sequence':null},'usage':{'output_tokens':42}"
         "}",
         0, HEAD "{'index':0,'delta':{},'finish_reason':'tool_calls','logprobs':null}],'usage':null}\n\n"},
        {"message_stop", "{'type':'message_stop'}", 0,
         HEAD "],'usage':{'prompt_tokens':28,'completion_tokens':42,'total_tokens':70}}\n\n"},
        {NULL, NULL, 0, "data: [DONE]\n\n"},
        {NULL, NULL, 0, ""},                                /* finish is idempotent */
        {"message_stop", "{'type':'message_stop'}", 0, ""}, /* nothing after the end */
    };
    run_stream("gpt-4o", 1, steps);
}

#define HEAD2 "data: {'id':'chatcmpl-msg_2','object':'chat.completion.chunk','created':@T,'model':'m','choices':["

static void test_stream_without_usage(void)
{
    /* no "usage" members and no usage chunk; max_tokens -> length */
    static const struct step steps[] = {
        {"message_start",
         "{'type':'message_start','message':{'id':'msg_2','usage':{'input_tokens':3,'output_tokens':1}}}", 0,
         HEAD2 "{'index':0,'delta':{'role':'assistant','content':''}" NOFIN "}\n\n"},
        {"content_block_delta", "{'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':'Hi'}}", 0,
         HEAD2 "{'index':0,'delta':{'content':'Hi'}" NOFIN "}\n\n"},
        {"message_delta", "{'type':'message_delta','delta':{'stop_reason':'max_tokens'},'usage':{'output_tokens':9}}",
         0, HEAD2 "{'index':0,'delta':{},'finish_reason':'length','logprobs':null}]}\n\n"},
        {"message_stop", "{'type':'message_stop'}", 0, ""},
        {NULL, NULL, 0, "data: [DONE]\n\n"},
    };
    run_stream("m", 0, steps);
}

static void test_stream_error(void)
{
    /* an Anthropic error event mid-stream: an OpenAI error chunk, -1, and nothing after it, not even
     * [DONE] (which would say the answer is complete) */
    static const struct step steps[] = {
        {"message_start",
         "{'type':'message_start','message':{'id':'msg_2','usage':{'input_tokens':3,'output_tokens':1}}}", 0,
         HEAD2 "{'index':0,'delta':{'role':'assistant','content':''}" NOFIN ",'usage':null}\n\n"},
        {"content_block_delta", "{'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':'Hi'}}", 0,
         HEAD2 "{'index':0,'delta':{'content':'Hi'}" NOFIN ",'usage':null}\n\n"},
        {"error", "{'type':'error','error':{'type':'overloaded_error','message':'Overloaded'}}", -1,
         "data: "
         "{'error':{'message':'Overloaded','type':'overloaded_error','param':null,'code':'overloaded_error'}}\n\n"},
        {"content_block_delta", "{'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':'more'}}",
         -1, ""},
        {"message_stop", "{'type':'message_stop'}", -1, ""},
        {NULL, NULL, 0, ""}, /* no usage chunk and no [DONE] after an error */
    };
    run_stream("m", 1, steps);

    /* an error event whose data is not JSON: by the event name, with a generic message */
    static const struct step garbled[] = {
        {"error", "upstream went away", -1,
         "data: {'error':{'message':'the upstream stream failed','type':'api_error','param':null,'code':null}}\n\n"},
    };
    run_stream("m", 0, garbled);
}

#define HEADP "data: {'id':'chatcmpl-proxy','object':'chat.completion.chunk','created':@T,'model':'m','choices':["

static void test_stream_fail(void)
{
    /* cut off after a text delta: an error chunk, no finish_reason, no usage, no [DONE] */
    static const struct step cut[] = {
        {"message_start",
         "{'type':'message_start','message':{'id':'msg_2','usage':{'input_tokens':3,'output_tokens':1}}}", 0,
         HEAD2 "{'index':0,'delta':{'role':'assistant','content':''}" NOFIN ",'usage':null}\n\n"},
        {"content_block_delta", "{'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':'Hi'}}", 0,
         HEAD2 "{'index':0,'delta':{'content':'Hi'}" NOFIN ",'usage':null}\n\n"},
        {NULL, "cut off", 0, "data: {'error':{'message':'cut off','type':'api_error','param':null,'code':null}}\n\n"},
        {NULL, "again", 0, ""}, /* one error only */
        {"content_block_delta", "{'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':'more'}}",
         -1, ""},
        {NULL, NULL, 0, ""},
    };
    run_stream("m", 1, cut);

    /* after message_stop the answer is whole: a late failure changes nothing */
    static const struct step late[] = {
        {"message_stop", "{'type':'message_stop'}", 0,
         HEADP "{'index':0,'delta':{'role':'assistant','content':''}" NOFIN "}\n\n" HEADP
               "{'index':0,'delta':{},'finish_reason':'stop','logprobs':null}]}\n\n"},
        {NULL, "too late", 0, ""},
        {NULL, NULL, 0, "data: [DONE]\n\n"},
        {NULL, "after the end", 0, ""},
    };
    run_stream("m", 0, late);
}

static void test_stream_odd_orders(void)
{
    /* deltas before any message_start still get the role chunk first; data without a type goes by
     * the event name; a stream cut before message_stop still gets its usage chunk from finish, with
     * the larger (cumulative) input count of message_delta */
    static const struct step steps[] = {
        {"content_block_delta", "{'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':'x'}}", 0,
         HEADP "{'index':0,'delta':{'role':'assistant','content':''}" NOFIN ",'usage':null}\n\n" HEADP
               "{'index':0,'delta':{'content':'x'}" NOFIN ",'usage':null}\n\n"},
        {"content_block_delta",
         "{'type':'content_block_delta','index':0,'delta':{'type':'input_json_delta','partial_json':'{}'}}", 0, ""},
        {"message_delta", "{'delta':{'stop_reason':'end_turn'},'usage':{'input_tokens':50,'output_tokens':4}}", 0,
         HEADP "{'index':0,'delta':{},'finish_reason':'stop','logprobs':null}],'usage':null}\n\n"},
        {"message_delta", "{'type':'message_delta','delta':{'stop_reason':'max_tokens'}}", 0, ""}, /* one finish only */
        {"bogus", "not json", 0, ""},
        {NULL, NULL, 0,
         HEADP "],'usage':{'prompt_tokens':50,'completion_tokens':4,'total_tokens':54}}\n\ndata: [DONE]\n\n"},
    };
    run_stream("m", 1, steps);

    /* message_stop without a stop_reason still finishes with "stop" */
    static const struct step bare[] = {
        {"message_stop", "{'type':'message_stop'}", 0,
         HEADP "{'index':0,'delta':{'role':'assistant','content':''}" NOFIN "}\n\n" HEADP
               "{'index':0,'delta':{},'finish_reason':'stop','logprobs':null}]}\n\n"},
        {NULL, NULL, 0, "data: [DONE]\n\n"},
    };
    run_stream("m", 0, bare);
}

int main(void)
{
    test_stream_text_and_tools();
    test_stream_without_usage();
    test_stream_error();
    test_stream_fail();
    test_stream_odd_orders();
    CHECK_DONE();
}
