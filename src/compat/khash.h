/* Not klib's khash: just enough of it for H2O 2.2.5's <h2o/http2_internal.h> to compile.
 *
 * That header is the only way to reset one HTTP/2 stream (h2o_http2_stream_reset and the RST_STREAM
 * encoder, both exported by libh2o), but it includes "khash.h" from H2O's bundled klib, which
 * neither H2O's own install nor Debian's libh2o-dev ships. khash is used there for the type of
 * h2o_http2_conn_t::streams, a pointer this code never follows, and in one static inline function
 * (h2o_http2_conn_get_stream) this code never calls, so it is never emitted. This declares those
 * names and nothing else; client_http2.c is its only user (see CMakeLists.txt). */
#ifndef CP_COMPAT_KHASH_H
#define CP_COMPAT_KHASH_H
#include <stdint.h>

typedef uint32_t khint32_t;
typedef khint32_t khint_t;
typedef khint_t khiter_t;

#define KHASH_MAP_INIT_INT64(name, khval_t)                                                                            \
    typedef struct kh_##name##_s {                                                                                     \
        khint_t n_buckets, size, n_occupied, upper_bound;                                                              \
        khint32_t *flags;                                                                                              \
        uint64_t *keys;                                                                                                \
        khval_t *vals;                                                                                                 \
    } kh_##name##_t;                                                                                                   \
    khint_t kh_get_##name(const kh_##name##_t *h, uint64_t key);
#define khash_t(name) kh_##name##_t
#define kh_get(name, h, k) kh_get_##name(h, k)
#define kh_end(h) ((h)->n_buckets)
#define kh_val(h, x) ((h)->vals[x])

#endif
