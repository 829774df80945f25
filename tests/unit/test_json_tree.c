/* Unit tests for json_tree.c (json_parse_shaped, json_parse_strict).
 *
 * Without a shape it must build what json-c in strict mode built, with the
 * same reasons for what is not JSON: compared with the former parser
 * (tests/reference/, json-c behind the lexical pre-check) on every
 * JSONTestSuite file and every single-byte change of a body. With a shape,
 * the workflow checks must answer exactly as on the whole tree, while the
 * tree stays small whatever the body holds: a megabyte of empty objects in
 * an unknown member, in a member that wants a string, in nodes, thousands
 * of unknown members. And a number out of a double's range, built or
 * skipped, refuses the body. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../reference/compare.h"
#include "http/json_body.h"
#include "json/json_scan.h"
#include "domain/workflow_input.h"

#define P_ID "5b0e7c2a-1d3f-4e6a-9b8c-7d6e5f4a3b2c"

/* A workflow body with every member. */
static const char workflow_body[] =
    "{\"project_id\": \"" P_ID "\", \"name\": \"pipeline\", \"description\": \"Fetches.\\n\\tTwo.\","
    " \"nodes\": [{\"name\": \"fetch\", \"type\": \"HttpNode\"}, {\"name\": \"parse\"}, {\"name\": \"st\\u00f6re\","
    " \"type\": null}], \"edges\": [{\"from\": \"fetch\", \"to\": \"parse\", \"action\": \"default\"},"
    " {\"from\": \"parse\", \"to\": \"st\\u00f6re\"}]}";

struct tally {
    size_t bodies, disagreements;
};

/* Notes a comparison's result (rc, report); prints the first failures. */
static void note(struct tally *t, int rc, const char *report, const char *what, const char *text, size_t len)
{
    t->bodies++;
    if (rc != 0 && t->disagreements++ < 5)
        fprintf(stderr, "%s: %s\n  body: %.*s\n", what, report, (int)(len < 300 ? len : 300), text);
}

/* The new parser without a shape against json-c. */
static void compare_full(struct tally *t, const char *text, size_t len, int depth, const char *what)
{
    char report[1024];
    note(t, ref_compare_tree(text, len, depth, report, sizeof report), report, what, text, len);
}

/* The workflow checks on the shaped tree against the whole one. */
static void compare_shaped(struct tally *t, const char *text, size_t len, const char *what)
{
    char report[1024];
    note(t, ref_compare_shaped(text, len, 64, report, sizeof report), report, what, text, len);
}

static void assert_agreed(const struct tally *t, size_t at_least)
{
    cr_assert_eq(t->disagreements, 0, "%zu of %zu bodies disagree (first ones above)", t->disagreements, t->bodies);
    cr_assert_geq(t->bodies, at_least);
}

/* text with "@" replaced by count copies of unit (comma-separated). */
static char *flood(const char *text, const char *unit, size_t count, const char *sep)
{
    size_t u = strlen(unit), s = strlen(sep), t = strlen(text);
    char *out = malloc(t + count * (u + s) + 1);
    cr_assert_not_null(out);
    const char *at = strchr(text, '@');
    size_t o = (size_t)(at - text);
    memcpy(out, text, o);
    for (size_t i = 0; i < count; i++) {
        if (i) {
            memcpy(out + o, sep, s);
            o += s;
        }
        memcpy(out + o, unit, u);
        o += u;
    }
    strcpy(out + o, at + 1);
    return out;
}

TestSuite(json_tree);

static void suite_file(void *ctx, const char *name, const char *text, size_t len)
{
    compare_full(ctx, text, len, 64, name);
    compare_full(ctx, text, len, 3, name);
}

Test(json_tree, every_jsontestsuite_file_parses_as_json_c_parsed_it)
{
    struct tally t = {0, 0};
    if (ref_each_suite_file(suite_file, &t) < 0)
        cr_skip_test("JSONTestSuite not found (set AGORA_JSONTESTSUITE)");
    assert_agreed(&t, 600);
}

static void changed(void *ctx, const char *what, const char *body, size_t len)
{
    compare_full(ctx, body, len, 64, what);
    compare_full(ctx, body, len, 3, what);
    compare_shaped(ctx, body, len, what);
}

Test(json_tree, every_single_byte_change_of_a_body_parses_as_json_c_parsed_it)
{
    static const char bytes[] = "\"\\{}[],: \t\n0159-+.eEnutfalsx\x00\x01\x7f\x80\xc3\xa9\xed\xff";
    struct tally t = {0, 0};
    ref_each_byte_change(workflow_body, strlen(workflow_body), bytes, sizeof bytes - 1, changed, &t);
    assert_agreed(&t, 20000);
}

