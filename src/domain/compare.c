/* Comparing two runs (see compare.h): alignment by node and ordinal, what
 * differs in each pair, the first divergence, where the paths part, and
 * each node's share of the duration change.
 *
 * Both runs' node executions are sorted once by (node_name, run order);
 * in that order a node's runs are consecutive and already by ordinal, so
 * the ordinals are a count and the alignment is a merge of the two sorted
 * lists: O(n log n), no hash table, nothing per node but an index. */
#include "domain/compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "domain/state_diff.h"
#include "util/buf.h"

/* A node execution in the (name, run order) sort. */
struct key {
    const char *name;
    size_t index;
};

static int key_cmp(const void *x, const void *y)
{
    const struct key *a = x, *b = y;
    int c = strcmp(a->name, b->name);
    if (c)
        return c;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* The run's keys sorted, and each node execution's ordinal. Returns the
 * keys (the caller frees them); NULL for an empty run. */
static struct key *sorted_keys(const struct cmp_run *run, size_t *ordinals)
{
    if (run->n == 0)
        return NULL;
    struct key *k = xcalloc(run->n, sizeof *k);
    for (size_t i = 0; i < run->n; i++)
        k[i] = (struct key){run->nodes[i].name, i};
    qsort(k, run->n, sizeof *k, key_cmp);
    for (size_t i = 0; i < run->n; i++) {
        bool same = i > 0 && strcmp(k[i].name, k[i - 1].name) == 0;
        ordinals[k[i].index] = same ? ordinals[k[i - 1].index] + 1 : 1;
    }
    return k;
}

static bool text_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* What differs between a node execution of a and its partner in b. */
static unsigned pair_differs(const struct cmp_node *x, const struct cmp_node *y)
{
    unsigned d = 0;
    if (!text_eq(x->status, y->status))
        d |= CMP_STATUS;
    if (!text_eq(x->action, y->action))
        d |= CMP_ACTION;
    if (!state_equal(x->after, y->after))
        d |= CMP_STATE;
    if (x->retries != y->retries)
        d |= CMP_RETRIES;
    if (!state_equal(x->error, y->error))
        d |= CMP_ERROR;
    return d;
}

/* Merges the sorted keys: match[i] is a's partner of b's i-th node
 * execution, and the reverse. */
static void align(const struct key *ka, size_t na, const struct key *kb, size_t nb, const size_t *ord_a,
                  const size_t *ord_b, size_t *match_a, size_t *match_b)
{
    size_t i = 0, j = 0;
    while (i < na && j < nb) {
        int c = strcmp(ka[i].name, kb[j].name);
        if (c == 0) {
            size_t oa = ord_a[ka[i].index], ob = ord_b[kb[j].index];
            c = oa < ob ? -1 : oa > ob;
        }
        if (c < 0) {
            i++;
        } else if (c > 0) {
            j++;
        } else {
            match_a[ka[i].index] = kb[j].index;
            match_b[kb[j].index] = ka[i].index;
            i++;
            j++;
        }
    }
}

static void collect_pairs(const struct cmp_run *a, const struct cmp_run *b, const size_t *match_a,
                          const size_t *match_b, struct cmp_result *res)
{
    res->pairs = xcalloc(a->n ? a->n : 1, sizeof *res->pairs);
    res->only_a = xcalloc(a->n ? a->n : 1, sizeof *res->only_a);
    res->only_b = xcalloc(b->n ? b->n : 1, sizeof *res->only_b);
    for (size_t i = 0; i < a->n; i++) {
        if (match_a[i] == CMP_NONE) {
            res->only_a[res->n_only_a++] = i;
            continue;
        }
        const struct cmp_node *x = &a->nodes[i], *y = &b->nodes[match_a[i]];
        struct cmp_pair *p = &res->pairs[res->npairs++];
        *p = (struct cmp_pair){.a = i, .b = match_a[i], .ordinal = res->ordinal_a[i]};
        p->differs = pair_differs(x, y);
        p->before_equal = state_equal(x->before, y->before) == 1;
        if (p->differs)
            res->differing++;
        unsigned why = p->differs & (CMP_STATUS | CMP_ACTION | CMP_STATE);
        if (res->first == CMP_NONE && p->before_equal && why) {
            res->first = res->npairs - 1;
            res->first_reasons = why;
        }
    }
    for (size_t j = 0; j < b->n; j++)
        if (match_b[j] == CMP_NONE)
            res->only_b[res->n_only_b++] = j;
}

/* The first step where the paths (node, action) part, or CMP_NONE. */
static size_t paths_part(const struct cmp_run *a, const struct cmp_run *b)
{
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++)
        if (strcmp(a->nodes[i].name, b->nodes[i].name) != 0 || !text_eq(a->nodes[i].action, b->nodes[i].action))
            return i;
    return a->n == b->n ? CMP_NONE : n;
}

static double finite_or_zero(double v)
{
    return isfinite(v) ? v : 0;
}

double cmp_node_duration(const struct cmp_node *node)
{
    if (isfinite(node->duration_ms))
        return node->duration_ms;
    return finite_or_zero(node->prep_ms) + finite_or_zero(node->exec_ms) + finite_or_zero(node->post_ms);
}

