/* The retention job's partition step (see retention_partitions.h). The
 * SQL functions (sql/025) decide and lock; this file only calls them, each
 * call its own transaction (the connection is in autocommit), so a drop
 * holds the parent's lock no longer than the DROP itself. */
#include "main/retention_partitions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/stringify.h"

PGresult *retention_one(PGconn *conn, const char *sql, int n, const char *const *params)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        fprintf(stderr, "agora-retention: %s", PQerrorMessage(conn));
        PQclear(res);
        return NULL;
    }
    return res;
}

int partitions_maintain(PGconn *conn, int (*stop)(void), struct partitions_outcome *out)
{
    out->created = out->dropped = 0;
    PGresult *res =
        retention_one(conn, "SELECT agora.ensure_partitions(" STRINGIFY(PARTITIONS_MONTHS_AHEAD) ")", 0, NULL);
    if (!res)
        return -1;
    out->created = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    for (;;) {
        if (stop && stop())
            return 0;
        res = retention_one(conn, "SELECT agora.retention_drop_partition(" STRINGIFY(PARTITIONS_LOCK_MS) ")", 0, NULL);
        if (!res)
            return -1;
        int none = PQgetisnull(res, 0, 0);
        if (!none)
            fprintf(stderr, "agora-retention: dropped partition %s\n", PQgetvalue(res, 0, 0));
        PQclear(res);
        if (none)
            return 0;
        out->dropped++;
    }
}
