/* Unit tests for comparing two runs: alignment by node and ordinal
 * (compare.c), the first divergence and where paths part, the duration
 * contributions, the JSON state diff (state_diff.c) and the answer's JSON
 * (compare_json.c), on runs built by hand. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "domain/compare.h"
#include "domain/compare_json.h"
#include "domain/state_diff.h"

TestSuite(compare);

/* A node execution: name, action, before and after state; success, no
 * error, 10 ms of exec. */
static struct cmp_node node(const char *name, const char *action, const char *before, const char *after)
{
    return (struct cmp_node){.id = "1", .name = name, .status = "success", .action = action, .before = before,
                             .after = after, .offset_ms = 0, .prep_ms = 1, .exec_ms = 10, .post_ms = 1,
                             .duration_ms = 12, .retries = 0};
}

static struct cmp_run run(struct cmp_node *nodes, size_t n)
{
    return (struct cmp_run){.id = "r", .workflow_id = "w", .json = "{}", .duration_ms = NAN, .nodes = nodes,
                            .n = n};
}

/* The answer's JSON, parsed (the caller puts it). */
static struct json_object *answer(const struct cmp_run *a, const struct cmp_run *b, const struct cmp_result *res)
{
    struct compare_options opt = {COMPARE_TOP_DEFAULT, COMPARE_DIFF_ENTRIES_DEFAULT};
    struct buf out;
    buf_init(&out);
    compare_json_write(a, b, res, &opt, &out);
    struct json_object *j = json_tokener_parse(out.data);
    cr_assert_not_null(j, "not JSON: %s", out.data);
    buf_free(&out);
    return j;
}

static struct json_object *at(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    cr_assert(json_object_object_get_ex(o, key, &v), "no %s in %s", key, json_object_to_json_string(o));
    return v;
}

Test(compare, a_run_with_itself_has_no_differences)
{
    struct cmp_node n[] = {node("load", "default", "{}", "{\"x\":1}"), node("route", "left", "{\"x\":1}",
                                                                             "{\"x\":1,\"r\":\"l\"}"),
                           node("load", "default", "{\"x\":1,\"r\":\"l\"}", "{\"x\":2}")};
    struct cmp_run a = run(n, 3);
    struct cmp_result res;
    compare_runs(&a, &a, &res);
    cr_assert_eq(res.npairs, 3);
    cr_assert_eq(res.n_only_a + res.n_only_b, 0);
    cr_assert_eq(res.first, CMP_NONE);
    cr_assert_eq(res.first_reasons, 0);
    cr_assert_eq(res.parted_at, CMP_NONE);
    cr_assert_eq(res.differing, 0);
    cr_assert_eq(res.pairs[2].ordinal, 2, "the second run of load is its ordinal 2");
    struct json_object *j = answer(&a, &a, &res);
    cr_assert(json_object_get_boolean(at(j, "identical")));
    cr_assert(json_object_is_type(at(j, "first_divergence"), json_type_null));
    cr_assert_eq(json_object_array_length(at(at(j, "summary"), "top_nodes")), 0, "no duration changed");
    json_object_put(j);
    compare_result_free(&res);
}

Test(compare, nodes_align_by_name_and_ordinal_not_by_position)
{
    /* b runs an extra "check" first, and "step" a third time. */
    struct cmp_node na[] = {node("step", "again", NULL, NULL), node("step", "again", NULL, NULL),
                            node("done", NULL, NULL, NULL)};
    struct cmp_node nb[] = {node("check", "ok", NULL, NULL), node("step", "again", NULL, NULL),
                            node("step", "again", NULL, NULL), node("step", "again", NULL, NULL),
                            node("done", NULL, NULL, NULL)};
    struct cmp_run a = run(na, 3), b = run(nb, 5);
    struct cmp_result res;
    compare_runs(&a, &b, &res);
    cr_assert_eq(res.npairs, 3);
    cr_assert_eq(res.pairs[0].a, 0);
    cr_assert_eq(res.pairs[0].b, 1);
    cr_assert_eq(res.pairs[1].b, 2);
    cr_assert_eq(res.pairs[2].a, 2);
    cr_assert_eq(res.pairs[2].b, 4, "done pairs with done");
    cr_assert_eq(res.n_only_a, 0);
    cr_assert_eq(res.n_only_b, 2);
    cr_assert_eq(res.only_b[0], 0);
    cr_assert_eq(res.only_b[1], 3);
    cr_assert_eq(res.ordinal_b[3], 3, "the third run of step");
    cr_assert_eq(res.parted_at, 0, "the paths part at once: check against step");
    cr_assert_eq(res.first_reasons, CMP_PATH, "no aligned pair differs: the path is the reason");
    compare_result_free(&res);
}

