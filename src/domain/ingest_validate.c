/* Validation of the ingest payload (CONTRACT.md section 4), in one pass over
 * the body's text, before anything touches the database. No tree is built:
 * json_scan.c lexes and checks the grammar, and this file reads only the
 * tokens the schema needs, so an ingest costs about one look at each byte.
 *
 * The schema is data: one field table per kind of object (the body and each
 * of the four item kinds). Each object's members are checked in the order of
 * the document, then for required members that never appeared, so "the
 * first bad field" is the first one a reader meets going down the body, and
 * a missing field is reported after the fields that are present. Items are
 * checked in index order; an array over max_items is reported as such,
 * whatever its items hold.
 *
 * Rules, beyond the contract's types and enums:
 * - Identifiers and names (session_id, node_name, node_type, event_type,
 *   span name, kind, action, phase, model, provider): 1..max_string_bytes
 *   bytes, no NUL, no control characters (C0, DEL, C1) and no format
 *   characters (Unicode Cf: bidi overrides, zero-width characters; text.h
 *   has the one rule). An optional one that is present must not be empty
 *   either: absence is spelled null or by leaving it out.
 * - Blobs (data, state, attributes, metadata, error): no size limit, but no
 *   NUL in any string at any depth (PostgreSQL's jsonb refuses \u0000); the
 *   path names the blob field. A string `error` may hold control
 *   characters (stack traces have newlines), never NUL.
 * - trace_id, span_id, parent_span_id: 1..64 hex digits, either case.
 * - Durations: a JSON number (integer or fraction), 0..1e15 ms; booleans
 *   and numeric strings are refused. retry_count, sequence and the token
 *   counts (input_tokens, output_tokens, cache_read_tokens,
 *   cache_creation_tokens): a JSON integer (1.0 or 1e2 are refused) in
 *   0..2147483647 (PostgreSQL integer).
 *   Integers beyond 64 bits read as the nearest 64-bit one (json-c did).
 * - Numbers anywhere (number fields, blobs and unknown fields) must fit a
 *   double, however they are spelled (jnum_fits_double): 1e309 and 1
 *   followed by 309 zeros alike "hold a number out of range", checked
 *   before a number field's own rules. PostgreSQL fails on 1e-400 in a
 *   double column and on 1e131072 in jsonb.
 * - completed_at before started_at (or end_time before start_time) is
 *   accepted: clocks skew, and telemetry is kept as sent.
 * - Unknown fields are ignored, but still checked for NUL and numbers out
 *   of range, since PostgreSQL parses the whole body as jsonb.
 * - A NUL in an object key, at any depth, is refused for the whole body
 *   (422 without a path): see JSON_WHY_NUL_KEY.
 *
 * Repeated keys: the last one wins, as in PostgreSQL's jsonb, which stores
 * the body, and json-c, which this replaces. A schema field's earlier
 * values are not validated and do not count for "required"; the field
 * stands at the place of its first occurrence when bad fields are ordered
 * (json-c kept that order). Inside blobs and unknown fields every value is
 * checked, shadowed or not: PostgreSQL still parses the shadowed ones.
 *
 * Failures are recorded compactly (a rule, the field, the item) and the
 * path and message of the one reported are formatted once, at the end.
 * Nothing is allocated.
 *
 * The summary also records where the values of the top-level members the
 * ingest's small statements read lie in the text (ingest_summary.spans,
 * the body fields with a span in ingest_schema.c), as the walk passes
 * them: a name is matched with its escapes decoded, and a repeated
 * member's last value is kept. */
#include "domain/ingest_validate.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "domain/ingest_schema.h"
#include "json/json_scan.h"
#include "util/text.h"
#include "util/timestamp.h"

/* The members of one object seen so far, by field: where the field first
 * appeared (its rank among the members) and how its last value fared. */
struct level {
    uint32_t seen;    /* appeared */
    uint32_t present; /* last value not null */
    uint32_t bad;     /* last value failed: err[] says how */
    uint32_t members;
    uint32_t ord[MAX_FIELDS];
    struct verr err[MAX_FIELDS];
    bool unknown_bad; /* an unknown member failed: the first one */
    uint32_t unknown_ord;
    struct verr unknown_err;
};

struct vctx {
    const struct config *cfg;
    struct jscan s;
    const char *text;
    struct ingest_summary *out;
    int table;        /* the array being walked, -1 at the top level */
    size_t index;
    bool node_has_id; /* the current node execution named a node_id */
    struct level body, item;
};

