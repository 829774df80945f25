/* live_subscribers: holds many Server-Sent Events subscriptions open at
 * once and counts the messages each one receives (bench/live.sh).
 *
 *   live_subscribers BASE_URL CA_FILE PATHS_FILE [--http1.1] [--ramp N]
 *
 * PATHS_FILE holds one subscription path per line, each with its own
 * ticket (POST /api/live/tickets answers them: "/live/projects/<id>?ticket=
 * ..."). Every path gets its own TLS connection, as separate browsers
 * would (HTTP/2 by default, like them; --http1.1 for HTTP/1.1), asking for
 * text/event-stream. At most N subscriptions are being opened at a time
 * (default 64); the rest wait their turn.
 *
 * stderr: a line "ready OPEN FAILED SECONDS" once every subscription has
 * either opened (200 and its headers) or failed, then a status line each
 * second ("status open=... messages=... since_mark=...").
 * SIGUSR1: marks the start of the measured phase: from then on, each
 * subscription's messages are counted afresh (what came before, such as
 * the newest message Nchan hands a new subscriber, is left out).
 * SIGTERM or SIGINT: prints one JSON line with the totals on stdout and
 * exits: subscriptions opened, failed (by HTTP status), closed by the
 * server before the end, the time to open them (per subscription, ms),
 * the messages each received since the mark (min, max, sum: ingest
 * messages, a project channel's message counting the rows it holds), the
 * events nginx wrote to them (sum: one per message) and the client's own
 * CPU seconds.
 *
 * libcurl's multi interface on epoll: one thread, no busy loop, so the
 * client's own CPU stays small next to nginx's. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>

enum state { WAITING, OPENING, OPEN, DONE };

struct sub {
    CURL *easy;
    enum state state;
    long status;
    double added_ms, open_ms;
    /* SSE framing: the first bytes of the current line, whether the event
     * being read has a data line. */
    char head[5];
    size_t head_len;
    int line_start, has_data;
    /* Ingest messages in the event being read: a project channel's
     * message holds one row each (docs/LIVE.md section 3), counted as the
     * arrays right inside an array inside the top object (only "rows"
     * holds such: JSON scanned across reads, strings skipped); any other
     * message is one, found by the member every execution message has at
     * its top level. */
    size_t matched;
    unsigned long long in_event, rows;
    int depth, in_string, escaped;
    char outer[3];  /* the containers at depths 1 and 2 */
    unsigned long long messages, at_mark;      /* ingest messages */
    unsigned long long events, events_at_mark; /* what nginx wrote: one per message or batch */
};

static struct sub *subs;
static size_t nsubs, next_to_add, opening, open_now, failed, closed_early;
static int epfd, timeout_ms = -1;
static CURLM *multi;
static unsigned long long messages_total, bytes_total;
static volatile sig_atomic_t got_mark, got_stop;
static long statuses[600];

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        got_mark = 1;
    else
        got_stop = 1;
}

static const char MESSAGE_KEY[] = "\"workflow_nodes\"";

/* Counts complete events that carried a "data:" line (Nchan writes every
 * message so), and the ingest messages in them (at least one an event);
 * comments (": hi", pings) and id lines alone are not messages. */
