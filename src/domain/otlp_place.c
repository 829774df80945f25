/* Placing an OTLP request's resources in workflows (otlp_place.h). The
 * resources go to PostgreSQL as one small JSON array, so the lookup is one
 * statement whatever their number; the text and its reasons are in
 * otlp_sql.c. */
#include "domain/otlp_place.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/otlp_map.h"
#include "domain/otlp_sql.h"
#include "util/buf.h"

static const char WHY_WORKFLOW_ID[] = "agora.workflow.id must be a workflow's id (a UUID)";
static const char WHY_PROJECT_ID[] = "agora.project.id must be a project's id (a UUID)";
static const char WHY_SERVICE[] = "service.name must be a string of at most 200 bytes";
static const char WHY_USER_PROJECT[] =
    "a user's token places spans by the resource attribute agora.workflow.id or agora.project.id";
static const char WHY_NO_WORKFLOW[] = "agora.workflow.id: no such workflow";
static const char WHY_NO_PROJECT[] =
    "no workflow of this service.name, and none may be created: no such project, or your role does not allow it";
static const char WHY_ROLE[] = "your role in this organization does not allow ingesting";

/* What a resource names (borrowed from its attributes). */
struct named {
    const char *workflow, *project, *service;
};

/* The attribute key as a UUID: *out NULL when absent, false when present
 * and not a UUID. */
static bool attr_uuid(const struct otlp_attrs *a, const char *key, const char **out)
{
    bool found;
    otlp_attr_get(a, key, &found);
    *out = found ? otlp_attr_string(a, key) : NULL;
    return !found || (*out && uuid_valid(*out));
}

static bool has_spans(const struct otlp_resource *r)
{
    for (size_t s = 0; s < r->n_scopes; s++)
        for (size_t i = 0; i < r->scopes[s].n_spans; i++)
            if (!r->scopes[s].spans[i].rejected)
                return true;
    return false;
}

/* Reads what resource r names into n, or sets its reject. */
static void read_names(const struct identity *who, const struct otlp_resource *r, struct named *n,
                       struct otlp_place *p)
{
    bool found;
    if (!attr_uuid(&r->attributes, OTLP_ATTR_WORKFLOW, &n->workflow)) {
        p->reject = WHY_WORKFLOW_ID;
        return;
    }
    if (!attr_uuid(&r->attributes, OTLP_ATTR_PROJECT, &n->project)) {
        p->reject = WHY_PROJECT_ID;
        return;
    }
    otlp_attr_get(&r->attributes, OTLP_ATTR_SERVICE, &found);
    n->service = otlp_attr_string(&r->attributes, OTLP_ATTR_SERVICE);
    if (found && (!n->service || strlen(n->service) > OTLP_SERVICE_NAME_MAX)) {
        p->reject = WHY_SERVICE;
        return;
    }
    if (!n->service)
        n->service = OTLP_UNKNOWN_SERVICE;
    if (!n->workflow && !n->project && who->kind != CALLER_API_KEY)
        p->reject = WHY_USER_PROJECT;
}

/* Appends "key":"value" (or null) to b, after a comma unless first. */
static void put_member(struct buf *b, const char *key, const char *value, bool first)
{
    buf_printf(b, "%s\"%s\":", first ? "" : ",", key);
    if (value)
        buf_json_string(b, value, strlen(value));
    else
        buf_puts(b, "null");
}

/* The array step 1 reads: [{i, wf, proj, svc}] of the resources still to
 * place; with by_name, only those placed by service.name ([{proj, svc}],
 * for the creation). Returns how many. */
