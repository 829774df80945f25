/* The worker's configuration: read once at start from the environment,
 * validated, and then read-only for the life of the process. A bad value
 * stops the process with a message naming the variable. */
#ifndef AGORA_CONFIG_H
#define AGORA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* AGORA_STALE_MINUTES when unset. */
#define CONFIG_STALE_MINUTES_DEFAULT 60

/* Live monitoring (docs/LIVE.md): AGORA_LIVE_TICKET_SECONDS and
 * AGORA_LIVE_REPLAY_SECONDS when unset. The replay window is how long
 * nginx keeps a channel's messages (nchan_message_timeout, the same
 * setting in run.sh). */
#define CONFIG_LIVE_TICKET_SECONDS_DEFAULT 30
#define CONFIG_LIVE_REPLAY_SECONDS_DEFAULT 300

enum jwt_pin { PIN_HS256, PIN_RS256, PIN_ES256 };

struct config {
    char *database_url;        /* AGORA_DATABASE_URL[_FILE]; NULL when unset (the worker refuses to start) */
    char *read_database_url;   /* AGORA_READ_DATABASE_URL[_FILE]: a hot standby for the read routes; NULL: none */
    long read_wait_ms;         /* AGORA_READ_WAIT_MS: how long a read waits for the standby to catch up
                                  before it goes to the primary */
    enum jwt_pin jwt_alg;      /* AGORA_JWT_ALG: HS256 (default), RS256, ES256 */
    unsigned char *jwt_key;    /* HS256: the secret; RS256/ES256: PEM public key */
    size_t jwt_key_len;
    char *jwt_audience;        /* AGORA_JWT_AUDIENCE, NULL when not checked */
    char *jwt_issuer;          /* AGORA_JWT_ISSUER, NULL when not checked */
    long jwt_leeway_s;         /* AGORA_JWT_LEEWAY_SECONDS, clock skew allowed */
    size_t max_body_bytes;     /* AGORA_MAX_BODY_BYTES */
    long max_items;            /* AGORA_MAX_ITEMS, per kind of item per payload */
    int max_depth;             /* AGORA_MAX_JSON_DEPTH */
    size_t max_string_bytes;   /* AGORA_MAX_STRING_BYTES */
    long statement_timeout_ms; /* AGORA_STATEMENT_TIMEOUT_MS */
    long connect_timeout_s;    /* AGORA_DB_CONNECT_TIMEOUT_SECONDS */
    long stale_minutes;        /* AGORA_STALE_MINUTES: a running execution without ingest
                                  for this long reads as stale */
    long live_ticket_s;        /* AGORA_LIVE_TICKET_SECONDS: a live ticket's lifetime */
    long live_replay_s;        /* AGORA_LIVE_REPLAY_SECONDS: older message ids must resync */
    char *metrics_file;        /* AGORA_METRICS_FILE, else $AGORA_VAR/run/metrics; NULL: no metrics */
    bool access_log;           /* AGORA_ACCESS_LOG: on (default) or off */
    char *webhook_allow;       /* AGORA_WEBHOOK_ALLOW as given, NULL when unset: the networks besides public
                                  ones alert webhooks may reach (the programs check it with
                                  webhook_allow_parse, domain/webhook_target.h, at start) */
    bool webhook_allow_http;   /* AGORA_WEBHOOK_ALLOW_HTTP: on or off (default): http:// webhook URLs */
};

/* Looks a variable up; returns NULL when unset. getenv fits; tests pass
 * their own table. */
typedef const char *(*config_getter)(const char *name, void *ctx);

/* Fills cfg from get(). Returns 0, or -1 with a one-line message naming the
 * variable in err. The secrets, AGORA_DATABASE_URL and AGORA_JWT_SECRET, are
 * read through config_secret (so each may be a _FILE); public keys from
 * AGORA_JWT_PUBLIC_KEY_FILE; no value ever appears in err. On failure cfg
 * holds nothing to free. */
int config_load(struct config *cfg, config_getter get, void *ctx, char *err, size_t errlen);
void config_free(struct config *cfg);

/* A secret setting: NAME itself, or the content of the file NAME_FILE
 * names (systemd's LoadCredential=, Docker and Kubernetes secrets), with one
 * trailing newline ("\n" or "\r\n") dropped. Both set, an unreadable or
 * empty file, or (when text) a file holding a NUL byte is an error naming
 * the variable and the file but never the value. Returns 1 with *out (NUL-
 * terminated, *len bytes, the caller's to free) when set, 0 with *out NULL
 * when neither is set, -1 with a one-line message in err. */
int config_secret(const char *name, config_getter get, void *ctx, bool text, unsigned char **out, size_t *len,
                  char *err, size_t errlen);
/* A whole-number setting outside struct config (agora-live's
 * AGORA_LIVE_BATCH_MS): NAME's value, strictly parsed, or def when unset or
 * empty. 0 with *out, or -1 with a one-line message naming NAME and the
 * range in err. config_load reads its table through this. */
int config_number(const char *name, long long def, long long min, long long max, config_getter get, void *ctx,
                  long long *out, char *err, size_t errlen);
/* getenv(3) as a config_getter. */
const char *config_getenv(const char *name, void *ctx);

#endif
