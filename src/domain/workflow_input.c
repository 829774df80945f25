/* Checking a workflow create body and the workflow list's query parameters
 * (see workflow_input.h). Pure: the checks read the json-c tree and the
 * query strings and write only to the caller's structs and buffers; no
 * I/O, no database. They stop at the first bad field and name it by path,
 * so a client can fix it; the SQL that runs on what passes is in
 * workflows.c. */
#include "domain/workflow_input.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/buf.h"
#include "db/pg_json.h"
#include "util/text.h"
#include "util/timestamp.h"

/* The members of the body, of a node and of an edge. */
static const char *const body_keys[] = {"project_id", "name", "description", "nodes", "edges", NULL};
static const char *const node_keys[] = {"name", "type", NULL};
static const char *const edge_keys[] = {"from", "to", "action", NULL};

static const struct json_shape node_shape = JSON_FLAT_SHAPE(node_keys);
static const struct json_shape edge_shape = JSON_FLAT_SHAPE(edge_keys);
static const struct json_shape nodes_shape = {JSHAPE_ARRAY, NULL, NULL, &node_shape, WORKFLOW_NODES_MAX};
static const struct json_shape edges_shape = {JSHAPE_ARRAY, NULL, NULL, &edge_shape, WORKFLOW_EDGES_MAX};
static const struct json_shape *const body_shapes[] = {NULL, NULL, NULL, &nodes_shape, &edges_shape};
const struct json_shape workflow_body_shape = {JSHAPE_OBJECT, body_keys, body_shapes, NULL, 0};

/* Where a check reports the first bad field. */
struct problem {
    char *path;
    size_t pathlen;
    char *msg;
    size_t msglen;
};

/* Records the bad field's path (printf-style) and the message "PATH WHAT".
 * Returns -1 so checks can `return bad(...)`. */
