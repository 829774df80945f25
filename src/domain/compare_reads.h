/* Comparing two runs: the SQL behind GET /api/executions/{a}/compare/{b}.
 * Reads both executions, their node executions and the snapshots before
 * and after each in five statements whatever the runs' sizes, then
 * compares them (compare.h) and writes the answer (compare_json.h).
 *
 * Runs inside the caller's transaction (db_begin_as), so row-level
 * security decides what exists: when either execution is invisible (or
 * does not exist) the answer is DB_NOT_FOUND, the same for both cases. */
#ifndef AGORA_COMPARE_READS_H
#define AGORA_COMPARE_READS_H

#include "db/db.h"
#include "domain/compare_json.h"
#include "util/buf.h"

/* a_id and b_id are canonical UUIDs (the router's {id}); they may be the
 * same. On DB_OK the answer is appended to out; on failure out is left as
 * it was. */
enum db_status executions_compare(struct db *db, const char *a_id, const char *b_id,
                                  const struct compare_options *opt, struct buf *out);

#endif
