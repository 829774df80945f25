/* GET /api/organizations/{id}/audit-log: the organization's changes,
 * newest first, keyset-paged (limit, cursor). Owners and admins only. */
#include "handlers/handlers.h"

#include "domain/audit.h"
#include "http/errors.h"
#include "http/query.h"

void handle_audit_log(struct req *r)
{
    static const char *const names[] = {"limit", "cursor", NULL};
    struct audit_list_params p;
    struct json_object *out = NULL;
    struct query q;
    const char *path;
    char msg[128];
    if (query_parse_or_reply(r, names, &q) < 0)
        return;
    if (audit_list_parse(r->params[0], query_get(&q, "limit"), query_get(&q, "cursor"), &p, &path, msg,
                         sizeof msg) < 0) {
        reply_error(r, E_VALIDATION, path, "%s", msg);
        goto done;
    }
    enum db_status st = audit_list(r->db, &r->who, r->params[0], &p, &out);
    reply_tx_result(r, st, 200, out);
done:
    query_free(&q);
}
