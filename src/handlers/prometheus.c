/* GET /api/metrics: the counters of every worker, summed, in Prometheus
 * text format 0.0.4. No token: nginx answers it only to 127.0.0.1 and ::1
 * (nginx/agora.conf.in), so Prometheus on the same host scrapes it. A
 * worker whose metrics block could not be set up answers 503 (the reason
 * is in its log). */
#include "handlers/handlers.h"

#include "http/errors.h"
#include "ops/metrics.h"
#include "http/response.h"

void handle_metrics(struct req *r)
{
    const struct metrics_block *m = metrics_installed();
    if (!m) {
        reply_error(r, E_UNAVAILABLE, NULL, "metrics are not available on this worker; see the worker log");
        return;
    }
    struct buf text;
    buf_init(&text);
    metrics_render(m, &text);
    if (reply_start(r, 200, METRICS_CONTENT_TYPE) == 0)
        reply_write(r, text.data, text.len);
    buf_free(&text);
}
