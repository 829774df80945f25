/* Unit tests for config.c: defaults, strict parsing and range checks of every
 * numeric setting, the JWT algorithm and key settings, and that a secret
 * never leaks into an error message. The environment is a small table read
 * through a config_getter, so nothing depends on the real environment. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/config.h"

#define SECRET "test-secret-7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c1e"
#define SHORT_SECRET "short-secret-abcdefghij123456" /* 29 bytes */

struct env {
    int n;
    const char *name[16];
    const char *value[16];
};

static const char *env_get(const char *name, void *ctx)
{
    const struct env *e = ctx;
    for (int i = 0; i < e->n; i++)
        if (strcmp(e->name[i], name) == 0)
            return e->value[i];
    return NULL;
}

static void env_set(struct env *e, const char *name, const char *value)
{
    for (int i = 0; i < e->n; i++) {
        if (strcmp(e->name[i], name) == 0) {
            e->value[i] = value;
            return;
        }
    }
    cr_assert_lt(e->n, 16);
    e->name[e->n] = name;
    e->value[e->n] = value;
    e->n++;
}

/* An environment that loads: a valid HS256 secret and nothing else. */
static struct env base_env(void)
{
    struct env e = {0};
    env_set(&e, "AGORA_JWT_SECRET", SECRET);
    return e;
}

static void assert_loads(struct env *e, struct config *cfg)
{
    char err[256] = "";
    int rc = config_load(cfg, env_get, e, err, sizeof err);
    cr_assert_eq(rc, 0, "config_load failed: %s", err);
}

/* Fails, names the variable at the start of the message, and does not
 * show any secret. err receives the message. */
static void assert_fails_naming(struct env *e, const char *var, const char *secret, char *err, size_t errlen)
{
    struct config cfg;
    err[0] = '\0';
    int rc = config_load(&cfg, env_get, e, err, errlen);
    cr_assert_eq(rc, -1, "config_load accepted a bad %s", var);
    cr_assert(strncmp(err, var, strlen(var)) == 0, "the message should start with %s: \"%s\"", var, err);
    cr_assert_null(strchr(err, '\n'), "the message is one line: \"%s\"", err);
    if (secret)
        cr_assert_null(strstr(err, secret), "the message shows the secret: \"%s\"", err);
    /* On failure nothing is left to free. */
    cr_assert_null(cfg.jwt_key);
    cr_assert_null(cfg.database_url);
}

/* The test's temporary file, removed by the suite's fini even when an
 * assertion fails. */
static char tmp_path[64];

/* Writes len bytes to a new temporary file and returns its path. */
static const char *temp_file(const char *content, size_t len)
{
    snprintf(tmp_path, sizeof tmp_path, "/tmp/agora-test-config-XXXXXX");
    int fd = mkstemp(tmp_path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, content, len), (ssize_t)len);
    close(fd);
    return tmp_path;
}

static void remove_temp(void)
{
    if (tmp_path[0])
        unlink(tmp_path);
    tmp_path[0] = '\0';
}

TestSuite(config, .fini = remove_temp);

Test(config, defaults_are_applied_when_only_a_secret_is_set)
{
    struct env e = base_env();
    struct config cfg;
    assert_loads(&e, &cfg);
    cr_assert_eq(cfg.max_body_bytes, 16u << 20, "body limit 16 MiB");
    cr_assert_eq(cfg.max_items, 100000);
    cr_assert_eq(cfg.max_depth, 64);
    cr_assert_eq(cfg.max_string_bytes, 64u * 1024);
    cr_assert_eq(cfg.statement_timeout_ms, 30000);
    cr_assert_eq(cfg.connect_timeout_s, 2);
    cr_assert_eq(cfg.jwt_leeway_s, 30);
    cr_assert_eq(cfg.stale_minutes, 60);
    cr_assert_eq(cfg.jwt_alg, PIN_HS256);
    cr_assert_eq(cfg.jwt_key_len, strlen(SECRET));
    cr_assert_eq(memcmp(cfg.jwt_key, SECRET, strlen(SECRET)), 0);
    cr_assert_null(cfg.jwt_audience);
    cr_assert_null(cfg.jwt_issuer);
    cr_assert_null(cfg.database_url);
    config_free(&cfg);
}

