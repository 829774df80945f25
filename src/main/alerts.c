/* agora-alerts: evaluates the scheduled alert rules and delivers alerts to
 * their webhooks (README "Alerts", docs/DESIGN.md "Alerts").
 *
 *   AGORA_DATABASE_URL[_FILE]=... AGORA_URL=https://agora.example.com agora-alerts
 *
 * Any number may run against one database. Each delivery is claimed with
 * FOR UPDATE SKIP LOCKED (agora.alert_delivery_claim, sql/014) in a
 * transaction held open while it is sent, so two processes never send the
 * same one at once, and one killed mid-delivery releases it to the next,
 * which sends it again with the same alert id (receivers drop repeats by
 * the X-Agora-Alert-Id header). Window rules are evaluated every
 * AGORA_ALERTS_EVALUATE_SECONDS by agora.alert_evaluate_windows(), which
 * claims each window once whoever calls it.
 *
 * Where it connects: the URL's host is resolved here, each address is
 * checked (webhook_target.h: loopback, private, link-local and reserved
 * networks are refused unless AGORA_WEBHOOK_ALLOW names them), and curl is
 * pinned to the address checked (CURLOPT_RESOLVE), with the socket's
 * address checked again as it opens, so a second DNS answer cannot move it
 * (rebinding). No proxy, no redirects, http(s) only, a response body read
 * up to ALERT_RESPONSE_MAX. Logs name the host, never the URL's path or
 * query (a Slack webhook's path is its credential) nor a secret.
 *
 * SIGTERM, SIGINT: finishes the delivery in hand, then exits 0. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <libpq-fe.h>

#include "domain/alert_delivery.h"
#include "domain/webhook_target.h"
#include "ops/backoff.h"
#include "ops/config.h"
#include "ops/signals.h"

struct settings {
    char *db_url;
    const char *base_url;   /* the viewer, for links */
    unsigned allow;
    bool allow_http;
    long long poll_ms, evaluate_s, retry_s, timeout_s;
};

static void sleep_ms(long long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (!signals_stop_requested() && nanosleep(&t, &t) < 0 && errno == EINTR)
        ;
}

/* The first line of why res failed (PostgreSQL's full message repeats
 * the whole statement). */
static const char *primary_error(const PGresult *res)
{
    const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    return m ? m : "the connection failed";
}

/* Runs a statement without parameters that returns nothing; false on
 * failure (logged). */
static bool exec_ok(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(res);
    bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "agora-alerts: %s: %s", sql, PQerrorMessage(c));  /* a line, newline included */
    PQclear(res);
    return ok;
}

/* What one attempt came to. */
struct outcome {
    bool ok;
    bool refused;      /* the target is not allowed: no retry */
    long code;         /* HTTP status, 0 when none */
    char error[320];
};

struct sink {
    size_t got;
};

/* Reads at most ALERT_RESPONSE_MAX bytes of the answer, then stops the
 * transfer (curl reports a write error; the status is already known). */
static size_t cap_body(char *data, size_t size, size_t n, void *ctx)
{
    (void)data;
    struct sink *s = ctx;
    s->got += size * n;
    return s->got > ALERT_RESPONSE_MAX ? 0 : size * n;
}

/* The last check, as the socket opens: the address curl connects to is
 * one the policy allows (it can only be the pinned one). */
static curl_socket_t open_checked(void *ctx, curlsocktype purpose, struct curl_sockaddr *a)
{
    const unsigned *allow = ctx;
    (void)purpose;
    if (!webhook_addr_allowed(&a->addr, *allow))
        return CURL_SOCKET_BAD;
    return socket(a->family, a->socktype, a->protocol);
}

/* Resolves u's host and picks an allowed address; "host:port:address"
 * for CURLOPT_RESOLVE into pin. */
static int resolve(const struct webhook_url *u, unsigned allow, char *pin, size_t pin_len, struct outcome *o)
{
    struct addrinfo hints = {0}, *list = NULL;
    struct sockaddr_storage ss;
    socklen_t len;
    char addr[INET6_ADDRSTRLEN];
    const char *why;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = u->literal ? AI_NUMERICHOST : 0;
    int rc = getaddrinfo(u->host, NULL, &hints, &list);
    if (rc != 0) {
        snprintf(o->error, sizeof o->error, "cannot resolve %.253s: %.40s", u->host, gai_strerror(rc));
        return -1;
    }
    rc = alert_pick_address(list, allow, &ss, &len, &why);
    freeaddrinfo(list);
    if (rc < 0) {
        o->refused = strcmp(why, "the host has no address") != 0;
        snprintf(o->error, sizeof o->error, "refused: %s (AGORA_WEBHOOK_ALLOW)", why);
        return -1;
    }
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof addr);
        snprintf(pin, pin_len, "%s:%u:%s", u->host, u->port, addr);
    } else {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof addr);
        snprintf(pin, pin_len, "%s:%u:[%s]", u->host, u->port, addr);
    }
    return 0;
}

