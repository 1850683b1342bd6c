#include "common/json_scan.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/memory.h"

struct scanner {
    const char *p, *end;
    const char *err;
};

static void skip_ws(struct scanner *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

static int fail(struct scanner *s, const char *msg)
{
    if (s->err == NULL)
        s->err = msg;
    return -1;
}

static int is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/* Request bodies are mostly long strings (Claude Code's are full of \n and \" escapes), and finding
 * where a string ends is the proxy's hot path. Each 64-byte window becomes a bit mask of the bytes
 * that matter in a string (quote, backslash, control character; bit i is byte i), as in simdjson's
 * first stage: count trailing zeros to reach the next one, and step over an escape by clearing the
 * mask's low bits, so that escapes do not leave the vector loop. */
#define WINDOW 64
#if defined(__SSE2__) && !defined(CP_JSON_SCAN_PORTABLE)
#include <emmintrin.h>
static inline uint64_t special_mask16(const char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    /* unsigned v <= 0x1f: max(v, 0x1f) is 0x1f */
    __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
    return (uint32_t)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control));
}
static inline uint64_t window_mask(const char *p)
{
    return special_mask16(p) | special_mask16(p + 16) << 16 | special_mask16(p + 32) << 32 |
           special_mask16(p + 48) << 48;
}
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
/* AVX2, where the CPU has it (chosen at run time: the baseline build targets plain x86-64) */
#define HAVE_AVX2_VARIANT 1
#include <immintrin.h>
__attribute__((target("avx2"))) static inline uint64_t special_mask32_avx2(const char *p)
{
    __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
    __m256i quote = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('"'));
    __m256i backslash = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\'));
    __m256i control = _mm256_cmpeq_epi8(_mm256_max_epu8(v, _mm256_set1_epi8(0x1f)), _mm256_set1_epi8(0x1f));
    return (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(_mm256_or_si256(quote, backslash), control));
}
__attribute__((target("avx2"))) static inline uint64_t window_mask_avx2(const char *p)
{
    return special_mask32_avx2(p) | special_mask32_avx2(p + 32) << 32;
}
#endif
#elif defined(__aarch64__) && defined(__ARM_NEON) && !defined(CP_JSON_SCAN_PORTABLE)
#include <arm_neon.h>
static inline uint8x16_t special_bytes16(const char *p)
{
    uint8x16_t v = vld1q_u8((const uint8_t *)p);
    return vorrq_u8(vorrq_u8(vceqq_u8(v, vdupq_n_u8('"')), vceqq_u8(v, vdupq_n_u8('\\'))),
                    vcltq_u8(v, vdupq_n_u8(0x20)));
}
static inline uint64_t window_mask(const char *p)
{
    /* NEON has no movemask: keep one weighted bit per byte, then add neighbours pairwise until
     * each byte of the result holds the bits of 8 input bytes */
    static const uint8_t weights[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint8x16_t w = vld1q_u8(weights);
    uint8x16_t a = vandq_u8(special_bytes16(p), w), b = vandq_u8(special_bytes16(p + 16), w);
    uint8x16_t c = vandq_u8(special_bytes16(p + 32), w), d = vandq_u8(special_bytes16(p + 48), w);
    uint8x16_t sum = vpaddq_u8(vpaddq_u8(a, b), vpaddq_u8(c, d));
    sum = vpaddq_u8(sum, sum);
    return vgetq_lane_u64(vreinterpretq_u64_u8(sum), 0);
}
#else
static inline uint64_t window_mask(const char *p)
{
    uint64_t m = 0;
    for (int i = 0; i < WINDOW; i++) {
        unsigned char c = (unsigned char)p[i];
        m |= (uint64_t)(c == '"' || c == '\\' || c < 0x20) << i;
    }
    return m;
}
#endif

/* The length of the escape at q (a backslash), 0 after failing. */
static size_t escape_len(struct scanner *s, const char *q)
{
    if (q + 1 >= s->end)
        return fail(s, "body is not valid JSON: unterminated escape"), 0;
    switch (q[1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't': return 2;
    case 'u':
        if (q + 6 > s->end || !is_hex(q[2]) || !is_hex(q[3]) || !is_hex(q[4]) || !is_hex(q[5]))
            return fail(s, "body is not valid JSON: bad \\u escape"), 0;
        return 6;
    default: return fail(s, "body is not valid JSON: bad escape"), 0;
    }
}

/* The escapes that are two bytes long, by their second byte. */
static const unsigned char simple_escape[256] = {
    ['"'] = 1, ['\\'] = 1, ['/'] = 1, ['b'] = 1, ['f'] = 1, ['n'] = 1, ['r'] = 1, ['t'] = 1};

/* At an opening quote; leaves p after the closing quote. Inlined into one function per vector width. */
static inline __attribute__((always_inline)) int scan_string_with(struct scanner *s, uint64_t (*mask)(const char *))
{
    const char *window = s->p + 1;
    for (;;) {
        size_t avail = (size_t)(s->end - window), len = avail < WINDOW ? avail : WINDOW;
        if (len == 0)
            return fail(s, "body is not valid JSON: unterminated string");
        if (len < WINDOW) { /* the input's last bytes (all of a small body's strings): one at a time */
            for (const char *q = window; q < s->end;) {
                unsigned char c = (unsigned char)*q;
                if (c == '"') {
                    s->p = q + 1;
                    return 0;
                }
                if (c < 0x20)
                    return fail(s, "body is not valid JSON: control character in string");
                if (c != '\\') {
                    q++;
                    continue;
                }
                size_t n = q + 1 < s->end && simple_escape[(unsigned char)q[1]] ? 2 : escape_len(s, q);
                if (n == 0)
                    return -1;
                q += n;
            }
            return fail(s, "body is not valid JSON: unterminated string");
        }
        uint64_t m = mask(window);
        size_t next = len; /* where the next window starts, from this one */
        while (m != 0) {
            size_t i = (size_t)__builtin_ctzll(m);
            const char *q = window + i;
            if (*q == '"') {
                s->p = q + 1;
                return 0;
            }
            size_t n;
            if (*q == '\\' && q + 1 < s->end && simple_escape[(unsigned char)q[1]]) {
                n = 2; /* the common escape, without the general check */
            } else {
                if ((unsigned char)*q < 0x20)
                    return fail(s, "body is not valid JSON: control character in string");
                if ((n = escape_len(s, q)) == 0)
                    return -1;
            }
            if (i + n >= WINDOW) { /* the escape ends this window or reaches into the next */
                next = i + n;
                break;
            }
            m &= ~(uint64_t)0 << (i + n);
        }
        window += next;
    }
}

static int scan_string_baseline(struct scanner *s) { return scan_string_with(s, window_mask); }
#ifdef HAVE_AVX2_VARIANT
__attribute__((target("avx2"))) static int scan_string_avx2(struct scanner *s)
{
    return scan_string_with(s, window_mask_avx2);
}
#endif

static int (*scan_string)(struct scanner *s) = scan_string_baseline;

int json_scan_use_vectors(const char *name)
{
    if (name == NULL) {
#ifdef HAVE_AVX2_VARIANT
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2")) {
            scan_string = scan_string_avx2;
            return 0;
        }
#endif
        scan_string = scan_string_baseline;
        return 0;
    }
    if (strcmp(name, "baseline") == 0) {
        scan_string = scan_string_baseline;
        return 0;
    }
#ifdef HAVE_AVX2_VARIANT
    if (strcmp(name, "avx2") == 0) {
        __builtin_cpu_init();
        if (!__builtin_cpu_supports("avx2"))
            return -1;
        scan_string = scan_string_avx2;
        return 0;
    }
#endif
    return -1;
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((constructor)) static void choose_vectors(void) { json_scan_use_vectors(NULL); }
#endif

static int scan_number(struct scanner *s)
{
    const char *p = s->p;
    if (p < s->end && *p == '-')
        p++;
    if (p >= s->end)
        return fail(s, "body is not valid JSON: bad number");
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return fail(s, "body is not valid JSON: unexpected character");
    }
    if (p < s->end && *p == '.') {
        p++;
        if (p >= s->end || !(*p >= '0' && *p <= '9'))
            return fail(s, "body is not valid JSON: bad number");
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < s->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= s->end || !(*p >= '0' && *p <= '9'))
            return fail(s, "body is not valid JSON: bad number");
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    }
    s->p = p;
    return 0;
}

