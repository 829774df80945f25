/* What becomes of a payload once its outcome is known. Stored: a drained
 * payload leaves the spool. Refused: reported with the server's reason
 * and set aside in the spool's rejected/ folder, never retried. Not sent:
 * kept in the spool (--spool), or listed. Each is counted for the summary
 * and the exit code; a local step that fails (the spool cannot be
 * written) is counted as a local error. */
#include "main/upload.h"

#include <errno.h>
#include <pthread.h>

/* What becomes of a payload once its outcome is known: the line to say
 * (when print), and whether a local step failed. */
struct fate {
    struct buf msg;
    bool print, failed;
};

/* Adds "SEP WHAT DIR: <errno's text>" for a local step that failed. */
static void fail_step(struct fate *f, const char *sep, const char *what, const char *dir)
{
    char es[128];
    f->print = f->failed = true;
    buf_printf(&f->msg, "%s %s %s: %s", sep, what, dir, error_text(errno, es, sizeof es));
}

/* Stored: a drained payload leaves the spool. */
static void fate_stored(struct run *run, const struct job *j, const struct ingest_answer *a, struct fate *f)
{
    f->print = run->opt->verbose;
    buf_printf(&f->msg, "%s: stored as %s (%ld%s)", j->label, a->execution_id[0] ? a->execution_id : "-", a->status,
               a->closed ? ", the execution was already closed" : a->replayed ? ", replayed" : "");
    /* Should the removal fail, the next drain sends it again, replayed. */
    if (j->spool_name && spool_remove(run->spool_dir, j->spool_name) < 0)
        fail_step(f, ";", "cannot remove it from", run->spool_dir);
}

/* Refused: reported; set aside in rejected/ when there is a spool (a
 * drained payload is moved there, another is copied with its reason). */
static void fate_refused(struct run *run, const struct job *j, const struct ingest_answer *a, struct fate *f)
{
    const char *dir = run->spool_dir;
    char name[SPOOL_NAME_MAX];
    struct buf reason;
    buf_init(&reason);
    f->print = true;
    buf_printf(&f->msg, "%s: refused: ", j->label);
    ingest_answer_describe(a, &f->msg);
    ingest_answer_json(a, j->label, &reason);
    if (j->spool_name) {
        if (spool_reject(dir, j->spool_name, reason.data, reason.len) == 0)
            buf_printf(&f->msg, "; moved to %s/%s/%s", dir, SPOOL_REJECTED, j->spool_name);
        else
            fail_step(f, ";", "it stays pending: cannot move it aside in", dir);
    } else if (dir) {
        if (spool_put_rejected(dir, j->body.data ? j->body.data : "", j->body.len, reason.data, reason.len, name) == 0)
            buf_printf(&f->msg, "; set aside as %s/%s/%s", dir, SPOOL_REJECTED, name);
        else
            fail_step(f, ";", "cannot set it aside in", dir);
    }
    buf_free(&reason);
}

/* Not sent: kept in the spool when there is one (a drained payload is
 * already there), listed otherwise. Returns true when it is kept. */
static bool fate_unsent(struct run *run, const struct job *j, struct fate *f)
{
    const char *dir = run->spool_dir;
    char name[SPOOL_NAME_MAX];
    if (j->spool_name)
        return true;
    if (!dir) {
        f->print = !run->opt->quiet || j->from_stdin;
        buf_printf(&f->msg, "%s: not sent%s", j->label,
                   j->from_stdin ? " (the payload read from standard input is lost: use --spool DIR to keep it)" : "");
        return false;
    }
    if (spool_put(dir, j->body.data ? j->body.data : "", j->body.len, name) < 0) {
        buf_printf(&f->msg, "%s: not sent%s", j->label, j->from_stdin ? " and lost" : "");
        fail_step(f, ",", "and cannot be kept in", dir);
        return false;
    }
    f->print = run->opt->verbose;
    buf_printf(&f->msg, "%s: not sent; kept as %s/%s", j->label, dir, name);
    return true;
}

void settle(struct run *run, const struct job *j, enum outcome o, const struct ingest_answer *a)
{
    struct fate f = {.print = false, .failed = false};
    bool kept = false;
    buf_init(&f.msg);
    if (o == OUT_STORED)
        fate_stored(run, j, a, &f);
    else if (o == OUT_REFUSED)
        fate_refused(run, j, a, &f);
    else
        kept = fate_unsent(run, j, &f);

    pthread_mutex_lock(&run->mu);
    run->done++;
    run->failed += f.failed;
    if (o == OUT_STORED) {
        run->stored++;
        run->replayed += a->replayed;
        run->closed_runs += a->closed;
    } else if (o == OUT_REFUSED) {
        run->refused++;
    } else if (kept) {
        run->kept++;
    } else if (!f.failed) {
        run->unsent++;
    }
    if (f.print)
        say_locked(run, "%s", f.msg.data);
    else
        draw_bar(run, run->done == run->total);
    pthread_mutex_unlock(&run->mu);
    buf_free(&f.msg);
}
