/* One pass over a JSON request body: validates it and records where each top-level member is,
 * so that the proxy can read or replace `model` and friends by splicing bytes instead of
 * building and re-printing a tree (real Claude Code bodies are 100 KB and more). */
#ifndef CP_JSON_SCAN_H
#define CP_JSON_SCAN_H
#include <stddef.h>
#include "common/sbuf.h"

#define JSON_SCAN_MAX_MEMBERS 128
#define JSON_SCAN_MAX_DEPTH 256

struct json_span {
    const char *p;
    size_t len;
};

struct json_member {
    struct json_span key;   /* between the quotes (top-level names have no escapes) */
    struct json_span value; /* the raw value text */
    struct json_span whole; /* "key": value, without surrounding commas */
    /* nonzero: the value is the bytes of a json_value_memo with this stamp, so two members with the
     * same stamp have the same value (json_scan_object_memo sets it; a stamp is never reused) */
    unsigned long stamp;
};

struct json_object_scan {
    size_t count;
    struct json_member members[JSON_SCAN_MAX_MEMBERS];
};

/* Validates s as one JSON object and records its members. Returns 0, or -1 with *err set to a
 * static message ("body is not valid JSON: ..."). Objects with more members than
 * JSON_SCAN_MAX_MEMBERS are refused; no real request comes close. So are top-level member names
 * with escapes and duplicate top-level names: the proxy finds members by their raw names, and an
 * upstream that decodes names or keeps the other duplicate would read another request. */
int json_scan_object(const char *s, size_t len, struct json_object_scan *out, const char **err);

/* The last checked value of a top-level member, for json_scan_object_memo. */
struct json_value_memo {
    const char *name; /* the member's name, set by the owner */
    char *bytes;
    size_t len, cap;
    unsigned long stamp; /* names these bytes: a new one, never 0, each time they are replaced */
};

/* json_scan_object for bodies that repeat large members: Claude Code sends the same tools and system
 * (95 KB of a 116 KB request) in every request of a session. For each memo[i].name, the member's last
 * value of JSON_MEMO_MIN bytes or more is kept once checked; a value that starts with the same bytes
 * is that value (objects, arrays and strings end where their own bytes say), so it is taken with a
 * memcmp instead of being scanned again. Same results and errors as json_scan_object; a member whose
 * value the memo holds once the scan is done (taken from it or just kept) gets the memo's stamp, so
 * that what is derived from the value may be kept by stamp instead of comparing the bytes again. */
#define JSON_MEMO_MIN 4096
#define JSON_MEMO_MAX (4 * 1024 * 1024)
int json_scan_object_memo(const char *s, size_t len, struct json_object_scan *out, const char **err,
                          struct json_value_memo *memo, size_t nmemo);
void json_value_memo_free(struct json_value_memo *memo, size_t nmemo);

/* At p, an opening quote: the byte after the string's closing quote if the string before end is valid
 * JSON (escapes, no control characters), else NULL. */
const char *json_scan_string(const char *p, const char *end);
/* The member's stamp when its whole text is exactly "name":value (nothing between the colon and the
 * value, nor around it), so that the stamp names the whole's bytes too; else 0. */
unsigned long json_member_whole_stamp(const struct json_member *m);
/* The member with this key, or NULL (top-level names are unique). */
const struct json_member *json_scan_find(const struct json_object_scan *o, const char *key);

/* 1 if the value is a JSON string; copies its unescaped contents (escapes other than \" \\ \/
 * are refused: model ids never contain them) into buf. Returns 0 on success, -1 otherwise. */
int json_span_string(struct json_span v, char *buf, size_t bufsize);
int json_span_is(struct json_span v, const char *literal); /* e.g. "true" */

/* Rebuilds the object: members whose key is in drop[] are left out, members in replace_keys[]
 * get replace_values[] (raw JSON), then extra (raw `"k":v,...` text, may be NULL) is appended. */
void json_splice(const struct json_object_scan *o, const char *const *drop, size_t ndrop,
                 const char *const *replace_keys, const char *const *replace_values, size_t nreplace, const char *extra,
                 sbuf *out);

int json_member_key_is(const struct json_member *m, const char *key);
/* The index in keys[0..n) of the member's key, or -1. */
int json_member_key_index(const struct json_member *m, const char *const *keys, size_t n);
/* Appends the member as `"key":value`: its own value, or value (raw JSON) when not NULL. */
void json_member_write(const struct json_member *m, const char *value, sbuf *out);

/* Calls each(ud, item) with the raw text of every item of a JSON array value, in order.
 * Returns the number of items, or -1 if the value is not a valid array. */
int json_array_each(struct json_span array, void (*each)(void *ud, struct json_span item), void *ud);

/* json_array_each for an array of objects, in one pass: each(ud, item, scan) gets every item's raw
 * text and, for an object json_scan_object would take, its members (in *scan, which the next item
 * reuses), else NULL. Returns the number of items, or -1 if the value is not a valid array. */
int json_array_each_object(struct json_span array, struct json_object_scan *scan,
                           void (*each)(void *ud, struct json_span item, const struct json_object_scan *scan),
                           void *ud);

/* The string scanner uses the widest vectors the CPU has (chosen when the program starts). For tests
 * and benchmarks: "baseline" (SSE2, NEON or portable, as built), "avx2", or NULL for the best;
 * returns -1 if this build or CPU lacks it. */
int json_scan_use_vectors(const char *name);

#endif
