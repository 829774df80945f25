/* Building JSON answers with json-c from PostgreSQL results: the one place
 * that decides how a result's columns become JSON members, and json-c's
 * out-of-memory policy. */
#ifndef AGORA_PG_JSON_H
#define AGORA_PG_JSON_H

#include <json-c/json.h>
#include <libpq-fe.h>

#include "db/db.h"

/* o, or abort when it is NULL: json-c's constructors return NULL only when
 * they cannot allocate, and the project's policy for that is to abort
 * (buf.h, agora_oom). */
struct json_object *json_must(struct json_object *o);

/* Row row of res as an object keyed by column name. Columns whose name
 * starts with '_' are left out (bookkeeping such as cursor positions); SQL
 * NULL is JSON null, smallint/integer/bigint and numeric are numbers (numeric
 * with PostgreSQL's digits, exactly), the rest strings
 * (timestamps arrive already formatted by agora.rfc3339). Returns a new
 * reference. */
struct json_object *pg_row_object(const PGresult *res, int row);

/* The first limit rows of res (limit < 0: all) as an array of
 * pg_row_object. Returns a new reference. */
struct json_object *pg_rows_array(const PGresult *res, int limit);

/* Runs sql (db_exec) and hands back all its rows as an array in *out (a
 * new reference) on DB_OK. */
enum db_status pg_all_rows(struct db *db, const char *sql, int n, const char *const *params,
                           struct json_object **out);

#endif