Test(json_tree, numbers_and_strings_are_read_as_json_c_read_them)
{
    static const char *const bodies[] = {
        "[0, -0, 1, -1, 9223372036854775807, 9223372036854775808, 18446744073709551615,"
        " 18446744073709551616, 123456789012345678901234567890, -9223372036854775808,"
        " -9223372036854775809, 0.5, -0.0, 1e2, 1E+2, 2.5e-3, 1.7976931348623157e308, 4.9e-324, 0e999]",
        "{\"a\\u0000b\": 1}", "[\"a\\u0000b\", \"\\ud83d\\ude00\", \"\\/\\\"\\\\\\b\\f\\n\\r\\t\", \"caf\xc3\xa9\"]",
        "{\"k\": 1, \"k\": 2, \"j\": {\"k\": [1], \"k\": null}}", "{\"\": \"\", \"\\u00e9\": true, \"e\\u0301\": false}",
        "null", " null ", "true", "\"s\"", "-12", "[]", "{}", "[[[]]]",
    };
    struct tally t = {0, 0};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        compare_full(&t, bodies[i], strlen(bodies[i]), 64, bodies[i]);
    assert_agreed(&t, sizeof bodies / sizeof bodies[0]);
}

/* ---- shapes ------------------------------------------------------------ */

struct verdict {
    int rc;
    char path[160], msg[256];
};

static struct verdict check_workflow(struct json_object *body)
{
    struct verdict v;
    struct workflow_input in;
    v.rc = workflow_input_parse(body, &in, v.path, sizeof v.path, v.msg, sizeof v.msg);
    if (v.rc == 0)
        workflow_input_free(&in);
    return v;
}

Test(json_tree, the_workflow_checks_answer_on_the_shaped_tree_as_on_the_whole_one)
{
    static const char *const values[] = {
        "null", "5", "true", "\"\"", "\"x\"", "\"" P_ID "\"", "[]", "{}", "[5]", "[{}]", "[{\"name\": \"a\"}]",
        "[{\"name\": \"a\", \"x\": 1, \"y\": [{}]}]", "{\"name\": \"a\"}", "[[{}]]", "\"fetch\"", "\"a\\nb\"",
        "[{\"from\": \"fetch\", \"to\": \"parse\", \"zz\": {}}]", "[{\"name\": {\"a\": [1, 2]}}]",
        "[{\"name\": \"a\"}, {\"name\": \"a\"}]", "{\"a\": {\"b\": {}}}", "[1e309]", "1e309",
    };
    static const char *const members[] = {"project_id", "name", "description", "nodes", "edges", "extra", "Name"};
    static const char *const prefixes[] = {"", "\"zz\": [{}], ", "\"nodes\": {}, ", "\"nodes\": [{\"q\": 1}], "};
    struct tally t = {0, 0};
    char text[2048];
    for (size_t p = 0; p < sizeof prefixes / sizeof prefixes[0]; p++)
        for (size_t m = 0; m < sizeof members / sizeof members[0]; m++)
            for (size_t v = 0; v < sizeof values / sizeof values[0]; v++)
                for (int at_end = 0; at_end < 2; at_end++) {
                    /* the member before or after the valid body's own, so it
                     * is shadowed or wins */
                    if (at_end)
                        snprintf(text, sizeof text, "{%s%.*s, \"%s\": %s}", prefixes[p],
                                 (int)strlen(workflow_body) - 2, workflow_body + 1, members[m], values[v]);
                    else
                        snprintf(text, sizeof text, "{%s\"%s\": %s, %s", prefixes[p], members[m], values[v],
                                 workflow_body + 1);
                    compare_shaped(&t, text, strlen(text), text);
                }
    /* Every node item and edge item member too. */
    for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
        static const char *const items[] = {
            "\"nodes\": [{\"name\": \"fetch\", \"type\": @}]", "\"nodes\": [{\"name\": @}]",
            "\"nodes\": [{\"name\": \"fetch\", \"other\": @}]", "\"nodes\": [@, {\"name\": \"fetch\"}]",
            "\"nodes\": [{\"name\": \"fetch\"}, {\"name\": \"parse\"}], \"edges\": [{\"from\": \"fetch\", \"to\": @}]",
            "\"nodes\": [{\"name\": \"fetch\"}], \"edges\": [{\"from\": \"fetch\", \"to\": \"fetch\", \"action\": @}]",
            "\"nodes\": [{\"name\": \"fetch\"}], \"edges\": [@]",
        };
        for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
            char *member = flood(items[i], values[v], 1, "");
            snprintf(text, sizeof text, "{\"project_id\": \"" P_ID "\", \"name\": \"n\", %s}", member);
            free(member);
            compare_shaped(&t, text, strlen(text), text);
        }
    }
    assert_agreed(&t, 1000);
}

/* Values in the tree, containers and scalars, the top one included. */
static size_t tree_values(struct json_object *o)
{
    size_t n = 1;
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, v) {
            (void)k;
            n += tree_values(v);
        }
    } else if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++)
            n += tree_values(json_object_array_get_idx(o, i));
    }
    return n;
}

