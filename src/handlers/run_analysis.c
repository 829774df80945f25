/* GET /api/executions/{id}/critical-path: the run's critical path and
 * time breakdown (domain/run_analysis.h). The router checked the id's
 * shape and refused any query parameter. */
#include "handlers/handlers.h"

#include "domain/run_analysis.h"

void handle_execution_critical_path(struct req *r)
{
    struct json_object *out = NULL;
    enum db_status st = execution_critical_path(r->db, r->params[0], &out);
    reply_tx_result(r, st, 200, out);
}