static int scan_literal(struct scanner *s, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return fail(s, "body is not valid JSON: unexpected character");
    s->p += n;
    return 0;
}

static int scan_value(struct scanner *s, int depth);

static int scan_container(struct scanner *s, int depth, char close, int is_object)
{
    if (depth >= JSON_SCAN_MAX_DEPTH)
        return fail(s, "body is not valid JSON: nested too deeply");
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 0;
    }
    for (;;) {
        skip_ws(s);
        if (is_object) {
            if (s->p >= s->end || *s->p != '"')
                return fail(s, "body is not valid JSON: expected a member name");
            if (scan_string(s) != 0)
                return -1;
            skip_ws(s);
            if (s->p >= s->end || *s->p != ':')
                return fail(s, "body is not valid JSON: expected ':'");
            s->p++;
        }
        if (scan_value(s, depth + 1) != 0)
            return -1;
        skip_ws(s);
        if (s->p >= s->end)
            return fail(s, "body is not valid JSON: unexpected end");
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == close) {
            s->p++;
            return 0;
        }
        return fail(s, "body is not valid JSON: expected ',' or a closing bracket");
    }
}

static int scan_value(struct scanner *s, int depth)
{
    skip_ws(s);
    if (s->p >= s->end)
        return fail(s, "body is not valid JSON: unexpected end");
    switch (*s->p) {
    case '{': return scan_container(s, depth, '}', 1);
    case '[': return scan_container(s, depth, ']', 0);
    case '"': return scan_string(s);
    case 't': return scan_literal(s, "true");
    case 'f': return scan_literal(s, "false");
    case 'n': return scan_literal(s, "null");
    default: return scan_number(s);
    }
}

