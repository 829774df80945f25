/* REFERENCE ONLY, not built into the worker: the ingest validator as it was
 * before src/domain/ingest_validate.c read the text in one pass (a walk of the
 * json-c tree), kept unchanged but for its name so the differential tests
 * (tests/unit/test_ingest_diff.c, fuzz/fuzz_ingest_diff.c) can hold the new
 * one to its verdicts. Rules changed since are followed here too: a number
 * field out of a double's range "holds a number out of range" (before its
 * own rules); names refuse C1 controls and format characters as well, and
 * paths drop them from keys (text.h's rule). What json-c cannot show, an
 * integer literal beyond a double (json-c clamps it to 64 bits), compare.c
 * allows for.
 *
 * Validation of the ingest payload (CONTRACT.md section 4), in one pass over
 * the json-c tree, before anything touches the database.
 *
 * The schema is data: one field table per kind of object (the body and each
 * of the four item kinds). Each object is checked member by member in the
 * order of the document (json-c keeps insertion order), then for required
 * members that never appeared, so "the first bad field" is the first one a
 * reader meets going down the body, and a missing field is reported after
 * the fields that are present. Items are checked in index order.
 *
 * Rules, beyond the contract's types and enums:
 * - Identifiers and names (session_id, node_name, node_type, event_type,
 *   span name, kind, action, phase): 1..max_string_bytes bytes, no NUL, no
 *   control characters (C0 or DEL). An optional one that is present must
 *   not be empty either: absence is spelled null or by leaving it out.
 * - Blobs (data, state, attributes, metadata, error): no size limit, but no
 *   NUL in any string at any depth (PostgreSQL's jsonb refuses \u0000); the
 *   path names the blob field. A string `error` may hold control
 *   characters (stack traces have newlines), never NUL.
 * - trace_id, span_id, parent_span_id: 1..64 hex digits, either case.
 * - Durations: a JSON number (integer or fraction), 0..1e15 ms; booleans
 *   and numeric strings are refused. retry_count, sequence: a JSON integer
 *   (1.0 or 1e2 are refused) in 0..2147483647 (PostgreSQL integer).
 * - Numbers anywhere (blobs and unknown fields included) must fit a double:
 *   PostgreSQL fails on 1e-400 in a double column and on 1e131072 in jsonb,
 *   which json-c reads as 0 and inf.
 * - completed_at before started_at (or end_time before start_time) is
 *   accepted: clocks skew, and telemetry is kept as sent.
 * - Unknown fields are ignored, but still walked for NUL and numbers out
 *   of range, since PostgreSQL parses the whole body as jsonb.
 *
 * Nothing is allocated; a path is formatted only when a field fails.
 *
 * Not checkable here: json-c truncates an object key at "\u0000" (it
 * strdup()s names), so a NUL in a key is refused on the raw text by
 * json_parse_strict (json_in.c), before this walk. */
#include "reference.h"

#include <json-c/json.h>

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/text.h"
#include "util/timestamp.h"

static const char *const ref_table_names[IT_COUNT] = {
    "node_executions",
    "telemetry_spans",
    "telemetry_events",
    "shared_state_snapshots",
};

#define DURATION_MAX_MS 1e15
#define HEX_ID_MAX 64
#define KEY_IN_PATH_MAX 64

enum kind {
    K_UUID,     /* a UUID string */
    K_NAME,     /* an identifier or name: see the rules above */
    K_ENUM,     /* one of a fixed list of strings */
    K_TIME,     /* an RFC 3339 timestamp string (timestamp.h) */
    K_DURATION, /* a number, 0..DURATION_MAX_MS */
    K_COUNT,    /* an integer, 0..INT32_MAX */
    K_HEX,      /* 1..HEX_ID_MAX hex digits */
    K_OBJECT,   /* a blob that must be an object */
    K_ANY,      /* a blob of any JSON type */
    K_ERROR,    /* a blob that is a string or an object */
    K_TABLE,    /* body only: an array of items of one table */
};

