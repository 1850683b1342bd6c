/* The answers of `claude-proxy doctor`'s checks: a request started on an upstream (doctor_fetch),
 * its answer copied out of the fetch's callback, and the message an error answer carries. Below
 * doctor.c and the provider checks, which all use it. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include "cli/doctor_internal.h"
#include "common/http_fetch.h"
#include "common/memory.h"

void doctor_answer_take(struct answer *a, const struct http_fetch_result *r)
{
    a->done = 1;
    a->status = r->status;
    if (r->err != NULL)
        snprintf(a->err, sizeof(a->err), "%s", r->err);
    sbuf_append(&a->body, r->body, r->body_len);
    const h2o_iovec_t *t = http_fetch_header(r, "x-amzn-errortype");
    if (t != NULL) {
        const char *colon = memchr(t->base, ':', t->len);
        snprintf(a->error_type, sizeof(a->error_type), "%.*s", (int)(colon ? (size_t)(colon - t->base) : t->len),
                 t->base);
    }
    static const char prefix[] = "anthropic-ratelimit-unified-";
    for (size_t i = 0; i < r->num_headers && a->num_unified < 16; i++) {
        const h2o_iovec_t *n = r->headers[i].name;
        if (n->len > sizeof(prefix) - 1 && memcmp(n->base, prefix, sizeof(prefix) - 1) == 0) {
            snprintf(a->unified[a->num_unified][0], 64, "%.*s", (int)(n->len - sizeof(prefix) + 1),
                     n->base + sizeof(prefix) - 1);
            snprintf(a->unified[a->num_unified][1], 64, "%.*s", (int)r->headers[i].value.len, r->headers[i].value.base);
            a->num_unified++;
        }
    }
}

void doctor_answer_message(const struct answer *a, char *out, size_t outlen)
{
    const char *body = a->body.data ? a->body.data : "";
    cJSON *j = cJSON_ParseWithLength(body, a->body.len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(cJSON_IsObject(e) ? e : j, "message");
    if (!cJSON_IsString(m))
        m = cJSON_GetObjectItemCaseSensitive(j, "Message");
    const char *xml = strstr(body, "<Message>");
    if (cJSON_IsString(m))
        snprintf(out, outlen, "%.300s", m->valuestring);
    else if (xml != NULL)
        snprintf(out, outlen, "%.*s", (int)strcspn(xml + 9, "<"), xml + 9);
    else
        snprintf(out, outlen, "%.200s", body);
    cJSON_Delete(j);
}

static void on_answer(void *ud, const struct http_fetch_result *r);

void doctor_fetch(struct doctor *d, struct upstream *u, sbuf *head, const char *body, size_t len, struct answer *a)
{
    struct fetch_job *j = xmalloc(sizeof(*j));
    *j = (struct fetch_job){d, a};
    d->pending++;
    http_fetch_start(u, head->data, head->len, body, len, MAX_ANSWER, on_answer, j);
}

static void on_answer(void *ud, const struct http_fetch_result *r)
{
    struct fetch_job *j = ud;
    doctor_answer_take(j->a, r);
    j->d->pending--;
    free(j);
}
