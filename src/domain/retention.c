/* Retention policies (see retention.h). The answer is built by one
 * statement so that the policy, the effective policy and what is kept are
 * read from one snapshot. */
#include "domain/retention.h"

#include <stdio.h>
#include <string.h>

#include "db/pg_json.h"
#include "domain/audit.h"
#include "domain/tenancy_access.h"
#include "json/json_tree.h"
#include "util/uuid.h"

/* One day count or null: 0 for null. lo..hi inclusive. */
static int parse_days(struct json_object *body, const char *key, int hi, int *out, const char **path, char *msg,
                      size_t msglen)
{
    struct json_object *v;
    *path = key;
    if (!json_object_object_get_ex(body, key, &v)) {
        snprintf(msg, msglen, "%s is required (a number of days, or null)", key);
        return -1;
    }
    *out = 0;
    if (!v)
        return 0;
    if (!json_object_is_type(v, json_type_int)) {
        snprintf(msg, msglen, "%s must be a whole number of days or null", key);
        return -1;
    }
    int64_t n = json_object_get_int64(v);
    if (n < 1 || n > hi) {
        snprintf(msg, msglen, "%s must be between 1 and %d", key, hi);
        return -1;
    }
    *out = (int)n;
    return 0;
}

int retention_parse(struct json_object *body, struct retention_policy *p, const char **path, char *msg,
                    size_t msglen)
{
    static const char *const keys[] = {"runs_days", "payload_days", NULL};
    const char *extra = json_unknown_key(body, keys);
    if (extra) {
        *path = extra;
        snprintf(msg, msglen, "unknown field (runs_days and payload_days only)");
        return -1;
    }
    if (parse_days(body, "runs_days", RETENTION_DAYS_MAX, &p->runs_days, path, msg, msglen) < 0)
        return -1;
    int hi = p->runs_days ? p->runs_days : RETENTION_DAYS_MAX;
    if (parse_days(body, "payload_days", hi, &p->payload_days, path, msg, msglen) < 0) {
        if (p->runs_days && strstr(msg, "between"))
            snprintf(msg, msglen, "payload_days must be between 1 and runs_days (%d)", p->runs_days);
        return -1;
    }
    return 0;
}

#define POLICY_JSON(alias) \
    "json_build_object('runs_days', " alias ".runs_days, 'payload_days', " alias ".payload_days)"

/* The oldest payload kept: the first run, by age, that still has one.
 * Each table is probed in the run's own partition (the run's created_at
 * is its items' partition key, sql/025), one row at most, and as a scalar
 * subquery: an EXISTS there may be planned as a hashed subplan, which
 * reads every row of the table, every month, to answer for one run (an
 * answer that took over 10 s in the test suite's filled tables). */
#define PAYLOAD_IN(table, x)                                                                        \
    "(SELECT 1 FROM agora." table " v WHERE v.execution_id = " x ".id AND v.run_created_at = " x \
    ".created_at LIMIT 1) IS NOT NULL"
#define HAS_PAYLOAD(x)                                                                              \
    "(" PAYLOAD_IN("telemetry_events", x) " OR " PAYLOAD_IN("telemetry_spans", x) " OR "            \
    PAYLOAD_IN("shared_state_snapshots", x) ")"

#define LAST_RUN(where)                                                                                  \
    "(SELECT json_build_object('started_at', agora.rfc3339(j.started_at), 'finished_at',"                \
    " agora.rfc3339(j.finished_at), 'outcome', j.outcome, 'runs_removed', j.runs_removed,"               \
    " 'payload_rows_removed', j.payload_rows_removed, 'fields_trimmed', j.fields_trimmed)"               \
    " FROM agora.retention_runs j WHERE " where                                                          \
    " ORDER BY j.id DESC LIMIT 1)"

