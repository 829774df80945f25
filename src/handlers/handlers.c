/* What every handler does last: commit, then answer. Committing before the
 * answer is sent means a client never sees 201 for a write that was lost. */
#include "handlers/handlers.h"

#include "http/errors.h"
#include "http/json_body.h"
#include "http/response.h"

/* Sends obj as the whole body; steals it. A tree json-c cannot encode
 * (out of memory) is a 500, from the one error writer. */
static int reply_json(struct req *r, int status, struct json_object *obj)
{
    size_t len = 0;
    const char *text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    int rc = text ? reply_json_text(r, status, text, len)
                  : reply_error(r, E_INTERNAL, NULL, "could not encode the answer");
    json_object_put(obj);
    return rc;
}

int reply_tx_result_why(struct req *r, enum db_status st, int status, struct json_object *out, const char *path,
                        const char *message)
{
    if (st == DB_OK)
        st = db_commit(r->db);
    if (st != DB_OK) {
        json_object_put(out);
        db_rollback(r->db);
        return reply_db_error_why(r, st, path, message);
    }
    if (out)
        reply_json(r, status, out);
    else
        reply_empty(r, status);
    return 0;
}

int reply_tx_result(struct req *r, enum db_status st, int status, struct json_object *out)
{
    return reply_tx_result_why(r, st, status, out, NULL, NULL);
}

struct json_object *name_body_or_reply(struct req *r, int max, const char **name)
{
    static const char *const keys[] = {"name", NULL};
    static const struct json_shape shape = JSON_FLAT_SHAPE(keys);
    struct json_object *body = json_body_object_or_reply(r, &shape);
    if (body && (json_only_keys_or_reply(r, body, keys) < 0 ||
                 json_string_or_reply(r, body, "name", JF_REQUIRED, max, name) < 0)) {
        json_object_put(body);
        body = NULL;
    }
    return body;
}
