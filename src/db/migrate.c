/* Schema migrations (see migrate.h): applies sql/NNN_name.sql files in
 * order, each in its own transaction together with its record in
 * agora_meta.schema_migrations, so a file is either wholly applied and
 * recorded or not at all. A session advisory lock serializes migrators;
 * a recorded checksum catches an applied file that was edited since.
 *
 * The files are trusted (they ship with the program), so their text goes to
 * PQexec as is: it may hold several statements, DO blocks and dollar
 * quotes. A file must not contain BEGIN/COMMIT itself. A file may SET ROLE;
 * the role is reset before the record is written.
 *
 * Managed PostgreSQL: a file that needs a superuser has a twin of the same
 * name in dir/managed/ that does the same without one. When the connected
 * role is not a superuser, the twin runs in the file's place and is
 * recorded under its own name ("managed/NNN_name.sql") and checksum, so
 * the record says what ran, and later runs, superuser or not, check the
 * twin's text for edits instead of the file's. */
#include "db/migrate.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/sha256.h"
#include "util/buf.h"

/* pg_advisory_lock key: "agora" in ASCII (0x61676f7261). Any constant
 * works as long as every migrator uses the same one. */
#define MIGRATE_LOCK_SQL_ARG "418581115489"

/* Names are "NNN_" + anything + ".sql": three digits give the version. */
static bool is_migration_name(const char *name)
{
    size_t len = strlen(name);
    if (len < 8) /* "000_" + ".sql" */
        return false;
    for (int i = 0; i < 3; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
    }
    return name[3] == '_' && strcmp(name + len - 4, ".sql") == 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Lists dir's migration files, sorted. On success *names (n entries, each
 * owned) is the caller's to free_names(); two files with one version number
 * are an error, since the order between them would be a guess. */
static int list_migrations(const char *dir, char ***names_out, size_t *n_out, FILE *log)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;

    if (!d) {
        fprintf(log, "migrate: cannot open %s: %s\n", dir, strerror(errno));
        return -1;
    }
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (!is_migration_name(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            names = xrealloc(names, cap * sizeof *names);
        }
        names[n++] = xstrdup(e->d_name);
        errno = 0;
    }
    if (errno != 0) {
        fprintf(log, "migrate: reading %s: %s\n", dir, strerror(errno));
        closedir(d);
        free_names(names, n);
        return -1;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof *names, compare_names);
    for (size_t i = 1; i < n; i++) {
        if (strncmp(names[i - 1], names[i], 3) == 0) {
            fprintf(log, "migrate: %s and %s share version %.3s\n", names[i - 1], names[i], names[i]);
            free_names(names, n);
            return -1;
        }
    }
    *names_out = names;
    *n_out = n;
    return 0;
}

/* Reads a whole file into b (NUL-terminated). A NUL byte inside would cut
 * the text PQexec sees, so it is refused. 0 or -1 (message on log). */
static int read_text_file(const char *path, struct buf *b, FILE *log)
{
    FILE *f = fopen(path, "rb");
    char chunk[8192];
    size_t got;

    if (!f) {
        fprintf(log, "migrate: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(b, chunk, got);
    if (ferror(f)) {
        fprintf(log, "migrate: cannot read %s\n", path);
        fclose(f);
        return -1;
    }
    fclose(f);
    buf_append(b, "", 0); /* makes an empty file's data a valid "" */
    if (b->len > 0 && memchr(b->data, '\0', b->len) != NULL) {
        fprintf(log, "migrate: %s contains a NUL byte\n", path);
        return -1;
    }
    return 0;
}

/* The 1-based line of a 1-based character position in text (the
 * server's error position counts characters, not bytes). */
static long line_of_position(const char *text, long position)
{
    long line = 1, chars = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if ((*p & 0xc0) != 0x80 && ++chars >= position)
            break;
        if (*p == '\n')
            line++;
    }
    return line;
}

/* Logs a failed result: its primary message and, when the server gave a
 * position into text, the line it points at. */
static void log_failure(FILE *log, PGconn *conn, PGresult *res, const char *what, const char *text)
{
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *pos = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;

    if (!msg)
        msg = PQerrorMessage(conn);
    fprintf(log, "migrate: %s failed", what);
    if (text && pos)
        fprintf(log, " (line %ld)", line_of_position(text, strtol(pos, NULL, 10)));
    fprintf(log, ": %s%s%s", state ? state : "", state ? " " : "", msg);
    if (msg[0] == '\0' || msg[strlen(msg) - 1] != '\n')
        fputc('\n', log);
    if (hint)
        fprintf(log, "migrate: hint: %s\n", hint);
}

/* Runs sql (which may hold several statements) and reports success. An
 * empty file's text answers PGRES_EMPTY_QUERY, which is success too. */
static bool exec_ok(PGconn *conn, const char *sql, FILE *log, const char *what)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY;
    if (!ok)
        log_failure(log, conn, res, what, sql);
    PQclear(res);
    return ok;
}

/* The directory, under the migrations', of the twins of the files that
 * need a superuser (see the top of this file). */
#define MANAGED_SUBDIR "managed/"

/* Reads dir/rel into *text (reset first) and its SHA-256 into checksum.
 * 0 or -1 (message on log). */
static int read_migration(const char *dir, const char *rel, struct buf *text, char *checksum, FILE *log)
{
    struct buf path;
    int rc;

    buf_init(&path);
    buf_printf(&path, "%s/%s", dir, rel);
    text->len = 0;
    rc = read_text_file(path.data, text, log);
    if (rc == 0)
        sha256_hex(text->data, text->len, checksum);
    buf_free(&path);
    return rc;
}

