/* What every handler does last: commit, then answer. Committing before the
 * answer is sent means a client never sees 201 for a write that was lost. */
#include "handlers/handlers.h"

#include "response.h"

void reply_tx_result(struct req *r, enum db_status st, int status, struct json_object *out)
{
    if (st == DB_OK)
        st = db_commit(r->db);
    if (st != DB_OK) {
        json_object_put(out);
        db_reply_error(r, st);
        return;
    }
    if (out)
        reply_json(r, status, out);
    else
        reply_empty(r, status);
}