static int json_member_key_is_span(const struct json_member *m, const char *key, size_t n)
{
    return m->key.len == n && memcmp(m->key.p, key, n) == 0;
}

/* The memo of the member named by m's key, or NULL. */
static struct json_value_memo *memo_for(const struct json_member *m, struct json_value_memo *memo, size_t nmemo)
{
    for (size_t i = 0; i < nmemo; i++)
        if (json_member_key_is(m, memo[i].name))
            return &memo[i];
    return NULL;
}

/* At a value: 1 and p past it if the input there starts with the memo's bytes. Only objects, arrays
 * and strings are kept, so nothing the bytes are followed by can extend the value. */
static int memo_hit(struct scanner *s, const struct json_value_memo *memo)
{
    if (memo == NULL || memo->len == 0 || (size_t)(s->end - s->p) < memo->len || *s->p != memo->bytes[0] ||
        memcmp(s->p, memo->bytes, memo->len) != 0)
        return 0;
    s->p += memo->len;
    return 1;
}

/* Stamps come from one counter for every memo and thread, so a stamp names one value for the
 * process's life. */
static unsigned long memo_stamps;

/* Keeps value in the memo; returns its new stamp, or 0 if it is not kept. */
static unsigned long memo_keep(struct json_value_memo *memo, struct json_span value)
{
    if (memo == NULL || value.len < JSON_MEMO_MIN || value.len > JSON_MEMO_MAX ||
        (value.p[0] != '{' && value.p[0] != '[' && value.p[0] != '"'))
        return 0;
    if (memo->cap < value.len) {
        free(memo->bytes);
        memo->bytes = xmalloc(value.len);
        memo->cap = value.len;
    }
    memcpy(memo->bytes, value.p, value.len);
    memo->len = value.len;
    memo->stamp = __atomic_add_fetch(&memo_stamps, 1, __ATOMIC_RELAXED);
    return memo->stamp;
}

void json_value_memo_free(struct json_value_memo *memo, size_t nmemo)
{
    for (size_t i = 0; i < nmemo; i++) {
        free(memo[i].bytes);
        memo[i].bytes = NULL;
        memo[i].len = memo[i].cap = 0;
        memo[i].stamp = 0;
    }
}

/* The members of the object at s->p ('{'), recorded into out, their values at depth; s->p ends after
 * the '}'. Values of members with a memo are taken from it when the bytes match. Returns 0, or -1
 * with s->err. */
