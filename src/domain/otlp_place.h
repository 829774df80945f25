/* Which workflow a resource's spans go to (README "OpenTelemetry",
 * placement): the resource attribute agora.workflow.id, a workflow the
 * caller can write; else the workflow named service.name in the project
 * (agora.project.id, else the API key's own), created when missing. A
 * user's token has no project of its own, so it must name one of the two.
 * Runs in the caller's transaction: row-level security decides what it can
 * see and create. */
#ifndef AGORA_OTLP_PLACE_H
#define AGORA_OTLP_PLACE_H

#include <stdbool.h>

#include "auth/identity.h"
#include "db/db.h"
#include "otlp/otlp_model.h"
#include "util/uuid.h"

/* service.name is a workflow's name: at most this many bytes. */
#define OTLP_SERVICE_NAME_MAX 200

/* One resource's place. */
struct otlp_place {
    bool wanted;         /* it has spans to store (not all rejected) */
    const char *reject;  /* why its spans are refused (static text), or NULL */
    char workflow[UUID_STR_LEN + 1], org[UUID_STR_LEN + 1], project[UUID_STR_LEN + 1];
};

/* Places every resource of req that has spans to store, into pl (one
 * entry per resource): on DB_OK each wanted entry has its workflow or its
 * reject. At most four statements: the lookup, and only when a
 * service.name has no workflow yet, a lock, the creation and the lookup
 * again. */
enum db_status otlp_place(struct db *db, const struct identity *who, const struct otlp_request *req,
                          struct otlp_place *pl);

#endif
