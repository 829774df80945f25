/* Alert rules (see alert_rules.h). Who may do what is decided first, from
 * the project's or rule's organization and the caller's role there (404,
 * 403), then the statements run under row-level security, which refuses
 * the same callers on its own. Answers are built by PostgreSQL as JSON
 * text (json_build_object: booleans, arrays and nulls as they are) and
 * read back with json-c. */
#include "domain/alert_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pg_json.h"
#include "util/buf.h"
#include "util/uuid.h"

/* A rule as the routes show it, as json text, from alias r. */
#define RULE_JSON                                                                                           \
    "json_build_object('id', r.id, 'organization_id', r.organization_id, 'project_id', r.project_id,"     \
    " 'name', r.name, 'kind', r.kind, 'workflow_id', r.workflow_id, 'node_name', r.node_name,"             \
    " 'error_contains', r.error_contains, 'threshold', r.threshold, 'metric', r.metric,"                   \
    " 'window_minutes', r.window_minutes, 'min_runs', r.min_runs, 'cooldown_minutes', r.cooldown_minutes," \
    " 'muted', r.muted, 'snoozed_until', CASE WHEN r.snoozed_until > now() THEN"                           \
    "  agora.rfc3339(r.snoozed_until) END,"                                                                \
    " 'created_at', agora.rfc3339(r.created_at), 'updated_at', agora.rfc3339(r.updated_at),"               \
    " 'channels', COALESCE((SELECT json_agg(json_build_object('id', c.id, 'url', c.url,"                   \
    "   'has_secret', c.has_secret) ORDER BY c.position)"                                                  \
    "  FROM agora.alert_channels c WHERE c.rule_id = r.id), '[]'))"

#define ROLE_MAX 16

/* The first column of the only row of sql's answer, JSON text, parsed.
 * No row: DB_NOT_FOUND. */
static enum db_status json_row(struct db *db, const char *sql, int n, const char *const *params,
                               struct json_object **out)
{
    PGresult *res = NULL;
    enum db_status st = db_exec(db, sql, n, params, &res);
    if (st == DB_OK) {
        if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
            st = DB_NOT_FOUND;
        else if (!(*out = json_tokener_parse(PQgetvalue(res, 0, 0))))
            st = DB_ERROR;
    }
    PQclear(res);
    return st;
}

/* The caller's access to what sql (one parameter: id) finds: a row of
 * (organization_id, project_id, role). DB_NOT_FOUND when it is invisible
 * or the caller has no role there (an API key: rules are users' business),
 * DB_FORBIDDEN when admin is wanted and the role is lower. org and project
 * may be NULL. */
static enum db_status require_role(struct db *db, const struct identity *who, const char *sql, const char *id,
                                   bool admin, char org[UUID_STR_LEN + 1], char project[UUID_STR_LEN + 1])
{
    PGresult *res = NULL;
    char role[ROLE_MAX] = "";
    if (who->kind != CALLER_USER)
        return DB_FORBIDDEN;
    if (!uuid_valid(id))
        return DB_NOT_FOUND;
    const char *params[1] = {id};
    enum db_status st = db_exec(db, sql, 1, params, &res);
    if (st != DB_OK)
        goto done;
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 2))
        snprintf(role, sizeof role, "%s", PQgetvalue(res, 0, 2));
    if (!role[0]) {
        st = DB_NOT_FOUND;
        goto done;
    }
    if (admin && strcmp(role, "owner") != 0 && strcmp(role, "admin") != 0) {
        st = DB_FORBIDDEN;
        goto done;
    }
    if (org)
        snprintf(org, UUID_STR_LEN + 1, "%s", PQgetvalue(res, 0, 0));
    if (project)
        snprintf(project, UUID_STR_LEN + 1, "%s", PQgetvalue(res, 0, 1));
done:
    PQclear(res);
    return st;
}

static enum db_status require_project(struct db *db, const struct identity *who, const char *project_id,
                                      bool admin, char org[UUID_STR_LEN + 1])
{
    return require_role(db, who,
                        "SELECT organization_id, id, agora.org_role(organization_id) FROM agora.projects"
                        " WHERE id = $1::uuid",
                        project_id, admin, org, NULL);
}