static int scan_members(struct scanner *s, struct json_object_scan *out, int depth, struct json_value_memo *memo,
                        size_t nmemo)
{
    out->count = 0;
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
    } else {
        for (;;) {
            skip_ws(s);
            if (s->p >= s->end || *s->p != '"') {
                fail(s, "body is not valid JSON: expected a member name");
                return -1;
            }
            struct json_member m;
            const char *key_start = s->p;
            if (scan_string(s) != 0)
                return -1;
            m.key.p = key_start + 1;
            m.key.len = (size_t)(s->p - key_start) - 2;
            /* The proxy reads and drops members by their raw names; an upstream decodes them. No member of
             * the API needs an escape in its name, so refusing them keeps both views the same. */
            if (memchr(m.key.p, '\\', m.key.len) != NULL) {
                fail(s, "request body has an escaped top-level member name (write member names without escapes)");
                return -1;
            }
            skip_ws(s);
            if (s->p >= s->end || *s->p != ':') {
                fail(s, "body is not valid JSON: expected ':'");
                return -1;
            }
            s->p++;
            skip_ws(s);
            const char *value_start = s->p;
            struct json_value_memo *mm = nmemo != 0 ? memo_for(&m, memo, nmemo) : NULL;
            int hit = mm != NULL && memo_hit(s, mm);
            if (!hit && scan_value(s, depth) != 0)
                return -1;
            m.value.p = value_start;
            m.value.len = (size_t)(s->p - value_start);
            m.stamp = hit ? mm->stamp : memo_keep(mm, m.value);
            m.whole.p = key_start;
            m.whole.len = (size_t)(s->p - key_start);
            if (out->count == JSON_SCAN_MAX_MEMBERS) {
                fail(s, "request body has too many top-level members");
                return -1;
            }
            /* which of two equal names an upstream keeps is its choice (RFC 8259 4): refuse them */
            for (size_t i = 0; i < out->count; i++) {
                if (json_member_key_is_span(&out->members[i], m.key.p, m.key.len)) {
                    fail(s, "request body has a duplicate top-level member name");
                    return -1;
                }
            }
            out->members[out->count++] = m;
            skip_ws(s);
            if (s->p < s->end && *s->p == ',') {
                s->p++;
                continue;
            }
            if (s->p < s->end && *s->p == '}') {
                s->p++;
                break;
            }
            fail(s, "body is not valid JSON: expected ',' or '}'");
            return -1;
        }
    }
    return 0;
}

int json_scan_object_memo(const char *str, size_t len, struct json_object_scan *out, const char **err,
                          struct json_value_memo *memo, size_t nmemo)
{
    struct scanner s = {str, str + len, NULL};
    out->count = 0;
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '{') {
        *err = s.p >= s.end ? "body is empty; expected a JSON object" : "body must be a JSON object";
        return -1;
    }
    if (scan_members(&s, out, 1, memo, nmemo) != 0)
        goto Error;
    skip_ws(&s);
    if (s.p != s.end) {
        fail(&s, "body is not valid JSON: trailing characters after the object");
        goto Error;
    }
    return 0;
Error:
    *err = s.err;
    return -1;
}

const char *json_scan_string(const char *p, const char *end)
{
    struct scanner s = {p, end, NULL};
    return p < end && *p == '"' && scan_string(&s) == 0 ? s.p : NULL;
}

int json_scan_object(const char *str, size_t len, struct json_object_scan *out, const char **err)
{
    return json_scan_object_memo(str, len, out, err, NULL, 0);
}

int json_member_key_is(const struct json_member *m, const char *key)
{
    /* most keys differ from the name at their first byte: no strlen for them */
    if (m->key.len == 0 || key[0] != m->key.p[0])
        return m->key.len == 0 && key[0] == '\0';
    return json_member_key_is_span(m, key, strlen(key));
}

unsigned long json_member_whole_stamp(const struct json_member *m)
{
    /* the whole starts at the name's opening quote: quote, name, quote, colon, then the value */
    return m->value.p == m->whole.p + m->key.len + 3 ? m->stamp : 0;
}

