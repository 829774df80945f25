/* Taking a run away: GET /api/executions/{id}/export (the run as an ingest
 * payload, to post elsewhere) and /api/executions/{id}/report (one HTML
 * file to attach to a bug report). Both are downloads: the headers name a
 * file, and are sent only once the run was found, so a missing run is the
 * usual JSON 404. */
#include "handlers/handlers.h"

#include <stdio.h>

#include "domain/execution_reads.h"
#include "domain/execution_report.h"
#include "http/errors.h"
#include "http/response.h"

/* Content-Disposition for the run in r->params[0] (a canonical UUID: the
 * router checked it), with the file's extension. */
static void attachment(struct req *r, const char *ext)
{
    char value[96];
    snprintf(value, sizeof value, "attachment; filename=\"agora-run-%s.%s\"", r->params[0], ext);
    reply_header(r, "Content-Disposition", value);
}

static int begin_export(void *ctx)
{
    struct req *r = ctx;
    attachment(r, "json");
    return reply_start(r, 200, "application/json");
}

/* The report may be opened where it was served: it needs its inline
 * styles and data: images, and nothing else (no script, no fetch). */
static int begin_report(void *ctx)
{
    struct req *r = ctx;
    attachment(r, "html");
    reply_header(r, "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    return reply_start(r, 200, "text/html; charset=utf-8");
}

static int write_reply(void *ctx, const char *data, size_t len)
{
    return reply_write(ctx, data, len);
}

void handle_execution_export(struct req *r)
{
    struct sink out = {.begin = begin_export, .write = write_reply, .ctx = r, .log_tag = r->request_id};
    enum db_status st = execution_export(r->db, r->params[0], &out);
    if (st != DB_OK)
        reply_db_error(r, st);
}

void handle_execution_report(struct req *r)
{
    struct sink out = {.begin = begin_report, .write = write_reply, .ctx = r, .log_tag = r->request_id};
    enum db_status st = execution_report(r->db, r->params[0], &out);
    if (st != DB_OK)
        reply_db_error(r, st);
}
