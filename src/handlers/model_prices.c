/* An organization's model prices: GET /api/organizations/{id}/model-prices
 * (the table in effect, any member), PUT and DELETE
 * /api/organizations/{id}/model-prices/{model} (owners and admins). Users
 * only, as for the rest of an organization's settings. */
#include "handlers/handlers.h"

#include <string.h>

#include "domain/model_prices.h"
#include "http/errors.h"
#include "http/json_body.h"
#include "http/query.h"
#include "util/text.h"
#include "util/timestamp.h"

/* The {model} of the path (decoded by the router): a name of
 * 1..MODEL_NAME_MAX bytes without control or format characters, as the
 * body's names. */
static int model_or_reply(struct req *r, const char **out)
{
    const char *model = r->params[1];
    size_t len = strlen(model);
    *out = NULL;
    if (len > MODEL_NAME_MAX)
        return reply_error(r, E_VALIDATION, "model", "model is longer than %d bytes", MODEL_NAME_MAX);
    enum name_char c = name_text_class(model, len);
    if (c != NAME_CHAR_OK)
        return reply_error(r, E_VALIDATION, "model", "model %s", name_char_rule(c));
    *out = model;
    return 0;
}

void handle_model_prices_list(struct req *r)
{
    static const char *const allowed[] = {"at", NULL};
    struct json_object *out = NULL;
    struct query q;
    char at_store[TS_TEXT_LEN + 1];
    const char *at = NULL;
    int64_t micros;
    if (query_parse_or_reply(r, allowed, &q) < 0)
        return;
    const char *v = query_get(&q, "at");
    if (v && ts_parse(v, strlen(v), &micros) < 0) {
        reply_error(r, E_VALIDATION, "at", "at must be an RFC 3339 timestamp");
        goto done;
    }
    if (v) {
        ts_format(micros, at_store);
        at = at_store;
    }
    enum db_status st = model_prices_list(r->db, &r->who, r->params[0], at, &out);
    reply_tx_result(r, st, 200, out);
done:
    query_free(&q);
}

void handle_model_price_put(struct req *r)
{
    static const char *const keys[] = {"input_usd_per_mtok", "output_usd_per_mtok", "provider", "valid_from", NULL};
    static const struct json_shape shape = JSON_FLAT_SHAPE(keys);
    struct json_object *body = json_body_object_or_reply(r, &shape), *out = NULL;
    struct model_price_input in = {0};
    char valid_from[TS_TEXT_LEN + 1];
    const char *why_path, *why;
    if (!body)
        return;
    if (model_or_reply(r, &in.model) < 0 || json_only_keys_or_reply(r, body, keys) < 0 ||
        json_decimal_or_reply(r, body, "input_usd_per_mtok", JF_REQUIRED, MODEL_PRICE_MAX, MODEL_PRICE_PLACES,
                              &in.input_usd) < 0 ||
        json_decimal_or_reply(r, body, "output_usd_per_mtok", JF_REQUIRED, MODEL_PRICE_MAX, MODEL_PRICE_PLACES,
                              &in.output_usd) < 0 ||
        json_string_or_reply(r, body, "provider", JF_OPTIONAL, MODEL_NAME_MAX, &in.provider) < 0 ||
        json_timestamp_or_reply(r, body, "valid_from", JF_OPTIONAL, valid_from, &in.valid_from) < 0)
        goto done;
    enum db_status st = model_prices_set(r->db, &r->who, r->params[0], &in, &out, &why_path, &why);
    reply_tx_result_why(r, st, 200, out, why_path, why);
done:
    json_object_put(body);
}

void handle_model_price_delete(struct req *r)
{
    const char *model;
    if (model_or_reply(r, &model) < 0)
        return;
    enum db_status st = model_prices_delete(r->db, &r->who, r->params[0], model);
    reply_tx_result(r, st, 204, NULL);
}
