/* agora-admin: the operator's command. Runs migrations, mints development
 * tokens, and creates organizations, projects, API keys and the demo data
 * from the shell. Tenancy changes go through the same SQL and row-level
 * security as the API, acting as the user named with --as/--owner/--user. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "ops/config.h"
#include "db/db.h"
#include "ops/metrics.h"
#include "db/migrate.h"
#include "handlers/routes.h"
#include "util/text.h"
#include "domain/tenancy.h"
#include "auth/token.h"
#include "util/uuid.h"

#ifndef AGORA_SQLDIR
#define AGORA_SQLDIR "sql"
#endif

static int usage(FILE *f)
{
    fputs("usage: agora-admin COMMAND [options]\n"
          "  migrate [--dir DIR]                       apply sql/ migrations (AGORA_ADMIN_DATABASE_URL)\n"
          "  token --user UUID [--ttl SECONDS] [--aud A] [--iss I] [--private-key FILE]\n"
          "                                            mint a JWT (AGORA_JWT_SECRET[_FILE], AGORA_JWT_ALG)\n"
          "  create-org --name NAME --owner UUID       create an organization owned by a user\n"
          "  create-project --org UUID --name NAME --as UUID\n"
          "  create-api-key --project UUID --as UUID [--name NAME]\n"
          "  demo --user UUID                          create (once) the demo organization, project, workflow\n"
          "  metrics [--file FILE]                     print this host's worker metrics, Prometheus text\n"
          "                                            (AGORA_METRICS_FILE; e.g. for node_exporter's textfile\n"
          "                                            collector when workers run on several hosts)\n"
          "Tenancy commands connect with AGORA_DATABASE_URL and print JSON. Each *_DATABASE_URL\n"
          "and AGORA_JWT_SECRET may instead be read from the file its *_FILE variable names.\n",
          f);
    return f == stderr ? 2 : 0;
}

struct opts {
    const char *dir, *user, *aud, *iss, *key_file, *name, *owner, *org, *project, *as, *file;
    long long ttl;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'd'},     {"user", required_argument, NULL, 'u'},
        {"ttl", required_argument, NULL, 't'},     {"aud", required_argument, NULL, 'a'},
        {"iss", required_argument, NULL, 'i'},     {"private-key", required_argument, NULL, 'k'},
        {"name", required_argument, NULL, 'n'},    {"owner", required_argument, NULL, 'o'},
        {"org", required_argument, NULL, 'g'},     {"project", required_argument, NULL, 'p'},
        {"as", required_argument, NULL, 's'},      {"help", no_argument, NULL, 'h'},
        {"file", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->ttl = 3600;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o->dir = optarg; break;
        case 'u': o->user = optarg; break;
        case 'a': o->aud = optarg; break;
        case 'i': o->iss = optarg; break;
        case 'k': o->key_file = optarg; break;
        case 'n': o->name = optarg; break;
        case 'o': o->owner = optarg; break;
        case 'g': o->org = optarg; break;
        case 'p': o->project = optarg; break;
        case 's': o->as = optarg; break;
        case 'f': o->file = optarg; break;
        case 't': {
            char *end;
            o->ttl = strtoll(optarg, &end, 10);
            if (*end || o->ttl <= 0 || o->ttl > 366LL * 86400) {
                fprintf(stderr, "agora-admin: --ttl must be 1..31622400 seconds\n");
                return -1;
            }
            break;
        }
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "agora-admin: unexpected argument %s\n", argv[optind]);
        return -1;
    }
    return 0;
}

static int need_uuid(const char *flag, const char *v)
{
    if (!v || !uuid_valid(v)) {
        fprintf(stderr, "agora-admin: %s UUID is required\n", flag);
        return -1;
    }
    return 0;
}

/* --name, when given, follows the API's rule for names (text.h): not
 * empty, no control or format characters. 0, or -1 after saying why. */
static int check_name(const char *v)
{
    enum name_char c = v ? name_text_class(v, strlen(v)) : NAME_CHAR_OK;
    if (v && (!*v || c != NAME_CHAR_OK)) {
        fprintf(stderr, "agora-admin: --name %s\n", *v ? name_char_rule(c) : "must not be empty");
        return -1;
    }
    return 0;
}

/* A connection string from NAME or NAME_FILE (config_secret). Returns 1
 * with *url (the caller's, to free_url), 0 when neither is set, -1 after
 * saying why the setting is unusable. */
static int url_setting(const char *name, char **url)
{
    unsigned char *v;
    size_t len;
    char err[512];
    int found = config_secret(name, config_getenv, NULL, true, &v, &len, err, sizeof err);
    if (found < 0)
        fprintf(stderr, "agora-admin: %s\n", err);
    *url = (char *)v;
    return found;
}

