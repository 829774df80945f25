/* Model prices (sql/009, README "Tokens and cost"): the SQL behind
 * /api/organizations/{id}/model-prices. An organization's owners and admins
 * set its own price of a model, which the ingest prefers to the default
 * for node executions that start while it is valid; every member reads the
 * table in effect. Each function runs in the caller's transaction, so
 * row-level security has the last word; on DB_OK *out (where there is one)
 * is a new reference the caller owns. */
#ifndef AGORA_MODEL_PRICES_H
#define AGORA_MODEL_PRICES_H

#include <json-c/json.h>

#include "auth/identity.h"
#include "db/db.h"

/* The longest model (and provider) name a price may have, in bytes
 * (sql/009's CHECK). A node execution may name a longer model: it is
 * simply never priced. */
#define MODEL_NAME_MAX 200
/* A price is 0..MODEL_PRICE_MAX US dollars per million tokens, with at
 * most MODEL_PRICE_PLACES decimals (sql/009's CHECK). */
#define MODEL_PRICE_MAX 1000000
#define MODEL_PRICE_PLACES 9

/* A new price of one model for one organization; all borrowed. */
struct model_price_input {
    const char *model;       /* a name of 1..MODEL_NAME_MAX bytes */
    const char *input_usd;   /* US dollars per million input tokens: a JSON number's text */
    const char *output_usd;  /* the same for output tokens */
    const char *provider;    /* NULL: for any provider */
    const char *valid_from;  /* a canonical RFC 3339 timestamp; NULL: now */
};

/* The prices in effect for org_id's runs at time at (a canonical RFC 3339
 * timestamp; NULL: now), one per model: the organization's own over the
 * default. Any member. out: {"items":[{"model","provider",
 * "input_usd_per_mtok","output_usd_per_mtok","valid_from","valid_to",
 * "source"}]} by model; source is "organization" or "default". */
enum db_status model_prices_list(struct db *db, const struct identity *who, const char *org_id, const char *at,
                                 struct json_object **out);

/* Owner/admin: a new validity period of org_id's price of in->model, from
 * in->valid_from on; the period in effect until then is closed where the
 * new one starts. DB_INVALID with *why_path "valid_from" and *why (static
 * text) when the current period does not start before it. out: the new
 * price, as a list item. */
enum db_status model_prices_set(struct db *db, const struct identity *who, const char *org_id,
                                const struct model_price_input *in, struct json_object **out,
                                const char **why_path, const char **why);

/* Owner/admin: forgets org_id's own prices of model, every period, so its
 * runs are priced with the default from now on (the costs already stored
 * stay). DB_OK also when there were none. */
enum db_status model_prices_delete(struct db *db, const struct identity *who, const char *org_id,
                                   const char *model);

#endif