static enum db_status require_rule(struct db *db, const struct identity *who, const char *rule_id, bool admin,
                                   char project[UUID_STR_LEN + 1])
{
    return require_role(db, who,
                        "SELECT organization_id, project_id, agora.org_role(organization_id) FROM agora.alert_rules"
                        " WHERE id = $1::uuid",
                        rule_id, admin, NULL, project);
}

/* in->workflow_id, when given, is a workflow of the project. */
static enum db_status check_workflow(struct db *db, const char *project_id, const struct alert_rule_input *in,
                                     struct alert_refusal *no)
{
    PGresult *res = NULL;
    if (!in->workflow_id)
        return DB_OK;
    const char *params[2] = {in->workflow_id, project_id};
    enum db_status st =
        db_exec(db, "SELECT 1 FROM agora.workflows WHERE id = $1::uuid AND project_id = $2::uuid", 2, params, &res);
    if (st == DB_OK && PQntuples(res) != 1) {
        no->path = "workflow_id";
        no->why = "workflow_id is not a workflow of this project";
        st = DB_INVALID;
    }
    PQclear(res);
    return st;
}

/* The channels as a JSON array of {"pos","url","secret"} for
 * jsonb_to_recordset. Returns a new string the caller frees. */
static char *channels_json(const struct alert_rule_input *in)
{
    struct json_object *arr = json_must(json_object_new_array());
    for (size_t i = 0; i < in->n_channels; i++) {
        struct json_object *c = json_must(json_object_new_object());
        json_object_object_add(c, "pos", json_must(json_object_new_int((int)i)));
        json_object_object_add(c, "url", json_must(json_object_new_string(in->channels[i].url)));
        json_object_object_add(c, "secret",
                               in->channels[i].secret ? json_must(json_object_new_string(in->channels[i].secret))
                                                      : NULL);
        json_object_array_add(arr, c);
    }
    char *text = strdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
    json_object_put(arr);
    if (!text)
        agora_oom();
    return text;
}

static enum db_status rule_json(struct db *db, const char *rule_id, struct json_object **out)
{
    const char *params[1] = {rule_id};
    return json_row(db, "SELECT " RULE_JSON "::text FROM agora.alert_rules r WHERE r.id = $1::uuid", 1, params,
                    out);
}

enum db_status alert_rule_create(struct db *db, const struct identity *who, const char *project_id,
                                 const struct alert_rule_input *in, struct json_object **out,
                                 struct alert_refusal *no)
{
    char org[UUID_STR_LEN + 1], id[UUID_STR_LEN + 1];
    enum db_status st;
    *out = NULL;
    if ((st = require_project(db, who, project_id, true, org)) != DB_OK ||
        (st = check_workflow(db, project_id, in, no)) != DB_OK)
        return st;
    if (uuid_v4(id) < 0)
        return DB_ERROR;
    char *channels = channels_json(in);
    const char *params[14] = {id, org, project_id, in->name, in->kind, in->workflow_id, in->node_name,
                              in->error_contains, in->threshold, in->metric, in->window_minutes, in->min_runs,
                              in->cooldown_minutes ? in->cooldown_minutes : ALERT_COOLDOWN_DEFAULT, channels};
    st = db_exec(db,
                 "WITH r AS (INSERT INTO agora.alert_rules (id, organization_id, project_id, name, kind, workflow_id,"
                 "  node_name, error_contains, threshold, metric, window_minutes, min_runs, cooldown_minutes)"
                 " VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6::uuid, $7, $8, $9::double precision, $10,"
                 "  $11::integer, $12::integer, $13::integer) RETURNING id, organization_id, project_id)"
                 " INSERT INTO agora.alert_channels (organization_id, project_id, rule_id, position, url, secret)"
                 " SELECT r.organization_id, r.project_id, r.id, x.pos, x.url, x.secret"
                 " FROM r, jsonb_to_recordset($14::jsonb) AS x(pos smallint, url text, secret text)",
                 14, params, NULL);
    free(channels);
    return st == DB_OK ? rule_json(db, id, out) : st;
}

