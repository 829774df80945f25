/* Unit tests for critical_path.c: which node executions the critical path
 * goes through (a workflow edge before mere timing, the tolerance, ties,
 * loops, parallel branches), and the breakdown's busy, parallel and idle
 * time, gaps and per-node totals, on runs built by hand. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/critical_path.h"

TestSuite(critical_path);

#define MS 1000 /* microseconds */

static struct cp_node node(long long id, const char *name, int64_t start_ms, int64_t end_ms)
{
    return (struct cp_node){id, name, start_ms * MS, end_ms * MS, false, NAN, NAN, NAN};
}

/* The ids along the path, in run order, as "1 2 3". */
static void path_ids(const struct cp_result *r, const struct cp_node *nodes, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < r->nsteps && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%lld", i ? " " : "", nodes[r->steps[i].node].id);
}

static const struct cp_node_total *total_of(const struct cp_result *r, const char *name)
{
    for (size_t k = 0; k < r->ntotals; k++)
        if (strcmp(r->totals[k].name, name) == 0)
            return &r->totals[k];
    return NULL;
}

Test(critical_path, a_chain_along_its_edges_is_the_whole_path_with_its_gaps)
{
    struct cp_node nodes[] = {node(1, "fetch", 10, 110), node(2, "parse", 130, 180), node(3, "store", 180, 400)};
    struct cp_edge edges[] = {{"fetch", "parse"}, {"parse", "store"}};
    struct cp_result r;
    cp_analyze(nodes, 3, edges, 2, 0, 450 * MS, &r);
    char ids[64];
    path_ids(&r, nodes, ids, sizeof ids);
    cr_assert_str_eq(ids, "1 2 3");
    cr_assert_eq(r.steps[0].via, CP_VIA_START);
    cr_assert_eq(r.steps[1].via, CP_VIA_EDGE);
    cr_assert_eq(r.steps[2].via, CP_VIA_EDGE);
    cr_assert_eq(r.steps[0].gap_us, 10 * MS);
    cr_assert_eq(r.steps[1].gap_us, 20 * MS);
    cr_assert_eq(r.steps[2].gap_us, 0);
    cr_assert_eq(r.path_us, 370 * MS);
    cr_assert_eq(r.wait_us, 30 * MS);
    cr_assert_eq(r.busy_us, 370 * MS);
    cr_assert_eq(r.idle_us, 80 * MS);
    cr_assert_eq(r.parallel_us, 0);
    /* Gaps: 0-10, 110-130, 400-450, longest first, with their neighbours. */
    cr_assert_eq(r.ngaps, 3);
    cr_assert_eq(r.ngaps_listed, 3);
    cr_assert_eq(r.gaps[0].start_us, 400 * MS);
    cr_assert_eq(r.gaps[0].after_id, 3);
    cr_assert_eq(r.gaps[0].before_id, 0);
    cr_assert_eq(r.gaps[1].start_us, 110 * MS);
    cr_assert_eq(r.gaps[1].after_id, 1);
    cr_assert_eq(r.gaps[1].before_id, 2);
    cr_assert_eq(r.gaps[2].start_us, 0);
    cr_assert_eq(r.gaps[2].after_id, 0);
    cr_assert_eq(r.gaps[2].before_id, 1);
    cp_result_free(&r);
}