static const char PROJECT_SQL[] =
    "SELECT json_build_object('project_id', p.id, 'organization_id', p.organization_id,"
    " 'policy', (SELECT " POLICY_JSON("r") " FROM agora.retention_policies r WHERE r.project_id = p.id),"
    " 'organization_policy', (SELECT " POLICY_JSON("r") " FROM agora.retention_policies r"
    "   WHERE r.organization_id = p.organization_id AND r.project_id IS NULL),"
    " 'effective', COALESCE((SELECT json_build_object('runs_days', r.runs_days, 'payload_days', r.payload_days,"
    "   'source', CASE WHEN r.project_id IS NULL THEN 'organization' ELSE 'project' END)"
    "   FROM agora.retention_policies r WHERE r.organization_id = p.organization_id"
    "   AND (r.project_id = p.id OR r.project_id IS NULL) ORDER BY r.project_id NULLS LAST LIMIT 1),"
    "   json_build_object('runs_days', NULL, 'payload_days', NULL, 'source', 'none')),"
    " 'oldest_execution_at', (SELECT agora.rfc3339(min(x.created_at)) FROM agora.executions x"
    "   WHERE x.project_id = p.id),"
    " 'oldest_payload_at', (SELECT agora.rfc3339(x.created_at) FROM agora.executions x"
    "   WHERE x.project_id = p.id AND " HAS_PAYLOAD("x") " ORDER BY x.created_at, x.id LIMIT 1),"
    " 'last_job', " LAST_RUN("j.project_id = p.id") ")::text"
    " FROM agora.projects p WHERE p.id = $1::uuid";

static const char ORG_SQL[] =
    "SELECT json_build_object('organization_id', o.id,"
    " 'policy', (SELECT " POLICY_JSON("r") " FROM agora.retention_policies r"
    "   WHERE r.organization_id = o.id AND r.project_id IS NULL),"
    " 'effective', COALESCE((SELECT " POLICY_JSON("r") " FROM agora.retention_policies r"
    "   WHERE r.organization_id = o.id AND r.project_id IS NULL),"
    "   json_build_object('runs_days', NULL, 'payload_days', NULL)),"
    " 'oldest_execution_at', (SELECT agora.rfc3339(min(m.at)) FROM agora.projects p CROSS JOIN LATERAL"
    "   (SELECT min(x.created_at) AS at FROM agora.executions x WHERE x.project_id = p.id) m"
    "   WHERE p.organization_id = o.id),"
    " 'oldest_payload_at', (SELECT agora.rfc3339(min(m.at)) FROM agora.projects p CROSS JOIN LATERAL"
    "   (SELECT x.created_at AS at FROM agora.executions x WHERE x.project_id = p.id AND " HAS_PAYLOAD("x")
    " ORDER BY x.created_at, x.id LIMIT 1) m WHERE p.organization_id = o.id),"
    " 'last_job', " LAST_RUN("j.organization_id = o.id") ")::text"
    " FROM agora.organizations o WHERE o.id = $1::uuid";

static enum db_status answer(struct db *db, bool project, const char *id, struct json_object **out)
{
    PGresult *res = NULL;
    const char *params[1] = {id};
    enum db_status st = db_exec(db, project ? PROJECT_SQL : ORG_SQL, 1, params, &res);
    if (st == DB_OK && PQntuples(res) != 1)
        st = DB_NOT_FOUND;
    if (st == DB_OK && !(*out = json_tokener_parse(PQgetvalue(res, 0, 0))))
        st = DB_ERROR;
    PQclear(res);
    return st;
}

/* The canonical id, and the caller's standing: DB_OK when it may (with
 * manage: change) the policy, and org gets the organization. */
