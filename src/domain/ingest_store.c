/* Storing an ingest payload (see ingest.h and docs/DESIGN.md, "Telemetry:
 * ingest"). The steps, each one statement, so an ingest costs the same
 * number of round trips for one item or 100,000:
 *
 *   1. the workflow, visible or not (RLS), and the caller's role in its
 *      organization (viewers may not write: 403);
 *   2. with an Idempotency-Key, the key's claim: INSERT ... ON CONFLICT DO
 *      NOTHING. A concurrent duplicate blocks on the first's uncommitted row
 *      until that commits, then finds it and replays its answer;
 *   3. the execution: a new one is inserted; a client-chosen execution_id is
 *      first locked (SELECT ... FOR UPDATE): running takes appends, terminal
 *      is closed (409), another workflow's is 422. An id the caller cannot
 *      see is inserted with ON CONFLICT DO NOTHING rather than caught as
 *      23505: the error would abort the transaction, and could not tell
 *      another tenant's row from the same live run's first payload that a
 *      concurrent ingest has just committed. So a conflict is followed by
 *      one more lock attempt: visible now is that concurrent case (append),
 *      still invisible is another tenant's execution (404);
 *   4. node ids (only when the payload has node executions): one statement
 *      finds the first node_id that is not a node of the workflow (422 with
 *      its path) and otherwise creates the nodes named without a node_id
 *      that the workflow lacks (ON CONFLICT DO NOTHING: a concurrent ingest
 *      creating the same node makes this one wait, then skip it). It is a
 *      statement of its own so that step 5's snapshot sees nodes another
 *      ingest committed meanwhile. Nodes that would take the workflow past
 *      WORKFLOW_NODES_MAX are refused (422): an ingest that created nodes
 *      takes the workflow's advisory lock and counts its nodes in one more
 *      statement, so concurrent ingests cannot pass the limit together;
 *   5. all items of the four tables, in one statement of data-modifying
 *      CTEs, returning how many rows each inserted and what they changed
 *      in the execution's token usage and cost (each node execution's
 *      cost is priced in that statement, README "Tokens and cost");
 *   6. for an append to a live run only: the execution-level fields, the
 *      item counts and the usage added to the execution row (a new
 *      execution was inserted whole in step 3, with its final fields,
 *      counts and usage, so its row is written once: an update would
 *      leave two versions of it for every item's foreign-key check to
 *      walk, which profiling showed);
 *   7. the live message of this ingest, sent by NOTIFY on commit
 *      (live_announce.c);
 *   8. with an Idempotency-Key, the answer stored under the key.
 *
 * The statements' text is in ingest_sql.c, each with its parameters.
 *
 * The body goes to PostgreSQL as text, cast to jsonb by the statement
 * that stores the items (step 5); the others get only the top-level
 * members they read, cut from the text where the validator found them
 * (ingest_summary.spans), so PostgreSQL parses each byte once.
 * PostgreSQL unpacks the items with jsonb_to_recordset: its parser keeps
 * numbers exact, and its timestamp parser reads what the validator
 * accepted (sessions run in UTC, so offset-less timestamps are UTC). A table sent as null counts as absent
 * (NULLIF turns jsonb null into SQL NULL, which those functions read as no
 * rows). Everything runs in the caller's transaction; a failure anywhere
 * leaves the caller to roll it all back, so nothing is written.
 *
 * Live runs (a client-chosen execution_id sent several times): each later
 * payload appends its items; status is always the payload's; completed_at,
 * duration_ms, error and metadata are overwritten when the payload carries
 * them with a non-null value and kept otherwise; session_id and started_at
 * are the first payload's. */
#include "domain/ingest_store.h"
#include "domain/ingest_idempotency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "util/buf.h"
#include "util/sha256.h"
#include "domain/ingest_sql.h"
#include "domain/live_announce.h"
#include "db/pg_json.h"
#include "domain/workflow_limits.h"

/* What step 1 learnt about the payload's workflow. */
struct target {
    char org[UUID_STR_LEN + 1];
    char project[UUID_STR_LEN + 1];
};