Test(config, set_values_replace_the_defaults)
{
    struct env e = base_env();
    env_set(&e, "AGORA_DATABASE_URL", "postgresql:///agora");
    env_set(&e, "AGORA_MAX_BODY_BYTES", "2048");
    env_set(&e, "AGORA_MAX_ITEMS", "5");
    env_set(&e, "AGORA_MAX_JSON_DEPTH", "10");
    env_set(&e, "AGORA_MAX_STRING_BYTES", "100");
    env_set(&e, "AGORA_STATEMENT_TIMEOUT_MS", "0");
    env_set(&e, "AGORA_DB_CONNECT_TIMEOUT_SECONDS", "60");
    env_set(&e, "AGORA_JWT_LEEWAY_SECONDS", "600");
    env_set(&e, "AGORA_JWT_AUDIENCE", "authenticated");
    env_set(&e, "AGORA_JWT_ISSUER", "https://auth.example.com");
    struct config cfg;
    assert_loads(&e, &cfg);
    cr_assert_str_eq(cfg.database_url, "postgresql:///agora");
    cr_assert_eq(cfg.max_body_bytes, 2048);
    cr_assert_eq(cfg.max_items, 5);
    cr_assert_eq(cfg.max_depth, 10);
    cr_assert_eq(cfg.max_string_bytes, 100);
    cr_assert_eq(cfg.statement_timeout_ms, 0);
    cr_assert_eq(cfg.connect_timeout_s, 60);
    cr_assert_eq(cfg.jwt_leeway_s, 600);
    cr_assert_str_eq(cfg.jwt_audience, "authenticated");
    cr_assert_str_eq(cfg.jwt_issuer, "https://auth.example.com");
    config_free(&cfg);
}

Test(config, an_empty_value_means_the_default)
{
    struct env e = base_env();
    env_set(&e, "AGORA_MAX_ITEMS", "");
    env_set(&e, "AGORA_JWT_AUDIENCE", "");
    struct config cfg;
    assert_loads(&e, &cfg);
    cr_assert_eq(cfg.max_items, 100000);
    cr_assert_null(cfg.jwt_audience);
    config_free(&cfg);
}

Test(config, free_is_safe_twice)
{
    struct env e = base_env();
    struct config cfg;
    assert_loads(&e, &cfg);
    config_free(&cfg);
    config_free(&cfg);
    cr_assert_null(cfg.jwt_key);
}

/* Every numeric setting with its range, as documented. */
static const struct {
    const char *name;
    long long min, max;
} numeric[] = {
    {"AGORA_MAX_BODY_BYTES", 1024, 1LL << 30},
    {"AGORA_MAX_ITEMS", 1, 10000000},
    {"AGORA_MAX_JSON_DEPTH", 2, 1000},
    {"AGORA_MAX_STRING_BYTES", 16, 16LL << 20},
    {"AGORA_STATEMENT_TIMEOUT_MS", 0, 3600000},
    {"AGORA_DB_CONNECT_TIMEOUT_SECONDS", 1, 60},
    {"AGORA_JWT_LEEWAY_SECONDS", 0, 600},
    {"AGORA_STALE_MINUTES", 1, 525600},
    {"AGORA_READ_WAIT_MS", 0, 10000},
};
#define NUMERIC_COUNT (sizeof numeric / sizeof numeric[0])

/* No pointers in parameters: each case runs in a re-executed process. */
struct bad_number {
    char name[40];
    char value[40];
    char why[32];
};

static void free_params(struct criterion_test_params *p)
{
    cr_free(p->params);
}

