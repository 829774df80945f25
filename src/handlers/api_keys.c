/* DELETE /api/api-keys/{id}: revoke a key. From the commit on, the key is
 * refused by every worker, since each request looks the key up afresh. */
#include "handlers/handlers.h"

#include "tenancy.h"

void handle_api_keys_revoke(struct req *r)
{
    reply_tx_result(r, tenancy_revoke_api_key(r->db, &r->who, r->params[0]), 204, NULL);
}