/* Token usage as PostgreSQL prints it: input and output tokens, the known
 * cost (numeric, trailing zeros trimmed) and the node executions with
 * tokens but no cost; the sums of a new execution (step 3) or what a
 * payload changed (step 5). Prices have at most MODEL_PRICE_PLACES
 * decimals and token counts fit 32 bits, so a cost has about 30 digits. */
struct usage {
    char input[24], output[24], cost[64], unpriced[24];
};

/* Copies columns col.. of res's row 0 into u. -1 when a value is NULL or
 * does not fit (not ours: the statements sum with COALESCE). */
static int read_usage(const PGresult *res, int col, struct usage *u)
{
    char *dst[4] = {u->input, u->output, u->cost, u->unpriced};
    size_t cap[4] = {sizeof u->input, sizeof u->output, sizeof u->cost, sizeof u->unpriced};
    for (int i = 0; i < 4; i++) {
        if (PQgetisnull(res, 0, col + i) || (size_t)PQgetlength(res, 0, col + i) >= cap[i])
            return -1;
        memcpy(dst[i], PQgetvalue(res, 0, col + i), (size_t)PQgetlength(res, 0, col + i) + 1);
    }
    return 0;
}

static bool usage_equal(const struct usage *a, const struct usage *b)
{
    return strcmp(a->input, b->input) == 0 && strcmp(a->output, b->output) == 0 &&
           strcmp(a->cost, b->cost) == 0 && strcmp(a->unpriced, b->unpriced) == 0;
}

enum db_status ingest_fail(struct ingest_result *out, enum db_status st, const char *path, const char *message)
{
    snprintf(out->path, sizeof out->path, "%s", path ? path : "");
    out->message = message;
    return st;
}

void ingest_copy_field(char *dst, size_t len, const PGresult *res, int row, int col)
{
    snprintf(dst, len, "%s", PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col));
}

static bool is_terminal(const char *status)
{
    return strcmp(status, "running") != 0;
}

static bool role_writes(const char *role)
{
    return role && (strcmp(role, "owner") == 0 || strcmp(role, "admin") == 0 || strcmp(role, "member") == 0);
}

/* Step 1: visibility and role. */
static enum db_status find_workflow(struct db *db, const struct identity *who, const char *workflow_id,
                                    struct target *t, struct ingest_result *out)
{
    PGresult *res = NULL;
    const char *params[1] = {workflow_id};
    enum db_status st = db_exec(db, SQL_WORKFLOW, 1, params, &res);

    if (st != DB_OK)
        return st;
    if (PQntuples(res) != 1) {
        st = ingest_fail(out, DB_NOT_FOUND, "workflow_id", "no such workflow");
    } else {
        const char *role = PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2);
        /* A user sees a workflow only through a membership, so role is set;
         * only owners, admins and members write. */
        if (who->kind == CALLER_USER && !role_writes(role))
            st = ingest_fail(out, DB_FORBIDDEN, NULL, "your role in this organization does not allow ingesting");
        ingest_copy_field(t->org, sizeof t->org, res, 0, 0);
        ingest_copy_field(t->project, sizeof t->project, res, 0, 1);
    }
    PQclear(res);
    return st;
}

/* The parts of the body the statements other than step 5 read, cut from
 * its text where the validator saw their values (ingest_summary.spans):
 * the execution-level members as a small JSON object (steps 3 and 6),
 * {"node_executions": [...]} (step 4), and the payload's item counts as
 * text. */
struct body_parts {
    struct buf fields;
    struct buf nodes;
    char counts[IT_COUNT][24];
};

/* Appends to out the object {"name": value, ...} of the members from..to
 * (enum ingest_member) present in the body, each value verbatim. */
static void members_object(const struct ingest_input *in, int from, int to, struct buf *out)
{
    bool first = true;
    buf_putc(out, '{');
    for (int m = from; m <= to; m++) {
        const struct ingest_span *sp = &in->sum->spans[m];
        if (sp->len == 0)
            continue;
        buf_printf(out, "%s\"%s\":", first ? "" : ",", ingest_member_names[m]);
        buf_append(out, in->body + sp->at, sp->len);
        first = false;
    }
    buf_putc(out, '}');
    buf_putc(out, '\0');
}