Test(critical_path, parallel_branches_the_path_goes_through_the_one_that_ended_last)
{
    /* split -> {slow, quick} -> join: join waited for slow. */
    struct cp_node nodes[] = {node(1, "split", 0, 10), node(2, "quick", 10, 40), node(3, "slow", 10, 90),
                              node(4, "join", 91, 100)};
    struct cp_edge edges[] = {{"split", "quick"}, {"split", "slow"}, {"quick", "join"}, {"slow", "join"}};
    struct cp_result r;
    cp_analyze(nodes, 4, edges, 4, 0, 100 * MS, &r);
    char ids[64];
    path_ids(&r, nodes, ids, sizeof ids);
    cr_assert_str_eq(ids, "1 3 4");
    cr_assert_eq(r.parallel_us, 30 * MS);
    cr_assert_eq(r.busy_us, 99 * MS);
    cr_assert_eq(r.idle_us, 1 * MS);
    const struct cp_node_total *slow = total_of(&r, "slow"), *quick = total_of(&r, "quick");
    cr_assert_eq(slow->critical_runs, 1);
    cr_assert_eq(slow->critical_us, 80 * MS);
    cr_assert_eq(quick->critical_runs, 0);
    /* Longest wall time first. */
    cr_assert_str_eq(r.totals[0].name, "slow");
    cp_result_free(&r);
}

Test(critical_path, a_workflow_edge_wins_over_something_that_merely_ended_later)
{
    /* report depends on load (an edge); audit ran meanwhile, unrelated. */
    struct cp_node nodes[] = {node(1, "load", 0, 100), node(2, "audit", 0, 150), node(3, "report", 200, 250)};
    struct cp_edge edges[] = {{"load", "report"}};
    struct cp_result r;
    cp_analyze(nodes, 3, edges, 1, 0, 250 * MS, &r);
    char ids[64];
    path_ids(&r, nodes, ids, sizeof ids);
    cr_assert_str_eq(ids, "1 3");
    cr_assert_eq(r.steps[1].via, CP_VIA_EDGE);
    cr_assert_eq(r.steps[1].gap_us, 100 * MS);
    cp_result_free(&r);
}

Test(critical_path, parallel_branches_each_step_follows_its_own_branch)
{
    /* a1 -> a2 and b1 -> b2 side by side: b1 ends just after a1, before a2
     * starts, yet a2 waited for a1. */
    struct cp_node nodes[] = {node(1, "a1", 0, 100), node(2, "b1", 0, 101), node(3, "a2", 102, 300),
                              node(4, "b2", 102, 200)};
    struct cp_edge edges[] = {{"a1", "a2"}, {"b1", "b2"}};
    struct cp_result r;
    cp_analyze(nodes, 4, edges, 2, 0, 300 * MS, &r);
    char ids[64];
    path_ids(&r, nodes, ids, sizeof ids);
    cr_assert_str_eq(ids, "1 3");
    cr_assert_eq(r.steps[1].via, CP_VIA_EDGE);
    cp_result_free(&r);
}

Test(critical_path, an_edge_predecessor_long_gone_gives_way_to_what_ran_after_it)
{
    /* A loop: b's edge comes from a, which ran first; then x and y ran one
     * after the other, and b started when y ended. b waited for y. */
    struct cp_node nodes[] = {node(1, "a", 0, 10), node(2, "x", 11, 20), node(3, "y", 21, 30),
                              node(4, "b", 31, 40)};
    struct cp_edge edges[] = {{"a", "b"}};
    struct cp_result r;
    cp_analyze(nodes, 4, edges, 1, 0, 40 * MS, &r);
    char ids[64];
    path_ids(&r, nodes, ids, sizeof ids);
    cr_assert_str_eq(ids, "1 2 3 4");
    cr_assert_eq(r.steps[3].via, CP_VIA_TIME);
    cr_assert_eq(r.steps[3].gap_us, 1 * MS);
    cp_result_free(&r);
}

Test(critical_path, without_edges_the_last_to_end_before_a_start_is_its_predecessor)
{
    struct cp_node nodes[] = {node(1, "load", 0, 100), node(2, "audit", 0, 150), node(3, "report", 200, 250)};
    struct cp_result r;
    cp_analyze(nodes, 3, NULL, 0, 0, 250 * MS, &r);
    char ids[64];
    path_ids(&r, nodes, ids, sizeof ids);
    cr_assert_str_eq(ids, "2 3");
    cr_assert_eq(r.steps[1].via, CP_VIA_TIME);
    cp_result_free(&r);
}

