/* The critical path of a run and where its time went, computed from its
 * node executions' times and its workflow's edges (README "Critical path
 * and time breakdown"). Pure: no database, no JSON; run_analysis.c feeds
 * it and words the answer.
 *
 * The critical path is the chain of node executions that decided when
 * the run finished: it ends at the node execution that ended last, and
 * each step's predecessor is the node execution it waited for: the one
 * that ended last before it started (within CP_TOLERANCE_US), or a run of
 * a node with an edge to it in the workflow that ran beside that one
 * (ended after it started: parallel branches, and this step is on the
 * edge's). A node execution that started with nothing ended before it
 * begins the path. Ties go to the later start, then the larger id, so the
 * answer is the same every time.
 *
 * Ownership: the caller owns the nodes and edges (borrowed for the call);
 * cp_analyze fills *out, which cp_result_free releases. Out of memory
 * aborts, the project's policy (buf.h). */
#ifndef AGORA_CRITICAL_PATH_H
#define AGORA_CRITICAL_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Clocks round: a node that started this little before the one it waited
 * for ended still waited for it. */
#define CP_TOLERANCE_US 1000
/* The largest gaps the breakdown lists (all are counted). */
#define CP_GAPS_LISTED 10

/* One node execution that started. end_us: its completed_at; one still
 * running (open) ends at the time the analysis is made. A phase not
 * reported is NAN. */
struct cp_node {
    long long id;
    const char *name;
    int64_t start_us, end_us;
    bool open;
    double prep_ms, exec_ms, post_ms;
};

/* An edge of the workflow, by node name. */
struct cp_edge {
    const char *from, *to;
};

/* How a step of the path is tied to the step before it. */
enum cp_via {
    CP_VIA_START, /* the first step: nothing ended before it started */
    CP_VIA_EDGE,  /* a run of a node with an edge to this one */
    CP_VIA_TIME,  /* the last node execution to end before it started */
};

struct cp_step {
    size_t node;         /* index into the nodes */
    enum cp_via via;
    int64_t gap_us;      /* waited after the step before (or the run's start): >= 0 */
};

/* A stretch of the run when no node execution ran. */
struct cp_gap {
    int64_t start_us, end_us;
    long long after_id, before_id; /* the node executions around it; 0: the run's start or end */
};

/* The totals of one node (all its executions). */
struct cp_node_total {
    const char *name;    /* borrowed from the nodes */
    size_t runs, critical_runs;
    int64_t wall_us;     /* sum of its executions' durations */
    int64_t critical_us; /* of its executions on the path */
    double prep_ms, exec_ms, post_ms;  /* sums of what was reported */
};

struct cp_result {
    struct cp_step *steps;   /* run order, first to last */
    size_t nsteps;
    int64_t path_us;         /* the steps' own durations */
    int64_t wait_us;         /* the gaps between them, the first one's included */
    int64_t busy_us;         /* within the window, when at least one node ran */
    int64_t parallel_us;     /* when two or more ran */
    int64_t idle_us;         /* when none ran */
    struct cp_gap gaps[CP_GAPS_LISTED]; /* the largest, longest first */
    size_t ngaps_listed, ngaps;
    struct cp_node_total *totals; /* by wall time, longest first */
    size_t ntotals;
};

/* Analyzes n node executions (n may be 0) over the run's window
 * [window_start_us, window_end_us]: busy, idle and the gaps count only
 * within it. Each node's end must not be before its start. */
void cp_analyze(const struct cp_node *nodes, size_t n, const struct cp_edge *edges, size_t nedges,
               int64_t window_start_us, int64_t window_end_us, struct cp_result *out);

void cp_result_free(struct cp_result *r);

/* "start", "edge" or "time". */
const char *cp_via_name(enum cp_via via);

#endif