/* The URL may hold a password: wipe it. */
static void free_url(char *url)
{
    if (url) {
        explicit_bzero(url, strlen(url));
        free(url);
    }
}

static int cmd_migrate(const struct opts *o)
{
    char *url;
    int found = url_setting("AGORA_ADMIN_DATABASE_URL", &url);
    if (found == 0)
        found = url_setting("AGORA_DATABASE_URL", &url);
    if (found < 0)
        return 1;
    if (found == 0) {
        fprintf(stderr, "agora-admin: AGORA_ADMIN_DATABASE_URL is not set (nor AGORA_ADMIN_DATABASE_URL_FILE)\n");
        return 1;
    }
    struct db db;
    int rc = db_open_url(&db, url, 10);
    free_url(url);
    if (rc < 0)
        return 1;
    int n = migrate_run(db.conn, o->dir ? o->dir : AGORA_SQLDIR, stderr);
    db_close(&db);
    if (n < 0)
        return 1;
    fprintf(stderr, "agora-admin: %d migration(s) applied\n", n);
    return 0;
}

/* The metrics of this host's workers, as GET /api/metrics would answer
 * them from here: read-only, the workers' file is left as it is. */
static int cmd_metrics(const struct opts *o)
{
    const char *path = o->file ? o->file : getenv("AGORA_METRICS_FILE");
    char err[512];
    struct metrics_route labels[METRICS_MAX_ROUTES];
    if (!path || !*path) {
        fprintf(stderr, "agora-admin: name the metrics file with --file or AGORA_METRICS_FILE\n");
        return 2;
    }
    struct metrics_block *m = metrics_block_read(path, labels, agora_routes_metric_labels(labels), err, sizeof err);
    if (!m) {
        fprintf(stderr, "agora-admin: %s\n", err);
        return 1;
    }
    struct buf out;
    buf_init(&out);
    metrics_render(m, &out);
    metrics_block_close(m);
    int rc = fwrite(out.data, 1, out.len, stdout) == out.len && fflush(stdout) == 0 ? 0 : 1;
    buf_free(&out);
    return rc;
}

static int read_file(const char *path, unsigned char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    unsigned char *data = malloc(65537);
    size_t n = data ? fread(data, 1, 65536, f) : 0;
    fclose(f);
    if (!data || n == 0 || n == 65536) {
        free(data);
        return -1;
    }
    data[n] = '\0';
    *out = data;
    *len = n;
    return 0;
}

static int cmd_token(const struct opts *o)
{
    if (need_uuid("--user", o->user) < 0)
        return 2;
    struct config cfg;
    char err[256];
    unsigned char *key = NULL;
    size_t keylen = 0;
    int rc = 1;
    /* RS256/ES256 sign with a private key the server never holds. */
    if (o->key_file) {
        const char *alg = getenv("AGORA_JWT_ALG");
        memset(&cfg, 0, sizeof cfg);
        cfg.jwt_alg = alg && strcmp(alg, "ES256") == 0 ? PIN_ES256 : PIN_RS256;
        if (read_file(o->key_file, &key, &keylen) < 0) {
            fprintf(stderr, "agora-admin: cannot read %s\n", o->key_file);
            return 1;
        }
    } else {
        if (config_load(&cfg, config_getenv, NULL, err, sizeof err) < 0) {
            fprintf(stderr, "agora-admin: %s\n", err);
            return 1;
        }
        if (cfg.jwt_alg != PIN_HS256) {
            fprintf(stderr, "agora-admin: AGORA_JWT_ALG is not HS256: pass --private-key FILE\n");
            goto done;
        }
    }
    long long now = (long long)time(NULL);
    char *tok = token_mint(cfg.jwt_alg, key ? key : cfg.jwt_key, key ? keylen : cfg.jwt_key_len, o->user, now,
                           now + o->ttl, -1, o->aud ? o->aud : cfg.jwt_audience, o->iss ? o->iss : cfg.jwt_issuer);
    if (!tok) {
        fprintf(stderr, "agora-admin: could not sign the token\n");
        goto done;
    }
    puts(tok);
    free(tok);
    rc = 0;
done:
    free(key);
    if (!o->key_file)
        config_free(&cfg);
    return rc;
}