ParameterizedTestParameters(config, a_bad_number_stops_loading_and_names_the_variable)
{
    static const char *const fixed[][2] = {
        {"abc", "not a number"},
        {"-1", "negative"},
        {" 10", "leading space"},
        {"10 ", "trailing space"},
        {"1 0", "inner space"},
        {"+10", "plus sign"},
        {"0x10", "hexadecimal"},
        {"1e3", "exponent"},
        {"10.0", "fraction"},
        {"99999999999999999999999", "overflow"},
        {"9223372036854775808", "just past LLONG_MAX"},
    };
    size_t nfixed = sizeof fixed / sizeof fixed[0];
    size_t max = NUMERIC_COUNT * (nfixed + 2), n = 0;
    struct bad_number *cases = cr_malloc(max * sizeof *cases);
    for (size_t i = 0; i < NUMERIC_COUNT; i++) {
        for (size_t j = 0; j < nfixed; j++) {
            snprintf(cases[n].name, sizeof cases[n].name, "%s", numeric[i].name);
            snprintf(cases[n].value, sizeof cases[n].value, "%s", fixed[j][0]);
            snprintf(cases[n].why, sizeof cases[n].why, "%s", fixed[j][1]);
            n++;
        }
        if (numeric[i].min > 0) {
            snprintf(cases[n].name, sizeof cases[n].name, "%s", numeric[i].name);
            snprintf(cases[n].value, sizeof cases[n].value, "%lld", numeric[i].min - 1);
            snprintf(cases[n].why, sizeof cases[n].why, "below the minimum");
            n++;
        }
        snprintf(cases[n].name, sizeof cases[n].name, "%s", numeric[i].name);
        snprintf(cases[n].value, sizeof cases[n].value, "%lld", numeric[i].max + 1);
        snprintf(cases[n].why, sizeof cases[n].why, "above the maximum");
        n++;
    }
    return cr_make_param_array(struct bad_number, cases, n, free_params);
}

ParameterizedTest(struct bad_number *tc, config, a_bad_number_stops_loading_and_names_the_variable)
{
    struct env e = base_env();
    env_set(&e, tc->name, tc->value);
    char err[256];
    cr_log_info("%s=\"%s\" (%s)", tc->name, tc->value, tc->why);
    assert_fails_naming(&e, tc->name, SECRET, err, sizeof err);
}

Test(config, every_numeric_setting_accepts_its_minimum_and_maximum)
{
    for (size_t i = 0; i < NUMERIC_COUNT; i++) {
        for (int edge = 0; edge < 2; edge++) {
            char v[32];
            snprintf(v, sizeof v, "%lld", edge ? numeric[i].max : numeric[i].min);
            struct env e = base_env();
            env_set(&e, numeric[i].name, v);
            struct config cfg;
            char err[256] = "";
            cr_assert_eq(config_load(&cfg, env_get, &e, err, sizeof err), 0, "%s=%s refused: %s",
                         numeric[i].name, v, err);
            config_free(&cfg);
        }
    }
}

Test(config, a_setting_of_its_own_is_read_strictly_within_its_range)
{
    struct env e = {0};
    long long v = -1;
    char err[256] = "";
    cr_assert_eq(config_number("AGORA_LIVE_BATCH_MS", 100, 0, 1000, env_get, &e, &v, err, sizeof err), 0);
    cr_assert_eq(v, 100, "unset: the default");
    env_set(&e, "AGORA_LIVE_BATCH_MS", "0");
    cr_assert_eq(config_number("AGORA_LIVE_BATCH_MS", 100, 0, 1000, env_get, &e, &v, err, sizeof err), 0);
    cr_assert_eq(v, 0);
    static const char *bad[] = {"1001", "-1", "10ms", " 10", "0x10", "1e2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        env_set(&e, "AGORA_LIVE_BATCH_MS", bad[i]);
        err[0] = '\0';
        cr_assert_eq(config_number("AGORA_LIVE_BATCH_MS", 100, 0, 1000, env_get, &e, &v, err, sizeof err), -1,
                     "%s accepted", bad[i]);
        cr_assert_str_eq(err, "AGORA_LIVE_BATCH_MS: must be a whole number from 0 to 1000", "%s", bad[i]);
    }
}

