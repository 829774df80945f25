/* Unit tests for workflow_input.c. A valid create body (every field
 * filled) is altered one field at a time: each alteration must be refused
 * with -1, the exact path of the field and the message "PATH RULE", or,
 * for the acceptable ones, still pass. Then what a passing body leaves in
 * struct workflow_input (and who owns it), which bad field comes first,
 * the length and count limits at and just past their edges, and the list's
 * query parameters (project_id, limit, cursor). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"
#include "domain/workflow_input.h"

#define P_ID "5b0e7c2a-1d3f-4e6a-9b8c-7d6e5f4a3b2c"
#define P_ID_UPPER "5B0E7C2A-1D3F-4E6A-9B8C-7D6E5F4A3B2C"
#define W_ID "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"

/* Every member filled. nodes[3] ("audit") is the end of no edge, so its
 * name can change without breaking an edge. */
static const char full_body[] =
    "{\"project_id\": \"" P_ID_UPPER "\", \"name\": \"pipeline\","
    " \"description\": \"Fetches, parses and stores.\\n\\tLine two.\","
    " \"nodes\": [{\"name\": \"fetch\", \"type\": \"HttpNode\"}, {\"name\": \"parse\", \"type\": \"ParseNode\"},"
    "   {\"name\": \"store\"}, {\"name\": \"audit\", \"type\": null}],"
    " \"edges\": [{\"from\": \"fetch\", \"to\": \"parse\", \"action\": \"default\"},"
    "   {\"from\": \"parse\", \"to\": \"store\"}]}";

#define ABSENT "<absent>"

/* Parameters hold no pointers: Criterion runs each case in a re-executed
 * process, where addresses of string literals may differ (ASLR). */
struct bad_case {
    char target[48]; /* what to change in full_body: "key", "arr[i]", "arr[i].key" */
    char value[160]; /* its new JSON text, or ABSENT to remove it */
    char path[48];   /* the path the check must report */
    char rule[128];  /* the message after the path */
};
#define BAD(t, v, r) {t, v, t, r}
#define BAD_AT(t, v, p, r) {t, v, p, r}

struct good_case {
    char target[48];
    char value[160];
};

struct value_case {
    char value[64];
};

/* Parses a fixture with json-c's lenient parser (fine for test input). */
static struct json_object *parse(const char *text)
{
    enum json_tokener_error err;
    struct json_object *o = json_tokener_parse_verbose(text, &err);
    cr_assert_eq(err, json_tokener_success, "bad fixture: %s", text);
    return o;
}

/* Sets, replaces or (val NULL and absent) removes what target names in
 * root; steals val. */
static void put(struct json_object *root, const char *target, struct json_object *val, bool absent)
{
    struct json_object *cur = root;
    const char *p = target;
    for (;;) {
        char key[64];
        size_t n = strcspn(p, ".[");
        cr_assert_lt(n, sizeof key);
        memcpy(key, p, n);
        key[n] = '\0';
        p += n;
        if (*p == '\0') {
            if (absent)
                json_object_object_del(cur, key);
            else
                json_object_object_add(cur, key, val);
            return;
        }
        struct json_object *next;
        cr_assert(json_object_object_get_ex(cur, key, &next), "fixture has no %s", key);
        if (*p == '.') {
            cur = next;
            p++;
            continue;
        }
        char *end;
        size_t idx = strtoul(p + 1, &end, 10);
        cr_assert_eq(*end, ']');
        p = end + 1;
        if (*p == '\0') {
            cr_assert_lt(idx, json_object_array_length(next));
            cr_assert_eq(json_object_array_put_idx(next, idx, val), 0);
            return;
        }
        cr_assert_eq(*p, '.');
        cur = json_object_array_get_idx(next, idx);
        p++;
    }
}

static void mutate(struct json_object *root, const char *target, const char *value)
{
    bool absent = strcmp(value, ABSENT) == 0;
    put(root, target, absent ? NULL : parse(value), absent);
}

/* A JSON string of n bytes: copies of the UTF-8 sequence unit. */
static struct json_object *string_of(size_t n, const char *unit)
{
    size_t u = strlen(unit);
    cr_assert(u > 0 && n % u == 0, "%zu bytes are not whole copies of \"%s\"", n, unit);
    char *s = malloc(n + 1);
    cr_assert_not_null(s);
    for (size_t i = 0; i < n; i += u)
        memcpy(s + i, unit, u);
    s[n] = '\0';
    struct json_object *o = json_object_new_string_len(s, (int)n);
    free(s);
    return o;
}

struct result {
    int rc;
    char path[160];
    char msg[256];
    struct workflow_input in;
};

static struct result run(struct json_object *body)
{
    struct result r;
    memset(&r, 0, sizeof r);
    strcpy(r.path, "(untouched)");
    strcpy(r.msg, "(untouched)");
    r.rc = workflow_input_parse(body, &r.in, r.path, sizeof r.path, r.msg, sizeof r.msg);
    return r;
}

static void assert_passes(struct result *r, const char *what)
{
    cr_assert_eq(r->rc, 0, "%s should pass, got %s: %s", what, r->path, r->msg);
    cr_assert_str_eq(r->path, "", "%s: path cleared on success", what);
    cr_assert_str_eq(r->msg, "", "%s: message cleared on success", what);
}

/* Refused at path with the message "path rule"; nothing left to free. */
static void assert_refused(const struct result *r, const char *path, const char *rule, const char *what)
{
    char want[256];
    snprintf(want, sizeof want, "%s %s", path, rule);
    cr_assert_eq(r->rc, -1, "%s: should be refused at \"%s\"", what, path);
    cr_assert_str_eq(r->path, path, "%s: wrong path (message: %s)", what, r->msg);
    cr_assert_str_eq(r->msg, want, "%s: wrong message", what);
    cr_assert_null(r->in.nodes, "%s: a refused body holds no reference to its nodes", what);
    cr_assert_null(r->in.edges, "%s: a refused body holds no reference to its edges", what);
}

TestSuite(workflow_input);

/* ---- valid bodies ------------------------------------------------------ */