static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct sub *s = ctx;
    size_t len = size * n;
    bytes_total += len;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (s->in_string) {
            if (s->escaped)
                s->escaped = 0;
            else if (c == '\\')
                s->escaped = 1;
            else if (c == '"')
                s->in_string = 0;
        } else if (c == '"') {
            s->in_string = 1;
        } else if (c == '[' || c == '{') {
            if (s->depth < 3)
                s->outer[s->depth] = c;
            if (++s->depth == 3 && c == '[' && s->outer[1] == '[')
                s->rows++;
        } else if ((c == ']' || c == '}') && s->depth > 0) {
            s->depth--;
        }
        /* The key's only quote is its first character: a mismatch restarts
         * the match at this character. */
        if (c == MESSAGE_KEY[s->matched]) {
            if (++s->matched == sizeof MESSAGE_KEY - 1) {
                s->in_event++;
                s->matched = 0;
            }
        } else {
            s->matched = c == MESSAGE_KEY[0];
        }
        if (c == '\r')
            continue;
        if (c == '\n') {
            if (s->line_start) { /* blank line: end of an event */
                if (s->has_data) {
                    unsigned long long k = s->rows ? s->rows : s->in_event ? s->in_event : 1;
                    s->messages += k;
                    messages_total += k;
                    s->events++;
                }
                s->has_data = 0;
                s->in_event = s->rows = 0;
                s->depth = s->in_string = s->escaped = 0;
            } else if (s->head_len == 5 && memcmp(s->head, "data:", 5) == 0) {
                s->has_data = 1;
            }
            s->line_start = 1;
            s->head_len = 0;
            continue;
        }
        s->line_start = 0;
        if (s->head_len < sizeof s->head)
            s->head[s->head_len++] = c;
    }
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct sub *s = ctx;
    size_t len = size * n;
    if (len <= 2 && (p[0] == '\r' || p[0] == '\n')) {
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
        if (s->status == 200 && s->state == OPENING) {
            s->state = OPEN;
            s->open_ms = now_ms() - s->added_ms;
            opening--;
            open_now++;
        }
    }
    return len;
}

static int on_socket(CURL *e, curl_socket_t fd, int what, void *uctx, void *sctx)
{
    (void)e;
    (void)uctx;
    struct epoll_event ev = {0};
    ev.data.fd = fd;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    }
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
    if (!sctx) {
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 && errno == EEXIST)
            epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
        curl_multi_assign(multi, fd, (void *)1);
    } else {
        epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
    }
    return 0;
}

static int on_timer(CURLM *m, long ms, void *ctx)
{
    (void)m;
    (void)ctx;
    timeout_ms = (int)ms;
    return 0;
}

static void add_some(size_t ramp)
{
    while (opening < ramp && next_to_add < nsubs) {
        struct sub *s = &subs[next_to_add++];
        s->state = OPENING;
        s->added_ms = now_ms();
        opening++;
        curl_multi_add_handle(multi, s->easy);
    }
}

