/* Microbenchmark of the request scanner: json_scan_object over each file named on the command line
 * (default: the real Claude Code request), best of REPS batches, in MB/s (10^6 bytes per second),
 * with each string scanner this build and CPU have.
 *   build/bench_json_scan [-r REPS] [file...]
 * The best batch is the figure: on a shared machine the others measure its neighbours. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common/json_scan.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void bench(const char *name, const char *variant, const char *body, size_t len, int reps)
{
    static struct json_object_scan scan;
    const char *err = NULL;
    if (json_scan_object(body, len, &scan, &err) != 0) {
        fprintf(stderr, "%s: %s\n", name, err);
        exit(1);
    }
    /* a batch of about 20 MB, so that one batch takes a few milliseconds */
    size_t per_batch = 20 * 1000 * 1000 / len + 1;
    double best = 1e9;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        for (size_t i = 0; i < per_batch; i++) {
            if (json_scan_object(body, len, &scan, &err) != 0)
                exit(1);
            __asm__ volatile("" ::"r"(&scan) : "memory");
        }
        double t = (now_s() - t0) / per_batch;
        if (t < best)
            best = t;
    }
    printf("%-24s %-9s %8zu bytes %8.1f MB/s %8.1f us/scan (best of %d)\n", name, variant, len, len / best / 1e6,
           best * 1e6, reps);
}

int main(int argc, char **argv)
{
    int reps = 50, i = 1;
    if (argc > 2 && strcmp(argv[1], "-r") == 0) {
        reps = atoi(argv[2]);
        i = 3;
    }
    static const char *const defaults[] = {"tests/data/claude-code-request.json"};
    const char *const *files = i < argc ? (const char *const *)argv + i : defaults;
    int nfiles = i < argc ? argc - i : 1;
    for (int f = 0; f < nfiles; f++) {
        size_t len;
        char *body = read_file(files[f], &len);
        if (body == NULL) {
            perror(files[f]);
            return 1;
        }
        const char *base = strrchr(files[f], '/');
        static const char *const variants[] = {"baseline", "avx2"};
        for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++)
            if (json_scan_use_vectors(variants[v]) == 0)
                bench(base ? base + 1 : files[f], variants[v], body, len, reps);
        free(body);
    }
    return 0;
}