static void body_parts_init(struct body_parts *p, const struct ingest_input *in)
{
    buf_init(&p->fields);
    buf_init(&p->nodes);
    members_object(in, IM_COMPLETED_AT, IM_METADATA, &p->fields);
    members_object(in, IM_NODE_EXECUTIONS, IM_NODE_EXECUTIONS, &p->nodes);
    for (int i = 0; i < IT_COUNT; i++)
        snprintf(p->counts[i], sizeof p->counts[i], "%zu", in->sum->counts[i]);
}

static void body_parts_free(struct body_parts *p)
{
    buf_free(&p->fields);
    buf_free(&p->nodes);
}

/* Inserts the execution out->execution_id, whole: final fields, this
 * payload's counts and usage (its node executions are sent along only
 * when some report tokens). *inserted false: the id exists already
 * (visible or not); true with *stored the usage it recorded. */
static enum db_status insert_execution(struct db *db, const struct target *t, const struct ingest_input *in,
                                       const struct body_parts *f, bool *inserted, struct usage *stored,
                                       struct ingest_result *out)
{
    PGresult *res = NULL;
    const char *params[13] = {out->execution_id, t->org, t->project, in->sum->workflow_id,
                              in->session_id, in->sum->status, in->started_at, f->fields.data,
                              f->counts[0], f->counts[1], f->counts[2], f->counts[3],
                              in->sum->any_usage ? f->nodes.data : NULL};
    enum db_status st = db_exec(db, SQL_EXECUTION_INSERT, 13, params, &res);

    *inserted = st == DB_OK && PQntuples(res) == 1;
    if (*inserted && read_usage(res, 1, stored) < 0)
        st = DB_ERROR;
    PQclear(res);
    return st;
}

/* Locks out->execution_id when visible. *found false when it is not. */
static enum db_status lock_execution(struct db *db, const struct ingest_input *in, bool *found,
                                     struct ingest_result *out)
{
    PGresult *res = NULL;
    const char *params[1] = {out->execution_id};
    enum db_status st = db_exec(db, SQL_EXECUTION_LOCK, 1, params, &res);

    *found = false;
    if (st != DB_OK)
        return st;
    if (PQntuples(res) == 1) {
        *found = true;
        if (is_terminal(PQgetvalue(res, 0, 1)))
            st = ingest_fail(out, DB_CONFLICT, NULL,
                      "the execution has a terminal status and is closed; it takes no more data");
        else if (strcmp(PQgetvalue(res, 0, 0), in->sum->workflow_id) != 0)
            st = ingest_fail(out, DB_INVALID, "workflow_id", "the execution belongs to another workflow");
    }
    PQclear(res);
    return st;
}

/* Step 3. On DB_OK out->execution_id is the execution to write to and
 * out->http_status says whether it is new (201, *stored its usage) or an
 * append (200). */
static enum db_status open_execution(struct db *db, const struct target *t, const struct ingest_input *in,
                                     const struct body_parts *f, struct usage *stored, struct ingest_result *out)
{
    bool inserted = false, found = false;
    enum db_status st;

    if (!in->sum->execution_id[0]) {
        if (uuid_v4(out->execution_id) < 0)
            return DB_ERROR;
        out->http_status = 201;
        st = insert_execution(db, t, in, f, &inserted, stored, out);
        /* A fresh random id already taken: a broken random source. */
        return st == DB_OK && !inserted ? DB_ERROR : st;
    }

    snprintf(out->execution_id, sizeof out->execution_id, "%s", in->sum->execution_id);
    /* The usual live run: the execution exists and is ours. */
    if ((st = lock_execution(db, in, &found, out)) != DB_OK || found) {
        out->http_status = 200;
        return st;
    }
    if ((st = insert_execution(db, t, in, f, &inserted, stored, out)) != DB_OK)
        return st;
    if (inserted) {
        out->http_status = 201;
        return DB_OK;
    }
    /* Taken by a concurrent ingest that has committed since our lock
     * attempt (this statement's snapshot sees it), or by another tenant. */
    if ((st = lock_execution(db, in, &found, out)) != DB_OK)
        return st;
    if (!found)
        return ingest_fail(out, DB_NOT_FOUND, "execution_id", "no such execution");
    out->http_status = 200;
    return DB_OK;
}