static void post(const struct settings *cfg, const char *url, const char *secret, const char *alert_id,
                 int attempt, const char *body, size_t len, struct outcome *o)
{
    struct webhook_url u;
    const char *why;
    char pin[WEBHOOK_HOST_MAX + 64], header[160];
    struct curl_slist *headers = NULL, *resolve_list = NULL;
    struct sink sink = {0};
    CURL *c = NULL;
    if (webhook_url_parse(url, cfg->allow_http, &u, &why) < 0) {
        o->refused = true;
        snprintf(o->error, sizeof o->error, "refused: %s", why);
        return;
    }
    if (resolve(&u, cfg->allow, pin, sizeof pin, o) < 0)
        return;
    if (!(c = curl_easy_init()) || !(resolve_list = curl_slist_append(NULL, pin)))
        goto no_memory;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    snprintf(header, sizeof header, "X-Agora-Alert-Id: %s", alert_id);
    headers = curl_slist_append(headers, header);
    snprintf(header, sizeof header, "X-Agora-Delivery-Attempt: %d", attempt);
    headers = curl_slist_append(headers, header);
    if (secret) {
        char sig[WEBHOOK_SIGNATURE_MAX];
        webhook_signature(secret, strlen(secret), (long long)time(NULL), body, len, sig);
        snprintf(header, sizeof header, "X-Agora-Signature: %s", sig);
        headers = curl_slist_append(headers, header);
        explicit_bzero(header, sizeof header);
    }
    if (!headers)
        goto no_memory;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve_list);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_checked);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, (void *)&cfg->allow);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)cfg->timeout_s);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)cfg->timeout_s);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "agora-alerts");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, cap_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &o->code);
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && o->code > 0))
        snprintf(o->error, sizeof o->error, "%s", curl_easy_strerror(rc));
    else if (o->code < 200 || o->code > 299)
        snprintf(o->error, sizeof o->error, "HTTP %ld", o->code);
    else
        o->ok = true;
    goto done;
no_memory:
    snprintf(o->error, sizeof o->error, "out of memory");
done:
    curl_slist_free_all(headers);
    curl_slist_free_all(resolve_list);
    curl_easy_cleanup(c);
}

/* Claims one due delivery, sends it, records the outcome, all in one
 * transaction. 1 when one was sent, 0 when none was due, -1 when the
 * connection failed. */
static int deliver_one(PGconn *db, const struct settings *cfg)
{
    if (!exec_ok(db, "BEGIN"))
        return -1;
    PGresult *res = PQexec(db, "SELECT id, alert_id, attempts, extract(epoch FROM created_at)::bigint,"
                               " extract(epoch FROM now())::bigint, url, secret, payload::text"
                               " FROM agora.alert_delivery_claim()");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) == 0) {
        bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
        if (!ok)
            fprintf(stderr, "agora-alerts: claim: %s\n", primary_error(res));
        PQclear(res);
        return exec_ok(db, ok ? "COMMIT" : "ROLLBACK") && ok ? 0 : -1;
    }
    const char *id = PQgetvalue(res, 0, 0), *alert_id = PQgetvalue(res, 0, 1);
    int attempt = atoi(PQgetvalue(res, 0, 2)) + 1;
    long long created = atoll(PQgetvalue(res, 0, 3)), now = atoll(PQgetvalue(res, 0, 4));
    const char *url = PQgetvalue(res, 0, 5), *secret = PQgetisnull(res, 0, 6) ? NULL : PQgetvalue(res, 0, 6);
    struct outcome o = {0};
    size_t len = 0;
    char *body = alert_body(PQgetvalue(res, 0, 7), cfg->base_url, &len);
    struct webhook_url u;
    const char *why;
    if (!body) {
        o.refused = true;
        snprintf(o.error, sizeof o.error, "the stored payload is not a JSON object");
    } else {
        post(cfg, url, secret, alert_id, attempt, body, len, &o);
    }
    free(body);
    long long next = 0;
    bool again = !o.ok && !o.refused && alert_next_try(created, now, attempt, cfg->retry_s, &next);
    char code[24], next_text[24];
    snprintf(code, sizeof code, "%ld", o.code);
    snprintf(next_text, sizeof next_text, "%lld", next);
    const char *params[5] = {id, o.ok ? "true" : "false", code, o.ok ? NULL : o.error, again ? next_text : NULL};
    bool named = webhook_url_parse(url, true, &u, &why) == 0;
    fprintf(stderr, "agora-alerts: alert %s to %s: %s (attempt %d)%s\n", alert_id, named ? u.host : "?",
            o.ok ? "delivered" : o.error, attempt, o.ok || again ? "" : "; gave up");
    /* params borrow from res (the claim): cleared only after. */
    PGresult *rec = PQexecParams(db,
                                 "SELECT agora.alert_delivery_record($1::bigint, $2::boolean, $3::integer, $4,"
                                 " to_timestamp($5::bigint))",
                                 5, NULL, params, NULL, NULL, 0);
    bool recorded = PQresultStatus(rec) == PGRES_TUPLES_OK;
    if (!recorded)
        fprintf(stderr, "agora-alerts: recording delivery %s: %s\n", id, primary_error(rec));
    PQclear(rec);
    PQclear(res);
    return exec_ok(db, recorded ? "COMMIT" : "ROLLBACK") && recorded ? 1 : -1;
}

