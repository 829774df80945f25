/* Alert rules (README "Alerts"): POST/GET /api/projects/{id}/alert-rules,
 * GET/PUT/DELETE /api/alert-rules/{id}, POST /api/alert-rules/{id}/mute,
 * /snooze and /test, GET /api/alert-rules/{id}/deliveries. Users only;
 * members read, owners and admins write (domain/alert_rules.h). Webhook
 * URLs are checked here, before anything is stored, against the
 * operator's AGORA_WEBHOOK_ALLOW and AGORA_WEBHOOK_ALLOW_HTTP. */
#include "handlers/handlers.h"

#include <stdio.h>
#include <string.h>

#include "domain/alert_rules.h"
#include "domain/webhook_target.h"
#include "http/errors.h"
#include "http/json_body.h"
#include "http/query.h"
#include "ops/config.h"
#include "util/text.h"

static const char *const rule_keys[] = {"name", "kind", "workflow_id", "node_name", "error_contains",
                                        "threshold", "metric", "window_minutes", "min_runs",
                                        "cooldown_minutes", "channels", NULL};
static const char *const channel_keys[] = {"url", "secret", NULL};
static const struct json_shape channel_shape = JSON_FLAT_SHAPE(channel_keys);
static const struct json_shape channels_shape = {JSHAPE_ARRAY, NULL, NULL, &channel_shape, ALERT_CHANNELS_MAX};
static const struct json_shape *const rule_shapes[] = {NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                                       NULL, NULL, NULL, &channels_shape, NULL};
static const struct json_shape rule_shape = {JSHAPE_OBJECT, rule_keys, rule_shapes, NULL, 0};

/* channels[i].key as a string (secret: optional, 1..ALERT_SECRET_MAX). */
static int channel_string_or_reply(struct req *r, struct json_object *c, size_t i, const char *key, size_t max,
                                   bool required, const char **out)
{
    char path[40];
    struct json_object *v = NULL;
    snprintf(path, sizeof path, "channels[%zu].%s", i, key);
    *out = NULL;
    if (!json_object_object_get_ex(c, key, &v) || json_object_is_type(v, json_type_null)) {
        if (required)
            return reply_error(r, E_VALIDATION, path, "%s is required", key);
        return 0;
    }
    if (!json_object_is_type(v, json_type_string))
        return reply_error(r, E_VALIDATION, path, "%s must be a string", key);
    size_t len = (size_t)json_object_get_string_len(v);
    if (len == 0 || len > max || strlen(json_object_get_string(v)) != len)
        return reply_error(r, E_VALIDATION, path, "%s must be 1 to %zu bytes without NUL", key, max);
    *out = json_object_get_string(v);
    return 0;
}

static int channels_or_reply(struct req *r, struct json_object *body, struct alert_rule_input *in)
{
    struct json_object *arr = NULL;
    if (!json_object_object_get_ex(body, "channels", &arr) || !json_object_is_type(arr, json_type_array) ||
        json_object_array_length(arr) < 1 || json_object_array_length(arr) > ALERT_CHANNELS_MAX)
        return reply_error(r, E_VALIDATION, "channels", "channels must be an array of 1 to %d channels",
                           ALERT_CHANNELS_MAX);
    in->n_channels = json_object_array_length(arr);
    for (size_t i = 0; i < in->n_channels; i++) {
        struct json_object *c = json_object_array_get_idx(arr, i);
        char path[40];
        snprintf(path, sizeof path, "channels[%zu]", i);
        if (!json_object_is_type(c, json_type_object))
            return reply_error(r, E_VALIDATION, path, "a channel must be an object {url, secret}");
        const char *unknown = json_unknown_key(c, channel_keys);
        if (unknown)
            return reply_error(r, E_VALIDATION, path, "unknown member %s", unknown);
        if (channel_string_or_reply(r, c, i, "url", WEBHOOK_URL_MAX, true, &in->channels[i].url) < 0 ||
            channel_string_or_reply(r, c, i, "secret", ALERT_SECRET_MAX, false, &in->channels[i].secret) < 0)
            return -1;
    }
    return 0;
}

