/* REFERENCE ONLY: the ingest body's judge as it was before the one-pass
 * validator (json-c tree + tree walk), for the differential tests
 * (tests/unit/test_ingest_diff.c, fuzz/fuzz_ingest_diff.c). Not linked into
 * the worker. */
#ifndef AGORA_REFERENCE_H
#define AGORA_REFERENCE_H

#include <stddef.h>

#include <json-c/json.h>

#include "ops/config.h"
#include "domain/ingest_validate.h"

/* The former json_parse_strict (json_in.c): lexical pre-check, then json-c. */
struct json_object *ref_json_parse_strict(const char *text, size_t len, int max_depth, const char **why);
/* The former ingest_validate: a walk of the tree. 0 or -1. */
int ref_ingest_validate_tree(const struct config *cfg, struct json_object *payload, struct ingest_summary *out,
                             char *path, size_t pathlen, char *msg, size_t msglen);
/* The former handler's verdict on a non-empty body: path and msg as the
 * new ingest_validate gives them; on INGEST_VALID, the summary (without
 * the new session_id/started_at fields) and the session_id and started_at
 * json-c read, cut to their buffers. */
enum ingest_verdict ref_ingest_verdict(const struct config *cfg, const char *text, size_t len,
                                       struct ingest_summary *sum, char *path, size_t pathlen, char *msg,
                                       size_t msglen, char *session_id, size_t sidcap, char *started_at,
                                       size_t stcap);

#endif
