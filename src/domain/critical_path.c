/* The critical path and the time breakdown of one run (critical_path.h).
 *
 * Everything is sorted once and then found by binary search, so a run of
 * 10,000 node executions takes milliseconds: the node executions in
 * (end, start, id) order ("ranks": the one that ended last before a time
 * is the largest rank whose end is not after it), each node's executions
 * as a list of their ranks, and a sweep in start order for the time when
 * none, one or several ran. */
#include "domain/critical_path.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

/* What one pass needs besides the input; freed together. */
struct work {
    size_t *by_rank;    /* rank -> node */
    size_t *rank;       /* node -> rank */
    size_t *name_of;    /* node -> name id */
    size_t *name_first; /* name id -> first node of that name (its text) */
    size_t nnames;
    size_t *pred_at, *preds;  /* name id -> [pred_at[id], pred_at[id+1]) of preds: predecessor name ids */
    size_t *runs_at, *runs;   /* name id -> its nodes' ranks, ascending */
};

static int by_end(const void *a, const void *b, void *ctx)
{
    const struct cp_node *nodes = ctx;
    const struct cp_node *x = &nodes[*(const size_t *)a], *y = &nodes[*(const size_t *)b];
    if (x->end_us != y->end_us)
        return x->end_us < y->end_us ? -1 : 1;
    if (x->start_us != y->start_us)
        return x->start_us < y->start_us ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Start order (ties: the longer first, then by id). */
static int by_start(const void *a, const void *b, void *ctx)
{
    const struct cp_node *nodes = ctx;
    const struct cp_node *x = &nodes[*(const size_t *)a], *y = &nodes[*(const size_t *)b];
    if (x->start_us != y->start_us)
        return x->start_us < y->start_us ? -1 : 1;
    if (x->end_us != y->end_us)
        return x->end_us > y->end_us ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static int by_name(const void *a, const void *b, void *ctx)
{
    const struct cp_node *nodes = ctx;
    return strcmp(nodes[*(const size_t *)a].name, nodes[*(const size_t *)b].name);
}

/* The name id of name, or -1 when no node execution has it. */
static long find_name(const struct cp_node *nodes, const struct work *w, const char *name)
{
    size_t lo = 0, hi = w->nnames;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(nodes[w->name_first[mid]].name, name);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static void work_free(struct work *w)
{
    free(w->by_rank);
    free(w->rank);
    free(w->name_of);
    free(w->name_first);
    free(w->pred_at);
    free(w->preds);
    free(w->runs_at);
    free(w->runs);
}

/* Ranks, names, each name's runs and predecessors. */
static void prepare(const struct cp_node *nodes, size_t n, const struct cp_edge *edges, size_t nedges,
                    struct work *w)
{
    memset(w, 0, sizeof *w);
    w->by_rank = xmalloc((n + 1) * sizeof *w->by_rank);
    w->rank = xmalloc((n + 1) * sizeof *w->rank);
    w->name_of = xmalloc((n + 1) * sizeof *w->name_of);
    w->name_first = xmalloc((n + 1) * sizeof *w->name_first);
    size_t *by_name_order = xmalloc((n + 1) * sizeof *by_name_order);

    for (size_t i = 0; i < n; i++)
        w->by_rank[i] = by_name_order[i] = i;
    qsort_r(w->by_rank, n, sizeof *w->by_rank, by_end, (void *)nodes);
    for (size_t r = 0; r < n; r++)
        w->rank[w->by_rank[r]] = r;
    qsort_r(by_name_order, n, sizeof *by_name_order, by_name, (void *)nodes);
    for (size_t k = 0; k < n; k++) {
        size_t i = by_name_order[k];
        if (k == 0 || strcmp(nodes[i].name, nodes[w->name_first[w->nnames - 1]].name) != 0)
            w->name_first[w->nnames++] = i;
        w->name_of[i] = w->nnames - 1;
    }
    free(by_name_order);

    /* Each name's runs in rank order: counted, then placed. */
    w->runs_at = xcalloc(w->nnames + 1, sizeof *w->runs_at);
    w->runs = xmalloc((n + 1) * sizeof *w->runs);
    size_t *fill = xcalloc(w->nnames + 1, sizeof *fill);
    for (size_t i = 0; i < n; i++)
        w->runs_at[w->name_of[i] + 1]++;
    for (size_t k = 0; k < w->nnames; k++)
        w->runs_at[k + 1] += w->runs_at[k];
    for (size_t r = 0; r < n; r++) {
        size_t name = w->name_of[w->by_rank[r]];
        w->runs[w->runs_at[name] + fill[name]++] = r;
    }

    /* Predecessor names, from the edges between names that ran: counted,
     * then placed (fill reused). */
    w->pred_at = xcalloc(w->nnames + 1, sizeof *w->pred_at);
    w->preds = xmalloc((nedges + 1) * sizeof *w->preds);
    long *ends = xmalloc((2 * nedges + 1) * sizeof *ends);
    for (size_t e = 0; e < nedges; e++) {
        ends[2 * e] = find_name(nodes, w, edges[e].from);
        ends[2 * e + 1] = find_name(nodes, w, edges[e].to);
        if (ends[2 * e] >= 0 && ends[2 * e + 1] >= 0)
            w->pred_at[ends[2 * e + 1] + 1]++;
    }
    for (size_t k = 0; k < w->nnames; k++)
        w->pred_at[k + 1] += w->pred_at[k];
    memset(fill, 0, (w->nnames + 1) * sizeof *fill);
    for (size_t e = 0; e < nedges; e++)
        if (ends[2 * e] >= 0 && ends[2 * e + 1] >= 0) {
            size_t to = (size_t)ends[2 * e + 1];
            w->preds[w->pred_at[to] + fill[to]++] = (size_t)ends[2 * e];
        }
    free(ends);
    free(fill);
}

/* How many ranks end at or before t. */
static size_t ranks_ending_by(const struct cp_node *nodes, const struct work *w, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (nodes[w->by_rank[mid]].end_us <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The largest rank below limit among name's runs, or -1. */
static long last_run_below(const struct work *w, size_t name, size_t limit)
{
    size_t lo = w->runs_at[name], hi = w->runs_at[name + 1];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w->runs[mid] < limit)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > w->runs_at[name] ? (long)w->runs[lo - 1] : -1;
}

/* Walks back from the node execution that ended last. */
static void walk(const struct cp_node *nodes, size_t n, const struct work *w, int64_t window_start_us,
                 struct cp_result *out)
{
    if (n == 0)
        return;
    out->steps = xmalloc(n * sizeof *out->steps);
    size_t cur = w->by_rank[n - 1];
    for (;;) {
        const struct cp_node *x = &nodes[cur];
        struct cp_step *s = &out->steps[out->nsteps++];
        s->node = cur;
        size_t limit = ranks_ending_by(nodes, w, n, x->start_us + CP_TOLERANCE_US);
        if (limit > w->rank[cur])
            limit = w->rank[cur];
        long best = -1;
        size_t name = w->name_of[cur];
        for (size_t p = w->pred_at[name]; p < w->pred_at[name + 1]; p++) {
            long r = last_run_below(w, w->preds[p], limit);
            if (r > best)
                best = r;
        }
        /* An edge predecessor that ended before the last one to end had even
         * started is history: other node executions ran in between, one
         * after another, and the step waited for the latest of them. One
         * that overlapped it ran beside it, on this step's branch. */
        if (best >= 0 && best != (long)limit - 1 &&
            nodes[w->by_rank[best]].end_us < nodes[w->by_rank[limit - 1]].start_us)
            best = -1;
        if (best >= 0) {
            s->via = CP_VIA_EDGE;
        } else if (limit > 0) {
            best = (long)limit - 1;
            s->via = CP_VIA_TIME;
        } else {
            s->via = CP_VIA_START;
            s->gap_us = x->start_us > window_start_us ? x->start_us - window_start_us : 0;
            break;
        }
        int64_t prev_end = nodes[w->by_rank[best]].end_us;
        s->gap_us = x->start_us > prev_end ? x->start_us - prev_end : 0;
        cur = w->by_rank[best];
    }
    /* Collected from the end: run order is the reverse. */
    for (size_t i = 0, j = out->nsteps - 1; i < j; i++, j--) {
        struct cp_step t = out->steps[i];
        out->steps[i] = out->steps[j];
        out->steps[j] = t;
    }
    for (size_t i = 0; i < out->nsteps; i++) {
        const struct cp_node *x = &nodes[out->steps[i].node];
        out->path_us += x->end_us - x->start_us;
        out->wait_us += out->steps[i].gap_us;
    }
}

/* Keeps the CP_GAPS_LISTED longest gaps, longest first (earlier on ties). */
static void note_gap(struct cp_result *out, struct cp_gap g)
{
    int64_t len = g.end_us - g.start_us;
    out->ngaps++;
    size_t at = out->ngaps_listed;
    while (at > 0 && out->gaps[at - 1].end_us - out->gaps[at - 1].start_us < len)
        at--;
    if (at >= CP_GAPS_LISTED)
        return;
    size_t keep = out->ngaps_listed < CP_GAPS_LISTED ? out->ngaps_listed : CP_GAPS_LISTED - 1;
    memmove(&out->gaps[at + 1], &out->gaps[at], (keep - at) * sizeof out->gaps[0]);
    out->gaps[at] = g;
    if (out->ngaps_listed < CP_GAPS_LISTED)
        out->ngaps_listed++;
}

/* Busy, parallel and idle time over the window, and its gaps: a sweep
 * over the node executions' starts (start order) and ends (rank order,
 * prepare's by_rank), with a count of how many cover each stretch. */
static void sweep(const struct cp_node *nodes, size_t n, const size_t *starts, const size_t *ends, int64_t ws,
                  int64_t we, struct cp_result *out)
{
    int64_t t = ws;
    size_t covering = 0, si = 0, ei = 0;
    long long last_ended = 0;
    while (si < n || ei < n) {
        /* Starts before ends at the same time: touching runs leave no gap. */
        bool start = si < n && (ei >= n || nodes[starts[si]].start_us <= nodes[ends[ei]].end_us);
        const struct cp_node *x = &nodes[start ? starts[si] : ends[ei]];
        int64_t at = start ? x->start_us : x->end_us;
        if (at < ws)
            at = ws;
        if (at > we)
            at = we;
        if (at > t) {
            if (covering == 0) {
                out->idle_us += at - t;
                note_gap(out, (struct cp_gap){t, at, last_ended, start ? x->id : 0});
            } else {
                out->busy_us += at - t;
                if (covering >= 2)
                    out->parallel_us += at - t;
            }
            t = at;
        }
        if (start) {
            covering++;
            si++;
        } else {
            covering--;
            ei++;
            last_ended = x->id;
        }
    }
    if (we > t) {
        out->idle_us += we - t;
        note_gap(out, (struct cp_gap){t, we, last_ended, 0});
    }
}

static double add_ms(double sum, double v)
{
    return isnan(v) ? sum : sum + v;
}

static int by_wall(const void *a, const void *b)
{
    const struct cp_node_total *x = a, *y = b;
    if (x->wall_us != y->wall_us)
        return x->wall_us > y->wall_us ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Per node: runs, wall time, phases, the part on the path. */
static void totals(const struct cp_node *nodes, size_t n, const struct work *w, struct cp_result *out)
{
    out->totals = xcalloc(w->nnames + 1, sizeof *out->totals);
    out->ntotals = w->nnames;
    for (size_t k = 0; k < w->nnames; k++)
        out->totals[k].name = nodes[w->name_first[k]].name;
    for (size_t i = 0; i < n; i++) {
        const struct cp_node *x = &nodes[i];
        struct cp_node_total *t = &out->totals[w->name_of[i]];
        t->runs++;
        t->wall_us += x->end_us - x->start_us;
        t->prep_ms = add_ms(t->prep_ms, x->prep_ms);
        t->exec_ms = add_ms(t->exec_ms, x->exec_ms);
        t->post_ms = add_ms(t->post_ms, x->post_ms);
    }
    for (size_t s = 0; s < out->nsteps; s++) {
        const struct cp_node *x = &nodes[out->steps[s].node];
        struct cp_node_total *t = &out->totals[w->name_of[out->steps[s].node]];
        t->critical_runs++;
        t->critical_us += x->end_us - x->start_us;
    }
    qsort(out->totals, out->ntotals, sizeof *out->totals, by_wall);
}

void cp_analyze(const struct cp_node *nodes, size_t n, const struct cp_edge *edges, size_t nedges,
                int64_t window_start_us, int64_t window_end_us, struct cp_result *out)
{
    struct work w;
    memset(out, 0, sizeof *out);
    prepare(nodes, n, edges, nedges, &w);
    size_t *starts = xmalloc((n + 1) * sizeof *starts);
    for (size_t i = 0; i < n; i++)
        starts[i] = i;
    qsort_r(starts, n, sizeof *starts, by_start, (void *)nodes);
    walk(nodes, n, &w, window_start_us, out);
    sweep(nodes, n, starts, w.by_rank, window_start_us, window_end_us, out);
    totals(nodes, n, &w, out);
    free(starts);
    work_free(&w);
}

void cp_result_free(struct cp_result *r)
{
    free(r->steps);
    free(r->totals);
    memset(r, 0, sizeof *r);
}

const char *cp_via_name(enum cp_via via)
{
    switch (via) {
    case CP_VIA_EDGE:
        return "edge";
    case CP_VIA_TIME:
        return "time";
    case CP_VIA_START:
        break;
    }
    return "start";
}