const struct json_member *json_scan_find(const struct json_object_scan *o, const char *key)
{
    size_t n = strlen(key);
    for (size_t i = o->count; i-- > 0;)
        if (json_member_key_is_span(&o->members[i], key, n))
            return &o->members[i];
    return NULL;
}

int json_span_string(struct json_span v, char *buf, size_t bufsize)
{
    if (v.len < 2 || v.p[0] != '"' || v.p[v.len - 1] != '"' || bufsize == 0)
        return -1;
    size_t o = 0;
    for (size_t i = 1; i + 1 < v.len; i++) {
        char c = v.p[i];
        if (c == '\\') {
            char e = v.p[++i];
            if (e != '"' && e != '\\' && e != '/')
                return -1;
            c = e;
        }
        if (o + 1 >= bufsize)
            return -1;
        buf[o++] = c;
    }
    buf[o] = '\0';
    return 0;
}

int json_span_is(struct json_span v, const char *literal)
{
    size_t n = strlen(literal);
    return v.len == n && memcmp(v.p, literal, n) == 0;
}

int json_member_key_index(const struct json_member *m, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (json_member_key_is(m, keys[i]))
            return (int)i;
    return -1;
}

void json_member_write(const struct json_member *m, const char *value, sbuf *out)
{
    if (value == NULL) {
        sbuf_append(out, m->whole.p, m->whole.len);
        return;
    }
    sbuf_append(out, m->key.p - 1, m->key.len + 2); /* the key with its quotes */
    sbuf_putc(out, ':');
    sbuf_puts(out, value);
}

void json_splice(const struct json_object_scan *o, const char *const *drop, size_t ndrop,
                 const char *const *replace_keys, const char *const *replace_values, size_t nreplace, const char *extra,
                 sbuf *out)
{
    int first = 1;
    sbuf_putc(out, '{');
    for (size_t i = 0; i < o->count; i++) {
        const struct json_member *m = &o->members[i];
        if (json_member_key_index(m, drop, ndrop) >= 0)
            continue;
        if (!first)
            sbuf_putc(out, ',');
        first = 0;
        int r = json_member_key_index(m, replace_keys, nreplace);
        json_member_write(m, r >= 0 ? replace_values[r] : NULL, out);
    }
    if (extra != NULL && *extra != '\0') {
        if (!first)
            sbuf_putc(out, ',');
        sbuf_puts(out, extra);
    }
    sbuf_putc(out, '}');
}

/* The items of an array, each scanned once; with scan, an object item's members are recorded as the
 * scan goes (one json_scan_object refuses, an escaped or duplicate name or too many members, is
 * scanned again as a plain value and handed on without them). */
static int array_walk(struct json_span array, struct json_object_scan *scan,
                      void (*each)(void *ud, struct json_span item, const struct json_object_scan *scan), void *ud)
{
    struct scanner s = {array.p, array.p + array.len, NULL};
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '[')
        return -1;
    s.p++;
    int count = 0;
    for (;;) {
        skip_ws(&s);
        if (s.p >= s.end)
            return -1;
        if (*s.p == ']')
            return count;
        const char *start = s.p;
        const struct json_object_scan *got = NULL;
        if (scan != NULL && *s.p == '{' && scan_members(&s, scan, 2, NULL, 0) == 0) {
            got = scan;
        } else {
            s.p = start;
            s.err = NULL;
            if (scan_value(&s, 1) != 0)
                return -1;
        }
        each(ud, (struct json_span){start, (size_t)(s.p - start)}, got);
        count++;
        skip_ws(&s);
        if (s.p < s.end && *s.p == ',')
            s.p++;
    }
}

struct plain_each {
    void (*each)(void *ud, struct json_span item);
    void *ud;
};

static void plain_item(void *ud, struct json_span item, const struct json_object_scan *scan)
{
    (void)scan;
    struct plain_each *p = ud;
    p->each(p->ud, item);
}

int json_array_each(struct json_span array, void (*each)(void *ud, struct json_span item), void *ud)
{
    struct plain_each p = {each, ud};
    return array_walk(array, NULL, plain_item, &p);
}

int json_array_each_object(struct json_span array, struct json_object_scan *scan,
                           void (*each)(void *ud, struct json_span item, const struct json_object_scan *scan), void *ud)
{
    return array_walk(array, scan, each, ud);
}
