/* The answer of GET /api/executions/{a}/compare/{b}, written from a
 * comparison (compare.h). Its shape is in nginx/www/openapi.yaml
 * (ExecutionComparison) and the README. Pure. */
#ifndef AGORA_COMPARE_JSON_H
#define AGORA_COMPARE_JSON_H

#include "domain/compare.h"
#include "util/buf.h"

#define COMPARE_TOP_DEFAULT 5
#define COMPARE_TOP_MAX 50
#define COMPARE_DIFF_ENTRIES_DEFAULT 50
#define COMPARE_DIFF_ENTRIES_MAX 1000
/* State diff entries in one answer, all pairs together: a 10,000-node run
 * whose every state differs still answers in megabytes, not gigabytes;
 * pairs past it say "truncated". */
#define COMPARE_DIFF_BUDGET 20000

struct compare_options {
    int top;          /* how many nodes the summary names, 1..COMPARE_TOP_MAX */
    int diff_entries; /* state diff entries per pair, 1..COMPARE_DIFF_ENTRIES_MAX */
};

/* Appends the answer to out. a->json, b->json and every node's error
 * must be JSON (compact: they are copied as they are). */
void compare_json_write(const struct cmp_run *a, const struct cmp_run *b, const struct cmp_result *res,
                        const struct compare_options *opt, struct buf *out);

#endif
