/* Schema migrations: the numbered files of sql/ (NNN_name.sql) applied in
 * order, each in its own transaction, under an advisory lock so two
 * migrators never interleave. What ran is recorded with a checksum in
 * agora_meta.schema_migrations: running again changes nothing, and an
 * applied file that was edited afterwards stops the run. */
#ifndef AGORA_MIGRATE_H
#define AGORA_MIGRATE_H

#include <stdio.h>
#include <libpq-fe.h>

/* Applies what is missing from dir over conn: a superuser, or a role with
 * CREATEROLE that may create in the database (a managed PostgreSQL's admin
 * role), for which the twins in dir/managed/ run in place of the files
 * that need a superuser. Progress goes to log. Returns the number applied, or -1 on error
 * (the failing file's transaction is rolled back; message on log). */
int migrate_run(PGconn *conn, const char *dir, FILE *log);

#endif