/* Opens the application connection and a transaction as user_id. */
static int open_as(struct db *db, struct config *cfg, const char *user_id, struct identity *who)
{
    char *url;
    memset(cfg, 0, sizeof *cfg);
    int found = url_setting("AGORA_DATABASE_URL", &url);
    if (found == 0)
        fprintf(stderr, "agora-admin: AGORA_DATABASE_URL is not set (nor AGORA_DATABASE_URL_FILE)\n");
    if (found <= 0)
        return -1;
    cfg->database_url = url;
    cfg->connect_timeout_s = 10;
    cfg->statement_timeout_ms = 60000;
    db_init(db, cfg);
    if (!db->conn)
        goto fail;
    memset(who, 0, sizeof *who);
    who->kind = CALLER_USER;
    uuid_lower(user_id, who->user_id);
    if (db_begin_as(db, who) != DB_OK) {
        db_close(db);
        goto fail;
    }
    return 0;
fail:
    free_url(cfg->database_url);
    cfg->database_url = NULL;
    return -1;
}

static const char *status_text(enum db_status st)
{
    switch (st) {
    case DB_OK: return "ok";
    case DB_UNAVAILABLE: return "database unavailable";
    case DB_TIMEOUT: return "database timeout";
    case DB_CONFLICT: return "already exists";
    case DB_NOT_FOUND: return "not found (or not visible to that user)";
    case DB_FORBIDDEN: return "that user's role does not allow this";
    case DB_INVALID: return "invalid value";
    case DB_ERROR: break;
    }
    return "database error";
}

/* Commits and prints out, or reports st; then closes what open_as opened.
 * Takes out. */
static int finish(struct db *db, struct config *cfg, enum db_status st, struct json_object *out)
{
    int rc = 0;
    if (st == DB_OK)
        st = db_commit(db);
    if (st != DB_OK) {
        fprintf(stderr, "agora-admin: %s\n", status_text(st));
        rc = 1;
    } else {
        puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
    }
    json_object_put(out);
    db_close(db);
    free_url(cfg->database_url);
    cfg->database_url = NULL;
    return rc;
}

static int cmd_create_org(const struct opts *o)
{
    struct db db;
    struct config cfg;
    struct identity who;
    struct json_object *out = NULL;
    if (need_uuid("--owner", o->owner) < 0 || !o->name)
        return usage(stderr);
    if (check_name(o->name) < 0)
        return 2;
    if (open_as(&db, &cfg, o->owner, &who) < 0)
        return 1;
    enum db_status st = tenancy_create_org(&db, &who, o->name, &out);
    return finish(&db, &cfg, st, out);
}

static int cmd_create_project(const struct opts *o)
{
    struct db db;
    struct config cfg;
    struct identity who;
    struct json_object *out = NULL;
    if (need_uuid("--org", o->org) < 0 || need_uuid("--as", o->as) < 0 || !o->name)
        return usage(stderr);
    if (check_name(o->name) < 0)
        return 2;
    if (open_as(&db, &cfg, o->as, &who) < 0)
        return 1;
    char org[UUID_STR_LEN + 1];
    uuid_lower(o->org, org);
    enum db_status st = tenancy_create_project(&db, &who, org, o->name, &out);
    return finish(&db, &cfg, st, out);
}

static int cmd_create_api_key(const struct opts *o)
{
    struct db db;
    struct config cfg;
    struct identity who;
    struct json_object *out = NULL;
    if (need_uuid("--project", o->project) < 0 || need_uuid("--as", o->as) < 0)
        return usage(stderr);
    if (check_name(o->name) < 0)
        return 2;
    if (open_as(&db, &cfg, o->as, &who) < 0)
        return 1;
    char project[UUID_STR_LEN + 1];
    uuid_lower(o->project, project);
    enum db_status st = tenancy_create_api_key(&db, &who, project, o->name, &out);
    return finish(&db, &cfg, st, out);
}

/* Returns the first column of the first row of a one-parameter-set query,
 * copied into out (a UUID), or "" when there is no row. */