Test(critical_path, an_edge_predecessor_that_ended_after_the_start_is_not_one)
{
    /* b's edge predecessor a ends after b starts (beyond the tolerance): b
     * did not wait for it; the earlier x, without an edge, is the one. */
    struct cp_node nodes[] = {node(1, "x", 0, 10), node(2, "a", 5, 50), node(3, "b", 20, 60)};
    struct cp_edge edges[] = {{"a", "b"}};
    struct cp_result r;
    cp_analyze(nodes, 3, edges, 1, 0, 60 * MS, &r);
    char ids[64];
    path_ids(&r, nodes, ids, sizeof ids);
    cr_assert_str_eq(ids, "1 3");
    cr_assert_eq(r.steps[1].via, CP_VIA_TIME);
    cp_result_free(&r);
}

Test(critical_path, clocks_that_round_a_start_before_the_end_it_waited_for_are_tolerated)
{
    struct cp_node nodes[] = {node(1, "a", 0, 100), node(2, "b", 100, 200)};
    nodes[1].start_us -= CP_TOLERANCE_US / 2;
    struct cp_edge edges[] = {{"a", "b"}};
    struct cp_result r;
    cp_analyze(nodes, 2, edges, 1, 0, 200 * MS, &r);
    cr_assert_eq(r.nsteps, 2);
    cr_assert_eq(r.steps[1].gap_us, 0, "an overlap is no wait");
    cp_result_free(&r);

    nodes[1].start_us = 100 * MS - 2 * CP_TOLERANCE_US;
    cp_analyze(nodes, 2, edges, 1, 0, 200 * MS, &r);
    cr_assert_eq(r.nsteps, 1, "beyond the tolerance b did not wait for a");
    cp_result_free(&r);
}

Test(critical_path, a_node_that_loops_to_itself_chains_its_own_runs)
{
    struct cp_node nodes[] = {node(7, "try", 0, 10), node(8, "try", 10, 20), node(9, "try", 20, 30)};
    struct cp_edge edges[] = {{"try", "try"}};
    struct cp_result r;
    cp_analyze(nodes, 3, edges, 1, 0, 30 * MS, &r);
    char ids[64];
    path_ids(&r, nodes, ids, sizeof ids);
    cr_assert_str_eq(ids, "7 8 9");
    const struct cp_node_total *t = total_of(&r, "try");
    cr_assert_eq(t->runs, 3);
    cr_assert_eq(t->critical_runs, 3);
    cr_assert_eq(t->wall_us, 30 * MS);
    cp_result_free(&r);
}

Test(critical_path, identical_runs_end_the_path_at_the_larger_id_every_time)
{
    struct cp_node nodes[] = {node(5, "a", 0, 10), node(4, "b", 0, 10)};
    struct cp_result r;
    cp_analyze(nodes, 2, NULL, 0, 0, 10 * MS, &r);
    cr_assert_eq(r.nsteps, 1);
    cr_assert_eq(nodes[r.steps[0].node].id, 5);
    cp_result_free(&r);
}

Test(critical_path, overlapping_runs_of_one_node_add_up_their_wall_time)
{
    struct cp_node nodes[] = {node(1, "item", 0, 100), node(2, "item", 50, 120), node(3, "after", 130, 140)};
    struct cp_result r;
    cp_analyze(nodes, 3, NULL, 0, 0, 140 * MS, &r);
    const struct cp_node_total *t = total_of(&r, "item");
    cr_assert_eq(t->runs, 2);
    cr_assert_eq(t->wall_us, 170 * MS);
    cr_assert_eq(r.busy_us, 130 * MS);
    cr_assert_eq(r.parallel_us, 50 * MS);
    cr_assert_eq(r.idle_us, 10 * MS);
    /* The path: after waited for the run that ended last, item 2. */
    cr_assert_eq(r.nsteps, 2);
    cr_assert_eq(nodes[r.steps[0].node].id, 2);
    cp_result_free(&r);
}

