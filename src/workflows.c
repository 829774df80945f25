/* Workflows (see workflows.h): checking a create body and the list's query
 * parameters, and the SQL behind the workflow routes.
 *
 * Row-level security is the authority on what the caller may see and do;
 * as in tenancy.c, this file only picks the right answer when it says no.
 * Creating first reads the project and the caller's role there (an
 * invisible project is DB_NOT_FOUND, a viewer DB_FORBIDDEN); the policies
 * still decide in the end (a disagreement fails closed with 42501).
 *
 * A create costs a constant number of statements whatever the graph's
 * size: the project lookup, one statement that inserts the workflow, all
 * nodes and all edges (data-modifying CTEs; the nodes come from one jsonb
 * parameter through jsonb_to_recordset, and the edges are joined to the
 * inserted nodes by name), then the three reads of workflows_get. The jsonb
 * parameters are serialized from the json-c tree that was checked, so
 * PostgreSQL stores exactly what passed the checks.
 *
 * Every function runs inside the caller's transaction; nothing here
 * begins, commits or rolls back. JSON keys are the SQL column names
 * (aliases); integer columns become JSON numbers, the rest text or null. */
#include "workflows.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "errors.h"
#include "timestamp.h"

/* PostgreSQL type oids (pg_type.dat) of the columns turned into numbers. */
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23

/* The earliest and latest microsecond PostgreSQL's timestamptz takes in
 * this API (years 0001..9999): a forged cursor outside them is a 422, not
 * a database range error. */
#define CURSOR_MICROS_MIN (-62135596800000000LL)
#define CURSOR_MICROS_MAX 253402300799999999LL

/* json-c returns NULL only when it cannot allocate; the project's policy for
 * that is to abort (buf.h). */
static struct json_object *must(struct json_object *o)
{
    if (!o)
        agora_oom();
    return o;
}

/* ------------------------------------------------------------------ checks */

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
    TEXT_LABEL, /* 1..max bytes, no control characters: names, type, action */
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
    if (rule == TEXT_LABEL)
        for (size_t i = 0; i < *len; i++)
            if ((unsigned char)(*s)[i] < 0x20 || (*s)[i] == 0x7f)
                return "must not contain control characters";
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
    json_object_object_foreach(obj, key, val) {
        (void)val;
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (!ok) {
            char clean[128];
            sanitize_text(clean, sizeof clean, key);
            return bad(pr, "is not a known field", "%s%s", prefix, clean);
        }
    }
    return 0;
}

/* Checks the nodes array; names gets each name mapped to its index (the
 * lookup table for duplicates and edge ends). */
static int check_nodes(struct problem *pr, struct json_object *nodes, struct json_object *names)
{
    static const char *const keys[] = {"name", "type", NULL};
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
        if (only_keys(pr, node, keys, prefix) < 0)
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
        json_object_object_add(names, s, must(json_object_new_int64((int64_t)i)));
        if ((v = member(node, "type")) && (why = string_problem(v, TEXT_LABEL, WORKFLOW_LABEL_MAX, &s, &len)))
            return bad(pr, why, "nodes[%zu].type", i);
    }
    return 0;
}

/* Checks the edges array against the node names. */
static int check_edges(struct problem *pr, struct json_object *edges, struct json_object *names)
{
    static const char *const keys[] = {"from", "to", "action", NULL};
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
        if (only_keys(pr, edge, keys, prefix) < 0)
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
    static const char *const keys[] = {"project_id", "name", "description", "nodes", "edges", NULL};
    struct problem pr = {path, pathlen, msg, msglen};
    struct json_object *v, *nodes, *edges, *names = NULL;
    const char *s, *why;
    size_t len;
    int rc = -1;

    memset(in, 0, sizeof *in);
    path[0] = msg[0] = '\0';
    if (!json_object_is_type(body, json_type_object))
        return bad(&pr, "the body must be a JSON object", "%s", "");
    if (only_keys(&pr, body, keys, "") < 0)
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
    names = must(json_object_new_object());
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

/* Strict decimal: digits only, no sign, no spaces, no leading '+'. */
static int parse_limit(const char *s, int *out)
{
    long v = 0;
    if (!*s)
        return -1;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
        if (v > WORKFLOW_LIST_MAX)
            return -1;
    }
    if (v < 1)
        return -1;
    *out = (int)v;
    return 0;
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
    if (cursor) {
        if (cursor_decode(cursor, &p->after) < 0 || !uuid_valid(p->after.id) ||
            p->after.micros < CURSOR_MICROS_MIN || p->after.micros > CURSOR_MICROS_MAX)
            return bad(&pr, "is not a cursor from this list", "cursor");
        char id[UUID_STR_LEN + 1];
        uuid_lower(p->after.id, id);
        snprintf(p->after.id, sizeof p->after.id, "%s", id);
        p->has_cursor = true;
    }
    return 0;
}

