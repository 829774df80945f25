/* Member changes (see members.h).
 *
 * The last-owner rule needs a count that no concurrent change can make
 * stale: two owners demoting each other at once would each see the other
 * still owner. Every change that can take an owner away first takes a
 * transaction-level advisory lock per organization, so such changes run
 * one after the other, and each counts (a new statement, a new snapshot
 * under READ COMMITTED) after the previous one committed. Row locks would
 * not do: an admin may not lock an owner's row under the policies. */
#include "domain/members.h"

#include <stdlib.h>
#include <string.h>

#include "domain/audit.h"
#include "domain/tenancy_access.h"
#include "db/pg_json.h"
#include "util/uuid.h"

/* The target's current role (DB_NOT_FOUND when not a member), after the
 * organization's owner lock. */
static enum db_status target_role(struct db *db, const char *org_id, const char *user_id,
                                  char role[TENANCY_ROLE_MAX])
{
    PGresult *res = NULL;
    const char *lock[1] = {org_id};
    enum db_status st = db_exec(db, "SELECT pg_advisory_xact_lock(hashtextextended('agora.owners:' || $1, 0))",
                                1, lock, NULL);
    if (st != DB_OK)
        return st;
    const char *params[2] = {org_id, user_id};
    st = db_exec(db,
                 "SELECT role, (SELECT count(*) FROM agora.memberships o"
                 "  WHERE o.organization_id = $1::uuid AND o.role = 'owner')"
                 " FROM agora.memberships WHERE organization_id = $1::uuid AND user_id = $2::uuid",
                 2, params, &res);
    if (st == DB_OK) {
        if (PQntuples(res) != 1) {
            st = DB_NOT_FOUND;
        } else {
            snprintf(role, TENANCY_ROLE_MAX, "%s", PQgetvalue(res, 0, 0));
            /* The last owner: empty the role so callers see the rule. */
            if (strcmp(role, "owner") == 0 && strtoll(PQgetvalue(res, 0, 1), NULL, 10) <= 1)
                role[0] = '\0';
        }
    }
    PQclear(res);
    return st;
}

/* The checks every change shares: who may call, the organization, and the
 * caller's role (mine); self: whether the target is the caller. */
static enum db_status may_change(struct db *db, const struct identity *who, const char *org_id,
                                 const char *user_id, char mine[TENANCY_ROLE_MAX], bool *self)
{
    if (who->kind != CALLER_USER)
        return DB_FORBIDDEN;
    if (!uuid_valid(org_id) || !uuid_valid(user_id))
        return DB_NOT_FOUND;
    *self = strcmp(user_id, who->user_id) == 0;
    /* Any member sees the member list, so a member asking about another
     * gets 403, as it would for any change it may not make. */
    return tenancy_role_in(db, org_id, !*self, mine);
}

enum db_status members_set_role(struct db *db, const struct identity *who, const char *org_id,
                                const char *user_id, const char *role, struct json_object **out,
                                const char **why)
{
    char mine[TENANCY_ROLE_MAX], theirs[TENANCY_ROLE_MAX], org[UUID_STR_LEN + 1], user[UUID_STR_LEN + 1];
    bool self;
    enum db_status st;

    *out = NULL;
    *why = NULL;
    if ((st = may_change(db, who, org_id, user_id, mine, &self)) != DB_OK)
        return st;
    /* Changing one's own role is a manager's act too. */
    if (!tenancy_is_manager(mine))
        return DB_FORBIDDEN;
    uuid_lower(org_id, org);
    uuid_lower(user_id, user);
    if ((st = target_role(db, org, user, theirs)) != DB_OK)
        return st;
    bool last_owner = theirs[0] == '\0';
    /* Only an owner makes an owner or changes one. */
    if ((strcmp(role, "owner") == 0 || last_owner || strcmp(theirs, "owner") == 0) && strcmp(mine, "owner") != 0)
        return DB_FORBIDDEN;
    if (last_owner && strcmp(role, "owner") != 0) {
        *why = MEMBERS_LAST_OWNER;
        return DB_CONFLICT;
    }
    const char *params[3] = {org, user, role};
    st = tenancy_one_row(db,
                         "UPDATE agora.memberships SET role = $3 WHERE organization_id = $1::uuid AND user_id = $2::uuid"
                         " RETURNING " TENANCY_MEMBER_COLUMNS,
                         3, params, out);
    if (st == DB_NOT_FOUND)
        st = DB_FORBIDDEN; /* visible but refused by the policies */
    if (st != DB_OK || strcmp(last_owner ? "owner" : theirs, role) == 0)
        return st;
    struct json_object *d = json_must(json_object_new_object());
    json_object_object_add(d, "from", json_must(json_object_new_string(last_owner ? "owner" : theirs)));
    json_object_object_add(d, "to", json_must(json_object_new_string(role)));
    return audit_record(db, org, NULL, "member.role", "member", user, d);
}

enum db_status members_remove(struct db *db, const struct identity *who, const char *org_id, const char *user_id,
                              const char **why)
{
    char mine[TENANCY_ROLE_MAX], theirs[TENANCY_ROLE_MAX], org[UUID_STR_LEN + 1], user[UUID_STR_LEN + 1];
    bool self;
    PGresult *res = NULL;
    enum db_status st;

    *why = NULL;
    if ((st = may_change(db, who, org_id, user_id, mine, &self)) != DB_OK)
        return st;
    uuid_lower(org_id, org);
    uuid_lower(user_id, user);
    if ((st = target_role(db, org, user, theirs)) != DB_OK)
        return st;
    if (theirs[0] == '\0') {
        /* An admin asking to remove the only owner is refused for its
         * role first: the rule is for those who could otherwise do it. */
        if (!self && strcmp(mine, "owner") != 0)
            return DB_FORBIDDEN;
        *why = MEMBERS_LAST_OWNER;
        return DB_CONFLICT;
    }
    if (!self && strcmp(theirs, "owner") == 0 && strcmp(mine, "owner") != 0)
        return DB_FORBIDDEN;
    /* Recorded first: once the caller has left, it may no longer write
     * to the organization's log. A failed delete rolls both back. */
    struct json_object *d = json_must(json_object_new_object());
    json_object_object_add(d, "role", json_must(json_object_new_string(theirs)));
    st = audit_record(db, org, NULL, self ? "member.leave" : "member.remove", "member", user, d);
    if (st != DB_OK)
        return st;
    const char *params[2] = {org, user};
    st = db_exec(db,
                 "DELETE FROM agora.memberships WHERE organization_id = $1::uuid AND user_id = $2::uuid"
                 " RETURNING role",
                 2, params, &res);
    if (st == DB_OK && PQntuples(res) != 1)
        st = DB_FORBIDDEN; /* visible but refused by the policies */
    PQclear(res);
    return st;
}
