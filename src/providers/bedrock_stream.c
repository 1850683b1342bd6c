#include "providers/bedrock_stream.h"
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/errors.h"
#include "aws/eventstream.h"
#include "common/json_scan.h"
#include "core/usage.h"
#include "common/memory.h"

/* Bedrock's own limits: payloads up to 16 MiB, headers up to 128 KiB. */
#define MAX_FRAME (16 * 1024 * 1024 + 128 * 1024 + 16)

struct bedrock_stream {
    struct es_decoder decoder;
    sbuf *out; /* during a feed */
    sbuf decoded;
    sbuf unescaped; /* a chunk's base64 when its JSON escaped a '/' */
    int ended;
    int saw_message_stop;
    enum message_kind { CHUNK_EVENT, OTHER_EVENT, EXCEPTION, STREAM_ERROR } kind; /* the last message's headers' */
    struct usage_counts usage;
    /* last, and not zeroed (7 KB, one stream per request): the scanner fills it, count first */
    struct json_object_scan scan; /* of a chunk, then of its event: nothing is allocated per event */
};

struct bedrock_stream *bedrock_stream_new(void)
{
    struct bedrock_stream *s = xmalloc(sizeof(*s));
    memset(s, 0, offsetof(struct bedrock_stream, scan));
    s->scan.count = 0;
    es_decoder_init(&s->decoder, MAX_FRAME);
    return s;
}

void bedrock_stream_free(struct bedrock_stream *s)
{
    if (s == NULL)
        return;
    es_decoder_free(&s->decoder);
    sbuf_free(&s->decoded);
    sbuf_free(&s->unescaped);
    free(s);
}

int bedrock_stream_saw_message_stop(const struct bedrock_stream *s) { return s->saw_message_stop; }
const struct usage_counts *bedrock_stream_usage(const struct bedrock_stream *s) { return &s->usage; }

static const struct {
    const char *name; /* without the first letter, which may be either case */
    const char *type;
    int status;
} exception_map[] = {
    {"hrottlingException", "rate_limit_error", 429},
    /* the model is still being readied (Bedrock says 429): transient capacity, as Anthropic's
     * 529 overloaded means, so Claude Code waits and retries and fallback rules treat it alike */
    {"odelNotReadyException", "overloaded_error", 529},
    {"erviceUnavailableException", "overloaded_error", 529},
    /* a 400 on Bedrock: an account quota the request exceeds, which a retry does not fix; a
     * throttling wording is handled in bedrock_error_to_anthropic */
    {"erviceQuotaExceededException", "invalid_request_error", 400},
    {"alidationException", "invalid_request_error", 400},
    {"ccessDeniedException", "permission_error", 403},
    /* the proxy's AWS credentials were refused: Bedrock says 403, and so do we (a 401 would
     * make Claude Code ask the user to log in again, which would not help) */
    {"nrecognizedClientException", "permission_error", 403},
    {"xpiredTokenException", "permission_error", 403},
    {"nvalidSignatureException", "permission_error", 403},
    {"esourceNotFoundException", "not_found_error", 404},
    {"odelTimeoutException", "timeout_error", 504},
    {"nternalServerException", "api_error", 500},
    /* the model itself failed (424 from Bedrock): a server-side error for the client */
    {"odelErrorException", "api_error", 500},
    {"odelStreamErrorException", "api_error", 500},
};

const char *bedrock_exception_to_anthropic_type(const char *name, size_t len, int *http_status)
{
    if (name != NULL && len > 1) {
        for (size_t i = 0; i < sizeof(exception_map) / sizeof(exception_map[0]); i++) {
            size_t n = strlen(exception_map[i].name);
            if (len == n + 1 && strncmp(name + 1, exception_map[i].name, n) == 0) {
                *http_status = exception_map[i].status;
                return exception_map[i].type;
            }
        }
    }
    *http_status = 500;
    return "api_error";
}

static void error_event(struct bedrock_stream *s, sbuf *out, const char *type, const char *message)
{
    sse_error_event(out, type, message);
    s->ended = 1;
}

