/* What agora-upload tells the user on stderr: one line per thing worth
 * saying (prefixed "agora-upload: "), the progress bar under them (on a
 * terminal, for several payloads), and the closing summary. The lines and
 * the bar come from every thread, under the run's mutex. */
#include "main/upload.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *error_text(int err, char *space, size_t size)
{
    return strerror_r(err, space, size);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

void draw_bar(struct run *run, bool force)
{
    if (!run->bar || (!force && seconds_since(&run->drawn) < 0.1))
        return;
    clock_gettime(CLOCK_MONOTONIC, &run->drawn);
    enum { WIDTH = 24 };
    char bar[WIDTH + 1];
    size_t fill = run->total ? run->done * WIDTH / run->total : WIDTH;
    for (size_t i = 0; i < WIDTH; i++)
        bar[i] = i < fill ? '#' : '-';
    bar[WIDTH] = '\0';
    double secs = seconds_since(&run->started);
    char line[256];
    int n = snprintf(line, sizeof line, "[%s] %zu/%zu  stored %zu  refused %zu  kept %zu  %.0f/s%s%s", bar,
                     run->done, run->total, run->stored, run->refused, run->kept + run->unsent,
                     secs > 0 ? (double)run->done / secs : 0.0, run->retrying ? "  retrying: " : "",
                     run->retrying ? run->retry_note : "");
    if (n < 0)
        return;
    if (run->columns > 1 && n >= run->columns)
        line[run->columns - 1] = '\0';
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
}

void clear_bar(struct run *run)
{
    if (run->bar)
        fputs("\r\033[K", stderr);
}

void say_locked(struct run *run, const char *fmt, ...)
{
    va_list ap;
    clear_bar(run);
    fputs("agora-upload: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    draw_bar(run, true);
}

void summary(struct run *run)
{
    const char *dir = run->spool_dir;
    double secs = seconds_since(&run->started);
    struct buf s;
    buf_init(&s);
    buf_printf(&s, "%zu payload%s: %zu stored", run->total, run->total == 1 ? "" : "s", run->stored);
    if (run->replayed && run->closed_runs)
        buf_printf(&s, " (%zu replayed, %zu to closed executions)", run->replayed, run->closed_runs);
    else if (run->replayed || run->closed_runs)
        buf_printf(&s, " (%zu %s)", run->replayed + run->closed_runs,
                   run->replayed ? "replayed" : "to closed executions");
    if (run->refused)
        buf_printf(&s, ", %zu refused", run->refused);
    if (run->kept)
        buf_printf(&s, ", %zu kept in %s", run->kept, dir);
    if (run->unsent)
        buf_printf(&s, ", %zu not sent", run->unsent);
    if (run->failed)
        buf_printf(&s, ", %zu local error%s", run->failed, run->failed == 1 ? "" : "s");
    buf_printf(&s, "; %.1f s, %.1f payloads/s", secs, secs > 0 ? (double)run->total / secs : 0.0);
    clear_bar(run);
    fprintf(stderr, "agora-upload: %s\n", s.data);
    buf_free(&s);
}