Test(json_tree, a_megabyte_of_empty_objects_builds_a_handful_of_values)
{
    static const struct {
        const char *body;
        const char *path; /* what the checks then answer */
    } cases[] = {
        {"{\"project_id\": \"" P_ID "\", \"name\": \"w\", \"junk\": [@]}", "junk"},
        {"{\"project_id\": \"" P_ID "\", \"name\": [@]}", "name"},
        {"{\"project_id\": \"" P_ID "\", \"name\": \"w\", \"description\": {\"a\": [@]}}", "description"},
        {"{\"project_id\": \"" P_ID "\", \"name\": \"w\", \"nodes\": [{\"name\": \"a\", \"type\": [@]}]}",
         "nodes[0].type"},
        {"{\"project_id\": \"" P_ID "\", \"name\": \"w\", \"nodes\": [{\"name\": \"a\", \"x\": [@]}]}", "nodes[0].x"},
        {"{\"project_id\": \"" P_ID "\", \"name\": \"w\", \"nodes\": [{\"name\": \"a\"}], \"edges\": [[@]]}",
         "edges[0]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = flood(cases[i].body, "{}", 350000, ",");
        const char *why = NULL;
        struct json_object *o = json_parse_shaped(text, strlen(text), 64, &workflow_body_shape, &why);
        cr_assert_not_null(o, "%s", why);
        cr_assert_leq(tree_values(o), 12, "case %zu: %zu values", i, tree_values(o));
        struct verdict v = check_workflow(o);
        cr_assert_eq(v.rc, -1);
        cr_assert_str_eq(v.path, cases[i].path, "%s", v.msg);
        json_object_put(o);
        free(text);
    }
}

Test(json_tree, items_beyond_the_limit_are_not_built_and_still_refused)
{
    char *text = flood("{\"project_id\": \"" P_ID "\", \"name\": \"w\", \"nodes\": [@]}", "{}", 300000, ",");
    const char *why = NULL;
    struct json_object *o = json_parse_shaped(text, strlen(text), 64, &workflow_body_shape, &why);
    cr_assert_not_null(o, "%s", why);
    struct json_object *nodes = json_object_object_get(o, "nodes");
    cr_assert_eq(json_object_array_length(nodes), WORKFLOW_NODES_MAX + 1);
    struct verdict v = check_workflow(o);
    cr_assert_str_eq(v.msg, "nodes has more than 1000 nodes");
    json_object_put(o);
    free(text);
    /* A syntax error after them is still found. */
    text = flood("{\"project_id\": \"" P_ID "\", \"name\": \"w\", \"edges\": [@, {]}", "{}", 20000, ",");
    cr_assert_null(json_parse_shaped(text, strlen(text), 64, &workflow_body_shape, &why));
    cr_assert_str_eq(why, "quoted object property name expected");
    free(text);
}

Test(json_tree, only_the_first_unknown_member_is_kept)
{
    /* Thousands of distinct unknown members: one is kept, the first. */
    size_t n = 50000;
    char *big = malloc(n * 16 + 64), *p = big;
    cr_assert_not_null(big);
    p += sprintf(p, "{\"name\": \"w\"");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, ", \"k%zu\": [{}]", i);
    strcpy(p, "}");
    static const char *const keys[] = {"name", NULL};
    static const struct json_shape flat = JSON_FLAT_SHAPE(keys);
    const char *why = NULL;
    struct json_object *o = json_parse_shaped(big, strlen(big), 64, &flat, &why);
    cr_assert_not_null(o, "%s", why);
    cr_assert_eq(json_object_object_length(o), 2);
    struct json_object *k0;
    cr_assert(json_object_object_get_ex(o, "k0", &k0));
    cr_assert(json_object_is_type(k0, json_type_array) && json_object_array_length(k0) == 0,
              "a container stands in empty");
    json_object_put(o);
    free(big);
}

Test(json_tree, a_number_beyond_a_double_refuses_the_body_wherever_it_stands)
{
    static const char *const keys[] = {"name", NULL};
    static const struct json_shape flat = JSON_FLAT_SHAPE(keys);
    char zeros[400];
    memset(zeros, '0', sizeof zeros - 1);
    zeros[sizeof zeros - 1] = '\0';
    char text[600];
    static const char *const where[] = {"{\"name\": 1@}", "{\"name\": [1@]}", "{\"x\": 1, \"y\": {\"z\": 1@}}",
                                        "[1@]"};
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        const char *why = NULL;
        char *t = flood(where[i], zeros, 1, "");
        cr_assert_null(json_parse_shaped(t, strlen(t), 64, &flat, &why));
        cr_assert_eq(why, JSON_WHY_RANGE, "%s", where[i]);
        free(t);
        t = flood(where[i], "e309", 1, "");
        cr_assert_null(json_parse_shaped(t, strlen(t), 64, &flat, &why));
        cr_assert_eq(why, JSON_WHY_RANGE, "%s", where[i]);
        free(t);
        t = flood(where[i], "e308", 1, "");
        struct json_object *o = json_parse_shaped(t, strlen(t), 64, &flat, &why);
        cr_assert_not_null(o, "%s: %s", where[i], why);
        json_object_put(o);
        free(t);
    }
    /* Bad JSON is said first. */
    const char *why = NULL;
    snprintf(text, sizeof text, "{\"name\": 1e999, \"x\": tru}");
    cr_assert_null(json_parse_shaped(text, strlen(text), 64, &flat, &why));
    cr_assert_str_eq(why, "unexpected word (only true, false and null are literals)");
}
