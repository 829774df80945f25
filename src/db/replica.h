/* Reads on a hot standby with read-your-writes: which connection a read
 * route runs on. */
#ifndef AGORA_DB_REPLICA_H
#define AGORA_DB_REPLICA_H

#include "db/db.h"

/* The connection a read should use: replica when it has replayed every
 * transaction the primary had committed when the read arrived (waiting up
 * to wait_ms for it), else primary. primary's current WAL position is one
 * trivial round trip (no table touched); a replica that is missing, down,
 * lagging past wait_ms or no longer a standby sends the read to primary,
 * so a read never sees less than it would have on the primary. */
struct db *db_for_read(struct db *primary, struct db *replica, long wait_ms);

#endif