static int contrib_cmp(const void *x, const void *y)
{
    const struct cmp_contrib *a = x, *b = y;
    double da = fabs(a->b_ms - a->a_ms), db = fabs(b->b_ms - b->a_ms);
    if (da != db)
        return da > db ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* Each node's durations summed per run, from the two sorted key lists (a
 * node's runs are consecutive in each), largest change first. */
static void contributions(const struct cmp_run *a, const struct key *ka, const struct cmp_run *b,
                          const struct key *kb, struct cmp_result *res)
{
    size_t i = 0, j = 0;
    res->contribs = xcalloc(a->n + b->n ? a->n + b->n : 1, sizeof *res->contribs);
    while (i < a->n || j < b->n) {
        int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(ka[i].name, kb[j].name);
        struct cmp_contrib *k = &res->contribs[res->ncontribs++];
        k->name = c <= 0 ? ka[i].name : kb[j].name;
        for (; c <= 0 && i < a->n && strcmp(ka[i].name, k->name) == 0; i++, k->a_runs++)
            k->a_ms += cmp_node_duration(&a->nodes[ka[i].index]);
        for (; c >= 0 && j < b->n && strcmp(kb[j].name, k->name) == 0; j++, k->b_runs++)
            k->b_ms += cmp_node_duration(&b->nodes[kb[j].index]);
    }
    qsort(res->contribs, res->ncontribs, sizeof *res->contribs, contrib_cmp);
}

/* A snapshot in the (name, phase, sequence) sort. */
struct snap_key {
    const struct cmp_snapshot *s;
    size_t index;
};

static int snap_key_cmp(const void *x, const void *y)
{
    const struct snap_key *a = x, *b = y;
    int c = strcmp(a->s->name, b->s->name);
    if (!c)
        c = strcmp(a->s->phase, b->s->phase);
    if (c)
        return c;
    return a->index < b->index ? -1 : a->index > b->index;
}

static bool is_phase(const char *phase)
{
    return phase && (strcmp(phase, "before") == 0 || strcmp(phase, "after") == 0);
}

/* The end of the run of ks from `from` whose name is name and, when
 * phase is not NULL, whose phase is phase. */
static size_t group_end(const struct snap_key *ks, size_t m, size_t from, const char *name, const char *phase)
{
    while (from < m && strcmp(ks[from].s->name, name) == 0 && (!phase || strcmp(ks[from].s->phase, phase) == 0))
        from++;
    return from;
}

void cmp_attach_snapshots(struct cmp_node *nodes, size_t n, const struct cmp_snapshot *snaps, size_t ns)
{
    /* Node executions sorted by (name, run order) and snapshots by (name,
     * phase, sequence order): within a name, the k-th node execution
     * takes the k-th of its "after" group and of its "before" group, in
     * one merge of the two sorted lists. */
    size_t *ordinals = xcalloc(n ? n : 1, sizeof *ordinals);
    struct cmp_run run = {.nodes = nodes, .n = n};
    struct key *kn = sorted_keys(&run, ordinals);
    struct snap_key *ks = xcalloc(ns ? ns : 1, sizeof *ks);
    size_t m = 0, j = 0, after = 0, before = 0, end = 0;
    for (size_t i = 0; i < ns; i++)
        if (snaps[i].name && is_phase(snaps[i].phase))
            ks[m++] = (struct snap_key){&snaps[i], i};
    qsort(ks, m, sizeof *ks, snap_key_cmp);
    for (size_t i = 0; i < n; i++) {
        struct cmp_node *node = &nodes[kn[i].index];
        if (i == 0 || strcmp(kn[i - 1].name, node->name) != 0) {
            /* A new name: its groups, "after" < "before" in byte order. */
            for (j = end; j < m && strcmp(ks[j].s->name, node->name) < 0; j++)
                ;
            after = j;
            before = group_end(ks, m, after, node->name, "after");
            end = group_end(ks, m, before, node->name, NULL);
        }
        size_t k = ordinals[kn[i].index] - 1;
        node->after = after + k < before ? ks[after + k].s->state : NULL;
        node->before = before + k < end ? ks[before + k].s->state : NULL;
    }
    free(ks);
    free(kn);
    free(ordinals);
}

int compare_runs(const struct cmp_run *a, const struct cmp_run *b, struct cmp_result *out)
{
    memset(out, 0, sizeof *out);
    out->first = CMP_NONE;
    out->ordinal_a = xcalloc(a->n ? a->n : 1, sizeof *out->ordinal_a);
    out->ordinal_b = xcalloc(b->n ? b->n : 1, sizeof *out->ordinal_b);
    size_t *match_a = xcalloc(a->n ? a->n : 1, sizeof *match_a);
    size_t *match_b = xcalloc(b->n ? b->n : 1, sizeof *match_b);
    for (size_t i = 0; i < a->n; i++)
        match_a[i] = CMP_NONE;
    for (size_t j = 0; j < b->n; j++)
        match_b[j] = CMP_NONE;

    struct key *ka = sorted_keys(a, out->ordinal_a), *kb = sorted_keys(b, out->ordinal_b);
    align(ka, a->n, kb, b->n, out->ordinal_a, out->ordinal_b, match_a, match_b);
    collect_pairs(a, b, match_a, match_b, out);
    out->parted_at = paths_part(a, b);
    if (out->first == CMP_NONE && out->parted_at != CMP_NONE)
        out->first_reasons = CMP_PATH;
    contributions(a, ka, b, kb, out);

    free(ka);
    free(kb);
    free(match_a);
    free(match_b);
    return 0;
}

void compare_result_free(struct cmp_result *res)
{
    free(res->pairs);
    free(res->only_a);
    free(res->only_b);
    free(res->ordinal_a);
    free(res->ordinal_b);
    free(res->contribs);
    memset(res, 0, sizeof *res);
}

const char *cmp_diff_name(unsigned bit)
{
    switch (bit) {
    case CMP_STATUS:
        return "status";
    case CMP_ACTION:
        return "action";
    case CMP_STATE:
        return "state";
    case CMP_RETRIES:
        return "retry_count";
    case CMP_ERROR:
        return "error";
    case CMP_PATH:
        return "path";
    }
    return "?";
}