/* What the summary takes from a field once it has passed. */
enum note { N_NONE, N_WORKFLOW_ID, N_EXECUTION_ID, N_STATUS, N_NODE_ID };

struct field {
    const char *name;
    unsigned char kind;
    unsigned char required;
    unsigned char arg;  /* K_ENUM: enum choice list; K_TABLE: enum ingest_table */
    unsigned char note; /* enum note */
};

enum choice_list { C_EXECUTION_STATUS, C_NODE_STATUS, C_SPAN_STATUS };

static const char *const ref_execution_statuses[] = {"running", "success", "error", "cancelled", NULL};
static const char *const node_statuses[] = {"success", "error", "skipped", "running", NULL};
static const char *const span_statuses[] = {"ok", "error", "unset", NULL};
static const char *const *const choice_lists[] = {
    [C_EXECUTION_STATUS] = ref_execution_statuses,
    [C_NODE_STATUS] = node_statuses,
    [C_SPAN_STATUS] = span_statuses,
};
/* For messages, in the same order. */
static const char *const choice_texts[] = {
    [C_EXECUTION_STATUS] = "running, success, error, cancelled",
    [C_NODE_STATUS] = "success, error, skipped, running",
    [C_SPAN_STATUS] = "ok, error, unset",
};

#define REQ 1
#define OPT 0

static const struct field body_fields[] = {
    {"workflow_id", K_UUID, REQ, 0, N_WORKFLOW_ID},
    {"session_id", K_NAME, REQ, 0, N_NONE},
    {"execution_id", K_UUID, OPT, 0, N_EXECUTION_ID},
    {"status", K_ENUM, REQ, C_EXECUTION_STATUS, N_STATUS},
    {"started_at", K_TIME, REQ, 0, N_NONE},
    {"completed_at", K_TIME, OPT, 0, N_NONE},
    {"duration_ms", K_DURATION, OPT, 0, N_NONE},
    {"error", K_ERROR, OPT, 0, N_NONE},
    {"metadata", K_OBJECT, OPT, 0, N_NONE},
    {"node_executions", K_TABLE, OPT, IT_NODE_EXECUTIONS, N_NONE},
    {"telemetry_events", K_TABLE, OPT, IT_TELEMETRY_EVENTS, N_NONE},
    {"telemetry_spans", K_TABLE, OPT, IT_TELEMETRY_SPANS, N_NONE},
    {"shared_state_snapshots", K_TABLE, OPT, IT_SHARED_STATE_SNAPSHOTS, N_NONE},
    {NULL, 0, 0, 0, 0},
};

static const struct field node_execution_fields[] = {
    {"node_id", K_UUID, OPT, 0, N_NODE_ID},
    {"node_name", K_NAME, REQ, 0, N_NONE},
    {"node_type", K_NAME, OPT, 0, N_NONE},
    {"status", K_ENUM, OPT, C_NODE_STATUS, N_NONE},
    {"started_at", K_TIME, OPT, 0, N_NONE},
    {"completed_at", K_TIME, OPT, 0, N_NONE},
    {"prep_duration_ms", K_DURATION, OPT, 0, N_NONE},
    {"exec_duration_ms", K_DURATION, OPT, 0, N_NONE},
    {"post_duration_ms", K_DURATION, OPT, 0, N_NONE},
    {"retry_count", K_COUNT, OPT, 0, N_NONE},
    {"action", K_NAME, OPT, 0, N_NONE},
    {"error", K_ERROR, OPT, 0, N_NONE},
    {NULL, 0, 0, 0, 0},
};