enum db_status alert_rules_list(struct db *db, const struct identity *who, const char *project_id,
                                struct json_object **out)
{
    enum db_status st;
    *out = NULL;
    if ((st = require_project(db, who, project_id, false, NULL)) != DB_OK)
        return st;
    const char *params[1] = {project_id};
    return json_row(db,
                    "SELECT json_build_object('items', COALESCE(json_agg(" RULE_JSON
                    " ORDER BY r.created_at, r.id), '[]'))::text"
                    " FROM agora.alert_rules r WHERE r.project_id = $1::uuid",
                    1, params, out);
}

enum db_status alert_rule_get(struct db *db, const struct identity *who, const char *rule_id,
                              struct json_object **out)
{
    enum db_status st;
    *out = NULL;
    if ((st = require_rule(db, who, rule_id, false, NULL)) != DB_OK)
        return st;
    return rule_json(db, rule_id, out);
}

enum db_status alert_rule_update(struct db *db, const struct identity *who, const char *rule_id,
                                 const struct alert_rule_input *in, struct json_object **out,
                                 struct alert_refusal *no)
{
    char project[UUID_STR_LEN + 1];
    enum db_status st;
    *out = NULL;
    if ((st = require_rule(db, who, rule_id, true, project)) != DB_OK ||
        (st = check_workflow(db, project, in, no)) != DB_OK)
        return st;
    const char *params[12] = {rule_id, in->name, in->kind, in->workflow_id, in->node_name, in->error_contains,
                              in->threshold, in->metric, in->window_minutes, in->min_runs,
                              in->cooldown_minutes ? in->cooldown_minutes : ALERT_COOLDOWN_DEFAULT};
    st = db_exec(db,
                 "UPDATE agora.alert_rules SET name = $2, kind = $3, workflow_id = $4::uuid, node_name = $5,"
                 " error_contains = $6, threshold = $7::double precision, metric = $8,"
                 " window_minutes = $9::integer, min_runs = $10::integer, cooldown_minutes = $11::integer,"
                 " evaluated_until = CASE WHEN (kind, window_minutes) IS NOT DISTINCT FROM ($3, $9::integer)"
                 "  THEN evaluated_until END,"
                 " updated_at = now() WHERE id = $1::uuid",
                 11, params, NULL);
    if (st != DB_OK)
        return st;
    /* Two statements: a row deleted and one inserted at its position in
     * the same statement would meet in the unique index. */
    char *channels = channels_json(in);
    const char *cp[2] = {rule_id, channels};
    st = db_exec(db,
                 "DELETE FROM agora.alert_channels c WHERE c.rule_id = $1::uuid AND NOT EXISTS ("
                 " SELECT 1 FROM jsonb_to_recordset($2::jsonb) AS x(pos smallint, url text, secret text)"
                 " WHERE x.pos = c.position AND x.url = c.url AND x.secret IS NULL)",
                 2, cp, NULL);
    if (st == DB_OK)
        st = db_exec(db,
                     "INSERT INTO agora.alert_channels (organization_id, project_id, rule_id, position, url, secret)"
                     " SELECT r.organization_id, r.project_id, r.id, x.pos, x.url, x.secret"
                     " FROM agora.alert_rules r, jsonb_to_recordset($2::jsonb) AS x(pos smallint, url text, secret text)"
                     " WHERE r.id = $1::uuid AND NOT EXISTS (SELECT 1 FROM agora.alert_channels c"
                     "  WHERE c.rule_id = r.id AND c.position = x.pos)",
                     2, cp, NULL);
    free(channels);
    return st == DB_OK ? rule_json(db, rule_id, out) : st;
}

enum db_status alert_rule_delete(struct db *db, const struct identity *who, const char *rule_id)
{
    enum db_status st = require_rule(db, who, rule_id, true, NULL);
    if (st != DB_OK)
        return st;
    const char *params[1] = {rule_id};
    return db_exec(db, "DELETE FROM agora.alert_rules WHERE id = $1::uuid", 1, params, NULL);
}