/* What check_member made of one member's value. */
enum mverdict { M_STOP = -1, M_OK, M_BAD, M_NULL };

static void set_err(const struct vctx *v, struct verr *e, enum rule rule, unsigned arg, const struct jstr *key)
{
    e->rule = (unsigned char)rule;
    e->arg = (unsigned char)arg;
    e->table = (signed char)v->table;
    e->index = v->index;
    if (key)
        e->key = *key;
    else
        memset(&e->key, 0, sizeof e->key);
}

static struct jstr name_of(const struct field *f)
{
    struct jstr k = {f->name, f->len, false, false};
    return k;
}

static enum mverdict fail_field(const struct vctx *v, struct verr *e, const struct field *f, enum rule rule,
                                unsigned arg)
{
    struct jstr k = name_of(f);
    set_err(v, e, rule, arg, &k);
    return M_BAD;
}

/* ---- values ------------------------------------------------------------ */

/* A short string's value in buf, NUL-terminated: its length, or SIZE_MAX
 * when it has more than cap - 1 bytes. */
static size_t small_value(const struct jstr *s, char *buf, size_t cap)
{
    if (s->len > 6 * cap) /* an escape takes at most 6 bytes per byte it makes */
        return SIZE_MAX;
    size_t n = jstr_unescape(s, buf, cap - 1);
    if (n > cap - 1)
        return SIZE_MAX;
    buf[n] = '\0';
    return n;
}

/* The rule a refused character class breaks. */
static enum rule name_char_failure(enum name_char c)
{
    return c == NAME_CHAR_CONTROL ? R_CONTROL : c == NAME_CHAR_FORMAT ? R_FORMAT : R_NONE;
}

/* A name or identifier: 1..max_string_bytes bytes without NUL, control or
 * format characters (text.h, name_char_class). R_NONE when it is one;
 * *len is its length. */
static enum rule name_rule(const struct vctx *v, const struct jstr *s, size_t *len)
{
    size_t max = v->cfg->max_string_bytes, n = 0;
    enum rule bad = R_NONE;
    if (!s->escaped) {
        /* Raw bytes, lexically valid UTF-8 (the lexer let no NUL or C0
         * control through raw; DEL, C1 and format characters it does). */
        n = s->len;
        if (n > 0 && n <= max)
            bad = name_char_failure(name_text_class(s->raw, n));
    } else {
        struct jstr_iter it;
        uint32_t cp;
        char u[4];
        size_t k;
        jstr_iter_init(&it, s);
        while (n <= max && (k = jstr_iter_next(&it, &cp, u)) > 0) {
            n += k;
            if (bad == R_NONE)
                bad = cp == 0 ? R_NUL : name_char_failure(name_char_class(cp));
        }
    }
    *len = n;
    if (n == 0)
        return R_EMPTY;
    if (n > max)
        return R_TOO_LONG;
    return bad;
}

static int walk_object(struct vctx *v, struct level *lv, const struct field *fields, int level,
                       struct verr *res);

/* A table: an array of at most max_items objects, each valid. */
static enum mverdict check_items(struct vctx *v, const struct field *f, enum jtype type, int level,
                                 struct verr *e)
{
    enum ingest_table t = (enum ingest_table)f->arg;
    if (type != JT_ARRAY) {
        if (js_skip(&v->s, level, NULL) < 0)
            return M_STOP;
        return fail_field(v, e, f, R_ARRAY_TYPE, type);
    }
    struct jcont c;
    struct jstr unused;
    struct verr first;
    bool have_err = false, any_id = false, any_name = false;
    long max = v->cfg->max_items;
    size_t n = 0;
    int rc;
    js_enter(&v->s, &c, level);
    v->table = (int)t;
    while ((rc = js_next(&v->s, &c, &unused)) > 0) {
        enum jtype it = js_peek(&v->s);
        v->index = n++;
        if (have_err || (max >= 0 && n > (size_t)max)) {
            /* Its verdict cannot change the answer: only the syntax counts. */
            if (js_skip(&v->s, level + 1, NULL) < 0)
                break;
        } else if (it != JT_OBJECT) {
            if (js_skip(&v->s, level + 1, NULL) < 0)
                break;
            set_err(v, &first, R_ITEM_TYPE, it, NULL);
            have_err = true;
        } else {
            v->node_has_id = false;
            int r = walk_object(v, &v->item, item_fields[t], level + 1, &first);
            if (r < 0)
                break;
            if (r > 0)
                have_err = true;
            else if (v->node_has_id)
                any_id = true;
            else
                any_name = true;
        }
    }
    v->table = -1;
    if (rc != 0)
        return M_STOP;
    if (max >= 0 && n > (size_t)max)
        return fail_field(v, e, f, R_TOO_MANY, 0);
    if (have_err) {
        *e = first;
        return M_BAD;
    }
    v->out->counts[t] = n;
    if (t == IT_NODE_EXECUTIONS) {
        v->out->any_node_id = any_id;
        v->out->any_node_by_name = any_name;
    }
    return M_OK;
}