/* Reads and checks a rule's body into *in (borrowing from *body, which the
 * caller puts). -1 when it replied. */
static int rule_or_reply(struct req *r, struct json_object **body, struct alert_rule_input *in)
{
    memset(in, 0, sizeof *in);
    if (!(*body = json_body_object_or_reply(r, &rule_shape)))
        return -1;
    struct json_object *b = *body;
    if (json_only_keys_or_reply(r, b, rule_keys) < 0 ||
        json_string_or_reply(r, b, "name", JF_REQUIRED, ALERT_TEXT_MAX, &in->name) < 0 ||
        json_enum_or_reply(r, b, "kind", JF_REQUIRED, alert_rule_kinds, &in->kind) < 0 ||
        json_uuid_or_reply(r, b, "workflow_id", JF_OPTIONAL, &in->workflow_id) < 0 ||
        json_string_or_reply(r, b, "node_name", JF_OPTIONAL, ALERT_TEXT_MAX, &in->node_name) < 0 ||
        json_string_or_reply(r, b, "error_contains", JF_OPTIONAL, ALERT_TEXT_MAX, &in->error_contains) < 0 ||
        json_decimal_or_reply(r, b, "threshold", JF_OPTIONAL, 1e15, 6, &in->threshold) < 0 ||
        json_enum_or_reply(r, b, "metric", JF_OPTIONAL, alert_rule_metrics, &in->metric) < 0 ||
        json_decimal_or_reply(r, b, "window_minutes", JF_OPTIONAL, ALERT_WINDOW_MAX, 0, &in->window_minutes) < 0 ||
        json_decimal_or_reply(r, b, "min_runs", JF_OPTIONAL, 1000000, 0, &in->min_runs) < 0 ||
        json_decimal_or_reply(r, b, "cooldown_minutes", JF_OPTIONAL, ALERT_WINDOW_MAX, 0, &in->cooldown_minutes) <
            0 ||
        channels_or_reply(r, b, in) < 0)
        return -1;
    struct webhook_policy policy = {0, r->cfg->webhook_allow_http};
    const char *why;
    struct alert_rule_problem p;
    /* The worker refused to start with a bad setting: this cannot fail. */
    if (webhook_allow_parse(r->cfg->webhook_allow, &policy.allow, &why) < 0)
        return reply_error(r, E_INTERNAL, NULL, "AGORA_WEBHOOK_ALLOW is not valid");
    if (alert_rule_check(in, &policy, &p) < 0)
        return reply_error(r, E_VALIDATION, p.path, "%s", p.why);
    return 0;
}

void handle_alert_rules_create(struct req *r)
{
    struct json_object *body = NULL, *out = NULL;
    struct alert_rule_input in;
    struct alert_refusal no = {NULL, NULL};
    if (rule_or_reply(r, &body, &in) == 0) {
        enum db_status st = alert_rule_create(r->db, &r->who, r->params[0], &in, &out, &no);
        reply_tx_result_why(r, st, 201, out, no.path, no.why);
    }
    json_object_put(body);
}

void handle_alert_rules_list(struct req *r)
{
    struct json_object *out = NULL;
    enum db_status st = alert_rules_list(r->db, &r->who, r->params[0], &out);
    reply_tx_result(r, st, 200, out);
}

void handle_alert_rule_get(struct req *r)
{
    struct json_object *out = NULL;
    enum db_status st = alert_rule_get(r->db, &r->who, r->params[0], &out);
    reply_tx_result(r, st, 200, out);
}

