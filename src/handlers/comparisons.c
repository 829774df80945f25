/* Comparing two runs: GET /api/executions/{a}/compare/{b}. Both must be
 * readable by the caller (else 404, whichever it is). Query parameters:
 * top (how many nodes the summary names) and diff_entries (state diff
 * entries per aligned pair). The work is in domain/compare_reads.c. */
#include "handlers/handlers.h"

#include "domain/compare_reads.h"
#include "http/errors.h"
#include "http/query.h"
#include "http/response.h"
#include "util/text.h"

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
    buf_init(&out);
    if (query_parse_or_reply(r, allowed, &q) < 0)
        return;
    if (count_or_reply(r, &q, "top", COMPARE_TOP_DEFAULT, COMPARE_TOP_MAX, &opt.top) < 0 ||
        count_or_reply(r, &q, "diff_entries", COMPARE_DIFF_ENTRIES_DEFAULT, COMPARE_DIFF_ENTRIES_MAX,
                       &opt.diff_entries) < 0)
        goto done;
    enum db_status st = executions_compare(r->db, r->params[0], r->params[1], &opt, &out);
    if (st != DB_OK)
        reply_db_error(r, st);
    else
        reply_json_text(r, 200, out.data, out.len);
done:
    buf_free(&out);
    query_free(&q);
}