static void reap(void)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct sub *s;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        if (s->state == OPEN) {
            closed_early++;
            open_now--;
        } else {
            curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
            failed++;
            opening--;
            statuses[s->status >= 0 && s->status < 600 ? s->status : 0]++;
            if (failed <= 5)
                fprintf(stderr, "live_subscribers: a subscription failed: HTTP %ld, %s\n", s->status,
                        curl_easy_strerror(m->data.result));
        }
        s->state = DONE;
        curl_multi_remove_handle(multi, s->easy);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(double opened_in_s)
{
    double *open = malloc(sizeof(double) * (nsubs ? nsubs : 1));
    size_t nopen = 0;
    unsigned long long lo = 0, hi = 0, sum = 0, events = 0;
    int first = 1;
    for (size_t i = 0; i < nsubs; i++) {
        struct sub *s = &subs[i];
        if (s->open_ms > 0)
            open[nopen++] = s->open_ms;
        if (s->state != OPEN)
            continue;
        unsigned long long k = s->messages - s->at_mark;
        sum += k;
        events += s->events - s->events_at_mark;
        if (first || k < lo)
            lo = k;
        if (first || k > hi)
            hi = k;
        first = 0;
    }
    qsort(open, nopen, sizeof *open, cmp_double);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                 (double)ru.ru_stime.tv_usec / 1e6;
#define PCT(p) (nopen ? open[(size_t)((double)(nopen - 1) * (p))] : 0.0)
    printf("{\"subscribers\":%zu,\"opened\":%zu,\"open_at_end\":%zu,\"failed\":%zu,\"closed_early\":%zu,"
           "\"open_all_s\":%.3f,\"open_ms_p50\":%.1f,\"open_ms_p99\":%.1f,\"open_ms_max\":%.1f,"
           "\"messages_min\":%llu,\"messages_max\":%llu,\"messages_sum\":%llu,\"events_sum\":%llu,"
           "\"bytes\":%llu,\"cpu_s\":%.2f,"
           "\"failed_by_status\":{",
           nsubs, nopen, open_now, failed, closed_early, opened_in_s, PCT(0.5), PCT(0.99),
           nopen ? open[nopen - 1] : 0.0, lo, hi, sum, events, bytes_total, cpu);
    const char *sep = "";
    for (int st = 0; st < 600; st++)
        if (statuses[st]) {
            printf("%s\"%d\":%ld", sep, st, statuses[st]);
            sep = ",";
        }
    printf("}}\n");
    fflush(stdout);
    free(open);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: live_subscribers BASE_URL CA_FILE PATHS_FILE [--http1.1] [--ramp N]\n");
        return 2;
    }
    const char *base = argv[1], *ca = argv[2];
    long version = CURL_HTTP_VERSION_2TLS;
    size_t ramp = 64;
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--http1.1") == 0)
            version = CURL_HTTP_VERSION_1_1;
        else if (strcmp(argv[i], "--ramp") == 0 && i + 1 < argc)
            ramp = (size_t)strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "live_subscribers: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    FILE *f = fopen(argv[3], "r");
    if (!f) {
        perror(argv[3]);
        return 1;
    }
    /* Every subscription's state has its address for good (libcurl keeps
     * pointers to it): the array is sized once, from the line count. */
    char line[1024];
    size_t lines = 0;
    while (fgets(line, sizeof line, f))
        lines++;
    rewind(f);
    subs = calloc(lines ? lines : 1, sizeof *subs);
    if (!subs) {
        fprintf(stderr, "live_subscribers: out of memory\n");
        return 1;
    }
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: text/event-stream");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    while (nsubs < lines && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        struct sub *s = &subs[nsubs++];
        s->line_start = 1;
        char url[2048];
        snprintf(url, sizeof url, "%s%s", base, line);
        s->easy = curl_easy_init();
        curl_easy_setopt(s->easy, CURLOPT_URL, url);
        curl_easy_setopt(s->easy, CURLOPT_CAINFO, ca);
        curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(s->easy, CURLOPT_HTTP_VERSION, version);
        curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, s);
        curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
        curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT, 30L);
        /* A connection of its own, never shared with another subscription */
        curl_easy_setopt(s->easy, CURLOPT_FRESH_CONNECT, 1L);
    }
    fclose(f);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    epfd = epoll_create1(0);
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)nsubs + 16);

    double start = now_ms(), last_status = start, opened_in_s = -1;
    int running = 0;
    add_some(ramp);
    curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    struct epoll_event evs[256];
    while (!got_stop) {
        int wait = timeout_ms < 0 || timeout_ms > 200 ? 200 : timeout_ms;
        int n = epoll_wait(epfd, evs, 256, wait);
        if (n < 0 && errno != EINTR) {
            perror("epoll_wait");
            break;
        }
        if (n <= 0) {
            curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
        } else {
            for (int i = 0; i < n; i++) {
                int mask = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                           (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                           (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
                curl_multi_socket_action(multi, evs[i].data.fd, mask, &running);
            }
        }
        reap();
        add_some(ramp);
        if (got_mark) {
            got_mark = 0;
            for (size_t i = 0; i < nsubs; i++) {
                subs[i].at_mark = subs[i].messages;
                subs[i].events_at_mark = subs[i].events;
            }
            fprintf(stderr, "marked\n");
        }
        double t = now_ms();
        if (opened_in_s < 0 && next_to_add == nsubs && opening == 0) {
            opened_in_s = (t - start) / 1e3;
            fprintf(stderr, "ready %zu %zu %.3f\n", open_now, failed, opened_in_s);
        }
        if (t - last_status >= 1000) {
            unsigned long long since = 0;
            for (size_t i = 0; i < nsubs; i++)
                since += subs[i].messages - subs[i].at_mark;
            fprintf(stderr, "status open=%zu opening=%zu failed=%zu closed=%zu messages=%llu since_mark=%llu\n",
                    open_now, opening, failed, closed_early, messages_total, since);
            last_status = t;
        }
    }
    report(opened_in_s);
    for (size_t i = 0; i < nsubs; i++) {
        if (subs[i].state == OPEN || subs[i].state == OPENING)
            curl_multi_remove_handle(multi, subs[i].easy);
        curl_easy_cleanup(subs[i].easy);
    }
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
    curl_global_cleanup();
    free(subs);
    return 0;
}
