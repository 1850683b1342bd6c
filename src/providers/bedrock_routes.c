#include "providers/bedrock_routes.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "common/memory.h"
#include "common/str_copy.h"

static const char *const names[BEDROCK_NUM_ROUTES] = {"invoke", "runtime", "mantle"};

const char *bedrock_route_name(enum bedrock_route r) { return (unsigned)r < BEDROCK_NUM_ROUTES ? names[r] : "?"; }

int bedrock_route_parse(const char *name)
{
    for (int i = 0; i < BEDROCK_NUM_ROUTES; i++)
        if (name != NULL && strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

/* The message of an AWS error ({"message":..}, {"Message":..}) or an Anthropic one
 * ({"error":{"type":..,"message":..}}), and its type where it names one. */
static void read_error(const char *body, size_t len, char *type, size_t typelen, char *msg, size_t msglen)
{
    type[0] = msg[0] = '\0';
    cJSON *j = cJSON_ParseWithLength(body, len);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
    if (!cJSON_IsString(m))
        m = cJSON_GetObjectItemCaseSensitive(j, "Message");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsObject(e)) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
        if (cJSON_IsString(t))
            snprintf(type, typelen, "%s", t->valuestring);
        if (!cJSON_IsString(m))
            m = cJSON_GetObjectItemCaseSensitive(e, "message");
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "__type"); /* also under Output (200 answers) */
    const cJSON *output = cJSON_GetObjectItemCaseSensitive(j, "Output");
    if (!cJSON_IsString(t) && cJSON_IsObject(output))
        t = cJSON_GetObjectItemCaseSensitive(output, "__type");
    if (cJSON_IsString(t) && type[0] == '\0') {
        const char *hash = strrchr(t->valuestring, '#');
        snprintf(type, typelen, "%s", hash ? hash + 1 : t->valuestring);
    }
    if (cJSON_IsString(m))
        snprintf(msg, msglen, "%s", m->valuestring);
    cJSON_Delete(j);
}

static int contains(const char *hay, const char *needle) { return strcasestr(hay, needle) != NULL; }

int bedrock_error_is_route_refusal(int status, const char *error_type, const char *body, size_t len, char *why,
                                   size_t whylen)
{
    char type[128], msg[512];
    read_error(body ? body : "", body ? len : 0, type, sizeof(type), msg, sizeof(msg));
    if (error_type != NULL && *error_type != '\0')
        snprintf(type, sizeof(type), "%.*s", (int)strcspn(error_type, ":"), error_type);
    int refused = 0;
    if (strcasecmp(type, "UnknownOperationException") == 0 || strcasecmp(type, "ResourceNotFoundException") == 0) {
        refused = 1;
    } else if (status == 400 || status == 403 || status == 404) {
        /* the model, not the request: "The provided model identifier is invalid.", "Invocation
         * of model ID ... with on-demand throughput isn't supported", an unknown model on
         * bedrock-mantle (Anthropic's not_found_error for the model, or its wording) */
        static const char *const phrases[] = {"model identifier is invalid",
                                              "on-demand throughput",
                                              "model not found",
                                              "unknown model",
                                              "invalid model",
                                              "not available in this region",
                                              "model is not supported",
                                              "not served in this region",
                                              "does not serve"};
        for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]) && !refused; i++)
            refused = contains(msg, phrases[i]);
        if (!refused && status == 404 && strcmp(type, "not_found_error") == 0 && contains(msg, "model"))
            refused = 1;
    }
    if (refused && why != NULL)
        snprintf(why, whylen, "%d %s%s%.160s", status, type[0] ? type : "", type[0] && msg[0] ? ": " : "", msg);
    return refused;
}

/* ---- memory: a small table, bounded (models x regions x providers stay few) ---- */
#define MAX_KNOWN 256

struct known {
    char key[320]; /* provider \n region \n model */
    char provider[64], region[32], model[200];
    enum bedrock_route_state state[BEDROCK_NUM_ROUTES];
    char why[BEDROCK_NUM_ROUTES][200];
};

static struct known *known;
static size_t num_known;

static void make_key(char *key, size_t size, const char *provider, const char *region, const char *model)
{
    /* what snprintf(key, size, "%s\n%s\n%s", ...) writes (twice per request: no printf) */
    size_t n = str_copy(key, size, provider, (size_t)-1);
    n += str_copy(key + n, size - n, "\n", 1);
    n += str_copy(key + n, size - n, region, (size_t)-1);
    n += str_copy(key + n, size - n, "\n", 1);
    str_copy(key + n, size - n, model, (size_t)-1);
}

static struct known *find(const char *provider, const char *region, const char *model, int create)
{
    char key[320];
    make_key(key, sizeof(key), provider, region, model);
    for (size_t i = 0; i < num_known; i++)
        if (strcmp(known[i].key, key) == 0)
            return &known[i];
    if (!create || num_known >= MAX_KNOWN)
        return NULL;
    if (known == NULL)
        known = xcalloc(MAX_KNOWN, sizeof(*known));
    struct known *k = &known[num_known++];
    memset(k, 0, sizeof(*k));
    snprintf(k->key, sizeof(k->key), "%s", key);
    snprintf(k->provider, sizeof(k->provider), "%s", provider);
    snprintf(k->region, sizeof(k->region), "%s", region);
    snprintf(k->model, sizeof(k->model), "%s", model);
    return k;
}

void bedrock_route_note(const char *provider, const char *region, const char *model, enum bedrock_route r,
                        enum bedrock_route_state state, const char *why)
{
    struct known *k = find(provider, region, model, 1);
    if (k == NULL || (unsigned)r >= BEDROCK_NUM_ROUTES)
        return;
    k->state[r] = state;
    snprintf(k->why[r], sizeof(k->why[r]), "%s", why ? why : "");
}

enum bedrock_route_state bedrock_route_known(const char *provider, const char *region, const char *model,
                                             enum bedrock_route r)
{
    struct known *k = find(provider, region, model, 0);
    return k != NULL && (unsigned)r < BEDROCK_NUM_ROUTES ? k->state[r] : BEDROCK_ROUTE_UNKNOWN;
}

void bedrock_route_describe(const char *provider, sbuf *out)
{
    int any = 0;
    for (size_t i = 0; i < num_known; i++) {
        struct known *k = &known[i];
        if (strcmp(k->provider, provider) != 0)
            continue;
        sbuf_puts(out, any ? ",{" : ",\"routes\":[{");
        any = 1;
        sbuf_puts(out, "\"model\":");
        sbuf_json_string(out, k->model, strlen(k->model));
        sbuf_puts(out, ",\"region\":");
        sbuf_json_string(out, k->region, strlen(k->region));
        for (int r = 0; r < BEDROCK_NUM_ROUTES; r++) {
            if (k->state[r] == BEDROCK_ROUTE_UNKNOWN)
                continue;
            char v[240];
            snprintf(v, sizeof(v), "%s%s%s", k->state[r] == BEDROCK_ROUTE_SERVES ? "serves" : "refused",
                     k->why[r][0] ? ": " : "", k->why[r]);
            sbuf_printf(out, ",\"%s\":", names[r]);
            sbuf_json_string(out, v, strlen(v));
        }
        sbuf_putc(out, '}');
    }
    if (any)
        sbuf_putc(out, ']');
}