Test(compare, the_first_divergence_is_the_first_pair_that_differs_from_an_equal_start)
{
    struct cmp_node na[] = {node("load", "default", "{}", "{\"q\":\"a\"}"),
                            node("classify", "simple", "{\"q\":\"a\"}", "{\"q\":\"a\",\"k\":1}"),
                            node("answer", "done", "{\"q\":\"a\",\"k\":1}", "{\"q\":\"a\",\"k\":1,\"r\":\"x\"}")};
    struct cmp_node nb[] = {node("load", "default", "{}", "{\"q\":\"a\"}"),
                            node("classify", "hard", "{\"q\":\"a\"}", "{\"q\":\"a\",\"k\":2}"),
                            node("answer", "done", "{\"q\":\"a\",\"k\":2}", "{\"q\":\"a\",\"k\":2,\"r\":\"y\"}")};
    struct cmp_run a = run(na, 3), b = run(nb, 3);
    struct cmp_result res;
    compare_runs(&a, &b, &res);
    cr_assert_eq(res.first, 1);
    cr_assert_eq(res.first_reasons, CMP_ACTION | CMP_STATE);
    cr_assert_eq(res.parted_at, 1, "classify's action differs");
    cr_assert(res.pairs[1].before_equal);
    cr_assert_not(res.pairs[2].before_equal, "answer started from different states");
    cr_assert_eq(res.differing, 2);
    struct json_object *j = answer(&a, &b, &res);
    struct json_object *fd = at(j, "first_divergence");
    cr_assert_str_eq(json_object_get_string(at(fd, "node_name")), "classify");
    cr_assert_str_eq(json_object_get_string(at(fd, "reason")), "action");
    cr_assert_eq(json_object_array_length(at(fd, "reasons")), 2);
    cr_assert_eq(json_object_get_int(at(fd, "a_index")), 1);
    cr_assert_not_null(strstr(json_object_get_string(at(fd, "message")), "took action simple in a and hard in b"));
    struct json_object *diff = at(json_object_array_get_idx(at(j, "pairs"), 1), "state_diff");
    cr_assert_not(json_object_get_boolean(at(diff, "equal")));
    struct json_object *changed = json_object_array_get_idx(at(diff, "changed"), 0);
    cr_assert_str_eq(json_object_get_string(at(changed, "path")), "k");
    cr_assert_eq(json_object_get_int(at(changed, "a")), 1);
    cr_assert_eq(json_object_get_int(at(changed, "b")), 2);
    json_object_put(j);
    compare_result_free(&res);
}

Test(compare, a_difference_after_a_different_start_is_not_the_divergence)
{
    /* "prep" exists in a only and changes the state; "work" then differs
     * from an unequal start, so no aligned pair qualifies. */
    struct cmp_node na[] = {node("prep", "default", "{}", "{\"n\":1}"), node("work", "x", "{\"n\":1}", "{\"n\":2}")};
    struct cmp_node nb[] = {node("work", "y", "{}", "{\"n\":5}")};
    struct cmp_run a = run(na, 2), b = run(nb, 1);
    struct cmp_result res;
    compare_runs(&a, &b, &res);
    cr_assert_eq(res.npairs, 1);
    cr_assert_not(res.pairs[0].before_equal);
    cr_assert_eq(res.first, CMP_NONE);
    cr_assert_eq(res.first_reasons, CMP_PATH);
    cr_assert_eq(res.parted_at, 0);
    compare_result_free(&res);
}

Test(compare, a_status_change_is_a_divergence_and_retries_and_errors_are_differences)
{
    struct cmp_node na[] = {node("call", "default", NULL, NULL)};
    struct cmp_node nb[] = {node("call", "default", NULL, NULL)};
    nb[0].status = "error";
    nb[0].retries = 2;
    nb[0].error = "{\"type\":\"Timeout\"}";
    struct cmp_run a = run(na, 1), b = run(nb, 1);
    struct cmp_result res;
    compare_runs(&a, &b, &res);
    cr_assert_eq(res.first, 0);
    cr_assert_eq(res.first_reasons, CMP_STATUS);
    cr_assert_eq(res.pairs[0].differs, CMP_STATUS | CMP_RETRIES | CMP_ERROR);
    cr_assert(res.pairs[0].before_equal, "no snapshots on either side count as equal");
    compare_result_free(&res);
}