Test(config, an_unknown_jwt_algorithm_is_refused)
{
    static const char *const bad[] = {"none", "HS512", "hs256", "RS256 ", "PS256"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct env e = base_env();
        env_set(&e, "AGORA_JWT_ALG", bad[i]);
        char err[256];
        assert_fails_naming(&e, "AGORA_JWT_ALG", SECRET, err, sizeof err);
    }
}

Test(config, hs256_without_a_secret_is_refused)
{
    struct env e = {0};
    char err[256];
    assert_fails_naming(&e, "AGORA_JWT_SECRET", NULL, err, sizeof err);
}

Test(config, hs256_with_a_secret_shorter_than_32_bytes_is_refused_without_showing_it)
{
    struct env e = {0};
    env_set(&e, "AGORA_JWT_SECRET", SHORT_SECRET);
    char err[256];
    assert_fails_naming(&e, "AGORA_JWT_SECRET", SHORT_SECRET, err, sizeof err);
}

Test(config, hs256_refuses_a_secret_of_31_bytes)
{
    struct env e = {0};
    env_set(&e, "AGORA_JWT_SECRET", "0123456789abcdef0123456789abcde");
    char err[256];
    assert_fails_naming(&e, "AGORA_JWT_SECRET", "0123456789abcdef0123456789abcde", err, sizeof err);
}

Test(config, hs256_accepts_a_secret_of_exactly_32_bytes)
{
    struct env e = {0};
    env_set(&e, "AGORA_JWT_SECRET", "0123456789abcdef0123456789abcdef");
    struct config cfg;
    assert_loads(&e, &cfg);
    cr_assert_eq(cfg.jwt_key_len, 32);
    config_free(&cfg);
}

Test(config, secret_and_secret_file_together_are_refused_without_showing_the_secret)
{
    const char *path = temp_file(SECRET "\n", strlen(SECRET) + 1);
    struct env e = base_env();
    env_set(&e, "AGORA_JWT_SECRET_FILE", path);
    char err[256];
    assert_fails_naming(&e, "AGORA_JWT_SECRET", SECRET, err, sizeof err);
    cr_assert_not_null(strstr(err, "AGORA_JWT_SECRET_FILE"), "both variables are named: %s", err);
}

Test(config, secret_file_is_read_with_its_trailing_newline_trimmed)
{
    const char *path = temp_file(SECRET "\n", strlen(SECRET) + 1);
    struct env e = {0};
    env_set(&e, "AGORA_JWT_SECRET_FILE", path);
    struct config cfg;
    assert_loads(&e, &cfg);
    cr_assert_eq(cfg.jwt_key_len, strlen(SECRET));
    cr_assert_str_eq((const char *)cfg.jwt_key, SECRET);
    config_free(&cfg);
}

Test(config, secret_file_with_crlf_is_trimmed_too)
{
    const char *path = temp_file(SECRET "\r\n", strlen(SECRET) + 2);
    struct env e = {0};
    env_set(&e, "AGORA_JWT_SECRET_FILE", path);
    struct config cfg;
    assert_loads(&e, &cfg);
    cr_assert_eq(cfg.jwt_key_len, strlen(SECRET));
    config_free(&cfg);
}

Test(config, a_short_secret_file_is_refused_without_showing_its_content)
{
    const char *path = temp_file(SHORT_SECRET "\n", strlen(SHORT_SECRET) + 1);
    struct env e = {0};
    env_set(&e, "AGORA_JWT_SECRET_FILE", path);
    char err[256];
    assert_fails_naming(&e, "AGORA_JWT_SECRET", SHORT_SECRET, err, sizeof err);
}

