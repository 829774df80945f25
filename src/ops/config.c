/* Reading the worker's settings from the environment, once, at start. The
 * numeric settings are a table (name, default, range, where to store), so
 * adding one is one line; every value is parsed strictly and range-checked,
 * and a bad one names itself in the error. Secrets (the database URL, the
 * JWT secret) may instead come from a file named by NAME_FILE, which is how
 * systemd credentials and container secrets arrive (config_secret). */
#include "ops/config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/text.h"

#define MAX_KEY_FILE_BYTES (64 * 1024)

const char *config_getenv(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

enum num_kind { NUM_SIZE, NUM_LONG, NUM_INT };

struct num_setting {
    const char *name;
    long long def, min, max;
    enum num_kind kind;
    size_t offset;
};

static const struct num_setting num_settings[] = {
    {"AGORA_MAX_BODY_BYTES", 16LL << 20, 1024, 1LL << 30, NUM_SIZE, offsetof(struct config, max_body_bytes)},
    {"AGORA_MAX_ITEMS", 100000, 1, 10000000, NUM_LONG, offsetof(struct config, max_items)},
    {"AGORA_MAX_JSON_DEPTH", 64, 2, 1000, NUM_INT, offsetof(struct config, max_depth)},
    {"AGORA_MAX_STRING_BYTES", 64 * 1024, 16, 16LL << 20, NUM_SIZE, offsetof(struct config, max_string_bytes)},
    {"AGORA_STATEMENT_TIMEOUT_MS", 30000, 0, 3600000, NUM_LONG, offsetof(struct config, statement_timeout_ms)},
    {"AGORA_DB_CONNECT_TIMEOUT_SECONDS", 2, 1, 60, NUM_LONG, offsetof(struct config, connect_timeout_s)},
    {"AGORA_JWT_LEEWAY_SECONDS", 30, 0, 600, NUM_LONG, offsetof(struct config, jwt_leeway_s)},
    {"AGORA_READ_WAIT_MS", 200, 0, 10000, NUM_LONG, offsetof(struct config, read_wait_ms)},
    {"AGORA_STALE_MINUTES", CONFIG_STALE_MINUTES_DEFAULT, 1, 525600, NUM_LONG, offsetof(struct config, stale_minutes)},
    {"AGORA_LIVE_TICKET_SECONDS", CONFIG_LIVE_TICKET_SECONDS_DEFAULT, 1, 3600, NUM_LONG,
     offsetof(struct config, live_ticket_s)},
    {"AGORA_LIVE_REPLAY_SECONDS", CONFIG_LIVE_REPLAY_SECONDS_DEFAULT, 1, 86400, NUM_LONG,
     offsetof(struct config, live_replay_s)},
};

static void store_num(struct config *cfg, const struct num_setting *s, long long v)
{
    char *field = (char *)cfg + s->offset;
    switch (s->kind) {
    case NUM_SIZE: *(size_t *)field = (size_t)v; break;
    case NUM_LONG: *(long *)field = (long)v; break;
    case NUM_INT: *(int *)field = (int)v; break;
    }
}

/* Frees b after overwriting what it holds (b.data is NULL when nothing was
 * read). */
static void wipe_buf(struct buf *b)
{
    if (b->data)
        explicit_bzero(b->data, b->len);
    buf_free(b);
}

/* Reads a whole small file (a secret or a PEM key). Returns 0 or -1 with
 * errno set (fread's own, so a directory says so); *out is NUL-terminated
 * and owned by the caller. What was read of a file refused is wiped. */
static int read_small_file(const char *path, unsigned char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct buf b;
    buf_init(&b);
    char chunk[4096];
    size_t n;
    errno = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        buf_append(&b, chunk, n);
        if (b.len > MAX_KEY_FILE_BYTES) {
            fclose(f);
            wipe_buf(&b);
            errno = EFBIG;
            return -1;
        }
    }
    int saved = errno ? errno : EIO;
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        wipe_buf(&b);
        errno = saved;
        return -1;
    }
    *len = b.len;
    *out = (unsigned char *)buf_steal(&b);
    return 0;
}

