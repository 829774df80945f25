/* Comparing two runs: GET /api/executions/{id}/compare/{other_id}. Both
 * must be readable by the caller (else 404, whichever it is). The router
 * checks {id}; {other_id} is a name parameter (a pattern may not name id
 * twice: OpenAPI's path templates need distinct names), checked here the
 * same way: not a UUID answers 404, as for {id}. Query parameters:
 * top (how many nodes the summary names) and diff_entries (state diff
 * entries per aligned pair). The work is in domain/compare_reads.c. */
#include "handlers/handlers.h"

#include "domain/compare_reads.h"
#include "http/errors.h"
#include "http/query.h"
#include "http/response.h"
#include "util/text.h"
#include "util/uuid.h"

/* An optional integer parameter in 1..max, def when absent. */
static int count_or_reply(struct req *r, const struct query *q, const char *name, int def, int max, int *out)
{
    const char *v = query_get(q, name);
    long long n;
    *out = def;
    if (!v)
        return 0;
    if (decimal_parse(v, max, &n) < 0 || n < 1)
        return reply_error(r, E_VALIDATION, name, "%s must be an integer from 1 to %d", name, max);
    *out = (int)n;
    return 0;
}

void handle_execution_compare(struct req *r)
{
    static const char *const allowed[] = {"top", "diff_entries", NULL};
    struct compare_options opt;
    struct query q;
    struct buf out;
    char other[UUID_STR_LEN + 1];
    if (!uuid_valid(r->params[1])) {
        reply_error(r, E_NOT_FOUND, NULL, "no such resource");
        return;
    }
    uuid_lower(r->params[1], other);
    if (query_parse_or_reply(r, allowed, &q) < 0)
        return;
    buf_init(&out);
    if (count_or_reply(r, &q, "top", COMPARE_TOP_DEFAULT, COMPARE_TOP_MAX, &opt.top) < 0 ||
        count_or_reply(r, &q, "diff_entries", COMPARE_DIFF_ENTRIES_DEFAULT, COMPARE_DIFF_ENTRIES_MAX,
                       &opt.diff_entries) < 0)
        goto done;
    enum db_status st = executions_compare(r->db, r->params[0], other, &opt, &out);
    if (st != DB_OK)
        reply_db_error(r, st);
    else
        reply_json_text(r, 200, out.data, out.len);
done:
    buf_free(&out);
    query_free(&q);
}