Test(config, a_missing_secret_file_is_refused_naming_the_variable)
{
    struct env e = {0};
    env_set(&e, "AGORA_JWT_SECRET_FILE", "/nonexistent/agora/secret");
    char err[256];
    assert_fails_naming(&e, "AGORA_JWT_SECRET_FILE", NULL, err, sizeof err);
}

Test(config, rs256_without_a_public_key_file_is_refused)
{
    struct env e = {0};
    env_set(&e, "AGORA_JWT_ALG", "RS256");
    char err[256];
    assert_fails_naming(&e, "AGORA_JWT_PUBLIC_KEY_FILE", NULL, err, sizeof err);
}

Test(config, rs256_with_a_file_that_is_not_pem_is_refused_without_showing_it)
{
    const char *content = "this-is-not-a-key-but-a-secret-9b8c7d6e5f";
    const char *path = temp_file(content, strlen(content));
    struct env e = {0};
    env_set(&e, "AGORA_JWT_ALG", "RS256");
    env_set(&e, "AGORA_JWT_PUBLIC_KEY_FILE", path);
    char err[256];
    assert_fails_naming(&e, "AGORA_JWT_PUBLIC_KEY_FILE", content, err, sizeof err);
}

Test(config, rs256_with_a_pem_public_key_loads_it)
{
    const char *pem = "-----BEGIN PUBLIC KEY-----\n"
                      "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\n"
                      "q9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\n"
                      "-----END PUBLIC KEY-----\n";
    const char *path = temp_file(pem, strlen(pem));
    struct env e = {0};
    env_set(&e, "AGORA_JWT_ALG", "RS256");
    env_set(&e, "AGORA_JWT_PUBLIC_KEY_FILE", path);
    struct config cfg;
    assert_loads(&e, &cfg);
    cr_assert_eq(cfg.jwt_alg, PIN_RS256);
    cr_assert_eq(cfg.jwt_key_len, strlen(pem));
    cr_assert_eq(memcmp(cfg.jwt_key, pem, strlen(pem)), 0);
    config_free(&cfg);
}

Test(config, es256_is_pinned_when_asked)
{
    const char *pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    const char *path = temp_file(pem, strlen(pem));
    struct env e = {0};
    env_set(&e, "AGORA_JWT_ALG", "ES256");
    env_set(&e, "AGORA_JWT_PUBLIC_KEY_FILE", path);
    struct config cfg;
    assert_loads(&e, &cfg);
    cr_assert_eq(cfg.jwt_alg, PIN_ES256);
    config_free(&cfg);
}

Test(config, a_bad_numeric_value_is_not_echoed_in_the_message)
{
    struct env e = base_env();
    env_set(&e, "AGORA_JWT_LEEWAY_SECONDS", SECRET);
    char err[256];
    assert_fails_naming(&e, "AGORA_JWT_LEEWAY_SECONDS", SECRET, err, sizeof err);
}

/* ------------------------------------------------------------ NAME_FILE */

#define DB_URL "postgresql://agora_app:pw-5d2c9e7b1a@db.internal:5432/agora?sslmode=verify-full"

Test(config, database_url_file_is_read_with_its_trailing_newline_dropped)
{
    const char *path = temp_file(DB_URL "\n", strlen(DB_URL) + 1);
    struct env e = base_env();
    env_set(&e, "AGORA_DATABASE_URL_FILE", path);
    struct config cfg;
    assert_loads(&e, &cfg);
    cr_assert_str_eq(cfg.database_url, DB_URL);
    config_free(&cfg);
}

Test(config, database_url_file_without_a_newline_is_taken_whole)
{
    const char *path = temp_file(DB_URL, strlen(DB_URL));
    struct env e = base_env();
    env_set(&e, "AGORA_DATABASE_URL_FILE", path);
    struct config cfg;
    assert_loads(&e, &cfg);
    cr_assert_str_eq(cfg.database_url, DB_URL);
    config_free(&cfg);
}

