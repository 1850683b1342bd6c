/* An Anthropic SSE stream -> chat.completion.chunk lines, one event at a time: the role first,
 * text and tool-call deltas, finish_reason, the usage chunk when asked for, [DONE] only after a
 * complete answer, and OpenAI's error chunk when the upstream fails part way. */
#include "openai/stream.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "openai/json.h"
#include "core/errors.h"
#include "common/memory.h"

struct openai_stream {
    char model[256];
    char id[300];
    long long created;
    int include_usage;
    int role_sent;   /* the first chunk, with the role, was written */
    int tool_count;  /* tool calls started so far; the next one's index */
    int in_tool;     /* the current content block is a client tool_use ... */
    int tool_block;  /* ... with this Anthropic block index */
    int finish_sent; /* the chunk with finish_reason was written */
    int usage_sent;
    int stopped;   /* message_stop arrived: the answer is complete */
    int errored;   /* an error chunk ended the stream */
    int done_sent; /* [DONE] was written */
    long long input_tokens, output_tokens;
};

struct openai_stream *openai_stream_new(const char *model, int include_usage)
{
    struct openai_stream *s = xcalloc(1, sizeof(*s));
    snprintf(s->model, sizeof(s->model), "%s", model ? model : "");
    openai_completion_id(s->id, sizeof(s->id), NULL);
    s->created = (long long)time(NULL);
    s->include_usage = include_usage;
    return s;
}

void openai_stream_free(struct openai_stream *s) { free(s); }

static void chunk_head(struct openai_stream *s, sbuf *out)
{
    sbuf_puts(out, "data: {\"id\":");
    sbuf_json_string(out, s->id, strlen(s->id));
    sbuf_printf(out, ",\"object\":\"chat.completion.chunk\",\"created\":%lld,\"model\":", s->created);
    sbuf_json_string(out, s->model, strlen(s->model));
    sbuf_puts(out, ",\"choices\":[");
}

/* One chunk whose delta is the JSON object text delta. */
static void chunk(struct openai_stream *s, sbuf *out, const char *delta, const char *finish)
{
    chunk_head(s, out);
    sbuf_printf(out, "{\"index\":0,\"delta\":%s,\"finish_reason\":", delta);
    if (finish)
        sbuf_printf(out, "\"%s\"", finish);
    else
        sbuf_puts(out, "null");
    sbuf_printf(out, ",\"logprobs\":null}]%s}\n\n", s->include_usage ? ",\"usage\":null" : "");
}

static void role_chunk(struct openai_stream *s, sbuf *out)
{
    if (!s->role_sent) {
        s->role_sent = 1;
        chunk(s, out, "{\"role\":\"assistant\",\"content\":\"\"}", NULL);
    }
}

static void usage_chunk(struct openai_stream *s, sbuf *out)
{
    s->usage_sent = 1;
    chunk_head(s, out);
    sbuf_puts(out, "],\"usage\":");
    openai_usage_json(out, s->input_tokens, s->output_tokens);
    sbuf_puts(out, "}\n\n");
}

static void finish_chunk(struct openai_stream *s, sbuf *out, const char *reason)
{
    if (!s->finish_sent) {
        role_chunk(s, out);
        s->finish_sent = 1;
        chunk(s, out, "{}", reason);
    }
}

static void tool_start(struct openai_stream *s, const cJSON *ev, const cJSON *block, sbuf *out)
{
    const char *id = GET_STR(block, "id"), *name = GET_STR(block, "name");
    const cJSON *index = GET(ev, "index");
    s->in_tool = 1;
    s->tool_block = cJSON_IsNumber(index) ? index->valueint : -1;
    sbuf d = SBUF_INIT;
    sbuf_printf(&d, "{\"tool_calls\":[{\"index\":%d,\"id\":", s->tool_count++);
    sbuf_json_string(&d, id ? id : "", id ? strlen(id) : 0);
    sbuf_puts(&d, ",\"type\":\"function\",\"function\":{\"name\":");
    sbuf_json_string(&d, name ? name : "", name ? strlen(name) : 0);
    sbuf_puts(&d, ",\"arguments\":\"\"}}]}");
    role_chunk(s, out);
    chunk(s, out, d.data, NULL);
    sbuf_free(&d);
}

