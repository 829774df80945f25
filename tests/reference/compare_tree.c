/* REFERENCE ONLY: holds json_tree.c, the parser of the tenancy and
 * workflow bodies, to the former json-c parser (old_json_in.c) on one
 * text, and its shaped trees to whole ones under the workflow checks
 * (compare.h says what must agree). For tests/unit/test_json_tree.c and
 * fuzz/fuzz_json_tree.c. */
#include "compare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "http/json_body.h"
#include "reference.h"
#include "domain/workflow_input.h"

/* o printed plainly, in a new string ("(null)" for NULL). */
static char *printed(struct json_object *o)
{
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    char *copy = strdup(s ? s : "(null)");
    if (!copy)
        abort();
    return copy;
}

static int differ(char *report, size_t cap, const char *what, const char *old, const char *now)
{
    snprintf(report, cap, "%s: before \"%.300s\", now \"%.300s\"", what, old ? old : "-", now ? now : "-");
    return -1;
}

int ref_compare_tree(const char *text, size_t len, int max_depth, char *report, size_t cap)
{
    const char *nwhy = NULL, *owhy = NULL;
    struct json_object *n = json_parse_strict(text, len, max_depth, &nwhy);
    struct json_object *o = ref_json_parse_strict(text, len, max_depth, &owhy);
    char *ns = printed(n), *os = printed(o);
    int rc = 0;
    report[0] = '\0';
    if (nwhy == JSON_WHY_RANGE && o)
        rc = 0; /* json-c read it as inf, 0 or a clamped integer */
    else if ((n == NULL) != (o == NULL) || strcmp(ns, os) != 0)
        rc = differ(report, cap, "tree", os, ns);
    else if ((nwhy == NULL) != (owhy == NULL) || (nwhy && strcmp(nwhy, owhy) != 0))
        rc = differ(report, cap, "reason", owhy, nwhy);
    free(ns);
    free(os);
    json_object_put(n);
    json_object_put(o);
    return rc;
}

/* What the workflow checks make of body: "valid NODES EDGES" or the
 * refusal's "PATH: MESSAGE", in a new string. */
static char *workflow_verdict(struct json_object *body)
{
    struct workflow_input in;
    char path[160], msg[256], *out;
    if (workflow_input_parse(body, &in, path, sizeof path, msg, sizeof msg) < 0) {
        if (asprintf(&out, "%s: %s", path, msg) < 0)
            abort();
        return out;
    }
    char *nodes = printed(in.nodes), *edges = printed(in.edges);
    if (asprintf(&out, "valid %s %s", nodes, edges) < 0)
        abort();
    free(nodes);
    free(edges);
    workflow_input_free(&in);
    return out;
}

int ref_compare_shaped(const char *text, size_t len, int max_depth, char *report, size_t cap)
{
    const char *fwhy = NULL, *swhy = NULL;
    struct json_object *full = json_parse_strict(text, len, max_depth, &fwhy);
    struct json_object *shaped = json_parse_shaped(text, len, max_depth, &workflow_body_shape, &swhy);
    int rc = 0;
    report[0] = '\0';
    if ((full == NULL) != (shaped == NULL) || fwhy != swhy) {
        rc = differ(report, cap, "parse", fwhy ? fwhy : "a tree", swhy ? swhy : "a tree");
    } else if (full) {
        char *a = workflow_verdict(full), *b = workflow_verdict(shaped);
        if (strcmp(a, b) != 0)
            rc = differ(report, cap, "workflow checks", a, b);
        free(a);
        free(b);
    }
    json_object_put(full);
    json_object_put(shaped);
    return rc;
}