Test(config, a_read_database_url_is_optional_and_may_come_from_a_file)
{
    struct env e = base_env();
    struct config cfg;
    assert_loads(&e, &cfg);
    cr_assert_null(cfg.read_database_url);
    cr_assert_eq(cfg.read_wait_ms, 200);
    config_free(&cfg);
    const char *path = temp_file(DB_URL "\n", strlen(DB_URL) + 1);
    env_set(&e, "AGORA_READ_DATABASE_URL_FILE", path);
    env_set(&e, "AGORA_READ_WAIT_MS", "0");
    assert_loads(&e, &cfg);
    cr_assert_str_eq(cfg.read_database_url, DB_URL);
    cr_assert_eq(cfg.read_wait_ms, 0);
    config_free(&cfg);
}

Test(config, only_one_trailing_newline_is_dropped)
{
    const char *path = temp_file(SECRET "\n\n", strlen(SECRET) + 2);
    struct env e = {0};
    env_set(&e, "AGORA_JWT_SECRET_FILE", path);
    struct config cfg;
    assert_loads(&e, &cfg);
    cr_assert_eq(cfg.jwt_key_len, strlen(SECRET) + 1, "the second newline is part of the secret");
    cr_assert_eq(memcmp(cfg.jwt_key, SECRET "\n", strlen(SECRET) + 1), 0);
    config_free(&cfg);
}

Test(config, an_empty_database_url_leaves_the_file_in_charge)
{
    const char *path = temp_file(DB_URL "\n", strlen(DB_URL) + 1);
    struct env e = base_env();
    env_set(&e, "AGORA_DATABASE_URL", "");
    env_set(&e, "AGORA_DATABASE_URL_FILE", path);
    struct config cfg;
    assert_loads(&e, &cfg);
    cr_assert_str_eq(cfg.database_url, DB_URL);
    config_free(&cfg);
}

Test(config, database_url_and_its_file_together_are_refused_without_showing_either)
{
    const char *path = temp_file("postgresql://other:pw-file-only@h/db\n", 37);
    struct env e = base_env();
    env_set(&e, "AGORA_DATABASE_URL", DB_URL);
    env_set(&e, "AGORA_DATABASE_URL_FILE", path);
    char err[256];
    assert_fails_naming(&e, "AGORA_DATABASE_URL", DB_URL, err, sizeof err);
    cr_assert_not_null(strstr(err, "AGORA_DATABASE_URL_FILE"), "both variables are named: %s", err);
    cr_assert_null(strstr(err, "pw-file-only"), "the file's content is not shown: %s", err);
}

Test(config, a_missing_database_url_file_is_refused_naming_the_variable_and_the_file)
{
    struct env e = base_env();
    env_set(&e, "AGORA_DATABASE_URL_FILE", "/nonexistent/agora/database_url");
    char err[256];
    assert_fails_naming(&e, "AGORA_DATABASE_URL_FILE", SECRET, err, sizeof err);
    cr_assert_not_null(strstr(err, "/nonexistent/agora/database_url"), "the file is named: %s", err);
    cr_assert_not_null(strstr(err, "No such file"), "the reason is given: %s", err);
}

Test(config, a_directory_as_database_url_file_is_refused_with_the_reason)
{
    struct env e = base_env();
    env_set(&e, "AGORA_DATABASE_URL_FILE", "/tmp");
    char err[256];
    assert_fails_naming(&e, "AGORA_DATABASE_URL_FILE", NULL, err, sizeof err);
    cr_assert_not_null(strstr(err, "/tmp"), "the file is named: %s", err);
    cr_assert_not_null(strstr(err, "Is a directory"), "the reason is given: %s", err);
}

