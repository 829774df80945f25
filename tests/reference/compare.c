/* REFERENCE ONLY: holds the one-pass ingest_validate() to the verdicts of
 * the former json-c pipeline (old_json_in.c + old_validate.c) on one body.
 *
 * Without repeated keys the two must agree exactly: the verdict, the path
 * and message of a refusal (400 reasons included), and on success the
 * summary, session_id and started_at. With repeated keys in some object
 * the one-pass validator checks blobs and unknown fields in every value,
 * shadowed ones included (json-c kept only the last), so it may refuse
 * what the old one passed, or name another field first; then only this
 * holds: the same syntax verdict, and nothing valid that was not before.
 * The same holds, repeated keys or not, for a body with an integer literal
 * beyond a double (309 digits or more): json-c clamped it to 64 bits, the
 * one-pass validator refuses it as out of range. */
#include "compare.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json/json_scan.h"
#include "reference.h"

static const char *verdict_name(enum ingest_verdict v)
{
    return v == INGEST_VALID ? "valid" : v == INGEST_BAD_JSON ? "bad JSON" : "invalid";
}

/* Members of every object of the tree. */
static size_t tree_members(struct json_object *o)
{
    size_t n = 0;
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, v) {
            (void)k;
            n += 1 + tree_members(v);
        }
    } else if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++)
            n += tree_members(json_object_array_get_idx(o, i));
    }
    return n;
}

/* Members in the text (colons outside strings) of a valid JSON text. */
static size_t text_members(const char *text, size_t len)
{
    size_t n = 0;
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == ':') {
            n++;
        }
    }
    return n;
}

/* True when the value at s->p holds an integer literal of more than 308
 * digits; skips it. */
static bool huge_integer_in(struct jscan *s, int level)
{
    struct jnum n;
    struct jcont c;
    struct jstr key;
    bool huge = false;
    switch (js_peek(s)) {
    case JT_NUMBER:
        return js_number(s, &n) == 0 && !n.is_double && n.len - (n.raw[0] == '-') > 308;
    case JT_ARRAY:
    case JT_OBJECT:
        js_enter(s, &c, level);
        while (js_next(s, &c, &key) > 0)
            huge |= huge_integer_in(s, level + 1);
        return huge;
    default:
        js_skip(s, level, NULL);
        return false;
    }
}

bool ref_has_huge_integer(const char *text, size_t len)
{
    struct jscan s;
    js_init(&s, text, len, 1 << 20);
    return huge_integer_in(&s, 1);
}

long ref_each_suite_file(void (*fn)(void *ctx, const char *name, const char *text, size_t len), void *ctx)
{
    const char *dir = getenv("AGORA_JSONTESTSUITE");
    if (!dir)
        dir = "../shared/testdata/JSONTestSuite/test_parsing";
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    static char body[1 << 20];
    long files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        char file[1024];
        snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
        FILE *f = fopen(file, "rb");
        if (!f)
            continue;
        size_t len = fread(body, 1, sizeof body, f);
        fclose(f);
        files++;
        fn(ctx, e->d_name, body, len);
    }
    closedir(d);
    return files;
}

bool ref_has_repeated_keys(const char *text, size_t len, int max_depth)
{
    const char *why = NULL;
    struct json_object *o = ref_json_parse_strict(text, len, max_depth, &why);
    bool repeated = o && tree_members(o) != text_members(text, len);
    json_object_put(o);
    return repeated;
}

static int differ(char *report, size_t cap, const char *what, const char *old, const char *now)
{
    snprintf(report, cap, "%s: before \"%s\", now \"%s\"", what, old, now);
    return -1;
}