static const char *json_message(const uint8_t *p, size_t len, cJSON **holder)
{
    *holder = cJSON_ParseWithLength((const char *)p, len);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(*holder, "message");
    if (!cJSON_IsString(m))
        m = cJSON_GetObjectItemCaseSensitive(*holder, "Message");
    return cJSON_IsString(m) ? m->valuestring : NULL;
}

/* Whether a string's text up to its closing quote holds only bytes that the JSON scanner takes
 * unescaped: printable ASCII but the backslash (bytes from 0x80 are left to the full reader). Returns
 * the closing quote, or NULL. With SSE2, sixteen bytes at a time: the first quote, backslash, byte
 * below 0x20 or from 0x80 (negative as a signed byte) ends the loop, and only a quote is good;
 * elsewhere a memchr for the quote, then eight bytes at a time (a byte below 0x20, a high bit or a
 * backslash marks the word). */
static const char *plain_string(const char *p, const char *end)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
    const char *start = p;
    for (; end - p >= 16; p += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                                    _mm_cmplt_epi8(x, space));
        unsigned m = (unsigned)_mm_movemask_epi8(stop);
        if (m != 0) {
            const char *q = p + __builtin_ctz(m);
            return *q == '"' ? q : NULL;
        }
    }
    if (p < end && end - start >= 16) {
        /* the last bytes: the sixteen that end at end, those before p (already taken) masked off */
        const char *last = end - 16;
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)last);
        __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                                    _mm_cmplt_epi8(x, space));
        unsigned m = (unsigned)_mm_movemask_epi8(stop) & (0xffffu << (p - last));
        if (m == 0)
            return NULL;
        const char *q = last + __builtin_ctz(m);
        return *q == '"' ? q : NULL;
    }
    for (; p < end; p++) {
        if (*p == '"')
            return p;
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x80 || *p == '\\')
            return NULL;
    }
    return NULL;
#else
    const char *q = memchr(p, '"', (size_t)(end - p));
    if (q == NULL)
        return NULL;
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    for (; q - p >= 8; p += 8) {
        uint64_t x, y;
        memcpy(&x, p, 8);
        y = x ^ (ones * '\\');
        if ((((x - ones * 0x20) & ~x) | x | ((y - ones) & ~y)) & highs)
            return NULL;
    }
    for (; p < q; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x80 || *p == '\\')
            return NULL;
    return q;
#endif
}

/* Base64's characters and its padding, which EVP_DecodeBlock takes without trimming them. */
static int base64_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
           c == '=';
}

int bedrock_chunk_base64_fast(const char *p, size_t len, struct json_span *b64)
{
    static const char head[] = "{\"bytes\":\"", pad[] = "\",\"p\":\"";
    const size_t hl = sizeof(head) - 1, pl = sizeof(pad) - 1;
    if (len < hl + 2 || memcmp(p, head, hl) != 0)
        return 0;
    const char *v = p + hl, *end = p + len;
    /* the base64 ends at the first quote; what is before it is EVP_DecodeBlock's to check */
    const char *q = memchr(v, '"', (size_t)(end - v));
    if (q == NULL || (q > v && (!base64_char((unsigned char)v[0]) || !base64_char((unsigned char)q[-1]))))
        return 0;
    if (end - q == 2 && q[1] == '}')
        goto Ok;
    if ((size_t)(end - q) < pl + 2 || memcmp(q, pad, pl) != 0)
        return 0;
    const char *r = plain_string(q + pl, end);
    if (r == NULL || end - r != 2 || r[1] != '}')
        return 0;
Ok:
    b64->p = v;
    b64->len = (size_t)(q - v);
    return 1;
}

/* After a run of lower-case letters and '_' at p, at least one: where it ends, else NULL. */
static const char *name_run(const char *p, const char *end)
{
    const char *q = p;
    while (q < end && ((*q >= 'a' && *q <= 'z') || *q == '_'))
        q++;
    return q > p ? q : NULL;
}

