/* Comparing two runs (GET /api/executions/{a}/compare/{b}): which node
 * executions correspond, what differs between them, where the runs first
 * diverge, and which nodes explain the change in duration. Pure: it works
 * on the plain structs below, filled by compare_reads.c from the database
 * and by the unit tests by hand; compare_json.c writes the answer.
 *
 * Definitions (README, "Comparing two runs"):
 * - Run order: a run's node executions by (started_at, id), never-started
 *   ones last, as the timeline lists them.
 * - Ordinal: a node execution is the k-th run of its node (node_name) in
 *   its run's order. Node executions of the two runs are aligned when they
 *   have the same node_name and ordinal; the others are "only in a" or
 *   "only in b".
 * - Snapshots: a node execution's "before" and "after" states are the k-th
 *   snapshots (by sequence, then id) with its node_name and that phase,
 *   k being its ordinal (the client records one of each per node run).
 *   No such snapshot: NULL.
 * - A state is equal to another when both are missing or both hold equal
 *   JSON (state_diff.h).
 * - First divergence: the earliest aligned pair, in a's run order, whose
 *   status, action or after-state differs while its before-state is equal.
 *   When no pair qualifies but the paths part (a node only one run took),
 *   it is the first step where they part, with reason "path".
 * - Path: a run's sequence of (node_name, action); the paths part at the
 *   first index where the node or its action differ, or where one ends. */
#ifndef AGORA_COMPARE_H
#define AGORA_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

/* One node execution. Every pointer is borrowed and may be NULL when the
 * field is absent; numbers are NaN when absent, retries -1. */
struct cmp_node {
    const char *id;             /* its id (a decimal), never NULL */
    const char *name;           /* node_name, never NULL */
    const char *status, *action;
    const char *error;          /* JSON text (compact) */
    const char *before, *after; /* state JSON texts of its snapshots (cmp_attach_snapshots) */
    double offset_ms;           /* from its execution's start */
    double duration_ms;         /* completed - started */
    double prep_ms, exec_ms, post_ms;
    long long retries;
};

/* A shared-state snapshot: its node_name and phase (NULL when absent)
 * and its state's JSON text. Borrowed. */
struct cmp_snapshot {
    const char *name, *phase, *state;
};

struct cmp_run {
    const char *id, *workflow_id;
    const char *json;            /* the execution as the answer shows it */
    double duration_ms;          /* NaN when absent */
    const struct cmp_node *nodes; /* in run order */
    size_t n;
};

/* What differs in an aligned pair (bits). Durations always differ a
 * little, so they are deltas, never differences. */
enum cmp_diff {
    CMP_STATUS = 1u << 0,
    CMP_ACTION = 1u << 1,
    CMP_STATE = 1u << 2,   /* the after-state */
    CMP_RETRIES = 1u << 3,
    CMP_ERROR = 1u << 4,
};
/* The first divergence's reason when no aligned pair qualifies. */
#define CMP_PATH (1u << 5)

#define CMP_NONE ((size_t)-1)

struct cmp_pair {
    size_t a, b;       /* indexes in each run */
    size_t ordinal;    /* 1-based */
    unsigned differs;  /* enum cmp_diff bits */
    bool before_equal;
};

/* One node's share of the duration change: its runs' durations summed in
 * each run. */
struct cmp_contrib {
    const char *name;
    double a_ms, b_ms;
    size_t a_runs, b_runs;
};

struct cmp_result {
    struct cmp_pair *pairs;      /* in a's run order */
    size_t npairs;
    size_t *only_a, *only_b;     /* indexes, in run order */
    size_t n_only_a, n_only_b;
    size_t *ordinal_a, *ordinal_b; /* every node execution's ordinal, by index */
    size_t first;                /* index in pairs, or CMP_NONE */
    unsigned first_reasons;      /* enum cmp_diff bits, or CMP_PATH */
    size_t parted_at;            /* path index, or CMP_NONE */
    struct cmp_contrib *contribs; /* by |b_ms - a_ms|, largest first */
    size_t ncontribs;
    size_t differing;            /* pairs with differs != 0 */
};

/* Sets each node execution's before and after from snaps, given in
 * (sequence, id) order: the k-th snapshot of a node_name with phase
 * "before" (or "after") belongs to the k-th run of that node in nodes
 * (run order). Snapshots of other phases or without a name are skipped. */
void cmp_attach_snapshots(struct cmp_node *nodes, size_t n, const struct cmp_snapshot *snaps, size_t ns);

/* A node execution's duration for the summary: completed - started, else
 * the sum of its phases (those it has); 0 when it has neither. */
double cmp_node_duration(const struct cmp_node *node);

/* Aligns b to a and fills out (the caller frees it with
 * compare_result_free, also after a failure). 0. */
int compare_runs(const struct cmp_run *a, const struct cmp_run *b, struct cmp_result *out);
void compare_result_free(struct cmp_result *res);

/* The names of the bits of differs, in this order: status, action, state,
 * retry_count, error; "path" for CMP_PATH. */
const char *cmp_diff_name(unsigned bit);

#endif