Test(workflow_input, the_full_body_passes_with_every_field_read)
{
    struct json_object *body = parse(full_body), *nodes, *edges;
    struct result r = run(body);
    assert_passes(&r, "the full body");
    cr_assert_str_eq(r.in.project_id, P_ID, "project_id is lowercased");
    cr_assert_str_eq(r.in.name, "pipeline");
    cr_assert_str_eq(r.in.description, "Fetches, parses and stores.\n\tLine two.");
    cr_assert_eq(r.in.n_nodes, 4);
    cr_assert_eq(r.in.n_edges, 2);
    cr_assert(json_object_object_get_ex(body, "nodes", &nodes));
    cr_assert(json_object_object_get_ex(body, "edges", &edges));
    cr_assert_eq(r.in.nodes, nodes, "the checked array itself is what gets stored");
    cr_assert_eq(r.in.edges, edges);
    workflow_input_free(&r.in);
    json_object_put(body);
}

Test(workflow_input, the_name_and_description_are_borrowed_from_the_body)
{
    struct json_object *body = parse(full_body), *v;
    struct result r = run(body);
    assert_passes(&r, "the full body");
    cr_assert(json_object_object_get_ex(body, "name", &v));
    cr_assert_eq(r.in.name, json_object_get_string(v));
    cr_assert(json_object_object_get_ex(body, "description", &v));
    cr_assert_eq(r.in.description, json_object_get_string(v));
    workflow_input_free(&r.in);
    json_object_put(body);
}

Test(workflow_input, the_arrays_outlive_the_body_until_freed)
{
    struct json_object *body = parse(full_body);
    struct result r = run(body);
    assert_passes(&r, "the full body");
    json_object_put(body);
    /* Still owned by the input: valgrind would see a use after free. */
    cr_assert_eq(json_object_array_length(r.in.nodes), 4);
    cr_assert_str_eq(json_object_get_string(json_object_object_get(json_object_array_get_idx(r.in.edges, 1), "to")),
                     "store");
    workflow_input_free(&r.in);
    cr_assert_null(r.in.nodes);
    cr_assert_null(r.in.edges);
}

Test(workflow_input, freeing_twice_or_a_zeroed_input_is_safe)
{
    struct workflow_input zero;
    memset(&zero, 0, sizeof zero);
    workflow_input_free(&zero);

    struct json_object *body = parse(full_body);
    struct result r = run(body);
    assert_passes(&r, "the full body");
    workflow_input_free(&r.in);
    workflow_input_free(&r.in);
    json_object_put(body);
}

Test(workflow_input, the_smallest_body_passes_with_no_graph)
{
    struct json_object *body = parse("{\"project_id\": \"" P_ID "\", \"name\": \"x\"}");
    struct result r = run(body);
    assert_passes(&r, "project_id and name only");
    cr_assert_str_eq(r.in.project_id, P_ID);
    cr_assert_str_eq(r.in.name, "x");
    cr_assert_null(r.in.description);
    cr_assert_null(r.in.nodes);
    cr_assert_null(r.in.edges);
    cr_assert_eq(r.in.n_nodes, 0);
    cr_assert_eq(r.in.n_edges, 0);
    workflow_input_free(&r.in);
    json_object_put(body);
}

Test(workflow_input, null_optional_members_count_as_absent)
{
    struct json_object *body = parse("{\"project_id\": \"" P_ID "\", \"name\": \"x\", \"description\": null,"
                                     " \"nodes\": null, \"edges\": null}");
    struct result r = run(body);
    assert_passes(&r, "null description, nodes and edges");
    cr_assert_null(r.in.description);
    cr_assert_null(r.in.nodes);
    cr_assert_null(r.in.edges);
    workflow_input_free(&r.in);
    json_object_put(body);
}

Test(workflow_input, empty_arrays_are_kept_with_no_items)
{
    struct json_object *body = parse("{\"project_id\": \"" P_ID "\", \"name\": \"x\", \"nodes\": [], \"edges\": []}");
    struct result r = run(body);
    assert_passes(&r, "empty nodes and edges");
    cr_assert_not_null(r.in.nodes);
    cr_assert_not_null(r.in.edges);
    cr_assert_eq(r.in.n_nodes, 0);
    cr_assert_eq(r.in.n_edges, 0);
    workflow_input_free(&r.in);
    json_object_put(body);
}