/* Whether p starts with the literal lit (of length n) before end; then p past it. */
static int take(const char **p, const char *end, const char *lit, size_t n)
{
    if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
        return 0;
    *p += n;
    return 1;
}
#define TAKE(p, end, lit) take(&(p), (end), (lit), sizeof(lit) - 1)

int bedrock_delta_event_fast(const char *p, size_t len)
{
    const char *end = p + len;
    if (!TAKE(p, end, "{\"type\":\"content_block_delta\",\"index\":"))
        return 0;
    if (p < end && *p == '0') { /* a JSON number without sign, fraction or exponent */
        p++;
    } else {
        const char *digits = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == digits)
            return 0;
    }
    if (!TAKE(p, end, ",\"delta\":{\"type\":\"") || (p = name_run(p, end)) == NULL || !TAKE(p, end, "\",\"") ||
        (p = name_run(p, end)) == NULL || !TAKE(p, end, "\":") || (p = json_scan_string(p, end)) == NULL)
        return 0;
    return end - p == 2 && p[0] == '}' && p[1] == '}';
}

/* Base64 has no character that JSON must escape, but a serializer may write '/' as "\/"; any other
 * escape is not base64. */
int bedrock_chunk_base64_full(const char *payload, size_t len, struct json_object_scan *scan, sbuf *unescaped,
                              struct json_span *b64)
{
    const char *err;
    if (json_scan_object(payload, len, scan, &err) != 0)
        return -1;
    const struct json_member *b = json_scan_find(scan, "bytes");
    if (b == NULL || b->value.p[0] != '"')
        return -1;
    const char *p = b->value.p + 1;
    size_t n = b->value.len - 2;
    if (memchr(p, '\\', n) != NULL) {
        sbuf_reset(unescaped);
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '\\' && (i + 1 >= n || p[++i] != '/'))
                return -1;
            sbuf_putc(unescaped, p[i]);
        }
        p = unescaped->data;
        n = unescaped->len;
    }
    b64->p = p;
    b64->len = n;
    return 0;
}

/* Base64 text -> s->decoded; 0, or -1 if it is not base64 (EVP_DecodeBlock's judgement). */
static int decode_base64(struct bedrock_stream *s, const char *p, size_t n)
{
    if (n % 4 != 0)
        return -1;
    sbuf_reset(&s->decoded);
    sbuf_reserve(&s->decoded, n / 4 * 3 + 4);
    int r = EVP_DecodeBlock((unsigned char *)s->decoded.data, (const unsigned char *)p, (int)n);
    if (r < 0)
        return -1;
    /* EVP_DecodeBlock counts the padding as zero bytes */
    if (n >= 1 && p[n - 1] == '=')
        r--;
    if (n >= 2 && p[n - 2] == '=')
        r--;
    s->decoded.len = (size_t)r;
    s->decoded.data[r] = '\0';
    return 0;
}

/* {"bytes":"<base64>"} -> the Anthropic event JSON inside. The fast reader's text is decoded as it
 * is; where EVP_DecodeBlock refuses it (a byte that is not base64, an escape), the full reader has
 * the last word. */
static int decode_chunk(struct bedrock_stream *s, const struct es_message *m)
{
    struct json_span b64;
    if (bedrock_chunk_base64_fast((const char *)m->payload, m->payload_len, &b64) &&
        decode_base64(s, b64.p, b64.len) == 0)
        return 0;
    if (bedrock_chunk_base64_full((const char *)m->payload, m->payload_len, &s->scan, &s->unescaped, &b64) != 0)
        return -1;
    return decode_base64(s, b64.p, b64.len);
}

/* The decoded event, validated, and its type read without building a tree: *tp is the type, its length
 * returned; *tp NULL if the event is not JSON or has no string type. The type is the fast reader's
 * for a delta; else the string's own bytes when it has no escape (as json_span_string would copy
 * them), else json_span_string's copy into buf. */
