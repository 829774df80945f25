/* Summing the slots of the shared metrics block and writing the sum in the
 * Prometheus text exposition format 0.0.4: what GET /api/metrics answers.
 * Counters are summed over every slot, dead workers' included, so they
 * never go down; the in-flight gauge and the worker count only over live
 * ones. Histograms get _count from their buckets, so each is consistent
 * with itself even while workers write. */
#include "ops/metrics.h"

#include <inttypes.h>
#include <stdlib.h>

#include "ops/metrics_file.h"

struct totals {
    uint64_t requests[METRICS_MAX_ROUTES][METRICS_NSTATUS];
    uint64_t latency[METRICS_MAX_ROUTES][METRICS_BUCKETS + 1];
    uint64_t latency_sum_us[METRICS_MAX_ROUTES];
    uint64_t ingested[MT_COUNT];
    uint64_t db_errors[MDB_COUNT];
    uint64_t in_flight, claims, workers;
};

static void sum_slots(const struct metrics_block *m, struct totals *t)
{
    for (int i = 0; i < METRICS_SLOTS; i++) {
        const struct metrics_slot *s = &m->slots[i];
        for (int r = 0; r < METRICS_MAX_ROUTES; r++) {
            for (int k = 0; k < METRICS_NSTATUS; k++)
                t->requests[r][k] += metrics_load(&s->requests[r][k]);
            for (int b = 0; b <= METRICS_BUCKETS; b++)
                t->latency[r][b] += metrics_load(&s->latency[r][b]);
            t->latency_sum_us[r] += metrics_load(&s->latency_sum_us[r]);
        }
        for (int k = 0; k < MT_COUNT; k++)
            t->ingested[k] += metrics_load(&s->ingested[k]);
        for (int k = 0; k < MDB_COUNT; k++)
            t->db_errors[k] += metrics_load(&s->db_errors[k]);
        t->claims += metrics_load(&s->claims);
        /* A dead worker's counts stay; its gauge does not. */
        int32_t pid = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);
        if (pid != 0 && metrics_holder_alive(pid, metrics_load(&s->starttime))) {
            t->workers++;
            t->in_flight += metrics_load(&s->in_flight);
        }
    }
}

/* A label value in the exposition format: \ " and newline escaped. */
static void label_value(struct buf *out, const char *s)
{
    buf_putc(out, '"');
    for (; *s; s++) {
        switch (*s) {
        case '\\': buf_puts(out, "\\\\"); break;
        case '"': buf_puts(out, "\\\""); break;
        case '\n': buf_puts(out, "\\n"); break;
        default: buf_putc(out, *s);
        }
    }
    buf_putc(out, '"');
}

/* route="...",method="..." of route index r. */
static void route_labels(struct buf *out, const struct metrics_route *routes, int r)
{
    buf_puts(out, "route=");
    label_value(out, r == METRICS_UNMATCHED ? "unmatched" : routes[r].pattern);
    buf_puts(out, ",method=");
    label_value(out, r == METRICS_UNMATCHED ? "other" : routes[r].method);
}

static void family(struct buf *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_requests(struct buf *out, const struct totals *t, const struct metrics_route *routes, size_t nroutes)
{
    family(out, "agora_http_requests_total", "counter",
           "Requests answered by the workers, by route pattern (\"unmatched\": no route), method and status.");
    for (int r = 0; r < METRICS_MAX_ROUTES; r++) {
        if (r != METRICS_UNMATCHED && (size_t)r >= nroutes)
            continue;
        for (int k = 0; k < METRICS_NSTATUS; k++) {
            if (!t->requests[r][k])
                continue;
            buf_puts(out, "agora_http_requests_total{");
            route_labels(out, routes, r);
            if (k < METRICS_NSTATUS - 1)
                buf_printf(out, ",status=\"%d\"} %" PRIu64 "\n", metrics_status_codes[k], t->requests[r][k]);
            else
                buf_printf(out, ",status=\"other\"} %" PRIu64 "\n", t->requests[r][k]);
        }
    }
}

static void render_latency(struct buf *out, const struct totals *t, const struct metrics_route *routes, size_t nroutes)
{
    const char *name = "agora_http_request_duration_seconds";
    family(out, name, "histogram",
           "Time from accepting a request to handing its last byte to nginx, by route pattern and method.");
    for (int r = 0; r < METRICS_MAX_ROUTES; r++) {
        if (r != METRICS_UNMATCHED && (size_t)r >= nroutes)
            continue;
        uint64_t cum = 0;
        for (int b = 0; b <= METRICS_BUCKETS; b++)
            cum += t->latency[r][b];
        if (!cum)
            continue;
        cum = 0;
        for (int b = 0; b <= METRICS_BUCKETS; b++) {
            cum += t->latency[r][b];
            buf_printf(out, "%s_bucket{", name);
            route_labels(out, routes, r);
            buf_printf(out, ",le=\"%s\"} %" PRIu64 "\n", metrics_bucket_le[b], cum);
        }
        uint64_t us = t->latency_sum_us[r];
        buf_printf(out, "%s_sum{", name);
        route_labels(out, routes, r);
        buf_printf(out, "} %" PRIu64 ".%06" PRIu64 "\n", us / 1000000, us % 1000000);
        buf_printf(out, "%s_count{", name);
        route_labels(out, routes, r);
        buf_printf(out, "} %" PRIu64 "\n", cum);
    }
}

void metrics_render(const struct metrics_block *m, struct buf *out)
{
    struct totals *t = xcalloc(1, sizeof *t);
    const struct metrics_route *routes = m->routes;
    size_t nroutes = m->nroutes;
    sum_slots(m, t);
    render_requests(out, t, routes, nroutes);
    render_latency(out, t, routes, nroutes);
    family(out, "agora_http_requests_in_flight", "gauge", "Requests being served now, over all live workers.");
    buf_printf(out, "agora_http_requests_in_flight %" PRIu64 "\n", t->in_flight);
    family(out, "agora_ingested_rows_total", "counter", "Rows committed by ingests, by table.");
    for (int k = 0; k < MT_COUNT; k++)
        buf_printf(out, "agora_ingested_rows_total{table=\"%s\"} %" PRIu64 "\n", metrics_table_names[k], t->ingested[k]);
    family(out, "agora_db_errors_total", "counter",
           "Failed database connections and statements, by kind.");
    for (int k = 0; k < MDB_COUNT; k++)
        buf_printf(out, "agora_db_errors_total{kind=\"%s\"} %" PRIu64 "\n", metrics_db_kind_names[k], t->db_errors[k]);
    family(out, "agora_workers", "gauge", "Live worker processes holding a metrics slot.");
    buf_printf(out, "agora_workers %" PRIu64 "\n", t->workers);
    family(out, "agora_worker_starts_total", "counter",
           "Worker processes started since the metrics file was made; beyond agora_workers, restarts.");
    buf_printf(out, "agora_worker_starts_total %" PRIu64 "\n", t->claims);
    free(t);
}