static int bad(struct problem *pr, const char *what, const char *pathfmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(struct problem *pr, const char *what, const char *pathfmt, ...)
{
    va_list ap;
    va_start(ap, pathfmt);
    vsnprintf(pr->path, pr->pathlen, pathfmt, ap);
    va_end(ap);
    if (pr->path[0])
        snprintf(pr->msg, pr->msglen, "%s %s", pr->path, what);
    else
        snprintf(pr->msg, pr->msglen, "%s", what);
    return -1;
}

/* The messages below spell the limits out. */
_Static_assert(WORKFLOW_NAME_MAX == 200 && WORKFLOW_LABEL_MAX == 200 && WORKFLOW_DESCRIPTION_MAX == 10000 &&
                   WORKFLOW_NODES_MAX == 1000 && WORKFLOW_EDGES_MAX == 10000 && WORKFLOW_LIST_MAX == 200,
               "update the messages that name the limits");

enum text_rule {
    TEXT_LABEL, /* 1..max bytes, no control or format characters: names, type, action */
    TEXT_PROSE, /* 0..max bytes, no NUL: the description */
};

/* Why v is not an acceptable string (static text), or NULL when it is;
 * then *s / *len are borrowed from v. */
static const char *string_problem(struct json_object *v, enum text_rule rule, size_t max, const char **s,
                                  size_t *len)
{
    if (!json_object_is_type(v, json_type_string))
        return "must be a string";
    *s = json_object_get_string(v);
    *len = (size_t)json_object_get_string_len(v);
    if (rule == TEXT_LABEL && *len == 0)
        return "must not be empty";
    if (*len > max)
        return rule == TEXT_PROSE ? "is longer than 10000 bytes" : "is longer than 200 bytes";
    if (strlen(*s) != *len)
        return "must not contain NUL characters";
    if (rule == TEXT_LABEL) {
        enum name_char c = name_text_class(*s, *len);
        if (c != NAME_CHAR_OK)
            return name_char_rule(c);
    }
    return NULL;
}

/* obj[key] when present and not null, else NULL. Borrowed. */
static struct json_object *member(struct json_object *obj, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
        return NULL;
    return v;
}

/* Refuses members of obj not in allowed; prefix ("" or "nodes[3].") goes
 * before the unknown member's name in the path. */
static int only_keys(struct problem *pr, struct json_object *obj, const char *const *allowed,
                     const char *prefix)
{
    const char *key = json_unknown_key(obj, allowed);
    if (key) {
        char clean[128];
        sanitize_text(clean, sizeof clean, key);
        return bad(pr, "is not a known field", "%s%s", prefix, clean);
    }
    return 0;
}

/* Checks the nodes array; names gets each name mapped to its index (the
 * lookup table for duplicates and edge ends). */
static int check_nodes(struct problem *pr, struct json_object *nodes, struct json_object *names)
{
    size_t n = json_object_array_length(nodes);

    if (n > WORKFLOW_NODES_MAX)
        return bad(pr, "has more than 1000 nodes", "nodes");
    for (size_t i = 0; i < n; i++) {
        struct json_object *node = json_object_array_get_idx(nodes, i), *v, *seen;
        const char *s, *why;
        size_t len;
        char prefix[32];

        if (!json_object_is_type(node, json_type_object))
            return bad(pr, "must be an object", "nodes[%zu]", i);
        snprintf(prefix, sizeof prefix, "nodes[%zu].", i);
        if (only_keys(pr, node, node_keys, prefix) < 0)
            return -1;
        if (!(v = member(node, "name")))
            return bad(pr, "is required", "nodes[%zu].name", i);
        if ((why = string_problem(v, TEXT_LABEL, WORKFLOW_NAME_MAX, &s, &len)))
            return bad(pr, why, "nodes[%zu].name", i);
        if (json_object_object_get_ex(names, s, &seen)) {
            char what[64];
            snprintf(what, sizeof what, "repeats the name of nodes[%lld]",
                     (long long)json_object_get_int64(seen));
            return bad(pr, what, "nodes[%zu].name", i);
        }
        json_object_object_add(names, s, json_must(json_object_new_int64((int64_t)i)));
        if ((v = member(node, "type")) && (why = string_problem(v, TEXT_LABEL, WORKFLOW_LABEL_MAX, &s, &len)))
            return bad(pr, why, "nodes[%zu].type", i);
    }
    return 0;
}

/* Checks the edges array against the node names. */
static int check_edges(struct problem *pr, struct json_object *edges, struct json_object *names)
{
    static const char *const ends[] = {"from", "to"};
    size_t n = json_object_array_length(edges);

    if (n > WORKFLOW_EDGES_MAX)
        return bad(pr, "has more than 10000 edges", "edges");
    for (size_t i = 0; i < n; i++) {
        struct json_object *edge = json_object_array_get_idx(edges, i), *v;
        const char *s, *why;
        size_t len;
        char prefix[32];

        if (!json_object_is_type(edge, json_type_object))
            return bad(pr, "must be an object", "edges[%zu]", i);
        snprintf(prefix, sizeof prefix, "edges[%zu].", i);
        if (only_keys(pr, edge, edge_keys, prefix) < 0)
            return -1;
        for (size_t k = 0; k < 2; k++) {
            if (!(v = member(edge, ends[k])))
                return bad(pr, "is required", "edges[%zu].%s", i, ends[k]);
            if ((why = string_problem(v, TEXT_LABEL, WORKFLOW_NAME_MAX, &s, &len)))
                return bad(pr, why, "edges[%zu].%s", i, ends[k]);
            if (!json_object_object_get_ex(names, s, NULL))
                return bad(pr, "names no node of this workflow", "edges[%zu].%s", i, ends[k]);
        }
        if ((v = member(edge, "action")) &&
            (why = string_problem(v, TEXT_LABEL, WORKFLOW_LABEL_MAX, &s, &len)))
            return bad(pr, why, "edges[%zu].action", i);
    }
    return 0;
}

int workflow_input_parse(struct json_object *body, struct workflow_input *in, char *path, size_t pathlen,
                         char *msg, size_t msglen)
{
    struct problem pr = {path, pathlen, msg, msglen};
    struct json_object *v, *nodes, *edges, *names = NULL;
    const char *s, *why;
    size_t len;
    int rc = -1;

    memset(in, 0, sizeof *in);
    path[0] = msg[0] = '\0';
    if (!json_object_is_type(body, json_type_object))
        return bad(&pr, "the body must be a JSON object", "%s", "");
    if (only_keys(&pr, body, body_keys, "") < 0)
        return -1;

    if (!(v = member(body, "project_id")))
        return bad(&pr, "is required", "project_id");
    if (!json_object_is_type(v, json_type_string) ||
        !uuid_valid_n(json_object_get_string(v), (size_t)json_object_get_string_len(v)))
        return bad(&pr, "must be a UUID", "project_id");
    uuid_lower(json_object_get_string(v), in->project_id);

    if (!(v = member(body, "name")))
        return bad(&pr, "is required", "name");
    if ((why = string_problem(v, TEXT_LABEL, WORKFLOW_NAME_MAX, &s, &len)))
        return bad(&pr, why, "name");
    in->name = s;

    if ((v = member(body, "description"))) {
        if ((why = string_problem(v, TEXT_PROSE, WORKFLOW_DESCRIPTION_MAX, &s, &len)))
            return bad(&pr, why, "description");
        in->description = s;
    }

    nodes = member(body, "nodes");
    edges = member(body, "edges");
    if (nodes && !json_object_is_type(nodes, json_type_array))
        return bad(&pr, "must be an array", "nodes");
    names = json_must(json_object_new_object());
    if (nodes && check_nodes(&pr, nodes, names) < 0)
        goto out;
    if (edges && !json_object_is_type(edges, json_type_array)) {
        bad(&pr, "must be an array", "edges");
        goto out;
    }
    if (edges && check_edges(&pr, edges, names) < 0)
        goto out;

    /* The checked arrays themselves are what gets stored: they hold only
     * the known members, with checked values. */
    in->nodes = nodes ? json_object_get(nodes) : NULL;
    in->edges = edges ? json_object_get(edges) : NULL;
    in->n_nodes = nodes ? json_object_array_length(nodes) : 0;
    in->n_edges = edges ? json_object_array_length(edges) : 0;
    rc = 0;
out:
    json_object_put(names);
    return rc;
}

void workflow_input_free(struct workflow_input *in)
{
    json_object_put(in->nodes);
    json_object_put(in->edges);
    in->nodes = in->edges = NULL;
}

/* A limit: a strict decimal (text.h) from 1 to WORKFLOW_LIST_MAX. */
static int parse_limit(const char *s, int *out)
{
    long long v;
    if (decimal_parse(s, WORKFLOW_LIST_MAX, &v) < 0 || v < 1)
        return -1;
    *out = (int)v;
    return 0;
}

/* The project filter is the one thing that changes the list's rows. */
uint32_t workflow_list_scope(const char *project_id)
{
    return cursor_scope_add(cursor_scope_begin("workflows"), "project_id", project_id);
}

int workflow_list_params_parse(const char *project_id, const char *limit, const char *cursor,
                               struct workflow_list_params *p, char *path, size_t pathlen, char *msg,
                               size_t msglen)
{
    struct problem pr = {path, pathlen, msg, msglen};

    memset(p, 0, sizeof *p);
    path[0] = msg[0] = '\0';
    p->limit = WORKFLOW_LIST_DEFAULT;
    if (project_id) {
        if (!uuid_valid(project_id))
            return bad(&pr, "must be a UUID", "project_id");
        uuid_lower(project_id, p->project_id);
    }
    if (limit && parse_limit(limit, &p->limit) < 0)
        return bad(&pr, "must be an integer from 1 to 200", "limit");
    p->scope = workflow_list_scope(project_id ? p->project_id : NULL);
    if (cursor) {
        /* A forged position outside the API's years is a 422, not a
         * database range error. */
        if (cursor_decode(cursor, &p->after) < 0 || p->after.scope != p->scope || !uuid_valid(p->after.id) ||
            p->after.micros < TS_MIN_MICROS || p->after.micros > TS_MAX_MICROS)
            return bad(&pr, CURSOR_MISMATCH, "cursor");
        char id[UUID_STR_LEN + 1];
        uuid_lower(p->after.id, id);
        snprintf(p->after.id, sizeof p->after.id, "%s", id);
        p->has_cursor = true;
    }
    return 0;
}