/* Why an ingest that would grow the workflow past the limit is refused. */
static const char NODE_LIMIT_MESSAGE[] =
    "creating the nodes these node executions name would give the workflow more than "
    WORKFLOW_LIMIT_TEXT(WORKFLOW_NODES_MAX) " nodes, the limit per workflow";

static enum db_status fail_node_limit(struct ingest_result *out)
{
    return ingest_fail(out, DB_INVALID, "node_executions", NODE_LIMIT_MESSAGE);
}

/* Step 4, when it created nodes: the workflow's node count, now that step
 * 4 holds the workflow's node lock (see SQL_NODES). */
static enum db_status recount_nodes(struct db *db, const struct ingest_input *in, struct ingest_result *out)
{
    PGresult *res = NULL;
    const char *params[1] = {in->sum->workflow_id};
    enum db_status st = db_exec(db, SQL_NODE_COUNT, 1, params, &res);

    if (st != DB_OK)
        return st;
    if (PQntuples(res) != 1)
        st = DB_ERROR;
    else if (strtoll(PQgetvalue(res, 0, 0), NULL, 10) > WORKFLOW_NODES_MAX)
        st = fail_node_limit(out);
    PQclear(res);
    return st;
}

/* Step 4. It reads only node_executions, so it is sent only that member
 * ({"node_executions": [...]}, cut from the body's text) rather than the
 * whole body: PostgreSQL would otherwise parse every span, event and
 * snapshot a second time, which profiling showed to be about one sixth of
 * PostgreSQL's work for an ingest. Nodes past WORKFLOW_NODES_MAX are
 * refused (422), as POST /api/workflows refuses them: more new names than
 * that in the payload at once without creating any, otherwise by the count
 * that follows a creation (one more statement, only then). */
static enum db_status prepare_nodes(struct db *db, const struct target *t, const struct ingest_input *in,
                                    const struct body_parts *f, struct ingest_result *out)
{
    PGresult *res = NULL;
    static const char limit[] = WORKFLOW_LIMIT_TEXT(WORKFLOW_NODES_MAX);
    const char *params[6] = {f->nodes.data, t->org, t->project, in->sum->workflow_id, limit,
                             out->execution_id};
    enum db_status st = db_exec(db, SQL_NODES, 6, params, &res);
    bool created = false;

    if (st != DB_OK)
        return st;
    if (PQntuples(res) != 1) {
        st = DB_ERROR;
    } else if (!PQgetisnull(res, 0, 0)) {
        snprintf(out->path, sizeof out->path, "node_executions[%s].node_id", PQgetvalue(res, 0, 0));
        out->message = "node_id is not a node of this workflow";
        st = DB_INVALID;
    } else if (!PQgetisnull(res, 0, 4)) {
        snprintf(out->path, sizeof out->path, "node_executions[%s].id", PQgetvalue(res, 0, 4));
        out->message = "an earlier node execution of this payload has the same id";
        st = DB_INVALID;
    } else if (!PQgetisnull(res, 0, 5)) {
        /* Another execution's: the caller's own (409), or one it cannot
         * see, answered as an execution_id of another tenant is (404). */
        snprintf(out->path, sizeof out->path, "node_executions[%s].id", PQgetvalue(res, 0, 5));
        bool visible = strcmp(PQgetvalue(res, 0, 6), "t") == 0;
        out->message = visible ? "this id belongs to a node execution of another execution"
                               : "no such node execution";
        st = visible ? DB_CONFLICT : DB_NOT_FOUND;
    } else if (strcmp(PQgetvalue(res, 0, 2), "t") != 0) {
        st = fail_node_limit(out);
    } else {
        created = strtoll(PQgetvalue(res, 0, 1), NULL, 10) > 0;
    }
    PQclear(res);
    return st == DB_OK && created ? recount_nodes(db, in, out) : st;
}