Test(critical_path, phases_are_summed_per_node_and_missing_ones_skipped)
{
    struct cp_node nodes[] = {node(1, "a", 0, 100), node(2, "a", 100, 200)};
    nodes[0].prep_ms = 1.5;
    nodes[0].exec_ms = 90;
    nodes[1].exec_ms = 80.25;
    nodes[1].post_ms = 2;
    struct cp_result r;
    cp_analyze(nodes, 2, NULL, 0, 0, 200 * MS, &r);
    const struct cp_node_total *t = total_of(&r, "a");
    cr_assert_float_eq(t->prep_ms, 1.5, 1e-9);
    cr_assert_float_eq(t->exec_ms, 170.25, 1e-9);
    cr_assert_float_eq(t->post_ms, 2, 1e-9);
    cp_result_free(&r);
}

Test(critical_path, only_the_longest_gaps_are_listed_and_all_are_counted)
{
    struct cp_node nodes[CP_GAPS_LISTED + 5];
    size_t n = sizeof nodes / sizeof nodes[0];
    int64_t t = 0;
    /* Gaps of 1, 2, 3, ... ms between 10 ms runs. */
    for (size_t i = 0; i < n; i++) {
        t += (int64_t)i + 1;
        nodes[i] = node((long long)i + 1, "step", t, t + 10);
        t += 10;
    }
    struct cp_result r;
    cp_analyze(nodes, n, NULL, 0, 0, t * MS, &r);
    cr_assert_eq(r.ngaps, n);
    cr_assert_eq(r.ngaps_listed, CP_GAPS_LISTED);
    for (size_t g = 0; g < CP_GAPS_LISTED; g++)
        cr_assert_eq(r.gaps[g].end_us - r.gaps[g].start_us, (int64_t)(n - g) * MS, "gap %zu", g);
    cr_assert_eq(r.idle_us, (int64_t)(n * (n + 1) / 2) * MS);
    cp_result_free(&r);
}

Test(critical_path, a_run_without_node_executions_is_all_idle)
{
    struct cp_result r;
    cp_analyze(NULL, 0, NULL, 0, 0, 50 * MS, &r);
    cr_assert_eq(r.nsteps, 0);
    cr_assert_eq(r.idle_us, 50 * MS);
    cr_assert_eq(r.ngaps, 1);
    cr_assert_eq(r.ntotals, 0);
    cp_result_free(&r);
}

Test(critical_path, edges_between_nodes_that_never_ran_are_ignored)
{
    struct cp_node nodes[] = {node(1, "a", 0, 10), node(2, "b", 10, 20)};
    struct cp_edge edges[] = {{"ghost", "b"}, {"a", "phantom"}, {"a", "b"}};
    struct cp_result r;
    cp_analyze(nodes, 2, edges, 3, 0, 20 * MS, &r);
    cr_assert_eq(r.nsteps, 2);
    cr_assert_eq(r.steps[1].via, CP_VIA_EDGE);
    cp_result_free(&r);
}

Test(critical_path, ten_thousand_runs_in_a_row_are_all_on_the_path)
{
    enum { N = 10000 };
    static struct cp_node nodes[N];
    static char names[N][16];
    struct cp_edge *edges = calloc(N, sizeof *edges);
    cr_assert_not_null(edges);
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "n%d", i);
        nodes[i] = node(i + 1, names[i], (int64_t)i * 10, (int64_t)i * 10 + 9);
        if (i)
            edges[i - 1] = (struct cp_edge){names[i - 1], names[i]};
    }
    struct cp_result r;
    cp_analyze(nodes, N, edges, N - 1, 0, (int64_t)N * 10 * MS, &r);
    cr_assert_eq(r.nsteps, N);
    cr_assert_eq(r.ngaps, N);
    cr_assert_eq(r.idle_us, (int64_t)N * MS);
    for (int i = 1; i < N; i++)
        cr_assert_eq(r.steps[i].via, CP_VIA_EDGE);
    cp_result_free(&r);
    free(edges);
}