static size_t resources_json(const struct otlp_request *req, const struct named *names,
                             const struct otlp_place *pl, bool by_name, struct buf *b)
{
    size_t n = 0;
    buf_putc(b, '[');
    for (size_t i = 0; i < req->n_resources; i++) {
        if (!pl[i].wanted || pl[i].reject || pl[i].workflow[0] || (by_name && names[i].workflow))
            continue;
        buf_printf(b, "%s{\"i\":%zu", n++ ? "," : "", i);
        put_member(b, "wf", names[i].workflow, false);
        put_member(b, "proj", names[i].project, false);
        put_member(b, "svc", names[i].service, false);
        buf_putc(b, '}');
    }
    buf_putc(b, ']');
    buf_putc(b, '\0');
    return n;
}

/* Step 1: places what the statement finds. */
static enum db_status look_up(struct db *db, const struct otlp_request *req, const struct named *names,
                              struct otlp_place *pl)
{
    struct buf b;
    buf_init(&b);
    PGresult *res = NULL;
    enum db_status st = DB_OK;
    if (resources_json(req, names, pl, false, &b) == 0)
        goto done;
    const char *params[1] = {b.data};
    if ((st = db_exec(db, SQL_OTLP_PLACE, 1, params, &res)) != DB_OK)
        goto done;
    for (int row = 0; row < PQntuples(res); row++) {
        size_t i = strtoul(PQgetvalue(res, row, 0), NULL, 10);
        if (i >= req->n_resources) {
            st = DB_ERROR;
            goto done;
        }
        struct otlp_place *p = &pl[i];
        snprintf(p->workflow, sizeof p->workflow, "%s", PQgetvalue(res, row, 1));
        snprintf(p->org, sizeof p->org, "%s", PQgetvalue(res, row, 2));
        snprintf(p->project, sizeof p->project, "%s", PQgetvalue(res, row, 3));
        const char *role = PQgetisnull(res, row, 4) ? "" : PQgetvalue(res, row, 4);
        /* A user sees a workflow through a membership: only owners,
         * admins and members write. An API key has no role. */
        if (!PQgetisnull(res, row, 4) && strcmp(role, "owner") != 0 && strcmp(role, "admin") != 0 &&
            strcmp(role, "member") != 0)
            p->reject = WHY_ROLE;
    }
done:
    PQclear(res);
    buf_free(&b);
    return st;
}

/* Creates the workflows of the service names step 1 did not find, under
 * their lock (otlp_sql.c). */
static enum db_status create_missing(struct db *db, const struct otlp_request *req, const struct named *names,
                                     struct otlp_place *pl, bool *created)
{
    struct buf b;
    buf_init(&b);
    enum db_status st = DB_OK;
    *created = resources_json(req, names, pl, true, &b) > 0;
    if (*created) {
        const char *params[1] = {b.data};
        if ((st = db_exec(db, SQL_OTLP_WORKFLOW_LOCK, 1, params, NULL)) == DB_OK)
            st = db_exec(db, SQL_OTLP_WORKFLOW_CREATE, 1, params, NULL);
    }
    buf_free(&b);
    return st;
}

enum db_status otlp_place(struct db *db, const struct identity *who, const struct otlp_request *req,
                          struct otlp_place *pl)
{
    struct named *names = xcalloc(req->n_resources ? req->n_resources : 1, sizeof *names);
    enum db_status st;
    bool created = false;

    for (size_t i = 0; i < req->n_resources; i++) {
        memset(&pl[i], 0, sizeof pl[i]);
        pl[i].wanted = has_spans(&req->resources[i]);
        if (pl[i].wanted)
            read_names(who, &req->resources[i], &names[i], &pl[i]);
    }
    if ((st = look_up(db, req, names, pl)) != DB_OK)
        goto done;
    if ((st = create_missing(db, req, names, pl, &created)) != DB_OK)
        goto done;
    if (created && (st = look_up(db, req, names, pl)) != DB_OK)
        goto done;
    for (size_t i = 0; i < req->n_resources; i++)
        if (pl[i].wanted && !pl[i].reject && !pl[i].workflow[0])
            pl[i].reject = names[i].workflow ? WHY_NO_WORKFLOW : WHY_NO_PROJECT;
done:
    free(names);
    return st;
}
