/* The worker's CPU work on an ingest body before the database: the
 * validator's one pass, which also records the spans ingest_store sends
 * (src/domain/ingest_validate.c). Counted with callgrind, per payload
 * (BENCHMARKS.md, "Results"):
 *
 *   python3 bench/gen.py payloads /tmp/pay 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b
 *   gcc -std=c11 -g -O2 -D_GNU_SOURCE -Isrc bench/validate_cpu.c libagora.a -o /tmp/validate_cpu
 *   valgrind --tool=callgrind --toggle-collect=one_ingest /tmp/validate_cpu /tmp/pay/M-{0,1,2,3}.json
 *
 * (the instructions collected, divided by the 4 payloads). Exits 1 when a
 * body is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/ingest_validate.h"

__attribute__((noinline)) static int one_ingest(const struct config *cfg, const char *text, size_t len)
{
    struct ingest_summary sum;
    char path[128], msg[256];
    if (ingest_validate(cfg, text, len, &sum, path, sizeof path, msg, sizeof msg) != INGEST_VALID) {
        fprintf(stderr, "refused: %s\n", msg);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_items = 100000; /* the defaults (src/ops/config.c) */
    cfg.max_depth = 64;
    cfg.max_string_bytes = 64 * 1024;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        char *body = NULL;
        long n = -1;
        if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
            body = malloc((size_t)n + 1);
        if (!body || fread(body, 1, (size_t)n, f) != (size_t)n) {
            fprintf(stderr, "%s: cannot read\n", argv[i]);
            return 1;
        }
        fclose(f);
        if (one_ingest(&cfg, body, (size_t)n) != 0)
            return 1;
        free(body);
    }
    return 0;
}