/* A blob: any value (type, when not JT_NONE, already checked), without NUL
 * in strings and with numbers that fit a double. */
static enum mverdict check_blob(struct vctx *v, const struct field *f, int level, struct verr *e)
{
    enum jblob blob = JB_OK;
    if (js_skip(&v->s, level, &blob) < 0)
        return M_STOP;
    if (blob != JB_OK)
        return fail_field(v, e, f, blob == JB_NUL ? R_NUL : R_RANGE, 0);
    return M_OK;
}

static enum mverdict check_number(struct vctx *v, const struct field *f, enum jtype type, int level,
                                  struct verr *e)
{
    struct jnum num;
    if (type != JT_NUMBER) {
        if (js_skip(&v->s, level, NULL) < 0)
            return M_STOP;
        return fail_field(v, e, f, f->kind == K_DURATION ? R_DURATION_TYPE : R_INT_TYPE, type);
    }
    if (js_number(&v->s, &num) < 0)
        return M_STOP;
    if (jnum_may_overflow(&num) && !jnum_fits_double(&num))
        return fail_field(v, e, f, R_RANGE, 0);
    if (f->kind == K_COUNT) {
        if (num.is_double)
            return fail_field(v, e, f, R_INT_TYPE, JT_NUMBER);
        int64_t i = jnum_int64(&num);
        if (i < 0)
            return fail_field(v, e, f, R_NEGATIVE, 0);
        if (i > INT32_MAX)
            return fail_field(v, e, f, R_INT_MAX, 0);
        if (f->note == N_USAGE)
            v->out->any_usage = true;
        return M_OK;
    }
    double d;
    if (!num.is_double) {
        int64_t i = jnum_int64(&num);
        if (i < 0)
            return fail_field(v, e, f, R_NEGATIVE, 0);
        d = (double)i;
    } else {
        d = jnum_double(&num);
        if (d < 0)
            return fail_field(v, e, f, R_NEGATIVE, 0);
    }
    if (d > DURATION_MAX_MS)
        return fail_field(v, e, f, R_DURATION_MAX, 0);
    return M_OK;
}

_Static_assert(INGEST_TIME_MAX + 1 <= HEX_ID_MAX + 2 && UUID_STR_LEN + 2 <= HEX_ID_MAX + 2,
               "check_string's buffer holds every short value");

/* The string kinds: UUID, name, enum, timestamp, hex id. */
static enum mverdict check_string(struct vctx *v, const struct field *f, enum jtype type, int level,
                                  struct verr *e)
{
    static const enum rule wrong[] = {[K_UUID] = R_UUID, [K_NAME] = R_NOT_STRING, [K_ENUM] = R_ENUM,
                                      [K_TIME] = R_TIME, [K_HEX] = R_HEX};
    unsigned arg = f->kind == K_NAME ? type : f->kind == K_ENUM ? f->arg : 0;
    struct jstr s;
    char buf[HEX_ID_MAX + 2];
    size_t n;
    if (type != JT_STRING) {
        if (js_skip(&v->s, level, NULL) < 0)
            return M_STOP;
        return fail_field(v, e, f, wrong[f->kind], arg);
    }
    if (js_string(&v->s, &s) < 0)
        return M_STOP;
    switch ((enum kind)f->kind) {
    case K_UUID:
        n = small_value(&s, buf, UUID_STR_LEN + 2);
        if (n != UUID_STR_LEN || !uuid_valid_n(buf, n))
            return fail_field(v, e, f, R_UUID, 0);
        if (f->note == N_WORKFLOW_ID)
            uuid_lower(buf, v->out->workflow_id);
        else if (f->note == N_EXECUTION_ID)
            uuid_lower(buf, v->out->execution_id);
        else if (f->note == N_NODE_ID)
            v->node_has_id = true;
        return M_OK;
    case K_NAME: {
        enum rule r = name_rule(v, &s, &n);
        if (r != R_NONE)
            return fail_field(v, e, f, r, 0);
        if (f->note == N_SESSION_ID) {
            v->out->session_id_len = n;
            v->out->session_id_at = (size_t)(s.raw - v->text);
            v->out->session_id_raw_len = s.len;
        }
        return M_OK;
    }
    case K_ENUM:
        n = small_value(&s, buf, 16);
        for (const char *const *c = choice_lists[f->arg]; n != SIZE_MAX && *c; c++) {
            if (strcmp(*c, buf) == 0 && strlen(*c) == n) {
                if (f->note == N_STATUS) {
                    v->out->status = *c;
                    v->out->terminal = strcmp(*c, "running") != 0;
                }
                return M_OK;
            }
        }
        return fail_field(v, e, f, R_ENUM, f->arg);
    case K_TIME: {
        int64_t us;
        n = small_value(&s, buf, INGEST_TIME_MAX + 1);
        if (n == SIZE_MAX || ts_parse(buf, n, &us) < 0)
            return fail_field(v, e, f, R_TIME, 0);
        if (f->note == N_STARTED_AT)
            memcpy(v->out->started_at, buf, n + 1);
        return M_OK;
    }
    case K_HEX:
        n = small_value(&s, buf, HEX_ID_MAX + 1);
        if (n == SIZE_MAX || n == 0)
            return fail_field(v, e, f, R_HEX, 0);
        for (size_t i = 0; i < n; i++)
            if (hex_digit_value(buf[i]) < 0)
                return fail_field(v, e, f, R_HEX, 0);
        return M_OK;
    default:
        return M_STOP; /* not a string kind: not reached */
    }
}