static const struct field span_fields[] = {
    {"trace_id", K_HEX, OPT, 0, N_NONE},
    {"span_id", K_HEX, REQ, 0, N_NONE},
    {"parent_span_id", K_HEX, OPT, 0, N_NONE},
    {"name", K_NAME, REQ, 0, N_NONE},
    {"kind", K_NAME, OPT, 0, N_NONE},
    {"start_time", K_TIME, REQ, 0, N_NONE},
    {"end_time", K_TIME, OPT, 0, N_NONE},
    {"duration_ms", K_DURATION, OPT, 0, N_NONE},
    {"status", K_ENUM, OPT, C_SPAN_STATUS, N_NONE},
    {"attributes", K_OBJECT, OPT, 0, N_NONE},
    {"node_name", K_NAME, OPT, 0, N_NONE},
    {NULL, 0, 0, 0, 0},
};

static const struct field event_fields[] = {
    {"event_type", K_NAME, REQ, 0, N_NONE},
    {"timestamp", K_TIME, REQ, 0, N_NONE},
    {"node_name", K_NAME, OPT, 0, N_NONE},
    {"data", K_ANY, OPT, 0, N_NONE},
    {NULL, 0, 0, 0, 0},
};

static const struct field snapshot_fields[] = {
    {"sequence", K_COUNT, OPT, 0, N_NONE},
    {"timestamp", K_TIME, OPT, 0, N_NONE},
    {"node_name", K_NAME, OPT, 0, N_NONE},
    {"phase", K_NAME, OPT, 0, N_NONE},
    {"state", K_OBJECT, REQ, 0, N_NONE},
    {NULL, 0, 0, 0, 0},
};

static const struct field *const item_fields[IT_COUNT] = {
    [IT_NODE_EXECUTIONS] = node_execution_fields,
    [IT_TELEMETRY_SPANS] = span_fields,
    [IT_TELEMETRY_EVENTS] = event_fields,
    [IT_SHARED_STATE_SNAPSHOTS] = snapshot_fields,
};

/* The walk's state. table/index say where we are, so a path is formatted
 * only when something fails. */
struct vctx {
    const struct config *cfg;
    struct ingest_summary *out;
    char *path;
    size_t pathlen;
    char *msg;
    size_t msglen;
    const char *table; /* NULL at the top level */
    size_t index;
    bool node_has_id;  /* the current node execution named a node_id */
};

/* Copies key into dst without control or format characters, at most
 * KEY_IN_PATH_MAX bytes of whole UTF-8 characters. */
static void clean_key(char *dst, size_t dstlen, const char *key)
{
    size_t o = 0, lim = dstlen - 1 < KEY_IN_PATH_MAX ? dstlen - 1 : KEY_IN_PATH_MAX;
    const unsigned char *p = (const unsigned char *)key;
    while (*p) {
        size_t n = utf8_seq_len(p, strnlen((const char *)p, 4));
        if (n == 0) {
            p++;
            continue;
        }
        if (name_char_class(utf8_decode(p, n)) != NAME_CHAR_OK) {
            p += n;
            continue;
        }
        if (o + n > lim)
            break;
        memcpy(dst + o, p, n);
        o += n;
        p += n;
    }
    dst[o] = '\0';
}

/* Fills path and msg for a failure at member key of the current object
 * (key NULL: the current item itself, or the body at the top level), with
 * the message "<path> <rule>". Returns -1. */
