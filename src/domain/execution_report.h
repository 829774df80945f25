/* The run report behind GET /api/executions/{id}/report: one HTML
 * document that stands alone (inline CSS, inline SVG, no script, no link
 * to anything), to attach to a bug report and open offline. It shows the
 * run's fields and error, a Gantt chart of its node executions (prep,
 * exec, post), the node errors, the events and the shared state's changes
 * from one snapshot to the next.
 *
 * Runs inside the caller's transaction (db_begin_as), so row-level
 * security decides what exists: DB_NOT_FOUND for a run the caller cannot
 * see. The sink contract is execution_reads.h's: DB_OK means the answer
 * was written (rows are streamed batch by batch, never held whole); any
 * other status means nothing was written. A failure once the document has
 * begun cuts it short and is logged with out->log_tag. */
#ifndef AGORA_EXECUTION_REPORT_H
#define AGORA_EXECUTION_REPORT_H

#include "db/db.h"
#include "util/sink.h"

/* A value shown in the report (an event's data, a state change) longer
 * than this many bytes is cut there, and says so. */
#define REPORT_VALUE_MAX 4096

enum db_status execution_report(struct db *db, const char *id, struct sink *out);

#endif
