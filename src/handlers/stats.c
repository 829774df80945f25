/* GET /api/workflows/{id}/stats and GET /api/projects/{id}/stats: the
 * window's parameters (since, until: RFC 3339; bucket: hour or day)
 * checked here, the window's rules and the reading in domain/stats.h. */
#include "handlers/handlers.h"

#include <string.h>
#include <time.h>

#include "domain/stats.h"
#include "http/errors.h"
#include "http/query.h"
#include "ops/config.h"
#include "util/timestamp.h"

/* An optional timestamp parameter: 0 with *out NULL or set, or -1 after
 * replying 422. */
static int time_or_reply(struct req *r, const struct query *q, const char *name, int64_t *store,
                         const int64_t **out)
{
    const char *v = query_get(q, name);
    *out = NULL;
    if (!v)
        return 0;
    if (ts_parse(v, strlen(v), store) < 0)
        return reply_error(r, E_VALIDATION, name, "%s must be an RFC 3339 timestamp", name);
    *out = store;
    return 0;
}

static void stats(struct req *r, enum stats_scope scope)
{
    static const char *const params[] = {"since", "until", "bucket", NULL};
    struct json_object *out = NULL;
    struct stats_window w;
    struct query q;
    struct timespec now;
    int64_t since, until;
    const int64_t *since_p, *until_p;
    const char *path, *why;
    if (query_parse_or_reply(r, params, &q) < 0)
        return;
    if (time_or_reply(r, &q, "since", &since, &since_p) < 0 || time_or_reply(r, &q, "until", &until, &until_p) < 0)
        goto done;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0) {
        reply_error(r, E_INTERNAL, NULL, "internal error");
        goto done;
    }
    if (stats_window_make(since_p, until_p, query_get(&q, "bucket"), (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000,
                          &w, &path, &why) < 0) {
        reply_error(r, E_VALIDATION, path, "%s", why);
        goto done;
    }
    enum db_status st = stats_read(r->db, r->read_db, r->cfg->read_wait_ms, &r->who, scope, r->params[0], &w, &out);
    reply_tx_result(r, st, 200, out);
done:
    query_free(&q);
}

void handle_workflow_stats(struct req *r)
{
    stats(r, STATS_WORKFLOW);
}

void handle_project_stats(struct req *r)
{
    stats(r, STATS_PROJECT);
}