Test(compare, the_nodes_that_explain_the_duration_change_come_first)
{
    struct cmp_node na[] = {node("fast", NULL, NULL, NULL), node("slow", NULL, NULL, NULL),
                            node("slow", NULL, NULL, NULL)};
    struct cmp_node nb[] = {node("fast", NULL, NULL, NULL), node("slow", NULL, NULL, NULL),
                            node("slow", NULL, NULL, NULL), node("new", NULL, NULL, NULL)};
    nb[1].duration_ms = 112; /* +100 */
    nb[2].duration_ms = 62;  /* +50 */
    nb[3].duration_ms = 20;
    nb[0].duration_ms = 11.9;
    struct cmp_run a = run(na, 3), b = run(nb, 4);
    a.duration_ms = 100;
    b.duration_ms = 270;
    struct cmp_result res;
    compare_runs(&a, &b, &res);
    cr_assert_str_eq(res.contribs[0].name, "slow");
    cr_assert_eq(res.contribs[0].b_runs, 2);
    cr_assert_float_eq(res.contribs[0].b_ms - res.contribs[0].a_ms, 150, 1e-9);
    cr_assert_str_eq(res.contribs[1].name, "new");
    cr_assert_str_eq(res.contribs[2].name, "fast");
    struct json_object *j = answer(&a, &b, &res);
    struct json_object *s = at(j, "summary");
    cr_assert_float_eq(json_object_get_double(at(at(s, "duration_ms"), "delta")), 170, 1e-9);
    struct json_object *top = at(s, "top_nodes");
    cr_assert_eq(json_object_array_length(top), 3);
    cr_assert_float_eq(json_object_get_double(at(json_object_array_get_idx(top, 2), "delta_ms")), -0.1, 1e-12,
                       "deltas are rounded to the microsecond");
    cr_assert_float_eq(json_object_get_double(at(json_object_array_get_idx(top, 0), "share")), 0.882, 1e-12);
    json_object_put(j);
    compare_result_free(&res);
}

Test(compare, snapshots_go_to_the_node_run_of_their_name_phase_and_count)
{
    /* a, b, a again; b's snapshots missing their "before"; a stray phase
     * and a name no node has. */
    struct cmp_node n[] = {node("a", NULL, NULL, NULL), node("b", NULL, NULL, NULL), node("a", NULL, NULL, NULL)};
    struct cmp_snapshot s[] = {
        {"a", "before", "a1<"}, {"zz", "after", "stray"}, {"a", "after", "a1>"}, {"b", "after", "b1>"},
        {"a", "during", "x"}, {NULL, "after", "y"}, {"a", "before", "a2<"}, {"a", "after", "a2>"},
    };
    cmp_attach_snapshots(n, 3, s, sizeof s / sizeof s[0]);
    cr_assert_str_eq(n[0].before, "a1<");
    cr_assert_str_eq(n[0].after, "a1>");
    cr_assert_null(n[1].before);
    cr_assert_str_eq(n[1].after, "b1>");
    cr_assert_str_eq(n[2].before, "a2<");
    cr_assert_str_eq(n[2].after, "a2>");

    /* More runs than snapshots: the last runs have none. */
    struct cmp_node m[] = {node("a", NULL, "x", "x"), node("a", NULL, "x", "x")};
    struct cmp_snapshot t[] = {{"a", "after", "only"}};
    cmp_attach_snapshots(m, 2, t, 1);
    cr_assert_str_eq(m[0].after, "only");
    cr_assert_null(m[0].before);
    cr_assert_null(m[1].after);
    cmp_attach_snapshots(m, 2, NULL, 0);
    cr_assert_null(m[0].after);
}

Test(compare, a_node_without_times_counts_its_phases)
{
    struct cmp_node x = node("a", NULL, NULL, NULL);
    x.duration_ms = NAN;
    x.post_ms = NAN;
    cr_assert_float_eq(cmp_node_duration(&x), 11, 1e-12);
}

Test(compare, empty_runs_compare_as_identical)
{
    struct cmp_run a = run(NULL, 0);
    struct cmp_result res;
    compare_runs(&a, &a, &res);
    cr_assert_eq(res.npairs, 0);
    struct json_object *j = answer(&a, &a, &res);
    cr_assert(json_object_get_boolean(at(j, "identical")));
    json_object_put(j);
    compare_result_free(&res);
}

/* ------------------------------------------------------------------ state diffs */

static struct json_object *diff_of(const char *a, const char *b, size_t max, size_t *budget, size_t *found)
{
    struct buf out;
    buf_init(&out);
    *found = state_diff_write(a, b, max, budget, &out);
    struct json_object *j = json_tokener_parse(out.data);
    cr_assert_not_null(j, "not JSON: %s", out.data);
    buf_free(&out);
    return j;
}