static void block_delta(struct openai_stream *s, const cJSON *ev, sbuf *out)
{
    const cJSON *d = GET(ev, "delta"), *index = GET(ev, "index");
    const char *dt = GET_STR(d, "type");
    sbuf delta = SBUF_INIT;
    if (streq(dt, "text_delta")) {
        const char *t = GET_STR(d, "text");
        if (t && t[0]) {
            sbuf_puts(&delta, "{\"content\":");
            sbuf_json_string(&delta, t, strlen(t));
            sbuf_puts(&delta, "}");
        }
    } else if (streq(dt, "input_json_delta") && s->in_tool &&
               (!cJSON_IsNumber(index) || s->tool_block < 0 || index->valueint == s->tool_block)) {
        const char *pj = GET_STR(d, "partial_json");
        if (pj && pj[0]) {
            sbuf_printf(&delta, "{\"tool_calls\":[{\"index\":%d,\"function\":{\"arguments\":", s->tool_count - 1);
            sbuf_json_string(&delta, pj, strlen(pj));
            sbuf_puts(&delta, "}}]}");
        }
    } /* thinking, signature and citation deltas are not shown */
    if (delta.len) {
        role_chunk(s, out);
        chunk(s, out, delta.data, NULL);
    }
    sbuf_free(&delta);
}

/* The error chunk OpenAI itself sends when a stream fails part way: the SDKs throw on it. */
static void error_chunk(struct openai_stream *s, const char *type, const char *code, const char *message, sbuf *out)
{
    sbuf_puts(out, "data: ");
    error_json_openai(out, type, message, NULL, code);
    sbuf_puts(out, "\n\n");
    s->errored = 1;
}

static void stream_error(struct openai_stream *s, const cJSON *ev, sbuf *out)
{
    const cJSON *err = GET(ev, "error");
    const char *type = GET_STR(err, "type"), *message = GET_STR(err, "message");
    if (type != NULL && type[0] == '\0')
        type = NULL;
    error_chunk(s, type ? type : "api_error", type, message && message[0] ? message : "the upstream stream failed",
                out);
}

void openai_stream_fail(struct openai_stream *s, const char *type, const char *message, sbuf *out)
{
    if (s->errored || s->done_sent || s->stopped)
        return;
    error_chunk(s, type, NULL, message, out);
}

int openai_stream_event(struct openai_stream *s, const char *event, size_t event_len, const char *data, size_t data_len,
                        sbuf *out)
{
    if (s->errored)
        return -1;
    if (s->done_sent)
        return 0;
    cJSON *ev = openai_json_parse(data, data_len);
    const char *type = GET_STR(ev, "type");
    char name[32];
    if (type == NULL) { /* data without a type: go by the event name */
        snprintf(name, sizeof(name), "%.*s", event_len < sizeof(name) ? (int)event_len : 0, event ? event : "");
        type = name;
    }
    if (strcmp(type, "message_start") == 0) {
        const cJSON *msg = GET(ev, "message"), *usage = GET(msg, "usage");
        openai_completion_id(s->id, sizeof(s->id), GET_STR(msg, "id"));
        s->input_tokens = openai_usage_input(usage);
        s->output_tokens = openai_tokens(GET(usage, "output_tokens"));
        role_chunk(s, out);
    } else if (strcmp(type, "content_block_start") == 0) {
        const cJSON *block = GET(ev, "content_block");
        s->in_tool = 0;
        if (streq(GET_STR(block, "type"), "tool_use"))
            tool_start(s, ev, block, out);
    } else if (strcmp(type, "content_block_delta") == 0) {
        block_delta(s, ev, out);
    } else if (strcmp(type, "content_block_stop") == 0) {
        s->in_tool = 0;
    } else if (strcmp(type, "message_delta") == 0) {
        const cJSON *usage = GET(ev, "usage");
        if (cJSON_IsNumber(GET(usage, "output_tokens")))
            s->output_tokens = openai_tokens(GET(usage, "output_tokens"));
        long long input = openai_usage_input(usage); /* cumulative counts, when the upstream sends them */
        if (input > s->input_tokens)
            s->input_tokens = input;
        const char *fr = openai_finish_reason(GET_STR(GET(ev, "delta"), "stop_reason"));
        if (fr)
            finish_chunk(s, out, fr);
    } else if (strcmp(type, "message_stop") == 0) {
        s->stopped = 1;
        finish_chunk(s, out, "stop");
        if (s->include_usage && !s->usage_sent)
            usage_chunk(s, out);
    } else if (strcmp(type, "error") == 0) {
        stream_error(s, ev, out);
    } /* ping and anything unknown: nothing to say */
    cJSON_Delete(ev);
    return s->errored ? -1 : 0;
}

void openai_stream_finish(struct openai_stream *s, sbuf *out)
{
    /* [DONE] says the answer is complete: after an error it would let a client that skips the
     * error chunk take a truncated answer for a whole one (OpenAI ends such streams without it) */
    if (s->done_sent || s->errored)
        return;
    if (s->include_usage && !s->usage_sent)
        usage_chunk(s, out);
    sbuf_puts(out, "data: [DONE]\n\n");
    s->done_sent = 1;
}