void handle_alert_rule_put(struct req *r)
{
    struct json_object *body = NULL, *out = NULL;
    struct alert_rule_input in;
    struct alert_refusal no = {NULL, NULL};
    if (rule_or_reply(r, &body, &in) == 0) {
        enum db_status st = alert_rule_update(r->db, &r->who, r->params[0], &in, &out, &no);
        reply_tx_result_why(r, st, 200, out, no.path, no.why);
    }
    json_object_put(body);
}

void handle_alert_rule_delete(struct req *r)
{
    reply_tx_result(r, alert_rule_delete(r->db, &r->who, r->params[0]), 204, NULL);
}

void handle_alert_rule_mute(struct req *r)
{
    static const char *const keys[] = {"muted", NULL};
    static const struct json_shape shape = JSON_FLAT_SHAPE(keys);
    struct json_object *body = json_body_object_or_reply(r, &shape), *out = NULL, *v = NULL;
    if (!body)
        return;
    if (json_only_keys_or_reply(r, body, keys) < 0)
        goto done;
    if (!json_object_object_get_ex(body, "muted", &v) || !json_object_is_type(v, json_type_boolean)) {
        reply_error(r, E_VALIDATION, "muted", "muted must be true or false");
        goto done;
    }
    enum db_status st = alert_rule_mute(r->db, &r->who, r->params[0], json_object_get_boolean(v), &out);
    reply_tx_result(r, st, 200, out);
done:
    json_object_put(body);
}

void handle_alert_rule_snooze(struct req *r)
{
    static const char *const keys[] = {"minutes", NULL};
    static const struct json_shape shape = JSON_FLAT_SHAPE(keys);
    struct json_object *body = json_body_object_or_reply(r, &shape), *out = NULL;
    const char *minutes;
    if (!body)
        return;
    if (json_only_keys_or_reply(r, body, keys) == 0 &&
        json_decimal_or_reply(r, body, "minutes", JF_REQUIRED, ALERT_WINDOW_MAX, 0, &minutes) == 0) {
        enum db_status st = alert_rule_snooze(r->db, &r->who, r->params[0], minutes, &out);
        reply_tx_result(r, st, 200, out);
    }
    json_object_put(body);
}

void handle_alert_rule_test(struct req *r)
{
    static const char *const keys[] = {NULL};
    static const struct json_shape shape = JSON_FLAT_SHAPE(keys);
    struct json_object *body = NULL, *out = NULL;
    /* No body, or an empty object. */
    if (r->body_len > 0) {
        if (!(body = json_body_object_or_reply(r, &shape)))
            return;
        int bad = json_only_keys_or_reply(r, body, keys);
        json_object_put(body);
        if (bad < 0)
            return;
    }
    enum db_status st = alert_rule_test(r->db, &r->who, r->params[0], &out);
    reply_tx_result(r, st, 202, out);
}

void handle_alert_rule_deliveries(struct req *r)
{
    static const char *const allowed[] = {"status", "limit", NULL};
    static const char *const statuses[] = {"pending", "delivered", "gave_up", NULL};
    struct json_object *out = NULL;
    struct query q;
    long long n = 50;
    if (query_parse_or_reply(r, allowed, &q) < 0)
        return;
    const char *status = query_get(&q, "status"), *limit = query_get(&q, "limit");
    size_t k = 0;
    while (status && statuses[k] && strcmp(statuses[k], status) != 0)
        k++;
    if (status && !statuses[k]) {
        reply_error(r, E_VALIDATION, "status", "status must be pending, delivered or gave_up");
        goto done;
    }
    if (limit && (decimal_parse(limit, 200, &n) < 0 || n < 1)) {
        reply_error(r, E_VALIDATION, "limit", "limit must be a whole number from 1 to 200");
        goto done;
    }
    char text[24];
    snprintf(text, sizeof text, "%lld", n);
    enum db_status st = alert_rule_deliveries(r->db, &r->who, r->params[0], status, text, &out);
    reply_tx_result(r, st, 200, out);
done:
    query_free(&q);
}