static size_t event_type(struct bedrock_stream *s, char *buf, size_t bufsize, const char **tp)
{
    static const char delta[] = "content_block_delta";
    if (bedrock_delta_event_fast(s->decoded.data, s->decoded.len)) {
        *tp = delta;
        return sizeof(delta) - 1;
    }
    const char *err;
    const struct json_member *t = NULL;
    if (json_scan_object(s->decoded.data, s->decoded.len, &s->scan, &err) == 0)
        t = json_scan_find(&s->scan, "type");
    if (t == NULL)
        return 0;
    if (t->value.len >= 2 && t->value.p[0] == '"' && t->value.len - 2 < bufsize &&
        memchr(t->value.p + 1, '\\', t->value.len - 2) == NULL) {
        *tp = t->value.p + 1;
        return t->value.len - 2;
    }
    if (json_span_string(t->value, buf, bufsize) == 0) {
        *tp = buf;
        return strlen(buf);
    }
    return 0;
}

static enum message_kind message_kind(const struct es_message *m)
{
    if (es_header_is(m, ":message-type", "event"))
        return es_header_is(m, ":event-type", "chunk") ? CHUNK_EVENT : OTHER_EVENT;
    if (es_header_is(m, ":message-type", "exception"))
        return EXCEPTION;
    return STREAM_ERROR; /* :message-type error (protocol level) or anything unknown */
}

static int on_message(void *ud, const struct es_message *m)
{
    struct bedrock_stream *s = ud;
    sbuf *out = s->out;
    /* a stream's events repeat one header block: what it said last time holds */
    if (!m->same_headers)
        s->kind = message_kind(m);
    if (s->kind == OTHER_EVENT)
        return 0; /* other event types carry nothing for the client */
    if (s->kind == CHUNK_EVENT) {
        if (decode_chunk(s, m) != 0) {
            error_event(s, out, "api_error", "Bedrock sent a stream chunk that is not valid base64 JSON");
            return 1;
        }
        char type[128];
        const char *tp = NULL;
        size_t tl = event_type(s, type, sizeof(type), &tp);
        if (tp == NULL) {
            error_event(s, out, "api_error", "Bedrock sent a stream event without a type");
            return 1;
        }
        /* event: <type>\ndata: <event>\n\n */
        size_t n = 7 + tl + 7 + s->decoded.len + 2;
        sbuf_reserve(out, n);
        char *w = out->data + out->len;
        memcpy(w, "event: ", 7);
        memcpy(w + 7, tp, tl);
        memcpy(w + 7 + tl, "\ndata: ", 7);
        memcpy(w + 14 + tl, s->decoded.data, s->decoded.len);
        memcpy(w + 14 + tl + s->decoded.len, "\n\n", 2);
        out->len += n;
        out->data[out->len] = '\0';
        if (tl == 12 && memcmp(tp, "message_stop", 12) == 0)
            s->saw_message_stop = 1;
        else if (tl >= 8 && memcmp(tp, "message_", 8) == 0) /* message_start, message_delta: their usage */
            usage_apply_event_scan(&s->usage, &s->scan);
        return 0;
    }
    if (s->kind == EXCEPTION) {
        const struct es_header *h = es_message_header(m, ":exception-type");
        int status;
        const char *type =
            bedrock_exception_to_anthropic_type(h ? (const char *)h->value : NULL, h ? h->value_len : 0, &status);
        cJSON *holder;
        const char *msg = json_message(m->payload, m->payload_len, &holder);
        char text[512];
        snprintf(text, sizeof(text), "%s%s%.*s", msg ? msg : "Bedrock stream failed", h ? " (" : "",
                 h ? (int)h->value_len : 0, h ? (const char *)h->value : "");
        if (h)
            strncat(text, ")", sizeof(text) - strlen(text) - 1);
        cJSON_Delete(holder);
        error_event(s, out, type, text);
        return 1;
    }
    const struct es_header *code = es_message_header(m, ":error-code");
    const struct es_header *emsg = es_message_header(m, ":error-message");
    char text[512];
    snprintf(text, sizeof(text), "Bedrock stream error %.*s: %.*s", code ? (int)code->value_len : 0,
             code ? (const char *)code->value : "", emsg ? (int)emsg->value_len : 0,
             emsg ? (const char *)emsg->value : "");
    error_event(s, out, "api_error", text);
    return 1;
}