/* ------------------------------------------------------------------ SQL */

/* Row row of res as an object keyed by column name; columns whose name
 * starts with '_' are left out (bookkeeping such as cursor positions).
 * SQL NULL is JSON null, integers are numbers, the rest strings. Returns a
 * new reference. */
static struct json_object *row_object(const PGresult *res, int row)
{
    struct json_object *o = must(json_object_new_object());
    int n = PQnfields(res);

    for (int c = 0; c < n; c++) {
        const char *name = PQfname(res, c);
        struct json_object *v = NULL;
        if (name[0] == '_')
            continue;
        if (!PQgetisnull(res, row, c)) {
            const char *text = PQgetvalue(res, row, c);
            Oid type = PQftype(res, c);
            if (type == OID_INT8 || type == OID_INT4 || type == OID_INT2)
                v = must(json_object_new_int64(strtoll(text, NULL, 10)));
            else
                v = must(json_object_new_string(text));
        }
        json_object_object_add(o, name, v);
    }
    return o;
}

/* Every row of res as an array. Returns a new reference. */
static struct json_object *rows_array(const PGresult *res, int limit)
{
    int n = PQntuples(res);
    if (limit >= 0 && n > limit)
        n = limit;
    struct json_object *a = must(json_object_new_array_ext(n > 0 ? n : 1));
    for (int i = 0; i < n; i++)
        json_object_array_add(a, row_object(res, i));
    return a;
}

/* Runs sql and hands back all its rows as a JSON array in *out. */
static enum db_status all_rows(struct db *db, const char *sql, int n, const char *const *params,
                               struct json_object **out)
{
    PGresult *res = NULL;
    enum db_status st = db_exec(db, sql, n, params, &res);

    if (st == DB_OK)
        *out = rows_array(res, -1);
    PQclear(res);
    return st;
}

static bool is_writer(const char *role)
{
    return strcmp(role, "owner") == 0 || strcmp(role, "admin") == 0 || strcmp(role, "member") == 0;
}

/* Decides whether the caller may create workflows in project_id. DB_OK
 * with org set to its organization; DB_NOT_FOUND when the project is
 * invisible; DB_FORBIDDEN for a viewer. A visible project is, for an API
 * key, its own (projects_select), which it may write to. */
static enum db_status require_project_writer(struct db *db, const struct identity *who,
                                             const char *project_id, char org[UUID_STR_LEN + 1])
{
    PGresult *res = NULL;
    const char *params[1] = {project_id};
    enum db_status st = db_exec(db,
                                "SELECT organization_id, agora.org_role(organization_id)"
                                " FROM agora.projects WHERE id = $1",
                                1, params, &res);

    if (st != DB_OK)
        goto out;
    if (PQntuples(res) != 1) {
        st = DB_NOT_FOUND;
        goto out;
    }
    if (who->kind == CALLER_USER) {
        if (PQgetisnull(res, 0, 1))
            st = DB_NOT_FOUND;
        else if (!is_writer(PQgetvalue(res, 0, 1)))
            st = DB_FORBIDDEN;
    } else if (who->kind != CALLER_API_KEY) {
        st = DB_NOT_FOUND;
    }
    if (st == DB_OK)
        snprintf(org, UUID_STR_LEN + 1, "%s", PQgetvalue(res, 0, 0));
out:
    PQclear(res);
    return st;
}

/* The workflow id (a visible one) with its nodes and edges. */
static enum db_status read_workflow(struct db *db, const char *id, struct json_object **out)
{
    PGresult *res = NULL;
    struct json_object *wf = NULL, *nodes = NULL, *edges = NULL;
    const char *params[1] = {id};
    enum db_status st = db_exec(db,
                                "SELECT id, organization_id, project_id, name, description,"
                                " agora.rfc3339(created_at) AS created_at"
                                " FROM agora.workflows WHERE id = $1",
                                1, params, &res);

