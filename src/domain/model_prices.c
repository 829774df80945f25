/* Model prices (see model_prices.h): who may read and change them is asked
 * of tenancy (404 for an organization the caller is not in, 403 for a role
 * too low), then one or two statements do the work under row-level
 * security, which refuses the same callers on its own. */
#include "domain/model_prices.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "db/pg_json.h"
#include "domain/audit.h"
#include "domain/tenancy.h"

/* A price as the routes show it, from alias p. */
#define PRICE_COLUMNS                                                                               \
    "p.model, p.provider, trim_scale(p.input_usd_per_mtok) AS input_usd_per_mtok,"                \
    " trim_scale(p.output_usd_per_mtok) AS output_usd_per_mtok,"                                    \
    " agora.rfc3339(p.valid_from) AS valid_from, agora.rfc3339(p.valid_to) AS valid_to,"            \
    " CASE WHEN p.organization_id IS NULL THEN 'default' ELSE 'organization' END AS source"

enum db_status model_prices_list(struct db *db, const struct identity *who, const char *org_id, const char *at,
                                 struct json_object **out)
{
    struct json_object *items = NULL;
    enum db_status st;

    *out = NULL;
    if ((st = tenancy_require_member(db, who, org_id, false)) != DB_OK)
        return st;
    /* The organization's price, where it has one valid then, sorts first
     * (NULLS LAST) and DISTINCT ON keeps it. */
    const char *params[2] = {org_id, at};
    st = pg_all_rows(db,
                     "SELECT DISTINCT ON (p.model) " PRICE_COLUMNS
                     " FROM agora.model_prices p, (SELECT COALESCE($2::timestamptz, now()) AS at) a"
                     " WHERE (p.organization_id = $1::uuid OR p.organization_id IS NULL)"
                     "  AND p.valid_from <= a.at AND (p.valid_to IS NULL OR p.valid_to > a.at)"
                     " ORDER BY p.model, p.organization_id NULLS LAST",
                     2, params, &items);
    if (st == DB_OK) {
        *out = json_must(json_object_new_object());
        json_object_object_add(*out, "items", items);
    }
    return st;
}

enum db_status model_prices_set(struct db *db, const struct identity *who, const char *org_id,
                                const struct model_price_input *in, struct json_object **out,
                                const char **why_path, const char **why)
{
    PGresult *res = NULL;
    enum db_status st;

    *out = NULL;
    *why_path = *why = NULL;
    if ((st = tenancy_require_member(db, who, org_id, true)) != DB_OK)
        return st;
    /* The open period, locked; closed where the new one starts, unless it
     * does not start before: a series only grows at its end, so periods
     * never overlap. now() is the transaction's time, the same below. Two
     * admins setting one model at once: the second's insert meets the
     * first's open period in the unique index (409; retrying works). */
    const char *close[3] = {org_id, in->model, in->valid_from};
    st = db_exec(db,
                 "WITH cur AS ("
                 "  SELECT id, valid_from < COALESCE($3::timestamptz, now()) AS ok FROM agora.model_prices"
                 "  WHERE organization_id = $1::uuid AND model = $2 AND valid_to IS NULL FOR UPDATE),"
                 " closed AS ("
                 "  UPDATE agora.model_prices p SET valid_to = COALESCE($3::timestamptz, now())"
                 "  FROM cur WHERE p.id = cur.id AND cur.ok RETURNING 1)"
                 " SELECT ok FROM cur",
                 3, close, &res);
    if (st == DB_OK && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] != 't') {
        *why_path = "valid_from";
        *why = "valid_from must be later than the start of this model's current price: "
               "a price's periods only grow at the end";
        st = DB_INVALID;
    }
    PQclear(res);
    if (st != DB_OK)
        return st;
    const char *params[6] = {org_id, in->model, in->provider, in->input_usd, in->output_usd, in->valid_from};
    if ((st = db_exec(db,
                      "INSERT INTO agora.model_prices AS p (organization_id, model, provider, input_usd_per_mtok,"
                      " output_usd_per_mtok, valid_from)"
                      " VALUES ($1::uuid, $2, $3, $4::numeric, $5::numeric, COALESCE($6::timestamptz, now()))"
                      " RETURNING " PRICE_COLUMNS,
                      6, params, &res)) == DB_OK) {
        if (PQntuples(res) == 1)
            *out = pg_row_object(res, 0);
        else
            st = DB_ERROR; /* an admin's insert is visible to it: a bug */
    }
    PQclear(res);
    if (st == DB_OK) {
        struct json_object *d = json_must(json_object_new_object());
        const char *keys[] = {"provider", "input_usd_per_mtok", "output_usd_per_mtok", "valid_from"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            struct json_object *v = NULL;
            json_object_object_get_ex(*out, keys[i], &v);
            json_object_object_add(d, keys[i], json_object_get(v));
        }
        st = audit_record(db, org_id, NULL, "model_price.set", "model_price", in->model, d);
    }
    if (st != DB_OK) {
        json_object_put(*out);
        *out = NULL;
    }
    return st;
}

enum db_status model_prices_delete(struct db *db, const struct identity *who, const char *org_id,
                                   const char *model)
{
    enum db_status st = tenancy_require_member(db, who, org_id, true);
    if (st != DB_OK)
        return st;
    PGresult *res = NULL;
    const char *params[2] = {org_id, model};
    st = db_exec(db,
                 "WITH d AS (DELETE FROM agora.model_prices WHERE organization_id = $1::uuid AND model = $2"
                 " RETURNING 1) SELECT count(*) FROM d",
                 2, params, &res);
    /* Deleting what is not there changes nothing, and records nothing. */
    if (st == DB_OK && strcmp(PQgetvalue(res, 0, 0), "0") != 0) {
        struct json_object *d = json_must(json_object_new_object());
        json_object_object_add(d, "periods", json_must(json_object_new_int64(strtoll(PQgetvalue(res, 0, 0), NULL, 10))));
        st = audit_record(db, org_id, NULL, "model_price.delete", "model_price", model, d);
    }
    PQclear(res);
    return st;
}