/* Checks one member's value (at s->p, of the given level) against f. */
static enum mverdict check_member(struct vctx *v, const struct field *f, int level, struct verr *e)
{
    enum jtype type = js_peek(&v->s);
    if (type == JT_NULL) {
        if (js_literal(&v->s) < 0)
            return M_STOP;
        if (f->note == N_EXECUTION_ID)
            v->out->execution_id[0] = '\0';
        else if (f->note == N_NODE_ID)
            v->node_has_id = false;
        if (f->kind == K_TABLE) {
            v->out->counts[f->arg] = 0;
            if (f->arg == IT_NODE_EXECUTIONS)
                v->out->any_node_id = v->out->any_node_by_name = false;
        }
        if (f->required)
            fail_field(v, e, f, R_NULL_REQUIRED, 0);
        return M_NULL;
    }
    switch ((enum kind)f->kind) {
    case K_UUID:
    case K_NAME:
    case K_ENUM:
    case K_TIME:
    case K_HEX:
        return check_string(v, f, type, level, e);
    case K_DURATION:
    case K_COUNT:
        return check_number(v, f, type, level, e);
    case K_OBJECT:
    case K_ERROR:
        if (type != JT_OBJECT && (f->kind == K_OBJECT || type != JT_STRING)) {
            if (js_skip(&v->s, level, NULL) < 0)
                return M_STOP;
            return fail_field(v, e, f, f->kind == K_OBJECT ? R_OBJECT_TYPE : R_ERROR_TYPE, type);
        }
        return check_blob(v, f, level, e);
    case K_ANY:
        return check_blob(v, f, level, e);
    case K_TABLE:
        return check_items(v, f, type, level, e);
    }
    return M_STOP;
}

/* The field named key (escapes decoded), or NULL. */
static const struct field *find_field(const struct field *fields, const struct jstr *key)
{
    char buf[32];
    const char *k = key->raw;
    size_t n = key->len;
    if (key->escaped) {
        if ((n = small_value(key, buf, sizeof buf)) == SIZE_MAX)
            return NULL;
        k = buf;
    }
    if (n == 0)
        return NULL;
    for (const struct field *f = fields; f->name; f++)
        if (f->len == n && f->name[0] == k[0] && memcmp(f->name, k, n) == 0)
            return f;
    return NULL;
}

/* The object's verdict once it closed: its first bad member (by where the
 * member first appeared), else its first missing required field. */
static int object_verdict(const struct vctx *v, const struct level *lv, const struct field *fields,
                          struct verr *res)
{
    const struct verr *best = NULL;
    uint32_t best_ord = UINT32_MAX;
    for (uint32_t m = lv->bad; m; m &= m - 1) {
        unsigned fi = (unsigned)__builtin_ctz(m);
        if (lv->ord[fi] < best_ord) {
            best_ord = lv->ord[fi];
            best = &lv->err[fi];
        }
    }
    if (lv->unknown_bad && lv->unknown_ord < best_ord)
        best = &lv->unknown_err;
    if (best) {
        *res = *best;
        return 1;
    }
    for (const struct field *f = fields; f->name; f++) {
        if (f->required && !(lv->present & UINT32_C(1) << (f - fields))) {
            struct jstr k = name_of(f);
            set_err(v, res, R_MISSING, 0, &k);
            return 1;
        }
    }
    return 0;
}