static enum db_status access(struct db *db, const struct identity *who, bool project, bool manage, const char *id,
                             char canon[UUID_STR_LEN + 1], char org[UUID_STR_LEN + 1])
{
    char role[TENANCY_ROLE_MAX];
    if (who->kind != CALLER_USER)
        return DB_FORBIDDEN;
    if (!uuid_valid(id))
        return DB_NOT_FOUND;
    uuid_lower(id, canon);
    if (!project) {
        memcpy(org, canon, UUID_STR_LEN + 1);
        return tenancy_role_in(db, org, manage, role);
    }
    if (manage)
        return tenancy_project_manager(db, canon, org);
    /* Reading: the project is visible to members of its organization. */
    PGresult *res = NULL;
    const char *params[1] = {canon};
    enum db_status st = db_exec(db, "SELECT organization_id FROM agora.projects WHERE id = $1::uuid", 1, params,
                                &res);
    if (st == DB_OK && PQntuples(res) != 1)
        st = DB_NOT_FOUND;
    if (st == DB_OK)
        snprintf(org, UUID_STR_LEN + 1, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return st;
}

enum db_status retention_get(struct db *db, const struct identity *who, bool project, const char *id,
                             struct json_object **out)
{
    char canon[UUID_STR_LEN + 1], org[UUID_STR_LEN + 1];
    *out = NULL;
    enum db_status st = access(db, who, project, false, id, canon, org);
    return st != DB_OK ? st : answer(db, project, canon, out);
}

static void days_param(int days, char buf[16], const char **param)
{
    snprintf(buf, 16, "%d", days);
    *param = days ? buf : NULL;
}

enum db_status retention_put(struct db *db, const struct identity *who, bool project, const char *id,
                             const struct retention_policy *p, struct json_object **out)
{
    char canon[UUID_STR_LEN + 1], org[UUID_STR_LEN + 1], runs[16], payload[16];
    PGresult *res = NULL;
    *out = NULL;
    enum db_status st = access(db, who, project, true, id, canon, org);
    if (st != DB_OK)
        return st;
    const char *params[4] = {org, project ? canon : NULL, NULL, NULL};
    days_param(p->runs_days, runs, &params[2]);
    days_param(p->payload_days, payload, &params[3]);
    /* One statement either way: the partial unique indexes of 024 each
     * take one kind of row. */
#define UPSERT(target)                                                                                 \
    "INSERT INTO agora.retention_policies (organization_id, project_id, runs_days, payload_days)"      \
    " VALUES ($1::uuid, $2::uuid, $3::int, $4::int) ON CONFLICT " target " DO UPDATE"                  \
    " SET runs_days = EXCLUDED.runs_days, payload_days = EXCLUDED.payload_days, updated_at = now()" \
    " RETURNING 1"
    st = db_exec(db,
                 project ? UPSERT("(project_id, organization_id) WHERE project_id IS NOT NULL")
                         : UPSERT("(organization_id) WHERE project_id IS NULL"),
                 4, params, &res);
    if (st == DB_OK && PQntuples(res) != 1)
        st = DB_FORBIDDEN; /* the policies said no where the lookup said yes */
    PQclear(res);
    if (st != DB_OK)
        return st;
    struct json_object *d = json_must(json_object_new_object());
    json_object_object_add(d, "runs_days", p->runs_days ? json_must(json_object_new_int(p->runs_days)) : NULL);
    json_object_object_add(d, "payload_days",
                           p->payload_days ? json_must(json_object_new_int(p->payload_days)) : NULL);
    st = audit_record(db, org, project ? canon : NULL, project ? "project.retention" : "organization.retention",
                      project ? "project" : "organization", canon, d);
    return st != DB_OK ? st : answer(db, project, canon, out);
}

enum db_status retention_delete(struct db *db, const struct identity *who, bool project, const char *id)
{
    char canon[UUID_STR_LEN + 1], org[UUID_STR_LEN + 1];
    PGresult *res = NULL;
    enum db_status st = access(db, who, project, true, id, canon, org);
    if (st != DB_OK)
        return st;
    const char *params[2] = {org, canon};
    st = db_exec(db,
                 project ? "DELETE FROM agora.retention_policies WHERE organization_id = $1::uuid"
                           " AND project_id = $2::uuid RETURNING " POLICY_JSON("retention_policies") "::text"
                         : "DELETE FROM agora.retention_policies WHERE organization_id = $1::uuid"
                           " AND project_id IS NULL RETURNING " POLICY_JSON("retention_policies") "::text",
                 project ? 2 : 1, params, &res);
    /* Removing what is not there changes nothing, and records nothing. */
    if (st == DB_OK && PQntuples(res) == 1) {
        struct json_object *d = json_tokener_parse(PQgetvalue(res, 0, 0));
        if (!d)
            st = DB_ERROR;
        else
            st = audit_record(db, org, project ? canon : NULL,
                              project ? "project.retention_delete" : "organization.retention_delete",
                              project ? "project" : "organization", canon, d);
    }
    PQclear(res);
    return st;
}