ParameterizedTestParameters(workflow_input, acceptable_variations_pass)
{
    static struct good_case cases[] = {
        /* optional members: null or absent */
        {"description", "null"}, {"description", ABSENT}, {"nodes[0].type", "null"},
        {"nodes[0].type", ABSENT}, {"edges[0].action", "null"}, {"edges[0].action", ABSENT},
        /* the description is prose: empty, line breaks, tabs, other controls */
        {"description", "\"\""}, {"description", "\"a\\r\\nb\\tc\""}, {"description", "\"bell \\u0007\""},
        /* ...and format characters: it is free text, not a name */
        {"description", "\"\\u202egnp.exe \\u200b \\u0085\""},
        /* any UTF-8 in labels */
        {"name", "\"caf\\u00e9 \\u51e6\\u7406 \\ud83d\\ude00\""}, {"nodes[3].name", "\"n\\u00f6de\""},
        {"nodes[0].type", "\"T\\u00ffpe\""}, {"edges[0].action", "\"\\u00e9\""},
        /* next to the refused ones: NBSP, the non-breaking hyphen, U+2065 (unassigned) */
        {"name", "\"a\\u00a0b\\u2011c\\u2065\""},
        /* spaces and punctuation are not control characters */
        {"name", "\" leading and trailing \""}, {"nodes[3].name", "\"a.b/c:d-e_f\""},
        /* names are compared byte for byte: case makes another name */
        {"nodes[3].name", "\"FETCH\""},
        /* edges: a loop, a repeated edge, the same pair with another action */
        {"edges[1]", "{\"from\": \"store\", \"to\": \"store\"}"},
        {"edges[1]", "{\"from\": \"fetch\", \"to\": \"parse\", \"action\": \"default\"}"},
        {"edges[1]", "{\"from\": \"fetch\", \"to\": \"parse\", \"action\": \"retry\"}"},
        /* an edge may end at a node listed after it in nodes */
        {"edges[0]", "{\"from\": \"audit\", \"to\": \"fetch\"}"},
        /* UUIDs in either case */
        {"project_id", "\"" P_ID "\""},
        {"project_id", "\"5B0e7C2a-1D3f-4E6a-9B8c-7D6e5F4a3B2c\""},
        /* a graph with nodes only */
        {"edges", ABSENT}, {"edges", "[]"},
    };
    return cr_make_param_array(struct good_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct good_case *tc, workflow_input, acceptable_variations_pass)
{
    struct json_object *body = parse(full_body);
    mutate(body, tc->target, tc->value);
    struct result r = run(body);
    char what[256];
    snprintf(what, sizeof what, "%s = %s", tc->target, tc->value);
    assert_passes(&r, what);
    workflow_input_free(&r.in);
    json_object_put(body);
}

/* ---- the body ---------------------------------------------------------- */

ParameterizedTestParameters(workflow_input, a_body_that_is_not_an_object_is_refused_at_the_empty_path)
{
    static struct good_case cases[] = {
        {"", "[]"}, {"", "[{}]"}, {"", "\"text\""}, {"", "42"}, {"", "1.5"}, {"", "true"}, {"", "null"},
    };
    return cr_make_param_array(struct good_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct good_case *tc, workflow_input, a_body_that_is_not_an_object_is_refused_at_the_empty_path)
{
    struct json_object *body = parse(tc->value); /* NULL for null */
    struct result r = run(body);
    cr_assert_eq(r.rc, -1, "%s", tc->value);
    cr_assert_str_eq(r.path, "");
    cr_assert_str_eq(r.msg, "the body must be a JSON object", "the message has no path before it");
    cr_assert_null(r.in.nodes);
    json_object_put(body);
}

/* ---- field by field ---------------------------------------------------- */

static void check_bad(const struct bad_case *tc)
{
    struct json_object *body = parse(full_body);
    mutate(body, tc->target, tc->value);
    struct result r = run(body);
    char what[256];
    snprintf(what, sizeof what, "%s = %s", tc->target, tc->value);
    assert_refused(&r, tc->path, tc->rule, what);
    workflow_input_free(&r.in);
    json_object_put(body);
}

#define NOT_A_STRING "must be a string"
#define EMPTY "must not be empty"
#define HAS_NUL "must not contain NUL characters"
#define HAS_CONTROL "must not contain control characters"
#define HAS_FORMAT                                                                                          \
    "must not contain invisible format characters (Unicode Cf, such as bidi overrides and zero-width spaces)"
#define REQUIRED "is required"
#define UNKNOWN "is not a known field"
#define NOT_A_UUID "must be a UUID"

ParameterizedTestParameters(workflow_input, every_bad_top_level_field_is_refused_at_its_path)
{
    static struct bad_case cases[] = {
        BAD("project_id", ABSENT, REQUIRED), BAD("project_id", "null", REQUIRED),
        BAD("project_id", "5", NOT_A_UUID), BAD("project_id", "true", NOT_A_UUID),
        BAD("project_id", "[]", NOT_A_UUID), BAD("project_id", "{}", NOT_A_UUID),
        BAD("project_id", "\"\"", NOT_A_UUID), BAD("project_id", "\"not-a-uuid\"", NOT_A_UUID),
        BAD("project_id", "\"5b0e7c2a1d3f4e6a9b8c7d6e5f4a3b2c\"", NOT_A_UUID),
        BAD("project_id", "\"{5b0e7c2a-1d3f-4e6a-9b8c-7d6e5f4a3b2c}\"", NOT_A_UUID),
        BAD("project_id", "\" 5b0e7c2a-1d3f-4e6a-9b8c-7d6e5f4a3b2c\"", NOT_A_UUID),
        BAD("project_id", "\"5b0e7c2a-1d3f-4e6a-9b8c-7d6e5f4a3b2c\\u0000\"", NOT_A_UUID),
        BAD("project_id", "\"5b0e7c2a-1d3f-4e6a-9b8c-7d6e5f4a3b2g\"", NOT_A_UUID),
        BAD("project_id", "\"5b0e7c2a-1d3f-4e6a-9b8c-7d6e5f4a3b2\"", NOT_A_UUID),

        BAD("name", ABSENT, REQUIRED), BAD("name", "null", REQUIRED), BAD("name", "5", NOT_A_STRING),
        BAD("name", "true", NOT_A_STRING), BAD("name", "[\"pipeline\"]", NOT_A_STRING),
        BAD("name", "{}", NOT_A_STRING), BAD("name", "\"\"", EMPTY), BAD("name", "\"a\\u0000b\"", HAS_NUL),
        BAD("name", "\"\\u0000\"", HAS_NUL), BAD("name", "\"a\\nb\"", HAS_CONTROL),
        BAD("name", "\"a\\tb\"", HAS_CONTROL), BAD("name", "\"\\r\"", HAS_CONTROL),
        BAD("name", "\"a\\u0001\"", HAS_CONTROL), BAD("name", "\"a\\u001f\"", HAS_CONTROL),
        BAD("name", "\"a\\u007f\"", HAS_CONTROL), BAD("name", "\"a\\u0085\"", HAS_CONTROL),
        BAD("name", "\"\\u0080\"", HAS_CONTROL), BAD("name", "\"a\\u009f\"", HAS_CONTROL),
        BAD("name", "\"\\u202egnp.exe\"", HAS_FORMAT), BAD("name", "\"pipe\\u200bline\"", HAS_FORMAT),
        BAD("name", "\"\\ufeffpipeline\"", HAS_FORMAT), BAD("name", "\"a\\u00ad\"", HAS_FORMAT),
        BAD("name", "\"a\\u2066b\\u2069\"", HAS_FORMAT), BAD("name", "\"a\\udb40\\udc01\"", HAS_FORMAT),

        BAD("description", "5", NOT_A_STRING), BAD("description", "false", NOT_A_STRING),
        BAD("description", "[]", NOT_A_STRING), BAD("description", "{\"text\": \"x\"}", NOT_A_STRING),
        BAD("description", "\"a\\u0000b\"", HAS_NUL),

        BAD("nodes", "{}", "must be an array"), BAD("nodes", "\"[]\"", "must be an array"),
        BAD("nodes", "5", "must be an array"), BAD("nodes", "true", "must be an array"),
        BAD("edges", "{}", "must be an array"), BAD("edges", "\"x\"", "must be an array"),
        BAD("edges", "0", "must be an array"),

        BAD("extra", "1", UNKNOWN), BAD("extra", "null", UNKNOWN), BAD("Name", "\"x\"", UNKNOWN),
        BAD("id", "\"" W_ID "\"", UNKNOWN), BAD("organization_id", "\"" W_ID "\"", UNKNOWN),
        BAD("node", "[]", UNKNOWN),
    };
    return cr_make_param_array(struct bad_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_case *tc, workflow_input, every_bad_top_level_field_is_refused_at_its_path)
{
    check_bad(tc);
}

ParameterizedTestParameters(workflow_input, every_bad_node_is_refused_at_its_path)
{
    static struct bad_case cases[] = {
        BAD("nodes[1]", "5", "must be an object"), BAD("nodes[1]", "\"parse\"", "must be an object"),
        BAD("nodes[1]", "[]", "must be an object"), BAD("nodes[1]", "null", "must be an object"),
        BAD("nodes[1]", "true", "must be an object"),

        BAD("nodes[3].name", ABSENT, REQUIRED), BAD("nodes[3].name", "null", REQUIRED),
        BAD("nodes[3].name", "5", NOT_A_STRING), BAD("nodes[3].name", "[\"audit\"]", NOT_A_STRING),
        BAD("nodes[3].name", "\"\"", EMPTY), BAD("nodes[3].name", "\"a\\u0000\"", HAS_NUL),
        BAD("nodes[3].name", "\"a\\nb\"", HAS_CONTROL), BAD("nodes[3].name", "\"\\u007f\"", HAS_CONTROL),
        BAD("nodes[3].name", "\"a\\u0085\"", HAS_CONTROL), BAD("nodes[3].name", "\"\\u202eaudit\"", HAS_FORMAT),
        BAD("nodes[3].name", "\"au\\u200ddit\"", HAS_FORMAT),

        BAD("nodes[0].type", "5", NOT_A_STRING), BAD("nodes[0].type", "{}", NOT_A_STRING),
        BAD("nodes[0].type", "\"\"", EMPTY), BAD("nodes[0].type", "\"T\\u0000\"", HAS_NUL),
        BAD("nodes[0].type", "\"T\\t\"", HAS_CONTROL), BAD("nodes[0].type", "\"T\\u200e\"", HAS_FORMAT),

        BAD("nodes[2].extra", "1", UNKNOWN), BAD("nodes[2].id", "\"" W_ID "\"", UNKNOWN),
        BAD("nodes[2].Name", "\"store\"", UNKNOWN), BAD("nodes[2].from", "\"fetch\"", UNKNOWN),

        /* names are unique in the body; the repeat names the first */
        BAD_AT("nodes[3].name", "\"fetch\"", "nodes[3].name", "repeats the name of nodes[0]"),
        BAD_AT("nodes[3].name", "\"store\"", "nodes[3].name", "repeats the name of nodes[2]"),
        BAD_AT("nodes", "[{\"name\": \"a\"}, {\"name\": \"b\"}, {\"name\": \"a\"}, {\"name\": \"a\"}]",
               "nodes[2].name", "repeats the name of nodes[0]"),
        BAD_AT("nodes", "[{\"name\": \"a\"}, {\"name\": \"b\"}, {\"name\": \"b\"}]", "nodes[2].name",
               "repeats the name of nodes[1]"),
        BAD_AT("nodes", "[{\"name\": \"x\"}, {\"name\": \"x\"}]", "nodes[1].name", "repeats the name of nodes[0]"),
    };
    return cr_make_param_array(struct bad_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_case *tc, workflow_input, every_bad_node_is_refused_at_its_path)
{
    check_bad(tc);
}

ParameterizedTestParameters(workflow_input, every_bad_edge_is_refused_at_its_path)
{
    static struct bad_case cases[] = {
        BAD("edges[1]", "5", "must be an object"), BAD("edges[1]", "[\"parse\", \"store\"]", "must be an object"),
        BAD("edges[1]", "null", "must be an object"), BAD("edges[1]", "\"parse->store\"", "must be an object"),

        BAD("edges[0].from", ABSENT, REQUIRED), BAD("edges[0].from", "null", REQUIRED),
        BAD("edges[0].to", ABSENT, REQUIRED), BAD("edges[0].to", "null", REQUIRED),
        BAD("edges[0].from", "5", NOT_A_STRING), BAD("edges[0].to", "{\"name\": \"parse\"}", NOT_A_STRING),
        BAD("edges[0].from", "\"\"", EMPTY), BAD("edges[0].to", "\"\"", EMPTY),
        BAD("edges[0].from", "\"fetch\\u0000\"", HAS_NUL), BAD("edges[0].to", "\"par\\nse\"", HAS_CONTROL),
        BAD("edges[0].from", "\"fetch\\u200b\"", HAS_FORMAT), BAD("edges[0].to", "\"\\u2067parse\"", HAS_FORMAT),

        /* edge ends name nodes of this body, byte for byte */
        BAD("edges[0].from", "\"nowhere\"", "names no node of this workflow"),
        BAD("edges[1].to", "\"nowhere\"", "names no node of this workflow"),
        BAD("edges[0].from", "\"Fetch\"", "names no node of this workflow"),
        BAD("edges[0].to", "\"parse \"", "names no node of this workflow"),
        BAD("edges[0].from", "\"pipeline\"", "names no node of this workflow"), /* the workflow's own name */

        BAD("edges[0].action", "5", NOT_A_STRING), BAD("edges[0].action", "[]", NOT_A_STRING),
        BAD("edges[0].action", "\"\"", EMPTY), BAD("edges[0].action", "\"a\\u0000\"", HAS_NUL),
        BAD("edges[0].action", "\"a\\u001b\"", HAS_CONTROL), BAD("edges[0].action", "\"a\\u009b\"", HAS_CONTROL),
        BAD("edges[0].action", "\"\\u202edefault\"", HAS_FORMAT),

        BAD("edges[1].acton", "\"default\"", UNKNOWN), BAD("edges[1].name", "\"e\"", UNKNOWN),
        BAD("edges[1].type", "\"t\"", UNKNOWN), BAD("edges[1].id", "1", UNKNOWN),
    };
    return cr_make_param_array(struct bad_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_case *tc, workflow_input, every_bad_edge_is_refused_at_its_path)
{
    check_bad(tc);
}

Test(workflow_input, edges_without_nodes_name_no_node)
{
    struct json_object *body = parse("{\"project_id\": \"" P_ID "\", \"name\": \"x\","
                                     " \"edges\": [{\"from\": \"a\", \"to\": \"a\"}]}");
    struct result r = run(body);
    assert_refused(&r, "edges[0].from", "names no node of this workflow", "edges but no nodes");
    json_object_put(body);
}

Test(workflow_input, a_null_nodes_member_leaves_no_node_for_edges)
{
    struct json_object *body = parse(full_body);
    mutate(body, "nodes", "null");
    struct result r = run(body);
    assert_refused(&r, "edges[0].from", "names no node of this workflow", "nodes null");
    json_object_put(body);
}

/* ---- unknown members in the path --------------------------------------- */

Test(workflow_input, an_unknown_member_has_control_characters_removed_in_its_path)
{
    struct json_object *body = parse(full_body);
    json_object_object_add(body, "ab\ncd\x01", json_object_new_int(1));
    struct result r = run(body);
    assert_refused(&r, "abcd", UNKNOWN, "a key with control characters");
    json_object_put(body);
}

Test(workflow_input, an_unknown_node_member_has_control_characters_removed_in_its_path)
{
    struct json_object *body = parse(full_body), *nodes;
    cr_assert(json_object_object_get_ex(body, "nodes", &nodes));
    json_object_object_add(json_object_array_get_idx(nodes, 1), "\x1b[31mred", json_object_new_int(1));
    struct result r = run(body);
    assert_refused(&r, "nodes[1].[31mred", UNKNOWN, "a node key with an escape sequence");
    json_object_put(body);
}

/* A member name that is empty, or nothing but control characters, leaves
 * no name to show: the path is empty and the message the bare rule. */
ParameterizedTestParameters(workflow_input, an_unknown_member_with_no_printable_name_is_refused_at_the_empty_path)
{
    static struct value_case cases[] = {{""}, {"\x01"}, {"\n\t\x7f"}};
    return cr_make_param_array(struct value_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct value_case *tc, workflow_input,
                  an_unknown_member_with_no_printable_name_is_refused_at_the_empty_path)
{
    struct json_object *body = parse(full_body);
    json_object_object_add(body, tc->value, json_object_new_int(1));
    struct result r = run(body);
    cr_assert_eq(r.rc, -1);
    cr_assert_str_eq(r.path, "");
    cr_assert_str_eq(r.msg, UNKNOWN);
    json_object_put(body);
}

Test(workflow_input, a_long_unknown_member_is_cut_in_its_path)
{
    char key[301], want[128];
    memset(key, 'k', 300);
    key[300] = '\0';
    memset(want, 'k', 127);
    want[127] = '\0';
    struct json_object *body = parse(full_body);
    json_object_object_add(body, key, json_object_new_int(1));
    struct result r = run(body);
    assert_refused(&r, want, UNKNOWN, "a 300-byte key");
    json_object_put(body);
}

/* ---- lengths ----------------------------------------------------------- */

struct length_case {
    char target[48];
    size_t bytes; /* the string's length in bytes */
    char unit[8]; /* the UTF-8 sequence it repeats */
    char rule[64]; /* "" when it must pass */
};

ParameterizedTestParameters(workflow_input, strings_are_measured_in_bytes_up_to_their_limit)
{
    static struct length_case cases[] = {
        {"name", 1, "a", ""}, {"name", 200, "a", ""}, {"name", 201, "a", "is longer than 200 bytes"},
        {"name", 200, "\xc3\xa9", ""}, {"name", 202, "\xc3\xa9", "is longer than 200 bytes"},
        {"name", 200, "\xf0\x9f\x98\x80", ""}, {"name", 204, "\xf0\x9f\x98\x80", "is longer than 200 bytes"},
        {"name", 100000, "a", "is longer than 200 bytes"},
        {"description", 0, "a", ""}, {"description", 10000, "a", ""},
        {"description", 10001, "a", "is longer than 10000 bytes"},
        {"description", 10000, "\xe2\x82\xac\n", ""}, /* 2500 x 4 bytes */
        {"description", 10004, "\xe2\x82\xac\n", "is longer than 10000 bytes"},
        {"nodes[3].name", 200, "n", ""}, {"nodes[3].name", 201, "n", "is longer than 200 bytes"},
        {"nodes[0].type", 200, "t", ""}, {"nodes[0].type", 201, "t", "is longer than 200 bytes"},
        {"edges[0].action", 200, "x", ""}, {"edges[0].action", 201, "x", "is longer than 200 bytes"},
        /* an edge end's length is checked before its lookup */
        {"edges[0].from", 201, "f", "is longer than 200 bytes"},
        {"edges[1].to", 201, "t", "is longer than 200 bytes"},
    };
    return cr_make_param_array(struct length_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct length_case *tc, workflow_input, strings_are_measured_in_bytes_up_to_their_limit)
{
    struct json_object *body = parse(full_body);
    put(body, tc->target, string_of(tc->bytes, tc->unit), false);
    struct result r = run(body);
    char what[96];
    snprintf(what, sizeof what, "%s of %zu bytes", tc->target, tc->bytes);
    if (tc->rule[0])
        assert_refused(&r, tc->target, tc->rule, what);
    else
        assert_passes(&r, what);
    workflow_input_free(&r.in);
    json_object_put(body);
}

Test(workflow_input, a_node_name_of_200_bytes_can_be_an_edge_end)
{
    struct json_object *body = parse(full_body);
    put(body, "nodes[0].name", string_of(200, "z"), false);
    put(body, "edges[0].from", string_of(200, "z"), false);
    struct result r = run(body);
    assert_passes(&r, "a 200-byte node name used by an edge");
    workflow_input_free(&r.in);
    json_object_put(body);
}

/* ---- counts ------------------------------------------------------------ */

/* A body with n nodes "n0".."n<n-1>" and m edges n0 -> n1. */
static struct json_object *graph_body(size_t n, size_t m)
{
    struct json_object *body = parse("{\"project_id\": \"" P_ID "\", \"name\": \"big\"}");
    struct json_object *nodes = json_object_new_array(), *edges = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        char name[32];
        struct json_object *node = json_object_new_object();
        snprintf(name, sizeof name, "n%zu", i);
        json_object_object_add(node, "name", json_object_new_string(name));
        json_object_array_add(nodes, node);
    }
    for (size_t i = 0; i < m; i++)
        json_object_array_add(edges, parse("{\"from\": \"n0\", \"to\": \"n1\"}"));
    json_object_object_add(body, "nodes", nodes);
    json_object_object_add(body, "edges", edges);
    return body;
}

Test(workflow_input, a_thousand_nodes_and_ten_thousand_edges_pass)
{
    struct json_object *body = graph_body(WORKFLOW_NODES_MAX, WORKFLOW_EDGES_MAX);
    struct result r = run(body);
    assert_passes(&r, "1000 nodes, 10000 edges");
    cr_assert_eq(r.in.n_nodes, 1000);
    cr_assert_eq(r.in.n_edges, 10000);
    workflow_input_free(&r.in);
    json_object_put(body);
}

Test(workflow_input, more_than_a_thousand_nodes_are_refused_at_nodes)
{
    struct json_object *body = graph_body(WORKFLOW_NODES_MAX + 1, 1);
    struct result r = run(body);
    assert_refused(&r, "nodes", "has more than 1000 nodes", "1001 nodes");
    json_object_put(body);
}

Test(workflow_input, more_than_ten_thousand_edges_are_refused_at_edges)
{
    struct json_object *body = graph_body(2, WORKFLOW_EDGES_MAX + 1);
    struct result r = run(body);
    assert_refused(&r, "edges", "has more than 10000 edges", "10001 edges");
    json_object_put(body);
}

Test(workflow_input, the_count_is_checked_before_the_items)
{
    struct json_object *body = graph_body(WORKFLOW_NODES_MAX + 1, 0);
    put(body, "nodes[0]", json_object_new_int(5), false);
    struct result r = run(body);
    assert_refused(&r, "nodes", "has more than 1000 nodes", "1001 nodes, the first bad");
    json_object_put(body);

    body = graph_body(2, WORKFLOW_EDGES_MAX + 1);
    put(body, "edges[0].from", json_object_new_string("nowhere"), false);
    r = run(body);
    assert_refused(&r, "edges", "has more than 10000 edges", "10001 edges, the first bad");
    json_object_put(body);
}

Test(workflow_input, a_bad_item_far_down_is_reported_with_its_index)
{
    struct json_object *body = graph_body(WORKFLOW_NODES_MAX, 0);
    put(body, "nodes[999].name", json_object_new_string("n0"), false);
    struct result r = run(body);
    assert_refused(&r, "nodes[999].name", "repeats the name of nodes[0]", "a repeat at 999");
    json_object_put(body);

    body = graph_body(2, WORKFLOW_EDGES_MAX);
    put(body, "edges[9999].to", json_object_new_string("n2"), false);
    r = run(body);
    assert_refused(&r, "edges[9999].to", "names no node of this workflow", "an unknown end at 9999");
    json_object_put(body);
}

/* ---- which bad field comes first --------------------------------------- */

struct order_case {
    char body[240];
    char path[32];
    char why[64];
};

ParameterizedTestParameters(workflow_input, the_first_bad_field_in_check_order_is_reported)
{
    static struct order_case cases[] = {
        {"{\"name\": \"\", \"extra\": 1}", "extra", "unknown members before anything"},
        {"{\"nodes\": [{\"name\": \"a\", \"bad\": 1}], \"x\": 1}", "x", "top-level members before nodes"},
        {"{\"name\": \"\"}", "project_id", "project_id before name"},
        {"{\"project_id\": \"x\", \"name\": \"\"}", "project_id", "a bad project_id before name"},
        {"{\"project_id\": \"" P_ID "\", \"description\": 5}", "name", "name before description"},
        {"{\"project_id\": \"" P_ID "\", \"name\": \"n\", \"description\": 5, \"nodes\": 5}", "description",
         "description before nodes"},
        {"{\"project_id\": \"" P_ID "\", \"name\": \"n\", \"edges\": 5, \"nodes\": 5}", "nodes",
         "nodes before edges, whatever the member order"},
        {"{\"project_id\": \"" P_ID "\", \"name\": \"n\", \"edges\": 5, \"nodes\": [5]}", "nodes[0]",
         "nodes' items before edges"},
        {"{\"project_id\": \"" P_ID "\", \"name\": \"n\", \"nodes\": [{\"type\": \"\", \"name\": \"\"}]}",
         "nodes[0].name", "a node's name before its type"},
        {"{\"project_id\": \"" P_ID "\", \"name\": \"n\", \"nodes\": [{\"type\": \"\", \"x\": 1}]}",
         "nodes[0].x", "a node's unknown members before its name"},
        {"{\"project_id\": \"" P_ID "\", \"name\": \"n\", \"nodes\": [{\"name\": \"a\"}],"
         " \"edges\": [{\"action\": \"\", \"to\": \"z\", \"from\": \"z\"}]}",
         "edges[0].from", "from before to before action"},
        {"{\"project_id\": \"" P_ID "\", \"name\": \"n\", \"nodes\": [{\"name\": \"a\"}],"
         " \"edges\": [{\"action\": \"\", \"to\": \"z\", \"from\": \"a\"}]}",
         "edges[0].to", "to before action"},
        {"{\"project_id\": \"" P_ID "\", \"name\": \"n\", \"nodes\": [{\"name\": \"a\"}, 1, {\"name\": \"\"}]}",
         "nodes[1]", "the lowest bad item"},
    };
    return cr_make_param_array(struct order_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct order_case *tc, workflow_input, the_first_bad_field_in_check_order_is_reported)
{
    struct json_object *body = parse(tc->body);
    struct result r = run(body);
    cr_assert_eq(r.rc, -1, "%s", tc->why);
    cr_assert_str_eq(r.path, tc->path, "%s (message: %s)", tc->why, r.msg);
    cr_assert_null(r.in.nodes);
    json_object_put(body);
}

/* ---- buffers ----------------------------------------------------------- */

Test(workflow_input, small_buffers_are_cut_without_overflowing)
{
    char path[32], msg[32];
    struct workflow_input in;
    struct json_object *body = parse(full_body);
    mutate(body, "nodes[3].name", "\"fetch\"");
    memset(path, 'X', sizeof path);
    memset(msg, 'X', sizeof msg);
    cr_assert_eq(workflow_input_parse(body, &in, path, 8, msg, 16), -1);
    cr_assert_eq(strlen(path), 7, "path cut to its buffer: \"%s\"", path);
    cr_assert_eq(strlen(msg), 15, "message cut to its buffer: \"%s\"", msg);
    cr_assert_eq(strncmp(path, "nodes[3].name", 7), 0);
    for (size_t i = 8; i < sizeof path; i++)
        cr_assert_eq(path[i], 'X', "path written past its length at %zu", i);
    for (size_t i = 16; i < sizeof msg; i++)
        cr_assert_eq(msg[i], 'X', "message written past its length at %zu", i);
    json_object_put(body);
}

/* ---- the list's query parameters --------------------------------------- */

struct list_result {
    int rc;
    char path[32];
    char msg[128];
    struct workflow_list_params p;
};

/* Each of project_id, limit, cursor: its value, or ABSENT for NULL. */
static struct list_result list(const char *project_id, const char *limit, const char *cursor)
{
    struct list_result r;
    memset(&r, 0, sizeof r);
    strcpy(r.path, "(untouched)");
    strcpy(r.msg, "(untouched)");
    r.rc = workflow_list_params_parse(strcmp(project_id, ABSENT) ? project_id : NULL,
                                      strcmp(limit, ABSENT) ? limit : NULL,
                                      strcmp(cursor, ABSENT) ? cursor : NULL, &r.p, r.path, sizeof r.path,
                                      r.msg, sizeof r.msg);
    return r;
}

static void assert_list_refused(const struct list_result *r, const char *path, const char *msg, const char *what)
{
    cr_assert_eq(r->rc, -1, "%s: should be refused", what);
    cr_assert_str_eq(r->path, path, "%s: wrong path (message: %s)", what, r->msg);
    cr_assert_str_eq(r->msg, msg, "%s", what);
}

/* A cursor of the workflow list filtered by project (NULL: unfiltered). */
static void encode_for(const char *project, int64_t micros, const char *id, char out[CURSOR_TEXT_MAX + 1])
{
    struct cursor c;
    memset(&c, 0, sizeof c);
    c.scope = workflow_list_scope(project);
    c.micros = micros;
    snprintf(c.id, sizeof c.id, "%s", id);
    cursor_encode(&c, out);
}

static void encode(int64_t micros, const char *id, char out[CURSOR_TEXT_MAX + 1])
{
    encode_for(NULL, micros, id, out);
}

Test(workflow_input, no_list_parameters_mean_the_first_page_of_fifty)
{
    struct list_result r = list(ABSENT, ABSENT, ABSENT);
    cr_assert_eq(r.rc, 0);
    cr_assert_str_eq(r.path, "");
    cr_assert_str_eq(r.msg, "");
    cr_assert_str_eq(r.p.project_id, "");
    cr_assert_eq(r.p.limit, WORKFLOW_LIST_DEFAULT);
    cr_assert_eq(r.p.limit, 50);
    cr_assert_not(r.p.has_cursor);
}

Test(workflow_input, the_project_filter_is_lowercased)
{
    struct list_result r = list(P_ID_UPPER, ABSENT, ABSENT);
    cr_assert_eq(r.rc, 0, "%s", r.msg);
    cr_assert_str_eq(r.p.project_id, P_ID);
}

ParameterizedTestParameters(workflow_input, a_project_filter_that_is_not_a_uuid_is_refused)
{
    static struct value_case cases[] = {
        {""}, {"x"}, {"5b0e7c2a1d3f4e6a9b8c7d6e5f4a3b2c"}, {"5b0e7c2a-1d3f-4e6a-9b8c-7d6e5f4a3b2"},
        {"5b0e7c2a-1d3f-4e6a-9b8c-7d6e5f4a3b2c0"}, {" 5b0e7c2a-1d3f-4e6a-9b8c-7d6e5f4a3b2c"},
        {"5b0e7c2a-1d3f-4e6a-9b8c-7d6e5f4a3b2z"}, {"{5b0e7c2a-1d3f-4e6a-9b8c-7d6e5f4a3b2c}"},
    };
    return cr_make_param_array(struct value_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct value_case *tc, workflow_input, a_project_filter_that_is_not_a_uuid_is_refused)
{
    struct list_result r = list(tc->value, ABSENT, ABSENT);
    assert_list_refused(&r, "project_id", "project_id must be a UUID", tc->value);
}

struct limit_case {
    char value[32];
    int limit; /* 0: refused */
};

ParameterizedTestParameters(workflow_input, limit_is_a_plain_decimal_from_1_to_200)
{
    static struct limit_case cases[] = {
        {"1", 1}, {"2", 2}, {"50", 50}, {"199", 199}, {"200", 200},
        {"007", 7}, {"0000000000000000000000200", 200}, /* leading zeros are read, not refused */
        {"", 0}, {"0", 0}, {"00", 0}, {"201", 0}, {"1000", 0}, {"99999999999999999999999", 0},
        {"-1", 0}, {"-0", 0}, {"+1", 0}, {" 1", 0}, {"1 ", 0}, {"1.0", 0}, {"1e2", 0}, {"0x10", 0},
        {"ten", 0}, {"5a", 0}, {"\xef\xbc\x95", 0}, /* fullwidth digit five */
    };
    return cr_make_param_array(struct limit_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct limit_case *tc, workflow_input, limit_is_a_plain_decimal_from_1_to_200)
{
    struct list_result r = list(ABSENT, tc->value, ABSENT);
    if (tc->limit) {
        cr_assert_eq(r.rc, 0, "limit=%s: %s", tc->value, r.msg);
        cr_assert_eq(r.p.limit, tc->limit, "limit=%s", tc->value);
    } else {
        assert_list_refused(&r, "limit", "limit must be an integer from 1 to 200", tc->value);
    }
}

Test(workflow_input, a_cursor_from_the_list_sets_the_position)
{
    char text[CURSOR_TEXT_MAX + 1];
    encode(1732622400123456, W_ID, text);
    struct list_result r = list(ABSENT, ABSENT, text);
    cr_assert_eq(r.rc, 0, "%s", r.msg);
    cr_assert(r.p.has_cursor);
    cr_assert_eq(r.p.after.micros, 1732622400123456);
    cr_assert_str_eq(r.p.after.id, W_ID);
}

struct cursor_case {
    int64_t micros;
    char id[CURSOR_ID_MAX + 1];
    bool ok;
};

ParameterizedTestParameters(workflow_input, a_cursor_position_must_be_a_uuid_in_years_1_to_9999)
{
    static struct cursor_case cases[] = {
        {0, W_ID, true},
        {-62135596800000000LL, W_ID, true},    /* 0001-01-01T00:00:00Z */
        {253402300799999999LL, W_ID, true},    /* 9999-12-31T23:59:59.999999Z */
        {-62135596800000001LL, W_ID, false},
        {253402300800000000LL, W_ID, false},
        {INT64_MIN, W_ID, false},
        {INT64_MAX, W_ID, false},
        {0, "123", false},                      /* an item list's cursor */
        {0, "9223372036854775807", false},
        {0, "6f1c2a3b4d5e4f608a7b9c0d1e2f3a4b", false},
        {0, "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4", false},
        {0, "6F1C2A3B-4D5E-4F60-8A7B-9C0D1E2F3A4B", false}, /* the list writes lowercase only */
    };
    return cr_make_param_array(struct cursor_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct cursor_case *tc, workflow_input, a_cursor_position_must_be_a_uuid_in_years_1_to_9999)
{
    char text[CURSOR_TEXT_MAX + 1];
    encode(tc->micros, tc->id, text);
    struct list_result r = list(ABSENT, ABSENT, text);
    if (tc->ok) {
        cr_assert_eq(r.rc, 0, "%lld %s: %s", (long long)tc->micros, tc->id, r.msg);
        cr_assert(r.p.has_cursor);
        cr_assert_eq(r.p.after.micros, tc->micros);
    } else {
        assert_list_refused(&r, "cursor", "cursor is not a next_cursor of this list with these filters", tc->id);
    }
}

ParameterizedTestParameters(workflow_input, a_cursor_that_does_not_decode_is_refused)
{
    static struct value_case cases[] = {
        {""}, {"x"}, {"not a cursor"}, {"MTowOjY"}, {"MTowOjZmMWMyYTNiLTRkNWUtNGY2MC04YTdiLTljMGQxZTJmM2E0Yg=="},
        {"%00"},
    };
    return cr_make_param_array(struct value_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct value_case *tc, workflow_input, a_cursor_that_does_not_decode_is_refused)
{
    struct list_result r = list(ABSENT, ABSENT, tc->value);
    assert_list_refused(&r, "cursor", "cursor is not a next_cursor of this list with these filters", tc->value);
}

Test(workflow_input, list_parameters_are_checked_project_then_limit_then_cursor)
{
    struct list_result r = list("x", "0", "x");
    assert_list_refused(&r, "project_id", "project_id must be a UUID", "all three bad");
    r = list(P_ID, "0", "x");
    assert_list_refused(&r, "limit", "limit must be an integer from 1 to 200", "limit and cursor bad");
    r = list(P_ID, "10", "x");
    assert_list_refused(&r, "cursor", "cursor is not a next_cursor of this list with these filters", "cursor bad");
}

Test(workflow_input, a_cursor_is_refused_under_another_project_filter)
{
    char text[CURSOR_TEXT_MAX + 1];
    encode_for(P_ID, 0, W_ID, text);
    struct list_result r = list(ABSENT, ABSENT, text);
    assert_list_refused(&r, "cursor", "cursor is not a next_cursor of this list with these filters",
                        "a project's cursor on the unfiltered list");
    encode(0, W_ID, text);
    r = list(P_ID, ABSENT, text);
    assert_list_refused(&r, "cursor", "cursor is not a next_cursor of this list with these filters",
                        "the unfiltered list's cursor on a project");
    encode_for("00000000-0000-4000-8000-000000000000", 0, W_ID, text);
    r = list(P_ID, ABSENT, text);
    assert_list_refused(&r, "cursor", "cursor is not a next_cursor of this list with these filters",
                        "another project's cursor");
}

Test(workflow_input, all_list_parameters_together_are_read)
{
    char text[CURSOR_TEXT_MAX + 1];
    encode_for(P_ID, -1, W_ID, text);
    struct list_result r = list(P_ID, "10", text);
    cr_assert_eq(r.rc, 0, "%s", r.msg);
    cr_assert_str_eq(r.p.project_id, P_ID);
    cr_assert_eq(r.p.limit, 10);
    cr_assert(r.p.has_cursor);
    cr_assert_eq(r.p.after.micros, -1);
    cr_assert_str_eq(r.p.after.id, W_ID);
}
