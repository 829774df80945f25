/* The ingest payload's schema as data, and the failures the validator
 * records with their wording: internal to ingest_validate.c (the walk over
 * the text) and ingest_schema.c (the tables and the messages). */
#ifndef AGORA_INGEST_SCHEMA_H
#define AGORA_INGEST_SCHEMA_H

#include <stddef.h>

#include "ops/config.h"
#include "domain/ingest_validate.h"
#include "json/json_scan.h"

#define DURATION_MAX_MS 1e15
#define HEX_ID_MAX 64
#define KEY_IN_PATH_MAX 64
/* Fields per table at most: the validator keeps a bit of a uint32_t and a
 * slot for each. */
#define MAX_FIELDS 32

/* How a field is checked. */
enum kind {
    K_UUID,     /* a UUID string */
    K_NAME,     /* an identifier or name: see ingest_validate.c's rules */
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
enum note {
    N_NONE, N_WORKFLOW_ID, N_EXECUTION_ID, N_STATUS, N_NODE_ID, N_SESSION_ID, N_STARTED_AT,
    N_USAGE, /* a token count: the summary's any_usage */
};

struct field {
    const char *name;
    unsigned char len; /* strlen(name) */
    unsigned char kind;
    unsigned char required;
    unsigned char arg;  /* K_ENUM: enum choice list; K_TABLE: enum ingest_table */
    unsigned char note; /* enum note */
    unsigned char span; /* body only: 1 + the enum ingest_member whose value
                           span the summary records, 0 for none */
};

enum choice_list { C_EXECUTION_STATUS, C_NODE_STATUS, C_SPAN_STATUS };

/* The choices of each list (NULL-terminated), by enum choice_list. */
extern const char *const *const choice_lists[];

/* The body's fields and each table's item fields (name NULL at the end). */
extern const struct field body_fields[];
extern const struct field *const item_fields[IT_COUNT];

/* What a failure broke; ingest_schema.c words it. */
enum rule {
    R_NONE,          /* no failure */
    R_BODY_NOT_OBJECT,
    R_NOT_STRING,    /* arg: the value's jtype */
    R_EMPTY,
    R_TOO_LONG,
    R_NUL,
    R_CONTROL,
    R_FORMAT,
    R_UUID,
    R_ENUM,          /* arg: enum choice_list */
    R_TIME,
    R_DURATION_TYPE, /* arg: jtype */
    R_NEGATIVE,
    R_DURATION_MAX,
    R_INT_TYPE,      /* arg: jtype, JT_NUMBER meaning a fraction */
    R_INT_MAX,
    R_HEX,
    R_OBJECT_TYPE,   /* arg: jtype */
    R_ERROR_TYPE,    /* arg: jtype */
    R_RANGE,
    R_ARRAY_TYPE,    /* arg: jtype */
    R_TOO_MANY,
    R_ITEM_TYPE,     /* arg: jtype */
    R_NULL_REQUIRED,
    R_MISSING,
};

/* A failure, formatted only if it is the one reported. */
struct verr {
    unsigned char rule;
    unsigned char arg;
    signed char table; /* enum ingest_table, or -1 at the top level */
    size_t index;
    struct jstr key;   /* the member (raw NULL: the item or the body itself) */
};

/* Writes e's path ("table[i].key", "table[i]", "key" or "") and message
 * ("<path> <rule>") into the caller's buffers, cut to their sizes. */
void ingest_format_failure(const struct config *cfg, const struct verr *e, char *path, size_t pathlen, char *msg,
                           size_t msglen);

#endif