/* The columns of SQL_ITEMS's row: the inserted rows per table, then: */
enum {
    ITEMS_UPDATED = IT_COUNT, /* node executions updated by `id` */
    ITEMS_REFUSED,            /* the first refused update's index, or NULL */
    ITEMS_NODE_IDS,           /* the node executions written, for the live message */
    ITEMS_USAGE,              /* the four columns of struct usage */
    ITEMS_COLUMNS = ITEMS_USAGE + 4
};

/* Step 5. out->counts: the rows inserted into each table;
 * out->node_updates: the node executions updated (by `id`); *used what
 * the payload changed in the execution's usage. A node execution whose
 * terminal status the payload would change: DB_CONFLICT with its path,
 * and the caller rolls back. */
static enum db_status store_items(struct db *db, const struct target *t, const struct ingest_input *in,
                                  const struct body_parts *f, struct ingest_result *out, char **node_ids,
                                  struct usage *used)
{
    PGresult *res = NULL;
    const char *params[6] = {in->body, t->org, t->project, out->execution_id, in->sum->workflow_id,
                             f->counts[IT_NODE_EXECUTIONS]};
    enum db_status st = db_exec(db, SQL_ITEMS, 6, params, &res);

    if (st == DB_FORBIDDEN)
        /* An id another tenant took after step 4 looked: the row-level
         * security check of ON CONFLICT DO UPDATE. Answered as step 4
         * answers it. */
        return ingest_fail(out, DB_NOT_FOUND, "node_executions", "no such node execution");
    if (st != DB_OK)
        return st;
    if (PQntuples(res) != 1 || PQnfields(res) != ITEMS_COLUMNS) {
        PQclear(res);
        return DB_ERROR;
    }
    if (!PQgetisnull(res, 0, ITEMS_REFUSED)) {
        snprintf(out->path, sizeof out->path, "node_executions[%s].id", PQgetvalue(res, 0, ITEMS_REFUSED));
        out->message = "this node execution has a terminal status and is final; it takes no more changes";
        PQclear(res);
        return DB_CONFLICT;
    }
    out->node_updates = strtoll(PQgetvalue(res, 0, ITEMS_UPDATED), NULL, 10);
    if (read_usage(res, ITEMS_USAGE, used) < 0) {
        PQclear(res);
        return DB_ERROR;
    }
    if (!PQgetisnull(res, 0, ITEMS_NODE_IDS) && !(*node_ids = strdup(PQgetvalue(res, 0, ITEMS_NODE_IDS)))) {
        PQclear(res);
        return DB_UNAVAILABLE;  /* out of memory: 503, the client retries */
    }
    for (int i = 0; i < IT_COUNT; i++) {
        out->counts[i] = strtoll(PQgetvalue(res, 0, i), NULL, 10);
        long long stored = out->counts[i] + (i == IT_NODE_EXECUTIONS ? out->node_updates : 0);
        /* Step 3 recorded the sent counts for a new execution, whose node
         * executions step 4 proved new. */
        if (stored != (long long)in->sum->counts[i] ||
            (out->http_status == 201 && out->counts[i] != (long long)in->sum->counts[i])) {
            fprintf(stderr, "agora: ingest: %s: %lld rows stored, %zu sent\n", ingest_table_names[i],
                    stored, in->sum->counts[i]);
            st = DB_ERROR;
        }
    }
    PQclear(res);
    return st;
}

/* Step 5 for a new execution: step 3 recorded the usage of the payload's
 * node executions, priced in its own statement. A price committed between
 * the two statements makes step 5's (the node executions' own) differ;
 * then the execution takes step 5's, so its cost is always the sum of its
 * node executions'. */
static enum db_status settle_new_usage(struct db *db, const struct ingest_result *out, const struct usage *stored,
                                       const struct usage *used)
{
    if (usage_equal(stored, used))
        return DB_OK;
    const char *params[5] = {out->execution_id, used->input, used->output, used->cost, used->unpriced};
    return db_exec(db, SQL_EXECUTION_USAGE, 5, params, NULL);
}