/* Whether dir holds a managed twin of the migration name. */
static bool has_twin(const char *dir, const char *name)
{
    struct buf path;
    bool found;

    buf_init(&path);
    buf_printf(&path, "%s/" MANAGED_SUBDIR "%s", dir, name);
    found = access(path.data, F_OK) == 0;
    buf_free(&path);
    return found;
}

/* Applies one file unless recorded. superuser: whether the connected role
 * is one (else a managed twin runs in the file's place). 1 applied, 0
 * already there, -1 error (the file's transaction is rolled back). */
static int apply_one(PGconn *conn, const char *dir, const char *name, bool superuser, FILE *log)
{
    struct buf twin, text;
    char checksum[2 * SHA256_LEN + 1], version[4];
    const char *rel = name;
    const char *params[3] = {version, NULL, checksum};
    PGresult *res = NULL;
    bool in_tx = false;
    int rc = -1;

    buf_init(&twin);
    buf_init(&text);
    buf_printf(&twin, MANAGED_SUBDIR "%s", name);
    memcpy(version, name, 3);
    version[3] = '\0';

    res = PQexecParams(conn, "SELECT name, checksum FROM agora_meta.schema_migrations WHERE version = $1::int",
                       1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        log_failure(log, conn, res, "reading agora_meta.schema_migrations", NULL);
        goto out;
    }
    if (PQntuples(res) == 1) {
        const char *was = PQgetvalue(res, 0, 0), *sum = PQgetvalue(res, 0, 1);
        if (strcmp(was, twin.data) == 0)
            rel = twin.data; /* a managed database: its twin ran */
        else if (strcmp(was, name) != 0) {
            fprintf(log, "migrate: version %s was applied as %s, not %s\n", version, was, name);
            goto out;
        }
        if (read_migration(dir, rel, &text, checksum, log) < 0)
            goto out;
        /* An edited migration would leave databases that ran the old text
         * and databases that run the new one silently different. */
        if (strcmp(sum, checksum) != 0) {
            fprintf(log, "migrate: %s changed after it was applied (checksum %s, now %s)\n", rel, sum,
                    checksum);
            goto out;
        }
        rc = 0;
        goto out;
    }
    PQclear(res);
    res = NULL;

    if (!superuser && has_twin(dir, name))
        rel = twin.data;
    params[1] = rel;
    if (read_migration(dir, rel, &text, checksum, log) < 0)
        goto out;

    if (!exec_ok(conn, "BEGIN", log, "BEGIN"))
        goto out;
    in_tx = true;
    if (!exec_ok(conn, text.data, log, rel))
        goto out;
    if (!exec_ok(conn, "RESET ROLE", log, "RESET ROLE"))
        goto out;
    res = PQexecParams(conn,
                       "INSERT INTO agora_meta.schema_migrations (version, name, checksum)"
                       " VALUES ($1::int, $2, $3)",
                       3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        log_failure(log, conn, res, "recording the migration", NULL);
        goto out;
    }
    PQclear(res);
    res = NULL;
    /* COMMIT of a transaction that failed answers ROLLBACK without error. */
    res = PQexec(conn, "COMMIT");
    in_tx = false;
    if (PQresultStatus(res) != PGRES_COMMAND_OK || strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        log_failure(log, conn, res, "COMMIT", NULL);
        goto out;
    }
    if (rel == name)
        fprintf(log, "applied %s\n", name);
    else
        fprintf(log, "applied %s (in place of %s: the role is not a superuser)\n", rel, name);
    rc = 1;

out:
    PQclear(res);
    if (in_tx)
        PQclear(PQexec(conn, "ROLLBACK"));
    buf_free(&twin);
    buf_free(&text);
    return rc;
}

int migrate_run(PGconn *conn, const char *dir, FILE *log)
{
    char **names = NULL;
    size_t n = 0;
    bool locked = false;
    int applied = 0, rc = -1;

    if (!log)
        log = stderr;
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        fprintf(log, "migrate: no database connection\n");
        return -1;
    }
    if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
        fprintf(log, "migrate: the connection is inside a transaction\n");
        return -1;
    }
    if (list_migrations(dir, &names, &n, log) < 0)
        return -1;
    /* The server reports it when the connection starts (and whenever the
     * connection's authorization changes). */
    const char *su = PQparameterStatus(conn, "is_superuser");
    bool superuser = su != NULL && strcmp(su, "on") == 0;

    /* Session-level lock, held across the per-file transactions: a second
     * migrator waits here, then finds everything recorded. */
    if (!exec_ok(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_SQL_ARG ")", log, "pg_advisory_lock"))
        goto out;
    locked = true;
    /* client_min_messages hides the "already exists, skipping" notices of
     * every run after the first. */
    if (!exec_ok(conn,
                 "SET client_min_messages = warning;"
                 "CREATE SCHEMA IF NOT EXISTS agora_meta;"
                 "CREATE TABLE IF NOT EXISTS agora_meta.schema_migrations ("
                 " version integer PRIMARY KEY,"
                 " name text NOT NULL,"
                 " checksum text NOT NULL,"
                 " applied_at timestamptz NOT NULL DEFAULT now());"
                 "RESET client_min_messages",
                 log, "creating agora_meta.schema_migrations"))
        goto out;

    for (size_t i = 0; i < n; i++) {
        int one = apply_one(conn, dir, names[i], superuser, log);
        if (one < 0)
            goto out;
        applied += one;
    }
    rc = applied;

out:
    if (locked)
        PQclear(PQexec(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_SQL_ARG ")"));
    free_names(names, n);
    return rc;
}