Test(config, an_unreadable_secret_file_is_refused_naming_it)
{
    /* root reads a mode-000 file anyway: the check only means something
     * for another user. */
    if (geteuid() == 0)
        cr_skip_test("running as root: file modes do not stop reads");
    const char *path = temp_file(DB_URL "\n", strlen(DB_URL) + 1);
    cr_assert_eq(chmod(path, 0), 0);
    struct env e = base_env();
    env_set(&e, "AGORA_DATABASE_URL_FILE", path);
    char err[256];
    assert_fails_naming(&e, "AGORA_DATABASE_URL_FILE", DB_URL, err, sizeof err);
    cr_assert_not_null(strstr(err, "Permission denied"), "the reason is given: %s", err);
}

Test(config, an_empty_or_newline_only_database_url_file_is_refused)
{
    static const char *const bodies[] = {"", "\n", "\r\n"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        const char *path = temp_file(bodies[i], strlen(bodies[i]));
        struct env e = base_env();
        env_set(&e, "AGORA_DATABASE_URL_FILE", path);
        char err[256];
        assert_fails_naming(&e, "AGORA_DATABASE_URL_FILE", NULL, err, sizeof err);
        cr_assert_not_null(strstr(err, "empty"), "says why: %s", err);
        remove_temp();
    }
}

Test(config, a_database_url_file_holding_a_nul_byte_is_refused_without_showing_it)
{
    static const char body[] = "postgresql:///agora\0pw-after-nul\n";
    const char *path = temp_file(body, sizeof body - 1);
    struct env e = base_env();
    env_set(&e, "AGORA_DATABASE_URL_FILE", path);
    char err[256];
    assert_fails_naming(&e, "AGORA_DATABASE_URL_FILE", "postgresql:///agora", err, sizeof err);
    cr_assert_null(strstr(err, "pw-after-nul"), "%s", err);
}

Test(config, a_binary_jwt_secret_file_may_hold_nul_bytes)
{
    unsigned char key[40];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (unsigned char)(i * 37);  /* key[0] is 0 */
    const char *path = temp_file((const char *)key, sizeof key);
    struct env e = {0};
    env_set(&e, "AGORA_JWT_SECRET_FILE", path);
    struct config cfg;
    assert_loads(&e, &cfg);
    cr_assert_eq(cfg.jwt_key_len, sizeof key);
    cr_assert_eq(memcmp(cfg.jwt_key, key, sizeof key), 0);
    config_free(&cfg);
}

Test(config, a_secret_file_over_64_kib_is_refused)
{
    size_t n = 64 * 1024 + 2;
    char *big = malloc(n);
    cr_assert_not_null(big);
    memset(big, 'k', n);
    const char *path = temp_file(big, n);
    free(big);
    struct env e = base_env();
    env_set(&e, "AGORA_DATABASE_URL_FILE", path);
    char err[256];
    assert_fails_naming(&e, "AGORA_DATABASE_URL_FILE", NULL, err, sizeof err);
    cr_assert_not_null(strstr(err, "too large"), "says why: %s", err);
}

Test(config, config_secret_reports_neither_set_as_zero)
{
    struct env e = {0};
    static unsigned char sentinel[] = "sentinel";
    unsigned char *v = sentinel;
    size_t len = 99;
    char err[64] = "";
    cr_assert_eq(config_secret("AGORA_ADMIN_DATABASE_URL", env_get, &e, true, &v, &len, err, sizeof err), 0);
    cr_assert_null(v);
    cr_assert_eq(len, 0);
    cr_assert_str_empty(err);
}

Test(config, config_secret_reads_any_named_setting_from_its_file)
{
    const char *path = temp_file(DB_URL "\r\n", strlen(DB_URL) + 2);
    struct env e = {0};
    env_set(&e, "AGORA_ADMIN_DATABASE_URL_FILE", path);
    unsigned char *v = NULL;
    size_t len = 0;
    char err[256] = "";
    cr_assert_eq(config_secret("AGORA_ADMIN_DATABASE_URL", env_get, &e, true, &v, &len, err, sizeof err), 1, "%s",
                 err);
    cr_assert_str_eq((const char *)v, DB_URL);
    cr_assert_eq(len, strlen(DB_URL));
    free(v);
}