/* Walks the object at s->p, a value of the given level, against fields.
 * 0 when it is valid, 1 when not (*res says why), -1 when the scan
 * stopped. */
static int walk_object(struct vctx *v, struct level *lv, const struct field *fields, int level,
                       struct verr *res)
{
    struct jcont c;
    struct jstr key;
    int rc;
    lv->seen = lv->present = lv->bad = lv->members = 0;
    lv->unknown_bad = false;
    js_enter(&v->s, &c, level);
    while ((rc = js_next(&v->s, &c, &key)) > 0) {
        uint32_t ord = lv->members++;
        const struct field *f = find_field(fields, &key);
        if (!f) {
            enum jblob blob = JB_OK;
            if (js_skip(&v->s, level + 1, &blob) < 0)
                return -1;
            if (blob != JB_OK && !lv->unknown_bad) {
                lv->unknown_bad = true;
                lv->unknown_ord = ord;
                set_err(v, &lv->unknown_err, blob == JB_NUL ? R_NUL : R_RANGE, 0, &key);
            }
            continue;
        }
        unsigned fi = (unsigned)(f - fields);
        uint32_t bit = UINT32_C(1) << fi;
        if (!(lv->seen & bit)) {
            lv->seen |= bit;
            lv->ord[fi] = ord;
        }
        const char *value = v->s.p;
        enum mverdict mv = check_member(v, f, level + 1, &lv->err[fi]);
        if (f->span && mv != M_STOP) {
            /* The last occurrence's text, for ingest_store (the scan
             * stands right after the value). */
            struct ingest_span *sp = &v->out->spans[f->span - 1];
            sp->at = (size_t)(value - v->text);
            sp->len = (size_t)(v->s.p - value);
        }
        switch (mv) {
        case M_STOP:
            return -1;
        case M_OK:
            lv->present |= bit;
            lv->bad &= ~bit;
            break;
        case M_BAD:
            lv->present |= bit;
            lv->bad |= bit;
            break;
        case M_NULL:
            lv->present &= ~bit;
            if (f->required)
                lv->bad |= bit;
            else
                lv->bad &= ~bit;
            break;
        }
    }
    if (rc < 0)
        return -1;
    return object_verdict(v, lv, fields, res);
}

enum ingest_verdict ingest_validate(const struct config *cfg, const char *text, size_t len,
                                    struct ingest_summary *out, char *path, size_t pathlen, char *msg,
                                    size_t msglen)
{
    struct vctx v = {.cfg = cfg, .text = text, .out = out, .table = -1};
    struct verr res;
    int r;
    memset(out, 0, sizeof *out);
    if (pathlen)
        path[0] = '\0';
    if (msglen)
        msg[0] = '\0';
    if (len == 0 || len > (size_t)INT32_MAX) {
        snprintf(msg, msglen, "malformed JSON: %s", len ? "body too large to parse" : "unexpected end of JSON");
        return INGEST_BAD_JSON;
    }
    js_init(&v.s, text, len, cfg->max_depth);
    if (js_peek(&v.s) == JT_OBJECT) {
        r = walk_object(&v, &v.body, body_fields, 1, &res);
    } else {
        r = js_skip(&v.s, 1, NULL) < 0 ? -1 : 1;
        set_err(&v, &res, R_BODY_NOT_OBJECT, 0, NULL);
    }
    if (r >= 0 && js_finish(&v.s) < 0)
        r = -1;
    if (r < 0) {
        js_settle(&v.s);
        if (v.s.why == JSON_WHY_NUL_KEY) {
            snprintf(msg, msglen, "%s", v.s.why);
            return INGEST_INVALID;
        }
        snprintf(msg, msglen, "malformed JSON: %s", v.s.why);
        return INGEST_BAD_JSON;
    }
    if (r > 0) {
        ingest_format_failure(cfg, &res, path, pathlen, msg, msglen);
        return INGEST_INVALID;
    }
    return INGEST_VALID;
}

void ingest_session_id(const char *text, const struct ingest_summary *sum, char *dst)
{
    struct jstr s = {text + sum->session_id_at, sum->session_id_raw_len, true, false};
    size_t n = jstr_unescape(&s, dst, sum->session_id_len);
    dst[n < sum->session_id_len ? n : sum->session_id_len] = '\0';
}