    if (st != DB_OK)
        goto out;
    if (PQntuples(res) != 1) {
        st = DB_NOT_FOUND;
        goto out;
    }
    wf = row_object(res, 0);
    /* Nodes made together share created_at (the transaction's time), so
     * those of the create come by name, and nodes ingest added later after
     * them. */
    st = all_rows(db,
                  "SELECT id, name, type FROM agora.workflow_nodes"
                  " WHERE workflow_id = $1 ORDER BY created_at, name",
                  1, params, &nodes);
    if (st != DB_OK)
        goto out;
    st = all_rows(db,
                  "SELECT e.id, f.name AS \"from\", t.name AS \"to\", e.from_node_id, e.to_node_id, e.action"
                  " FROM agora.workflow_edges e"
                  " JOIN agora.workflow_nodes f ON f.workflow_id = e.workflow_id AND f.id = e.from_node_id"
                  " JOIN agora.workflow_nodes t ON t.workflow_id = e.workflow_id AND t.id = e.to_node_id"
                  " WHERE e.workflow_id = $1"
                  " ORDER BY e.created_at, f.name, t.name, e.action NULLS FIRST, e.id",
                  1, params, &edges);
    if (st != DB_OK)
        goto out;
    json_object_object_add(wf, "nodes", nodes);
    json_object_object_add(wf, "edges", edges);
    nodes = edges = NULL;
    *out = wf;
    wf = NULL;
out:
    PQclear(res);
    json_object_put(wf);
    json_object_put(nodes);
    json_object_put(edges);
    return st;
}

/* The whole graph in one statement. Edges join the nodes this statement
 * inserts (the CTE's RETURNING), by name; the composite foreign keys are
 * checked at the statement's end, when all rows exist. */
static const char create_sql[] =
    "WITH w AS ("
    "  INSERT INTO agora.workflows (organization_id, project_id, name, description)"
    "  VALUES ($1, $2, $3, $4)"
    "  RETURNING id, organization_id, project_id"
    "), n AS ("
    "  INSERT INTO agora.workflow_nodes (organization_id, project_id, workflow_id, name, type)"
    "  SELECT w.organization_id, w.project_id, w.id, x.name, x.type"
    "  FROM w CROSS JOIN jsonb_to_recordset($5::jsonb) AS x(name text, type text)"
    "  RETURNING id, name"
    "), e AS ("
    "  INSERT INTO agora.workflow_edges"
    "    (organization_id, project_id, workflow_id, from_node_id, to_node_id, action)"
    "  SELECT w.organization_id, w.project_id, w.id, f.id, t.id, x.action"
    "  FROM w CROSS JOIN jsonb_to_recordset($6::jsonb) AS x(\"from\" text, \"to\" text, action text)"
    "  JOIN n f ON f.name = x.\"from\""
    "  JOIN n t ON t.name = x.\"to\""
    "  RETURNING 1"
    ")"
    " SELECT w.id, (SELECT count(*) FROM n), (SELECT count(*) FROM e) FROM w";

/* The array's JSON text for a jsonb parameter ("[]" when absent). Borrowed
 * from a (valid until a changes or goes). */
static const char *json_param(struct json_object *a)
{
    const char *s;
    if (!a)
        return "[]";
    s = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!s)
        agora_oom();
    return s;
}

enum db_status workflows_create(struct db *db, const struct identity *who, const struct workflow_input *in,
                                struct json_object **out)
{
    PGresult *res = NULL;
    char org[UUID_STR_LEN + 1], id[UUID_STR_LEN + 1];
    enum db_status st;

    *out = NULL;
    st = require_project_writer(db, who, in->project_id, org);
    if (st != DB_OK)
        return st;

    /* A name already used in the project: 23505, i.e. DB_CONFLICT. */
    const char *params[6] = {org, in->project_id, in->name, in->description,
                             json_param(in->nodes), json_param(in->edges)};
    st = db_exec(db, create_sql, 6, params, &res);
    if (st != DB_OK)
        goto out;
    /* Every node and every edge must have gone in: the checks made sure
     * edge ends name nodes of the body, so a shortfall is a bug. */
    if (PQntuples(res) != 1 || strtoull(PQgetvalue(res, 0, 1), NULL, 10) != in->n_nodes ||
        strtoull(PQgetvalue(res, 0, 2), NULL, 10) != in->n_edges) {
        fprintf(stderr, "agora: workflows: create stored a different graph than it was given\n");
        st = DB_ERROR;
        goto out;
    }
    snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
    st = read_workflow(db, id, out);
    /* Just inserted: not finding it means the policies disagree with this
     * code, which is a bug, not a 404. */
    if (st == DB_NOT_FOUND)
        st = DB_ERROR;
out:
    PQclear(res);
    return st;
}

