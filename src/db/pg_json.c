/* PostgreSQL rows as json-c objects (see pg_json.h). */
#include "db/pg_json.h"

#include <stdlib.h>

#include "util/buf.h"

/* Built-in type OIDs (pg_type.h is a server header). */
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_NUMERIC 1700

struct json_object *json_must(struct json_object *o)
{
    if (!o)
        agora_oom();
    return o;
}

struct json_object *pg_row_object(const PGresult *res, int row)
{
    struct json_object *o = json_must(json_object_new_object());
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
                v = json_must(json_object_new_int64(strtoll(text, NULL, 10)));
            else if (type == OID_NUMERIC)
                /* Written as PostgreSQL printed it, so no digit is lost to
                 * a double on the way. */
                v = json_must(json_object_new_double_s(strtod(text, NULL), text));
            else
                v = json_must(json_object_new_string(text));
        }
        json_object_object_add(o, name, v);
    }
    return o;
}

struct json_object *pg_rows_array(const PGresult *res, int limit)
{
    int n = PQntuples(res);
    if (limit >= 0 && n > limit)
        n = limit;
    struct json_object *a = json_must(json_object_new_array_ext(n > 0 ? n : 1));
    for (int i = 0; i < n; i++)
        json_object_array_add(a, pg_row_object(res, i));
    return a;
}

enum db_status pg_all_rows(struct db *db, const char *sql, int n, const char *const *params,
                           struct json_object **out)
{
    PGresult *res = NULL;
    enum db_status st = db_exec(db, sql, n, params, &res);
    if (st == DB_OK)
        *out = pg_rows_array(res, -1);
    PQclear(res);
    return st;
}