enum db_status alert_rule_mute(struct db *db, const struct identity *who, const char *rule_id, bool muted,
                               struct json_object **out)
{
    enum db_status st;
    *out = NULL;
    if ((st = require_rule(db, who, rule_id, true, NULL)) != DB_OK)
        return st;
    const char *params[2] = {rule_id, muted ? "true" : "false"};
    st = db_exec(db, "UPDATE agora.alert_rules SET muted = $2::boolean, updated_at = now() WHERE id = $1::uuid", 2,
                 params, NULL);
    return st == DB_OK ? rule_json(db, rule_id, out) : st;
}

enum db_status alert_rule_snooze(struct db *db, const struct identity *who, const char *rule_id,
                                 const char *minutes, struct json_object **out)
{
    enum db_status st;
    *out = NULL;
    if ((st = require_rule(db, who, rule_id, true, NULL)) != DB_OK)
        return st;
    const char *params[2] = {rule_id, minutes};
    st = db_exec(db,
                 "UPDATE agora.alert_rules SET snoozed_until = CASE WHEN $2::integer > 0 THEN"
                 " now() + make_interval(mins => $2::integer) END, updated_at = now() WHERE id = $1::uuid",
                 2, params, NULL);
    return st == DB_OK ? rule_json(db, rule_id, out) : st;
}

enum db_status alert_rule_test(struct db *db, const struct identity *who, const char *rule_id,
                               struct json_object **out)
{
    char id[UUID_STR_LEN + 1];
    enum db_status st;
    *out = NULL;
    if ((st = require_rule(db, who, rule_id, true, NULL)) != DB_OK)
        return st;
    if (uuid_v4(id) < 0)
        return DB_ERROR;
    const char *params[2] = {rule_id, id};
    return json_row(db,
                    "WITH a AS (INSERT INTO agora.alerts (id, organization_id, project_id, rule_id, subject, test,"
                    "  payload)"
                    " SELECT $2::uuid, r.organization_id, r.project_id, r.id, 'test', true,"
                    "  agora.alert_payload($2::uuid, r.id, r.workflow_id, NULL,"
                    "   format('Test of the rule \"%s\"', r.name), '{}', true)"
                    " FROM agora.alert_rules r WHERE r.id = $1::uuid"
                    " RETURNING id, organization_id, project_id, rule_id),"
                    " d AS (INSERT INTO agora.alert_deliveries (organization_id, project_id, rule_id, alert_id,"
                    "  channel_id)"
                    " SELECT a.organization_id, a.project_id, a.rule_id, a.id, c.id"
                    " FROM a JOIN agora.alert_channels c ON c.rule_id = a.rule_id RETURNING 1)"
                    " SELECT json_build_object('alert_id', a.id, 'deliveries', (SELECT count(*) FROM d))::text"
                    " FROM a",
                    2, params, out);
}

enum db_status alert_rule_deliveries(struct db *db, const struct identity *who, const char *rule_id,
                                     const char *status, const char *limit, struct json_object **out)
{
    enum db_status st;
    *out = NULL;
    if ((st = require_rule(db, who, rule_id, false, NULL)) != DB_OK)
        return st;
    const char *params[3] = {rule_id, status, limit};
    return json_row(db,
                    "SELECT json_build_object('items', COALESCE(json_agg(x.j ORDER BY x.id DESC), '[]'))::text"
                    " FROM (SELECT d.id, json_build_object('id', d.id, 'alert_id', d.alert_id, 'test', a.test,"
                    "  'summary', a.payload->>'summary', 'channel_id', d.channel_id, 'url', c.url,"
                    "  'status', d.status, 'attempts', d.attempts, 'codes', d.codes, 'last_error', d.last_error,"
                    "  'next_try_at', CASE WHEN d.status = 'pending' THEN agora.rfc3339(d.next_try_at) END,"
                    "  'created_at', agora.rfc3339(d.created_at), 'finished_at', agora.rfc3339(d.finished_at)) AS j"
                    "  FROM agora.alert_deliveries d JOIN agora.alerts a ON a.id = d.alert_id"
                    "  JOIN agora.alert_channels c ON c.id = d.channel_id"
                    "  WHERE d.rule_id = $1::uuid AND ($2::text IS NULL OR d.status = $2)"
                    "  ORDER BY d.id DESC LIMIT $3::integer) x",
                    3, params, out);
}
