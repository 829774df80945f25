/* GET /api/health: is this worker able to reach its database? No auth, so
 * load balancers and run.sh can poll it. */
#include "handlers/handlers.h"

#include "db/db.h"
#include "http/errors.h"
#include "http/response.h"

void handle_health(struct req *r)
{
    static const char ok[] = "{\"status\":\"ok\",\"database\":\"ok\"}";
    if (!r->db || db_ping(r->db) != DB_OK) {
        reply_error(r, E_UNAVAILABLE, NULL, "the database is unreachable; retry later");
        return;
    }
    reply_json_text(r, 200, ok, sizeof ok - 1);
}