/* Step 6, for an append: out->status and cumulative counts; used is what
 * the payload changed in the usage. */
static enum db_status append_execution(struct db *db, const struct ingest_input *in, const struct body_parts *f,
                                       const struct usage *used, struct ingest_result *out)
{
    PGresult *res = NULL;
    char added[IT_COUNT][24];
    for (int i = 0; i < IT_COUNT; i++)
        snprintf(added[i], sizeof added[i], "%lld", out->counts[i]);
    const char *params[11] = {out->execution_id, in->sum->status, added[0], added[1],
                              added[2], added[3], f->fields.data, used->input,
                              used->output, used->cost, used->unpriced};
    enum db_status st = db_exec(db, SQL_EXECUTION_APPEND, 11, params, &res);

    if (st != DB_OK)
        return st;
    if (PQntuples(res) != 1) {
        /* Step 3 locked this row: the policies disagree with this code, a
         * bug rather than a client mistake. */
        fprintf(stderr, "agora: ingest: execution %s vanished before its items were counted\n",
                out->execution_id);
        st = DB_ERROR;
    } else {
        ingest_copy_field(out->status, sizeof out->status, res, 0, 0);
        for (int i = 0; i < IT_COUNT; i++)
            out->counts[i] = strtoll(PQgetvalue(res, 0, 1 + i), NULL, 10);
    }
    PQclear(res);
    return st;
}

enum db_status ingest_store(struct db *db, const struct identity *who, const struct ingest_input *in,
                            struct ingest_result *out)
{
    struct target t;
    enum db_status st;
    char hash_hex[2 * SHA256_LEN + 1];

    memset(out, 0, sizeof *out);
    if ((st = find_workflow(db, who, in->sum->workflow_id, &t, out)) != DB_OK)
        return st;
    if (in->idem_key) {
        bool owned;
        sha256_hex(in->body, in->body_len, hash_hex);
        if ((st = ingest_idem_claim(db, t.org, in, hash_hex, &owned, out)) != DB_OK || !owned)
            return st;
    }
    struct body_parts f;
    body_parts_init(&f, in);
    char *node_ids = NULL;
    struct usage stored, used;
    struct live_change live = {out->execution_id, NULL, {0}, 0};
    if ((st = open_execution(db, &t, in, &f, &stored, out)) != DB_OK)
        goto done;
    if (in->sum->counts[IT_NODE_EXECUTIONS] > 0 && (st = prepare_nodes(db, &t, in, &f, out)) != DB_OK)
        goto done;
    if ((st = store_items(db, &t, in, &f, out, &node_ids, &used)) != DB_OK)
        goto done;
    /* Step 8's message tells what this payload added: step 6 turns the
     * counts cumulative. */
    live.node_ids = node_ids;
    live.node_updates = out->node_updates;
    memcpy(live.added, out->counts, sizeof live.added);
    if (out->http_status == 201) {
        snprintf(out->status, sizeof out->status, "%s", in->sum->status);
        if ((st = settle_new_usage(db, out, &stored, &used)) != DB_OK)
            goto done;
    } else if ((st = append_execution(db, in, &f, &used, out)) != DB_OK) {
        goto done;
    }
    if ((st = live_announce(db, &live, 1)) != DB_OK)
        goto done;
    if (in->idem_key)
        st = ingest_idem_store(db, t.org, in, out);
done:
    free(node_ids);
    body_parts_free(&f);
    return st;
}

struct json_object *ingest_answer(const struct ingest_result *res)
{
    struct json_object *o = json_must(json_object_new_object());
    struct json_object *counts = json_must(json_object_new_object());

    json_object_object_add(o, "execution_id", json_must(json_object_new_string(res->execution_id)));
    json_object_object_add(o, "status", json_must(json_object_new_string(res->status)));
    for (int i = 0; i < IT_COUNT; i++)
        json_object_object_add(counts, ingest_table_names[i], json_must(json_object_new_int64(res->counts[i])));
    json_object_object_add(o, "counts", counts);
    return o;
}