static enum db_status lookup_id(struct db *db, const char *sql, int n, const char *const *params,
                                char out[UUID_STR_LEN + 1])
{
    PGresult *res = NULL;
    enum db_status st = db_exec(db, sql, n, params, &res);
    out[0] = '\0';
    if (st == DB_OK && PQntuples(res) > 0)
        snprintf(out, UUID_STR_LEN + 1, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return st;
}

static enum db_status id_from_answer(struct json_object *ans, char out[UUID_STR_LEN + 1])
{
    struct json_object *id;
    if (!json_object_object_get_ex(ans, "id", &id))
        return DB_ERROR;
    snprintf(out, UUID_STR_LEN + 1, "%s", json_object_get_string(id));
    json_object_put(ans);
    return DB_OK;
}

/* The demo workflow: a small pipeline with a retry loop, so the viewer has a
 * graph with a back edge to show. */
static enum db_status demo_workflow(struct db *db, const char *org, const char *project, char wf[UUID_STR_LEN + 1])
{
    static const char *const nodes[][2] = {
        {"load_data", "AuditedNode"}, {"process", "AuditedNode"}, {"validate", "AuditedNode"}, {"save", "AuditedNode"}};
    static const char *const edges[][3] = {
        {"load_data", "process", "default"}, {"process", "validate", "default"},
        {"validate", "process", "retry"}, {"validate", "save", "valid"}};
    const char *p[6] = {project, "demo-workflow"};
    enum db_status st = lookup_id(db, "SELECT id FROM agora.workflows WHERE project_id = $1 AND name = $2", 2, p, wf);
    if (st != DB_OK || wf[0])
        return st;
    if (uuid_v4(wf) < 0)
        return DB_ERROR;
    const char *w[5] = {wf, org, project, "demo-workflow", "Load, process, validate (retrying), save."};
    st = db_exec(db, "INSERT INTO agora.workflows (id, organization_id, project_id, name, description)"
                     " VALUES ($1, $2, $3, $4, $5)", 5, w, NULL);
    for (size_t i = 0; st == DB_OK && i < sizeof nodes / sizeof nodes[0]; i++) {
        const char *np[5] = {org, project, wf, nodes[i][0], nodes[i][1]};
        st = db_exec(db, "INSERT INTO agora.workflow_nodes (organization_id, project_id, workflow_id, name, type)"
                         " VALUES ($1, $2, $3, $4, $5)", 5, np, NULL);
    }
    for (size_t i = 0; st == DB_OK && i < sizeof edges / sizeof edges[0]; i++) {
        const char *ep[6] = {org, project, wf, edges[i][0], edges[i][1], edges[i][2]};
        st = db_exec(db, "INSERT INTO agora.workflow_edges (organization_id, project_id, workflow_id, from_node_id, to_node_id, action)"
                         " SELECT $1, $2, $3, f.id, t.id, $6 FROM agora.workflow_nodes f, agora.workflow_nodes t"
                         " WHERE f.workflow_id = $3 AND f.name = $4 AND t.workflow_id = $3 AND t.name = $5",
                     6, ep, NULL);
    }
    return st;
}

static int cmd_demo(const struct opts *o)
{
    struct db db;
    struct config cfg;
    struct identity who;
    char org[UUID_STR_LEN + 1], project[UUID_STR_LEN + 1], wf[UUID_STR_LEN + 1];
    struct json_object *ans = NULL;
    if (need_uuid("--user", o->user) < 0)
        return 2;
    if (open_as(&db, &cfg, o->user, &who) < 0)
        return 1;
    const char *p1[2] = {"Demo organization", who.user_id};
    enum db_status st = lookup_id(&db, "SELECT id FROM agora.organizations WHERE name = $1 AND created_by = $2"
                                       " ORDER BY created_at LIMIT 1", 2, p1, org);
    if (st == DB_OK && !org[0] && (st = tenancy_create_org(&db, &who, "Demo organization", &ans)) == DB_OK)
        st = id_from_answer(ans, org);
    const char *p2[2] = {org, "demo"};
    if (st == DB_OK)
        st = lookup_id(&db, "SELECT id FROM agora.projects WHERE organization_id = $1 AND name = $2", 2, p2, project);
    if (st == DB_OK && !project[0] && (st = tenancy_create_project(&db, &who, org, "demo", &ans)) == DB_OK)
        st = id_from_answer(ans, project);
    if (st == DB_OK)
        st = demo_workflow(&db, org, project, wf);
    struct json_object *out = NULL;
    if (st == DB_OK) {
        out = json_object_new_object();
        json_object_object_add(out, "user_id", json_object_new_string(who.user_id));
        json_object_object_add(out, "organization_id", json_object_new_string(org));
        json_object_object_add(out, "project_id", json_object_new_string(project));
        json_object_object_add(out, "workflow_id", json_object_new_string(wf));
    }
    return finish(&db, &cfg, st, out);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    const char *cmd = argv[1];
    struct opts o;
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0)
        return usage(stdout);
    if (parse_opts(argc - 1, argv + 1, &o) < 0)
        return usage(stderr);
    if (strcmp(cmd, "migrate") == 0)
        return cmd_migrate(&o);
    if (strcmp(cmd, "token") == 0)
        return cmd_token(&o);
    if (strcmp(cmd, "create-org") == 0)
        return cmd_create_org(&o);
    if (strcmp(cmd, "create-project") == 0)
        return cmd_create_project(&o);
    if (strcmp(cmd, "create-api-key") == 0)
        return cmd_create_api_key(&o);
    if (strcmp(cmd, "metrics") == 0)
        return cmd_metrics(&o);
    if (strcmp(cmd, "demo") == 0)
        return cmd_demo(&o);
    fprintf(stderr, "agora-admin: unknown command %s\n", cmd);
    return usage(stderr);
}
