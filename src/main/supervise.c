/* agora-supervise: keeps N FastCGI worker processes running on one
 * listening socket, for as long as it runs.
 *
 *   spawn-fcgi -s SOCKET -- agora-supervise -n N -- agora-worker [ARGS...]
 *
 * spawn-fcgi opens the socket and execs this program with it as fd 0. It
 * forks N workers, which inherit fd 0 and accept on it. A worker that dies,
 * whatever the cause, is started again in its slot after a delay that
 * doubles with each quick death: 100 ms, 200 ms, ... up to 30 s, back to
 * 100 ms once a worker of that slot lived 10 s (src/ops/backoff.c). Each death
 * is logged on stderr: slot, pid, exit status or signal, the next delay.
 *
 * With -S it keeps any program running the same way, without a socket:
 * run.sh starts agora-live (src/main/live.c) under it.
 *
 * SIGTERM, SIGINT or SIGQUIT: every worker gets SIGTERM (it finishes the
 * request in hand and exits), none is started again, and once all have
 * exited the supervisor exits 0. Workers get SIGTERM from the kernel too
 * when the supervisor itself dies (PR_SET_PDEATHSIG), so none outlives it
 * holding the socket.
 *
 * Why not Debian's multiwatch, which did this before: it gives a slot up
 * after 3 deaths within 10 s and exits 0 once every slot has given up, so
 * a few quick crashes (or kills) left the service down for good, and a
 * clean exit is not what systemd's Restart=on-failure restarts. Here a
 * slot is never given up; the backoff keeps a worker that dies at once
 * from spinning (docs/DESIGN.md, "Processes"). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ops/backoff.h"

#define MAX_WORKERS 1024

struct slot {
    pid_t pid;          /* the running worker, 0 while none */
    uint64_t since_ms;  /* when it started (pid set) */
    uint64_t due_ms;    /* when to start one (pid 0) */
    uint32_t delay_ms;  /* the delay waited before the last start */
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
    va_list ap;
    char line[512];
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "agora-supervise: %s\n", line);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        return 0; /* cannot fail with CLOCK_MONOTONIC on Linux */
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_sigchld(int sig)
{
    (void)sig; /* only there so SIGCHLD is never discarded; sigtimedwait takes it */
}

/* Blocks the signals the main loop waits for (into *waited) and ignores
 * SIGPIPE (stderr may be a pipe to journald). 0, or -1 with errno. */
static int setup_signals(sigset_t *waited)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_sigchld;
    if (sigaction(SIGCHLD, &sa, NULL) < 0)
        return -1;
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) < 0)
        return -1;
    sigemptyset(waited);
    sigaddset(waited, SIGCHLD);
    sigaddset(waited, SIGTERM);
    sigaddset(waited, SIGINT);
    sigaddset(waited, SIGQUIT);
    return sigprocmask(SIG_BLOCK, waited, NULL);
}

/* In the child between fork and exec: no blocked signal, SIGPIPE back to
 * its default, SIGTERM when the supervisor dies. Never returns. */
static _Noreturn void exec_worker(char **argv, pid_t parent)
{
    sigset_t none;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&none);
    if (sigaction(SIGPIPE, &sa, NULL) < 0 || sigprocmask(SIG_SETMASK, &none, NULL) < 0 ||
        prctl(PR_SET_PDEATHSIG, SIGTERM) < 0) {
        fprintf(stderr, "agora-supervise: cannot prepare worker: %s\n", strerror(errno));
        _exit(127);
    }
    if (getppid() != parent) /* the supervisor died before prctl */
        _exit(0);
    execvp(argv[0], argv);
    fprintf(stderr, "agora-supervise: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Forks a worker into slot i. When fork fails the slot waits its next delay
 * as if the worker had died at once. */
static void start_worker(struct slot *slots, int i, char **argv)
{
    struct slot *s = &slots[i];
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        exec_worker(argv, parent);
    uint64_t now = now_ms();
    if (pid < 0) {
        s->delay_ms = backoff_next_ms(s->delay_ms, 0);
        s->due_ms = now + s->delay_ms;
        say("worker %d: fork failed: %s; retrying in %.1f s", i + 1, strerror(errno), s->delay_ms / 1000.0);
        return;
    }
    s->pid = pid;
    s->since_ms = now;
    say("worker %d started (pid %d)", i + 1, (int)pid);
}

/* "TERM", "KILL", ... ("?" for a number glibc has no name for). */
static const char *signame(int sig)
{
    const char *name = sigabbrev_np(sig);
    return name ? name : "?";
}

/* "exited with status N" or "was killed by signal N (SIGNAME)". */
static void describe_status(int status, char *out, size_t outlen)
{
    if (WIFEXITED(status))
        snprintf(out, outlen, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, outlen, "was killed by signal %d (SIG%s)%s", WTERMSIG(status), signame(WTERMSIG(status)),
                 WCOREDUMP(status) ? ", core dumped" : "");
    else
        snprintf(out, outlen, "ended with wait status 0x%x", (unsigned)status);
}

/* Reaps every worker that has ended, logs it, and (unless stopping)
 * schedules its slot's restart. */
static void reap(struct slot *slots, int n, bool stopping)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid == 0)
            return;
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            if (errno != ECHILD)
                say("waitpid failed: %s", strerror(errno));
            return;
        }
        int i;
        for (i = 0; i < n && slots[i].pid != pid; i++)
            ;
        if (i == n)
            continue; /* not a worker of ours */
        struct slot *s = &slots[i];
        uint64_t now = now_ms();
        uint64_t lived = now - s->since_ms;
        char how[128];
        describe_status(status, how, sizeof how);
        s->pid = 0;
        if (stopping) {
            say("worker %d (pid %d) %s", i + 1, (int)pid, how);
            continue;
        }
        s->delay_ms = backoff_next_ms(s->delay_ms, lived);
        s->due_ms = now + s->delay_ms;
        say("worker %d (pid %d) %s after %.1f s; restarting in %.1f s", i + 1, (int)pid, how, lived / 1000.0,
            s->delay_ms / 1000.0);
    }
}