/* A secret file usually ends with one newline that is not part of it
 * (echo, editors, `kubectl create secret --from-file`): drop one "\n" or
 * "\r\n", nothing more. */
static void trim_one_newline(unsigned char *s, size_t *len)
{
    if (*len > 0 && s[*len - 1] == '\n')
        s[--*len] = '\0';
    if (*len > 0 && s[*len - 1] == '\r')
        s[--*len] = '\0';
}

static void free_secret(unsigned char *s, size_t len)
{
    if (s) {
        explicit_bzero(s, len);
        free(s);
    }
}

int config_secret(const char *name, config_getter get, void *ctx, bool text, unsigned char **out, size_t *len,
                  char *err, size_t errlen)
{
    char file_var[128];
    *out = NULL;
    *len = 0;
    if ((size_t)snprintf(file_var, sizeof file_var, "%s_FILE", name) >= sizeof file_var) {
        snprintf(err, errlen, "%s: name too long", name);
        return -1;
    }
    const char *value = get(name, ctx);
    const char *file = get(file_var, ctx);
    if (value && *value && file && *file) {
        snprintf(err, errlen, "%s and %s: set only one", name, file_var);
        return -1;
    }
    if (value && *value) {
        *len = strlen(value);
        *out = (unsigned char *)xstrdup(value);
        return 1;
    }
    if (!file || !*file)
        return 0;
    unsigned char *data = NULL;
    size_t n = 0;
    if (read_small_file(file, &data, &n) < 0) {
        snprintf(err, errlen, "%s: cannot read %s: %s", file_var, file, strerror(errno));
        return -1;
    }
    trim_one_newline(data, &n);
    if (n == 0) {
        snprintf(err, errlen, "%s: %s is empty", file_var, file);
        free_secret(data, n);
        return -1;
    }
    /* A NUL would silently cut a connection string short. */
    if (text && memchr(data, '\0', n)) {
        snprintf(err, errlen, "%s: %s holds a NUL byte", file_var, file);
        free_secret(data, n);
        return -1;
    }
    *out = data;
    *len = n;
    return 1;
}

static char *dup_or_null(const char *s)
{
    return (s && *s) ? xstrdup(s) : NULL;
}

static int load_jwt(struct config *cfg, config_getter get, void *ctx, char *err, size_t errlen)
{
    const char *alg = get("AGORA_JWT_ALG", ctx);
    if (!alg || !*alg || strcmp(alg, "HS256") == 0) {
        cfg->jwt_alg = PIN_HS256;
    } else if (strcmp(alg, "RS256") == 0) {
        cfg->jwt_alg = PIN_RS256;
    } else if (strcmp(alg, "ES256") == 0) {
        cfg->jwt_alg = PIN_ES256;
    } else {
        snprintf(err, errlen, "AGORA_JWT_ALG: must be HS256, RS256 or ES256");
        return -1;
    }

    if (cfg->jwt_alg == PIN_HS256) {
        int found = config_secret("AGORA_JWT_SECRET", get, ctx, false, &cfg->jwt_key, &cfg->jwt_key_len, err,
                                  errlen);
        if (found < 0)
            return -1;
        if (found == 0) {
            snprintf(err, errlen, "AGORA_JWT_SECRET: required for HS256 (or AGORA_JWT_SECRET_FILE)");
            return -1;
        }
        /* RFC 7518 3.2: an HS256 key must be at least as long as the hash. */
        if (cfg->jwt_key_len < 32) {
            snprintf(err, errlen, "AGORA_JWT_SECRET: must be at least 32 bytes");
            return -1;
        }
    } else {
        const char *file = get("AGORA_JWT_PUBLIC_KEY_FILE", ctx);
        if (!file || !*file) {
            snprintf(err, errlen, "AGORA_JWT_PUBLIC_KEY_FILE: required for %s", alg);
            return -1;
        }
        if (read_small_file(file, &cfg->jwt_key, &cfg->jwt_key_len) < 0) {
            snprintf(err, errlen, "AGORA_JWT_PUBLIC_KEY_FILE: cannot read %s: %s", file, strerror(errno));
            return -1;
        }
        if (!strstr((char *)cfg->jwt_key, "-----BEGIN PUBLIC KEY-----")) {
            snprintf(err, errlen, "AGORA_JWT_PUBLIC_KEY_FILE: %s is not a PEM public key", file);
            return -1;
        }
    }
    cfg->jwt_audience = dup_or_null(get("AGORA_JWT_AUDIENCE", ctx));
    cfg->jwt_issuer = dup_or_null(get("AGORA_JWT_ISSUER", ctx));
    return 0;
}