/* The columns of a list item, from alias w; _micros is the cursor's sort
 * key (exact: extract gives numeric) and stays out of the JSON. */
#define LIST_COLUMNS                                                                                \
    "w.id, w.organization_id, w.project_id, w.name, w.description,"                                \
    " agora.rfc3339(w.created_at) AS created_at,"                                                    \
    " (SELECT count(*) FROM agora.workflow_nodes n WHERE n.workflow_id = w.id) AS node_count,"      \
    " (extract(epoch FROM w.created_at) * 1000000)::bigint AS _micros"
#define NEWEST_FIRST " ORDER BY w.created_at DESC, w.id DESC LIMIT $%d::int"

enum db_status workflows_list(struct db *db, const struct identity *who, const struct workflow_list_params *p,
                              struct json_object **out)
{
    PGresult *res = NULL;
    struct buf sql;
    const char *params[4];
    char limit[16], after[TS_TEXT_LEN + 1];
    int n = 0;
    enum db_status st;

    *out = NULL;
    /* An API key sees its own project only (RLS); naming the project lets
     * the planner walk the project's index instead of filtering. */
    const char *project = p->project_id[0] ? p->project_id
                          : who->kind == CALLER_API_KEY ? who->project_id : NULL;
    /* One row more than the page tells whether another page follows. */
    snprintf(limit, sizeof limit, "%d", p->limit + 1);

    buf_init(&sql);
    if (project) {
        params[n++] = project;
        buf_printf(&sql, "SELECT " LIST_COLUMNS " FROM agora.workflows w WHERE w.project_id = $%d::uuid", n);
    } else {
        /* A user's organizations one by one (LATERAL), each walking its
         * index newest first, merged: a top-N of at most organizations x
         * (limit + 1) rows, never a sort of every visible workflow. */
        buf_puts(&sql, "SELECT " LIST_COLUMNS " FROM unnest(agora.read_orgs()) AS o(id)"
                       " CROSS JOIN LATERAL (SELECT * FROM agora.workflows w WHERE w.organization_id = o.id");
    }
    if (p->has_cursor) {
        ts_format(p->after.micros, after);
        params[n++] = after;
        params[n++] = p->after.id;
        buf_printf(&sql, " AND (w.created_at, w.id) < ($%d::timestamptz, $%d::uuid)", n - 1, n);
    }
    params[n++] = limit;
    if (project)
        buf_printf(&sql, NEWEST_FIRST, n);
    else
        buf_printf(&sql, NEWEST_FIRST ") w" NEWEST_FIRST, n, n);

    st = db_exec(db, sql.data, n, params, &res);
    if (st == DB_OK) {
        struct json_object *o = must(json_object_new_object()), *next = NULL;
        json_object_object_add(o, "items", rows_array(res, p->limit));
        if (PQntuples(res) > p->limit) {
            struct cursor c;
            char text[CURSOR_TEXT_MAX + 1];
            int last = p->limit - 1;
            c.micros = strtoll(PQgetvalue(res, last, PQfnumber(res, "_micros")), NULL, 10);
            snprintf(c.id, sizeof c.id, "%s", PQgetvalue(res, last, PQfnumber(res, "id")));
            cursor_encode(&c, text);
            next = must(json_object_new_string(text));
        }
        json_object_object_add(o, "next_cursor", next);
        *out = o;
    }
    PQclear(res);
    buf_free(&sql);
    return st;
}

enum db_status workflows_get(struct db *db, const struct identity *who, const char *id,
                             struct json_object **out)
{
    char lower[UUID_STR_LEN + 1];

    (void)who; /* the transaction's identity decides, through RLS */
    *out = NULL;
    if (!id || !uuid_valid(id))
        return DB_NOT_FOUND;
    uuid_lower(id, lower);
    return read_workflow(db, lower, out);
}
