/* libFuzzer harness: json_tree.c, the parser of the tenancy and workflow
 * bodies. Without a shape it must build what json-c in strict mode built
 * (tests/reference/: the lexical pre-check and json-c), with the same
 * reason for what is not JSON, but for numbers beyond a double, which it
 * refuses; with the workflow body's shape, the workflow checks must answer
 * on its tree exactly as on the whole one. Any disagreement aborts, with
 * what differed. Under small limits (depth 8) too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/reference/reference.h"
#include "fuzz_common.h"
#include "json_in.h"
#include "workflow_input.h"

static char *printed(struct json_object *o)
{
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    char *copy = strdup(s ? s : "(null)");
    if (!copy)
        abort();
    return copy;
}

static void disagree(const char *what, const char *before, const char *now, const char *text, size_t len)
{
    fprintf(stderr, "json_tree: %s: before \"%.300s\", now \"%.300s\"\nbody: %.*s\n", what, before, now,
            (int)(len < 400 ? len : 400), text);
    abort();
}

static void against_json_c(const char *text, size_t len, int depth)
{
    const char *nwhy = NULL, *owhy = NULL;
    struct json_object *n = json_parse_strict(text, len, depth, &nwhy);
    struct json_object *o = ref_json_parse_strict(text, len, depth, &owhy);
    char *ns = printed(n), *os = printed(o);
    if (!(nwhy == JSON_WHY_RANGE && o)) {
        if ((n == NULL) != (o == NULL) || strcmp(ns, os) != 0)
            disagree("tree", os, ns, text, len);
        if ((nwhy == NULL) != (owhy == NULL) || (nwhy && strcmp(nwhy, owhy) != 0))
            disagree("reason", owhy ? owhy : "-", nwhy ? nwhy : "-", text, len);
    }
    free(ns);
    free(os);
    json_object_put(n);
    json_object_put(o);
}

static void shaped_like_whole(const char *text, size_t len, int depth)
{
    const char *fwhy = NULL, *swhy = NULL;
    struct json_object *full = json_parse_strict(text, len, depth, &fwhy);
    struct json_object *shaped = json_parse_shaped(text, len, depth, &workflow_body_shape, &swhy);
    if ((full == NULL) != (shaped == NULL) || fwhy != swhy)
        disagree("shaped verdict", fwhy ? fwhy : "tree", swhy ? swhy : "tree", text, len);
    if (full) {
        struct workflow_input a, b;
        char pa[160], ma[256], pb[160], mb[256];
        int ra = workflow_input_parse(full, &a, pa, sizeof pa, ma, sizeof ma);
        int rb = workflow_input_parse(shaped, &b, pb, sizeof pb, mb, sizeof mb);
        if (ra != rb || (ra < 0 && (strcmp(pa, pb) != 0 || strcmp(ma, mb) != 0)))
            disagree("workflow checks", ra ? ma : "valid", rb ? mb : "valid", text, len);
        if (ra == 0) {
            char *x = printed(a.nodes), *y = printed(b.nodes);
            if (strcmp(x, y) != 0)
                disagree("stored nodes", x, y, text, len);
            free(x);
            free(y);
            x = printed(a.edges);
            y = printed(b.edges);
            if (strcmp(x, y) != 0)
                disagree("stored edges", x, y, text, len);
            free(x);
            free(y);
            workflow_input_free(&a);
            workflow_input_free(&b);
        }
    }
    json_object_put(full);
    json_object_put(shaped);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);
    against_json_c(text, size, 64);
    against_json_c(text, size, 8);
    shaped_like_whole(text, size, 64);
    free(text);
    return 0;
}
