#include "bedrock_request.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "anthropic_auth.h"

static int in_list(const char *item, size_t len, const char *const *list)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++)
        if (strlen(list[i]) == len && memcmp(list[i], item, len) == 0)
            return 1;
    return 0;
}

struct beta_filter {
    const char *const *allowed;
    sbuf *out;
    int json; /* 1: JSON array items, 0: comma-separated */
    int count;
};

static void keep_allowed(void *ud, const char *item, size_t len)
{
    struct beta_filter *f = ud;
    if (!in_list(item, len, f->allowed))
        return;
    if (f->count++)
        sbuf_putc(f->out, ',');
    if (f->json)
        sbuf_json_string(f->out, item, len);
    else
        sbuf_append(f->out, item, len);
}

void bedrock_filter_betas(const char *beta, size_t beta_len, const char *const *allowed, sbuf *out)
{
    struct beta_filter f = {allowed, out, 0, 0};
    beta_each(beta, beta_len, keep_allowed, &f);
}

/* {"type":"adaptive"} -> {"type":"enabled","budget_tokens":N}, N below max_tokens as Bedrock
 * requires. Returns 1 if replaced (value written), 0 to keep as is, -1 to drop thinking. */
static int adapt_thinking(const struct json_object_scan *scan, unsigned budget, sbuf *value)
{
    const struct json_member *t = json_scan_find(scan, "thinking");
    if (t == NULL)
        return 0;
    cJSON *obj = cJSON_ParseWithLength(t->value.p, t->value.len);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(obj, "type");
    int adaptive = cJSON_IsString(type) && strcmp(type->valuestring, "adaptive") == 0;
    cJSON_Delete(obj);
    if (!adaptive)
        return 0;
    const struct json_member *mt = json_scan_find(scan, "max_tokens");
    long max_tokens = mt ? strtol(mt->value.p, NULL, 10) : 0;
    long b = (long)budget;
    if (max_tokens > 0 && b >= max_tokens)
        b = max_tokens - 1;
    if (budget == 0 || b < 1024) /* Bedrock's minimum thinking budget */
        return -1;
    sbuf_printf(value, "{\"type\":\"enabled\",\"budget_tokens\":%ld}", b);
    return 1;
}

int bedrock_invoke_body(const struct json_object_scan *scan, const char *beta, size_t beta_len,
                        const struct bedrock_adaptation *a, sbuf *out, char *err, size_t errlen)
{
    const char *drop[64];
    size_t ndrop = 0;
    drop[ndrop++] = "model";
    drop[ndrop++] = "stream";
    drop[ndrop++] = "anthropic_version";
    drop[ndrop++] = "anthropic_beta";
    for (size_t i = 0; a->drop_fields != NULL && a->drop_fields[i] != NULL && ndrop < 60; i++)
        drop[ndrop++] = a->drop_fields[i];

    sbuf thinking = SBUF_INIT;
    const char *keys[1] = {"thinking"}, *values[1] = {NULL};
    size_t nreplace = 0;
    switch (adapt_thinking(scan, a->adaptive_thinking_budget, &thinking)) {
    case 1:
        values[0] = thinking.data;
        nreplace = 1;
        break;
    case -1:
        drop[ndrop++] = "thinking";
        break;
    }

    sbuf extra = SBUF_INIT;
    sbuf_puts(&extra, "\"anthropic_version\":\"" BEDROCK_ANTHROPIC_VERSION "\"");
    sbuf betas = SBUF_INIT;
    struct beta_filter f = {a->betas_allowed, &betas, 1, 0};
    beta_each(beta, beta_len, keep_allowed, &f);
    if (f.count)
        sbuf_printf(&extra, ",\"anthropic_beta\":[%s]", betas.data);
    json_splice(scan, drop, ndrop, keys, values, nreplace, extra.data, out);
    sbuf_free(&thinking);
    sbuf_free(&extra);
    sbuf_free(&betas);
    (void)err, (void)errlen;
    return 0;
}
