/* Who is calling: a user (a JWT's subject) or a project's API key. Set by
 * the HTTP layer's authentication, carried into the database as the
 * transaction's identity, where row-level security decides what it sees. */
#ifndef AGORA_IDENTITY_H
#define AGORA_IDENTITY_H

#include "util/uuid.h"

enum caller_kind { CALLER_NONE = 0, CALLER_USER, CALLER_API_KEY };

/* Who is calling, as established by http/authenticate.c. Strings are canonical lowercase
 * UUIDs or empty. */
struct identity {
    enum caller_kind kind;
    char user_id[UUID_STR_LEN + 1];    /* CALLER_USER: the JWT's sub */
    char key_id[UUID_STR_LEN + 1];     /* CALLER_API_KEY: api_keys.id */
    char project_id[UUID_STR_LEN + 1]; /* CALLER_API_KEY: its project */
    char org_id[UUID_STR_LEN + 1];     /* CALLER_API_KEY: its organization */
};

#endif