static bool evaluate(PGconn *db)
{
    PGresult *res = PQexec(db, "SELECT agora.alert_evaluate_windows()");
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "agora-alerts: evaluating window rules: %s\n", primary_error(res));
    else if (atoi(PQgetvalue(res, 0, 0)) > 0)
        fprintf(stderr, "agora-alerts: window rules fired %s alerts\n", PQgetvalue(res, 0, 0));
    PQclear(res);
    return ok;
}

/* Works on one connection until it fails or we stop. */
static void serve(PGconn *db, const struct settings *cfg)
{
    struct timespec last = {0, 0};
    while (!signals_stop_requested()) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (last.tv_sec == 0 || now.tv_sec - last.tv_sec >= cfg->evaluate_s) {
            if (!evaluate(db))
                return;
            last = now;
        }
        int rc = 0;
        while (!signals_stop_requested() && (rc = deliver_one(db, cfg)) == 1)
            ;
        if (rc < 0 || PQstatus(db) != CONNECTION_OK)
            return;
        sleep_ms(cfg->poll_ms);
    }
}

static int load(struct settings *s, char *err, size_t errlen)
{
    size_t url_len;
    const char *why;
    memset(s, 0, sizeof *s);
    s->base_url = getenv("AGORA_URL");
    if (!s->base_url || !*s->base_url)
        s->base_url = "https://localhost";
    if (config_secret("AGORA_DATABASE_URL", config_getenv, NULL, true, (unsigned char **)&s->db_url, &url_len,
                      err, errlen) <= 0) {
        if (!err[0])
            snprintf(err, errlen, "AGORA_DATABASE_URL: required");
        return -1;
    }
    if (webhook_allow_parse(getenv("AGORA_WEBHOOK_ALLOW"), &s->allow, &why) < 0) {
        snprintf(err, errlen, "AGORA_WEBHOOK_ALLOW: %s", why);
        return -1;
    }
    const char *http = getenv("AGORA_WEBHOOK_ALLOW_HTTP");
    if (http && *http && strcmp(http, "on") != 0 && strcmp(http, "off") != 0) {
        snprintf(err, errlen, "AGORA_WEBHOOK_ALLOW_HTTP: must be on or off");
        return -1;
    }
    s->allow_http = http && strcmp(http, "on") == 0;
    if (config_number("AGORA_ALERTS_POLL_MS", 250, 10, 60000, config_getenv, NULL, &s->poll_ms, err, errlen) < 0 ||
        config_number("AGORA_ALERTS_EVALUATE_SECONDS", 15, 1, 3600, config_getenv, NULL, &s->evaluate_s, err,
                      errlen) < 0 ||
        config_number("AGORA_ALERTS_RETRY_SECONDS", 5, 1, 3600, config_getenv, NULL, &s->retry_s, err, errlen) < 0 ||
        config_number("AGORA_ALERTS_TIMEOUT_SECONDS", 10, 1, 120, config_getenv, NULL, &s->timeout_s, err, errlen) <
            0)
        return -1;
    return 0;
}

int main(void)
{
    struct settings cfg;
    char err[256] = "";
    if (load(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "agora-alerts: bad configuration: %s\n", err);
        free(cfg.db_url);
        return 2;
    }
    if (signals_install_stop(NULL, 0) < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "agora-alerts: cannot initialise\n");
        free(cfg.db_url);
        return 1;
    }
    fprintf(stderr, "agora-alerts: delivering (links to %s)\n", cfg.base_url);
    uint32_t delay = 0;
    while (!signals_stop_requested()) {
        struct timespec began, now;
        clock_gettime(CLOCK_MONOTONIC, &began);
        PGconn *db = PQconnectdb(cfg.db_url);
        if (PQstatus(db) == CONNECTION_OK)
            serve(db, &cfg);
        else
            fprintf(stderr, "agora-alerts: cannot connect to the database: %s", PQerrorMessage(db));
        PQfinish(db);
        if (signals_stop_requested())
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long lived = (now.tv_sec - began.tv_sec) * 1000LL + (now.tv_nsec - began.tv_nsec) / 1000000;
        delay = backoff_next_ms(delay, lived > 0 ? (uint64_t)lived : 0);
        fprintf(stderr, "agora-alerts: database connection lost; retrying in %u ms\n", delay);
        sleep_ms(delay);
    }
    fprintf(stderr, "agora-alerts: stopping\n");
    curl_global_cleanup();
    explicit_bzero(cfg.db_url, strlen(cfg.db_url));
    free(cfg.db_url);
    return 0;
}