int bedrock_stream_feed(struct bedrock_stream *s, const uint8_t *data, size_t len, sbuf *out)
{
    if (s->ended)
        return 1;
    s->out = out;
    int r = es_decoder_feed(&s->decoder, data, len, on_message, s);
    s->out = NULL;
    if (r == ES_ERR_CORRUPT) {
        char text[256];
        snprintf(text, sizeof(text), "the Bedrock stream was corrupt (%s)", s->decoder.error);
        error_event(s, out, "api_error", text);
    }
    return s->ended;
}

int bedrock_stream_finish(struct bedrock_stream *s, const char *err, sbuf *out)
{
    if (s->ended)
        return 0;
    s->ended = 1;
    if (err == NULL && s->saw_message_stop && !es_decoder_has_partial(&s->decoder))
        return 0;
    char text[300];
    snprintf(text, sizeof(text), "the Bedrock stream ended early (%s)",
             err                                   ? err
             : es_decoder_has_partial(&s->decoder) ? "in the middle of a frame"
                                                   : "before message_stop");
    sse_error_event(out, strstr(text, "timeout") ? "timeout_error" : "api_error", text);
    return 1;
}

/* Whether an error message speaks of a rate rather than of a hard limit. */
static int says_throttling(const char *msg)
{
    static const char *const words[] = {"throttl", "too many", "rate exceeded", "rate limit", "per minute"};
    for (size_t i = 0; msg != NULL && i < sizeof(words) / sizeof(words[0]); i++)
        if (strcasestr(msg, words[i]) != NULL)
            return 1;
    return 0;
}

void bedrock_error_to_anthropic(int status, const char *error_type, const char *body, size_t body_len, int *out_status,
                                sbuf *out_json)
{
    char name[128] = "";
    if (error_type != NULL) {
        size_t n = strcspn(error_type, ":");
        snprintf(name, sizeof(name), "%.*s", (int)n, error_type);
    }
    cJSON *holder = NULL;
    const char *msg = body_len ? json_message((const uint8_t *)body, body_len, &holder) : NULL;
    if (name[0] == '\0' && holder != NULL) {
        /* some errors name their type in the body: {"__type":"...#ThrottlingException"} */
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(holder, "__type");
        if (cJSON_IsString(t)) {
            const char *hash = strrchr(t->valuestring, '#');
            snprintf(name, sizeof(name), "%s", hash ? hash + 1 : t->valuestring);
        }
    }
    const char *type;
    int mapped;
    if (name[0] != '\0') {
        type = bedrock_exception_to_anthropic_type(name, strlen(name), &mapped);
        if (strcmp(type, "api_error") == 0 && status >= 400 && status < 500 && mapped == 500) {
            mapped = status; /* an exception we do not know: keep Bedrock's own status */
            type = error_type_for_status(status);
        }
        if (strcasecmp(name, "ServiceQuotaExceededException") == 0 && says_throttling(msg)) {
            mapped = 429; /* a rate quota ("Too many tokens per minute"): waiting does fix it */
            type = "rate_limit_error";
        }
    } else {
        mapped = status;
        type = error_type_for_status(status);
    }
    char text[600];
    snprintf(text, sizeof(text), "%s%s%s%s", msg ? msg : "Bedrock returned an error", name[0] ? " (" : "", name,
             name[0] ? ")" : "");
    if (msg == NULL && name[0] == '\0')
        snprintf(text, sizeof(text), "Bedrock returned HTTP %d", status);
    error_json(out_json, API_ANTHROPIC, type, text);
    cJSON_Delete(holder);
    *out_status = mapped;
}
