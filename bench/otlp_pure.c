/* otlp_pure: the worker's own part of an OTLP request, without HTTP or a
 * database: decode (protobuf or JSON), plan and write the parameters of
 * step 5, N times over one body, with the allocator set as the worker sets
 * it (src/main/worker.c) unless AGORA_GLIBC_DEFAULTS is set. Prints the
 * milliseconds per request of each part. For BENCHMARKS.md "OpenTelemetry
 * ingest" (the worker's allocations); run under perf to see where they go.
 *
 *   bench/otlp_pure.sh BODY [N]    (builds it against the tree's libagora.a)
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/otlp_plan.h"
#include "otlp/otlp_decode.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *body = NULL;
    long n;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto fail;
    if (!(body = malloc((size_t)n + 1)) || fread(body, 1, (size_t)n, f) != (size_t)n)
        goto fail;
    fclose(f);
    *len = (size_t)n;
    return body;
fail:
    if (f)
        fclose(f);
    free(body);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs("usage: otlp_pure BODY [N]\n", stderr);
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 200;
    size_t len;
    char *body = slurp(argv[1], &len);
    if (!body || n < 1) {
        fprintf(stderr, "otlp_pure: cannot read %s\n", argv[1]);
        return 1;
    }
    if (!getenv("AGORA_GLIBC_DEFAULTS")) { /* as src/main/worker.c's tune_allocator() */
        mallopt(M_MXFAST, 0);
        mallopt(M_MMAP_THRESHOLD, 4 << 20);
        mallopt(M_TRIM_THRESHOLD, 16 << 20);
    }
    bool json = len > 0 && body[0] == '{';
    struct otlp_limits lim = OTLP_LIMITS_DEFAULT(16u << 20);
    double t_dec = 0, t_plan = 0, t_cols = 0;
    for (int k = 0; k < n; k++) {
        struct otlp_request *req = NULL;
        char why[256];
        double a = now_ms();
        enum otlp_err err = json ? otlp_decode_json(body, len, &lim, &req, why, sizeof why)
                                 : otlp_decode_proto(body, len, &lim, &req, why, sizeof why);
        if (err != OTLP_OK) {
            fprintf(stderr, "otlp_pure: %s\n", why);
            free(body);
            return 1;
        }
        double b = now_ms();
        struct otlp_place *pl = calloc(req->n_resources ? req->n_resources : 1, sizeof *pl);
        if (!pl)
            abort();
        for (size_t r = 0; r < req->n_resources; r++) {
            pl[r].wanted = true;
            strcpy(pl[r].workflow, "6f1c1e0a-1b2c-4d3e-8f40-5a6b7c8d9e0f");
            strcpy(pl[r].org, "11111111-2222-4333-8444-555555555555");
            strcpy(pl[r].project, "66666666-7777-4888-9999-aaaaaaaaaaaa");
        }
        struct otlp_plan p = {0};
        struct otlp_store_result out;
        struct otlp_docs d;
        memset(&out, 0, sizeof out);
        otlp_docs_init(&d);
        otlp_plan_build(req, pl, &p, &out);
        double c = now_ms();
        otlp_plan_json(req, pl, &p, &d);
        double e = now_ms();
        t_dec += b - a;
        t_plan += c - b;
        t_cols += e - c;
        otlp_docs_free(&d);
        otlp_plan_free(&p);
        free(pl);
        otlp_request_free(req);
    }
    printf("{\"body\": \"%s\", \"requests\": %d, \"allocator\": \"%s\", \"decode_ms\": %.3f, \"plan_ms\": %.3f,"
           " \"parameters_ms\": %.3f, \"total_ms\": %.3f}\n",
           argv[1], n, getenv("AGORA_GLIBC_DEFAULTS") ? "glibc defaults" : "worker", t_dec / n, t_plan / n,
           t_cols / n, (t_dec + t_plan + t_cols) / n);
    free(body);
    return 0;
}