static int compare(const struct config *cfg, const char *text, size_t len, bool exact, char *report,
                   size_t cap, char *osid, char *nsid)
{
    struct ingest_summary os, ns;
    char opath[256], omsg[256], npath[256], nmsg[256], ost[128];
    memset(&os, 0, sizeof os);
    enum ingest_verdict ov = ref_ingest_verdict(cfg, text, len, &os, opath, sizeof opath, omsg, sizeof omsg, osid,
                                                len + 1, ost, sizeof ost);
    enum ingest_verdict nv = ingest_validate(cfg, text, len, &ns, npath, sizeof npath, nmsg, sizeof nmsg);
    report[0] = '\0';

    if (ov != INGEST_BAD_JSON &&
        ((!exact && ref_has_repeated_keys(text, len, cfg->max_depth)) || ref_has_huge_integer(text, len))) {
        if (nv == INGEST_BAD_JSON)
            return differ(report, cap, "weak comparison: verdict", verdict_name(ov), verdict_name(nv));
        if (nv == INGEST_VALID && ov != INGEST_VALID)
            return differ(report, cap, "weak comparison: verdict", omsg, verdict_name(nv));
        if (nv == INGEST_INVALID && !nmsg[0])
            return differ(report, cap, "weak comparison: message", omsg, nmsg);
        return 0;
    }
    if (ov != nv)
        return differ(report, cap, "verdict", ov == INGEST_VALID ? "valid" : omsg,
                      nv == INGEST_VALID ? "valid" : nmsg);
    if (nv != INGEST_VALID) {
        if (strcmp(opath, npath) != 0)
            return differ(report, cap, "path", opath, npath);
        if (strcmp(omsg, nmsg) != 0)
            return differ(report, cap, "message", omsg, nmsg);
        return 0;
    }
    if (strcmp(os.workflow_id, ns.workflow_id) != 0)
        return differ(report, cap, "workflow_id", os.workflow_id, ns.workflow_id);
    if (strcmp(os.execution_id, ns.execution_id) != 0)
        return differ(report, cap, "execution_id", os.execution_id, ns.execution_id);
    if (!os.status || !ns.status || strcmp(os.status, ns.status) != 0 || os.terminal != ns.terminal)
        return differ(report, cap, "status", os.status, ns.status);
    for (int t = 0; t < IT_COUNT; t++) {
        if (os.counts[t] != ns.counts[t]) {
            char a[32], b[32];
            snprintf(a, sizeof a, "%zu", os.counts[t]);
            snprintf(b, sizeof b, "%zu", ns.counts[t]);
            return differ(report, cap, "count", a, b);
        }
    }
    if (os.any_node_id != ns.any_node_id || os.any_node_by_name != ns.any_node_by_name)
        return differ(report, cap, "node flags", os.any_node_id ? "id" : "-", ns.any_node_id ? "id" : "-");
    if (strcmp(ost, ns.started_at) != 0)
        return differ(report, cap, "started_at", ost, ns.started_at);
    if (ns.session_id_len > len || strlen(osid) != ns.session_id_len)
        return differ(report, cap, "session_id length", osid, "?");
    ingest_session_id(text, &ns, nsid);
    if (strcmp(osid, nsid) != 0)
        return differ(report, cap, "session_id", osid, nsid);
    return 0;
}

int ref_compare(const struct config *cfg, const char *text, size_t len, bool exact, char *report, size_t cap)
{
    char *osid = malloc(len + 1), *nsid = malloc(len + 1);
    if (!osid || !nsid)
        abort();
    int rc = compare(cfg, text, len, exact, report, cap, osid, nsid);
    free(osid);
    free(nsid);
    return rc;
}

void ref_each_byte_change(const char *text, size_t len, const char *bytes, size_t nbytes,
                          void (*fn)(void *ctx, const char *what, const char *body, size_t len), void *ctx)
{
    char *body = malloc(len + 2), what[64];
    if (!body)
        abort();
    for (size_t i = 0; i <= len; i++) {
        snprintf(what, sizeof what, "cut at %zu", i);
        fn(ctx, what, text, i);
        if (i == len)
            break;
        memcpy(body, text, i);
        memcpy(body + i, text + i + 1, len - i - 1);
        snprintf(what, sizeof what, "byte %zu deleted", i);
        fn(ctx, what, body, len - 1);
        memcpy(body, text, i + 1);
        memcpy(body + i + 1, text + i, len - i);
        snprintf(what, sizeof what, "byte %zu doubled", i);
        fn(ctx, what, body, len + 1);
        memcpy(body, text, len);
        for (size_t r = 0; r < nbytes; r++) {
            if (bytes[r] == text[i])
                continue;
            body[i] = bytes[r];
            snprintf(what, sizeof what, "byte %zu = 0x%02x", i, (unsigned char)bytes[r]);
            fn(ctx, what, body, len);
        }
    }
    free(body);
}