/* An on/off setting: unset or empty is def. */
static int load_switch(const char *name, bool def, config_getter get, void *ctx, bool *out, char *err, size_t errlen)
{
    const char *v = get(name, ctx);
    if (!v || !*v)
        *out = def;
    else if (strcmp(v, "on") == 0)
        *out = true;
    else if (strcmp(v, "off") == 0)
        *out = false;
    else {
        snprintf(err, errlen, "%s: must be on or off", name);
        return -1;
    }
    return 0;
}

/* Where the shared metrics block lives (metrics.c) and whether each
 * request is logged (access_log.c). */
static int load_observability(struct config *cfg, config_getter get, void *ctx, char *err, size_t errlen)
{
    const char *file = get("AGORA_METRICS_FILE", ctx);
    const char *var = get("AGORA_VAR", ctx);
    if (file && *file) {
        cfg->metrics_file = xstrdup(file);
    } else if (var && *var) {
        struct buf b;
        buf_init(&b);
        buf_printf(&b, "%s/run/metrics", var);
        cfg->metrics_file = buf_steal(&b);
    }
    return load_switch("AGORA_ACCESS_LOG", true, get, ctx, &cfg->access_log, err, errlen);
}

int config_number(const char *name, long long def, long long min, long long max, config_getter get, void *ctx,
                  long long *out, char *err, size_t errlen)
{
    const char *raw = get(name, ctx);
    *out = def;
    if (raw && *raw && (decimal_parse(raw, LLONG_MAX, out) < 0 || *out < min || *out > max)) {
        snprintf(err, errlen, "%s: must be a whole number from %lld to %lld", name, min, max);
        return -1;
    }
    return 0;
}

int config_load(struct config *cfg, config_getter get, void *ctx, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < sizeof num_settings / sizeof num_settings[0]; i++) {
        const struct num_setting *s = &num_settings[i];
        long long v;
        if (config_number(s->name, s->def, s->min, s->max, get, ctx, &v, err, errlen) < 0)
            goto fail;
        store_num(cfg, s, v);
    }
    unsigned char *url;
    size_t url_len;
    if (config_secret("AGORA_DATABASE_URL", get, ctx, true, &url, &url_len, err, errlen) < 0)
        goto fail;
    cfg->database_url = (char *)url;
    if (config_secret("AGORA_READ_DATABASE_URL", get, ctx, true, &url, &url_len, err, errlen) < 0)
        goto fail;
    cfg->read_database_url = (char *)url;
    if (load_jwt(cfg, get, ctx, err, errlen) < 0 || load_observability(cfg, get, ctx, err, errlen) < 0 ||
        load_switch("AGORA_WEBHOOK_ALLOW_HTTP", false, get, ctx, &cfg->webhook_allow_http, err, errlen) < 0)
        goto fail;
    cfg->webhook_allow = dup_or_null(get("AGORA_WEBHOOK_ALLOW", ctx));
    return 0;
fail:
    config_free(cfg);
    return -1;
}

void config_free(struct config *cfg)
{
    /* Do not leave secrets (the URL may hold a password) in freed memory. */
    if (cfg->database_url)
        free_secret((unsigned char *)cfg->database_url, strlen(cfg->database_url));
    if (cfg->read_database_url)
        free_secret((unsigned char *)cfg->read_database_url, strlen(cfg->read_database_url));
    free_secret(cfg->jwt_key, cfg->jwt_key_len);
    free(cfg->jwt_audience);
    free(cfg->jwt_issuer);
    free(cfg->metrics_file);
    free(cfg->webhook_allow);
    memset(cfg, 0, sizeof *cfg);
}
