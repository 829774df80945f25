/* Which SQL texts a database connection has already prepared. Parsing and
 * planning a statement is a large share of PostgreSQL's work for a small
 * request (the ingest's item insert is a 4-CTE statement), and the
 * worker's statements are a small, constant set of texts (SQL only with
 * parameters), so db_exec prepares each once per connection under a name
 * from this table and then only binds and executes it. Pure bookkeeping:
 * no I/O, so it is unit-tested on its own. */
#ifndef AGORA_STMT_CACHE_H
#define AGORA_STMT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* More distinct texts than this are run unprepared: a bound on the memory
 * a connection holds on both sides, whatever a future caller does. */
#define STMT_CACHE_SLOTS 64
#define STMT_CACHE_NAME_LEN 16

struct stmt_cache {
    unsigned count;
    struct {
        uint64_t hash;
        char *sql;  /* owned copy */
    } slot[STMT_CACHE_SLOTS];
};

void stmt_cache_init(struct stmt_cache *c);
/* Forgets every entry (the connection is gone or its statements are). */
void stmt_cache_clear(struct stmt_cache *c);

/* True for the statements worth preparing: SELECT, INSERT, UPDATE, DELETE
 * and WITH. Transaction control, cursors and other utility commands gain
 * nothing from it (DECLARE cannot even be prepared by name). */
bool stmt_cache_wanted(const char *sql);

/* The slot holding sql, or -1. */
int stmt_cache_find(const struct stmt_cache *c, const char *sql);
/* Records sql (copied) after the server has prepared it under
 * stmt_cache_name(index). Returns the index, or -1 when the table is full
 * or out of memory. */
int stmt_cache_add(struct stmt_cache *c, const char *sql);
/* The server-side name of slot index: "agora_s<index>". */
void stmt_cache_name(int index, char out[STMT_CACHE_NAME_LEN]);
/* The index stmt_cache_add will use next, to name the statement before it
 * is prepared; -1 when full. */
int stmt_cache_next(const struct stmt_cache *c);

#endif