/* SIGTERM to every running worker. */
static void stop_workers(const struct slot *slots, int n)
{
    for (int i = 0; i < n; i++)
        if (slots[i].pid > 0 && kill(slots[i].pid, SIGTERM) < 0 && errno != ESRCH)
            say("cannot signal worker %d (pid %d): %s", i + 1, (int)slots[i].pid, strerror(errno));
}

static int running(const struct slot *slots, int n)
{
    int c = 0;
    for (int i = 0; i < n; i++)
        c += slots[i].pid > 0;
    return c;
}

/* Starts the workers whose time has come; returns how long until the next
 * one is due in ms, or -1 when none is waiting. */
static int64_t start_due(struct slot *slots, int n, char **argv)
{
    int64_t wait = -1;
    for (int i = 0; i < n; i++) {
        if (slots[i].pid > 0)
            continue;
        uint64_t now = now_ms();
        if (slots[i].due_ms <= now) {
            start_worker(slots, i, argv);
            if (slots[i].pid > 0)
                continue;
        }
        int64_t left = (int64_t)(slots[i].due_ms - now_ms());
        if (left < 0)
            left = 0;
        if (wait < 0 || left < wait)
            wait = left;
    }
    return wait;
}

/* The main loop: start, wait for a signal or the next due start, reap.
 * Returns the exit status. */
static int supervise(int n, char **argv, const sigset_t *waited)
{
    int rc = 1;
    bool stopping = false;
    struct slot *slots = calloc((size_t)n, sizeof *slots);
    if (!slots) {
        say("out of memory");
        goto fail;
    }
    for (;;) {
        int64_t wait = stopping ? -1 : start_due(slots, n, argv);
        if (stopping && running(slots, n) == 0)
            break;
        siginfo_t info;
        int sig;
        if (wait < 0) {
            sig = sigwaitinfo(waited, &info);
        } else {
            struct timespec ts = {.tv_sec = wait / 1000, .tv_nsec = (wait % 1000) * 1000000};
            sig = sigtimedwait(waited, &info, &ts);
        }
        if (sig < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            say("waiting for signals failed: %s", strerror(errno));
            stop_workers(slots, n);
            goto fail;
        }
        if (sig == SIGCHLD) {
            reap(slots, n, stopping);
        } else if (!stopping) {
            stopping = true;
            say("SIG%s: stopping %d worker(s)", signame(sig), running(slots, n));
            stop_workers(slots, n);
        }
    }
    say("stopped");
    rc = 0;
fail:
    free(slots);
    return rc;
}

static void usage(FILE *to)
{
    fprintf(to, "usage: agora-supervise -n WORKERS [-S] [--] PROGRAM [ARGS...]\n"
                "  fd 0 must be the listening socket (spawn-fcgi -- agora-supervise ...)\n"
                "  -S: the program takes no socket (agora-live); fd 0 is not checked\n");
}

int main(int argc, char **argv)
{
    long n = 0;
    int opt;
    bool socketless = false;
    while ((opt = getopt(argc, argv, "+n:Sh")) != -1) {
        char *end;
        switch (opt) {
        case 'n':
            errno = 0;
            n = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || n < 1 || n > MAX_WORKERS) {
                fprintf(stderr, "agora-supervise: -n takes a number of workers from 1 to %d, not '%s'\n",
                        MAX_WORKERS, optarg);
                return 2;
            }
            break;
        case 'S':
            socketless = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (n == 0 || optind >= argc) {
        usage(stderr);
        return 2;
    }
    int listening = 0;
    socklen_t len = sizeof listening;
    if (!socketless && (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)) {
        fprintf(stderr, "agora-supervise: fd 0 is not a listening socket: start it under spawn-fcgi\n");
        return 2;
    }
    sigset_t waited;
    if (setup_signals(&waited) < 0) {
        fprintf(stderr, "agora-supervise: cannot set up signals: %s\n", strerror(errno));
        return 1;
    }
    return supervise((int)n, argv + optind, &waited);
}
