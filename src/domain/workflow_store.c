/* Workflows (see workflows.h): the SQL behind the workflow routes. The
 * body and query checks that run before it are in workflow_input.c.
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
#include "domain/workflow_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "db/pg_json.h"
#include "domain/audit.h"
#include "util/timestamp.h"

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
    wf = pg_row_object(res, 0);
    /* Nodes made together share created_at (the transaction's time), so
     * those of the create come by name, and nodes ingest added later after
     * them. */
    st = pg_all_rows(db,
                  "SELECT id, name, type FROM agora.workflow_nodes"
                  " WHERE workflow_id = $1 ORDER BY created_at, name",
                  1, params, &nodes);
    if (st != DB_OK)
        goto out;
    st = pg_all_rows(db,
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
    struct json_object *d = json_must(json_object_new_object());
    json_object_object_add(d, "name", json_must(json_object_new_string(in->name)));
    json_object_object_add(d, "nodes", json_must(json_object_new_int64((int64_t)in->n_nodes)));
    json_object_object_add(d, "edges", json_must(json_object_new_int64((int64_t)in->n_edges)));
    if ((st = audit_record(db, org, in->project_id, "workflow.create", "workflow", id, d)) != DB_OK)
        goto out;
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
        struct json_object *o = json_must(json_object_new_object()), *next = NULL;
        json_object_object_add(o, "items", pg_rows_array(res, p->limit));
        if (PQntuples(res) > p->limit) {
            struct cursor c = {.scope = p->scope};
            char text[CURSOR_TEXT_MAX + 1];
            int last = p->limit - 1;
            c.micros = strtoll(PQgetvalue(res, last, PQfnumber(res, "_micros")), NULL, 10);
            snprintf(c.id, sizeof c.id, "%s", PQgetvalue(res, last, PQfnumber(res, "id")));
            cursor_encode(&c, text);
            next = json_must(json_object_new_string(text));
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