Test(compare, states_are_equal_whatever_the_key_order_and_number_spelling)
{
    cr_assert_eq(state_equal("{\"a\":1,\"b\":[1,2]}", "{\"b\":[1,2],\"a\":1.0}"), 1);
    cr_assert_eq(state_equal("{\"a\":1}", "{\"a\":2}"), 0);
    cr_assert_eq(state_equal("{\"a\":[1,2]}", "{\"a\":[2,1]}"), 0, "arrays keep their order");
    cr_assert_eq(state_equal(NULL, NULL), 1);
    cr_assert_eq(state_equal("{}", NULL), 0);
    cr_assert_eq(state_equal("{\"s\":\"a\\u0000b\"}", "{\"s\":\"a\\u0000c\"}"), 0, "strings compare whole");
}

Test(compare, a_state_diff_names_changed_added_and_removed_paths)
{
    size_t found;
    struct json_object *j = diff_of("{\"cfg\":{\"n\":1,\"old\":true},\"x y\":1,\"list\":[1]}",
                                    "{\"cfg\":{\"n\":2,\"new\":null},\"x y\":1,\"list\":[1,2]}", 50, NULL, &found);
    cr_assert_eq(found, 4);
    cr_assert_not(json_object_get_boolean(at(j, "equal")));
    struct json_object *changed = at(j, "changed"), *added = at(j, "added"), *removed = at(j, "removed");
    cr_assert_eq(json_object_array_length(changed), 2);
    cr_assert_str_eq(json_object_get_string(at(json_object_array_get_idx(changed, 0), "path")), "cfg.n");
    cr_assert_str_eq(json_object_get_string(at(json_object_array_get_idx(changed, 1), "path")), "list");
    cr_assert_str_eq(json_object_get_string(at(json_object_array_get_idx(added, 0), "path")), "cfg.new");
    cr_assert_str_eq(json_object_get_string(at(json_object_array_get_idx(removed, 0), "path")), "cfg.old");
    cr_assert_not(json_object_get_boolean(at(j, "truncated")));
    json_object_put(j);

    j = diff_of("{\"a b\":{\"c\":1}}", "{\"a b\":{\"c\":2}}", 50, NULL, &found);
    cr_assert_str_eq(json_object_get_string(at(json_object_array_get_idx(at(j, "changed"), 0), "path")),
                     "[\"a b\"].c", "keys that are not identifiers are quoted, as the viewer does");
    json_object_put(j);

    j = diff_of("[1]", "{\"a\":1}", 50, NULL, &found);
    cr_assert_str_eq(json_object_get_string(at(json_object_array_get_idx(at(j, "changed"), 0), "path")), "(state)");
    json_object_put(j);
}

Test(compare, a_state_diff_is_bounded_and_says_so)
{
    size_t found, budget = 3;
    struct json_object *j = diff_of("{\"a\":1,\"b\":1,\"c\":1,\"d\":1}", "{\"a\":2,\"b\":2,\"c\":2,\"d\":2}", 2,
                                    &budget, &found);
    cr_assert_eq(found, 4);
    cr_assert_eq(json_object_array_length(at(j, "changed")), 2);
    cr_assert(json_object_get_boolean(at(j, "truncated")));
    cr_assert_eq(budget, 1, "the shared budget went down by what was written");
    json_object_put(j);

    /* A long value is shown as null, marked. */
    char big[STATE_DIFF_VALUE_MAX + 64];
    snprintf(big, sizeof big, "{\"t\":\"%0*d\"}", STATE_DIFF_VALUE_MAX, 0);
    j = diff_of("{\"t\":\"short\"}", big, 50, NULL, &found);
    struct json_object *e = json_object_array_get_idx(at(j, "changed"), 0);
    cr_assert_str_eq(json_object_get_string(at(e, "a")), "short");
    cr_assert(json_object_is_type(at(e, "b"), json_type_null));
    cr_assert(json_object_get_boolean(at(e, "truncated")));
    json_object_put(j);

    /* Deeper than STATE_DIFF_DEPTH: compared whole, at the last path. */
    j = diff_of("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":1}}}}}}}}}",
                "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":2}}}}}}}}}", 50, NULL, &found);
    cr_assert_str_eq(json_object_get_string(at(json_object_array_get_idx(at(j, "changed"), 0), "path")),
                     "a.b.c.d.e.f.g.h");
    json_object_put(j);
}

Test(compare, a_missing_snapshot_diffs_as_the_whole_state)
{
    size_t found;
    struct json_object *j = diff_of(NULL, "{\"a\":1}", 50, NULL, &found);
    cr_assert_eq(found, 1);
    struct json_object *e = json_object_array_get_idx(at(j, "added"), 0);
    cr_assert_str_eq(json_object_get_string(at(e, "path")), "(state)");
    cr_assert_eq(json_object_get_int(at(at(e, "value"), "a")), 1);
    json_object_put(j);
}
