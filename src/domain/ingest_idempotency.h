/* The parts of the ingest_store module share these (ingest_store.c
 * stores a payload, ingest_idempotency.c keeps its Idempotency-Key).
 * Internal: nothing outside the module includes it. */
#ifndef AGORA_INGEST_IDEMPOTENCY_H
#define AGORA_INGEST_IDEMPOTENCY_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "db/db.h"
#include "domain/ingest_store.h"

/* Marks out as failed for the client's reason; returns st. */
enum db_status ingest_fail(struct ingest_result *out, enum db_status st, const char *path, const char *message);
/* Copies a text column into dst ("" for NULL). */
void ingest_copy_field(char *dst, size_t len, const PGresult *res, int row, int col);

/* Step 2: claims in->idem_key for organization org. *owned true: the key
 * is ours (a first request) and the ingest goes on. Otherwise out holds
 * the replay (DB_OK, out->replayed) or the reason there is none. */
enum db_status ingest_idem_claim(struct db *db, const char *org, const struct ingest_input *in,
                                 const char *hash_hex, bool *owned, struct ingest_result *out);
/* Step 8: stores out's answer under in->idem_key of organization org, as
 * the replay will send it. */
enum db_status ingest_idem_store(struct db *db, const char *org, const struct ingest_input *in,
                                 struct ingest_result *out);

#endif