__attribute__((format(printf, 3, 4))) static int fail(struct vctx *v, const char *key, const char *fmt, ...)
{
    char k[KEY_IN_PATH_MAX + 1] = "";
    if (key)
        clean_key(k, sizeof k, key);
    if (v->table && key)
        snprintf(v->path, v->pathlen, "%s[%zu].%s", v->table, v->index, k);
    else if (v->table)
        snprintf(v->path, v->pathlen, "%s[%zu]", v->table, v->index);
    else
        snprintf(v->path, v->pathlen, "%s", k);

    if (v->msglen == 0)
        return -1;
    int n = 0;
    if (key || v->table)
        n = snprintf(v->msg, v->msglen, "%s ", v->pathlen ? v->path : "");
    if (n < 0 || (size_t)n >= v->msglen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->msg + n, v->msglen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* "a string", "a number", ... for messages about the wrong type. */
static const char *json_kind(struct json_object *val)
{
    switch (json_object_get_type(val)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "a boolean";
    case json_type_int:
    case json_type_double:
        return "a number";
    case json_type_string:
        return "a string";
    case json_type_array:
        return "an array";
    case json_type_object:
        return "an object";
    }
    return "something else";
}

/* True when a JSON number fits a double, as PostgreSQL needs for double
 * precision columns and for jsonb's numeric. json-c reads an overflowing
 * literal as inf and an underflowing one as 0; it keeps the literal as the
 * object's userdata (json_object_new_double_s), which tells a real zero
 * ("0.0", "0e5") from an underflow ("1e-400"). Integers: json-c clamps
 * them to 64 bits, and every 64-bit value fits a double's range. */
static bool number_in_range(struct json_object *val)
{
    if (!json_object_is_type(val, json_type_double))
        return true;
    double d = json_object_get_double(val);
    if (!isfinite(d))
        return false;
    if (d != 0.0)
        return true;
    const char *lit = json_object_get_userdata(val);
    for (const char *p = lit; p && *p && *p != 'e' && *p != 'E'; p++)
        if (*p >= '1' && *p <= '9')
            return false;
    return true;
}

/* Checks a blob (any JSON value) for NUL in strings and numbers out of a
 * double's range, at any depth. Failures name key, the blob's field. The
 * parser already limited the depth; the guard only keeps a tree built by
 * other code from running the stack out. */
static int check_blob(struct vctx *v, const char *key, struct json_object *val, int depth)
{
    if (depth > v->cfg->max_depth + 1)
        return fail(v, key, "is nested too deeply");
    switch (json_object_get_type(val)) {
    case json_type_string:
        if (strlen(json_object_get_string(val)) != (size_t)json_object_get_string_len(val))
            return fail(v, key, "must not contain NUL characters (\\u0000)");
        return 0;
    case json_type_double:
        if (!number_in_range(val))
            return fail(v, key, "holds a number out of range");
        return 0;
    case json_type_array: {
        size_t n = json_object_array_length(val);
        for (size_t i = 0; i < n; i++)
            if (check_blob(v, key, json_object_array_get_idx(val, i), depth + 1) < 0)
                return -1;
        return 0;
    }
    case json_type_object: {
        json_object_object_foreach(val, member, inner) {
            (void)member; /* NUL in a name cannot be seen here: see the top */
            if (check_blob(v, key, inner, depth + 1) < 0)
                return -1;
        }
        return 0;
    }
    default:
        return 0;
    }
}

/* A name or identifier: a string of 1..max_string_bytes bytes without NUL
 * or control characters. */
static int check_name(struct vctx *v, const char *key, struct json_object *val)
{
    if (!json_object_is_type(val, json_type_string))
        return fail(v, key, "must be a string, not %s", json_kind(val));
    const unsigned char *s = (const unsigned char *)json_object_get_string(val);
    size_t len = (size_t)json_object_get_string_len(val);
    if (len == 0)
        return fail(v, key, "must not be empty");
    if (len > v->cfg->max_string_bytes)
        return fail(v, key, "must be at most %zu bytes long", v->cfg->max_string_bytes);
    for (size_t i = 0; i < len;) {
        if (s[i] == 0)
            return fail(v, key, "must not contain NUL characters (\\u0000)");
        size_t n = s[i] < 0x80 ? 1 : utf8_seq_len(s + i, len - i);
        enum name_char c = name_char_class(utf8_decode(s + i, n ? n : 1));
        if (c != NAME_CHAR_OK)
            return fail(v, key, "%s", name_char_rule(c));
        i += n ? n : 1;
    }
    return 0;
}

static int check_duration(struct vctx *v, const char *key, struct json_object *val)
{
    double d;
    if (json_object_is_type(val, json_type_int)) {
        int64_t i = json_object_get_int64(val); /* a uint64 above INT64_MAX reads INT64_MAX */
        if (i < 0)
            return fail(v, key, "must not be negative");
        d = (double)i;
    } else if (json_object_is_type(val, json_type_double)) {
        if (!number_in_range(val))
            return fail(v, key, "holds a number out of range");
        d = json_object_get_double(val);
        if (d < 0)
            return fail(v, key, "must not be negative");
    } else {
        return fail(v, key, "must be a number of milliseconds, not %s", json_kind(val));
    }
    if (d > DURATION_MAX_MS)
        return fail(v, key, "must be at most %.0f", DURATION_MAX_MS);
    return 0;
}

static int check_count(struct vctx *v, const char *key, struct json_object *val)
{
    if (!number_in_range(val))
        return fail(v, key, "holds a number out of range");
    if (!json_object_is_type(val, json_type_int))
        return fail(v, key, "must be an integer, not %s",
                    json_object_is_type(val, json_type_double) ? "a fraction" : json_kind(val));
    int64_t i = json_object_get_int64(val);
    if (i < 0)
        return fail(v, key, "must not be negative");
    if (i > INT32_MAX)
        return fail(v, key, "must be at most %d", INT32_MAX);
    return 0;
}

static int check_hex(struct vctx *v, const char *key, struct json_object *val)
{
    if (json_object_is_type(val, json_type_string)) {
        const char *s = json_object_get_string(val);
        size_t len = (size_t)json_object_get_string_len(val);
        bool ok = len >= 1 && len <= HEX_ID_MAX;
        for (size_t i = 0; ok && i < len; i++) {
            char c = s[i];
            ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        }
        if (ok)
            return 0;
    }
    return fail(v, key, "must be a string of 1 to %d hexadecimal digits", HEX_ID_MAX);
}

static int check_enum(struct vctx *v, const char *key, struct json_object *val, unsigned list,
                      const char **match)
{
    if (json_object_is_type(val, json_type_string)) {
        const char *s = json_object_get_string(val);
        size_t len = (size_t)json_object_get_string_len(val);
        for (const char *const *c = choice_lists[list]; *c; c++) {
            if (strlen(*c) == len && memcmp(*c, s, len) == 0) {
                *match = *c;
                return 0;
            }
        }
    }
    return fail(v, key, "must be one of: %s", choice_texts[list]);
}

static int check_items(struct vctx *v, const struct field *f, struct json_object *val);

/* Checks one present, non-null member against its field, and notes what
 * the summary needs. */
static int check_field(struct vctx *v, const struct field *f, struct json_object *val)
{
    const char *key = f->name;
    const char *match = NULL;
    switch ((enum kind)f->kind) {
    case K_UUID:
        if (!json_object_is_type(val, json_type_string) ||
            !uuid_valid_n(json_object_get_string(val), (size_t)json_object_get_string_len(val)))
            return fail(v, key, "must be a UUID (8-4-4-4-12 hexadecimal digits)");
        break;
    case K_NAME:
        if (check_name(v, key, val) < 0)
            return -1;
        break;
    case K_ENUM:
        if (check_enum(v, key, val, f->arg, &match) < 0)
            return -1;
        break;
    case K_TIME: {
        int64_t us;
        if (!json_object_is_type(val, json_type_string) ||
            ts_parse(json_object_get_string(val), (size_t)json_object_get_string_len(val), &us) < 0)
            return fail(v, key, "must be an RFC 3339 timestamp");
        break;
    }
    case K_DURATION:
        if (check_duration(v, key, val) < 0)
            return -1;
        break;
    case K_COUNT:
        if (check_count(v, key, val) < 0)
            return -1;
        break;
    case K_HEX:
        if (check_hex(v, key, val) < 0)
            return -1;
        break;
    case K_OBJECT:
        if (!json_object_is_type(val, json_type_object))
            return fail(v, key, "must be an object, not %s", json_kind(val));
        if (check_blob(v, key, val, 1) < 0)
            return -1;
        break;
    case K_ANY:
        if (check_blob(v, key, val, 1) < 0)
            return -1;
        break;
    case K_ERROR:
        if (!json_object_is_type(val, json_type_string) && !json_object_is_type(val, json_type_object))
            return fail(v, key, "must be a string or an object, not %s", json_kind(val));
        if (check_blob(v, key, val, 1) < 0)
            return -1;
        break;
    case K_TABLE:
        return check_items(v, f, val);
    }

    switch ((enum note)f->note) {
    case N_WORKFLOW_ID:
        uuid_lower(json_object_get_string(val), v->out->workflow_id);
        break;
    case N_EXECUTION_ID:
        uuid_lower(json_object_get_string(val), v->out->execution_id);
        break;
    case N_STATUS:
        v->out->status = match;
        v->out->terminal = strcmp(match, "running") != 0;
        break;
    case N_NODE_ID:
        v->node_has_id = true;
        break;
    case N_NONE:
        break;
    }
    return 0;
}

/* Checks obj's members in document order against fields, then that every
 * required field was there. null stands for absent; a required field that
 * is null is missing. Members not in fields are only walked as blobs. */
static int check_object(struct vctx *v, const struct field *fields, struct json_object *obj)
{
    uint32_t seen = 0;
    json_object_object_foreach(obj, key, val) {
        const struct field *f = fields;
        while (f->name && (f->name[0] != key[0] || strcmp(f->name, key) != 0))
            f++;
        if (!f->name) {
            if (check_blob(v, key, val, 1) < 0)
                return -1;
            continue;
        }
        if (json_object_is_type(val, json_type_null)) {
            if (f->required)
                return fail(v, key, "is required and must not be null");
            continue;
        }
        seen |= UINT32_C(1) << (f - fields);
        if (check_field(v, f, val) < 0)
            return -1;
    }
    for (const struct field *f = fields; f->name; f++)
        if (f->required && !(seen & UINT32_C(1) << (f - fields)))
            return fail(v, f->name, "is required");
    return 0;
}

/* An array of items of one table: at most max_items, each an object. */
static int check_items(struct vctx *v, const struct field *f, struct json_object *arr)
{
    enum ingest_table t = (enum ingest_table)f->arg;
    if (!json_object_is_type(arr, json_type_array))
        return fail(v, f->name, "must be an array, not %s", json_kind(arr));
    size_t n = json_object_array_length(arr);
    if (v->cfg->max_items >= 0 && n > (size_t)v->cfg->max_items)
        return fail(v, f->name, "must have at most %ld items", v->cfg->max_items);

    v->table = ref_table_names[t];
    for (size_t i = 0; i < n; i++) {
        struct json_object *item = json_object_array_get_idx(arr, i);
        v->index = i;
        if (!json_object_is_type(item, json_type_object))
            return fail(v, NULL, "must be an object, not %s", json_kind(item));
        v->node_has_id = false;
        if (check_object(v, item_fields[t], item) < 0)
            return -1;
        if (t == IT_NODE_EXECUTIONS) {
            if (v->node_has_id)
                v->out->any_node_id = true;
            else
                v->out->any_node_by_name = true;
        }
    }
    v->table = NULL;
    v->out->counts[t] = n;
    return 0;
}

int ref_ingest_validate_tree(const struct config *cfg, struct json_object *payload, struct ingest_summary *out,
                    char *path, size_t pathlen, char *msg, size_t msglen)
{
    struct vctx v = {
        .cfg = cfg, .out = out, .path = path, .pathlen = pathlen, .msg = msg, .msglen = msglen,
    };
    memset(out, 0, sizeof *out);
    if (pathlen)
        path[0] = '\0';
    if (msglen)
        msg[0] = '\0';
    if (!json_object_is_type(payload, json_type_object)) /* NULL is json null */
        return fail(&v, NULL, "the body must be a JSON object");
    return check_object(&v, body_fields, payload);
}
