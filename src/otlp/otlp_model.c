/* The OTLP model's one free function, its attribute sets as JSON, and the
 * words of a partial success (otlp_model.h). */
#include "otlp/otlp_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void free_attrs(struct otlp_attrs *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->items[i].key);
        json_object_put(a->items[i].value);
    }
    free(a->items);
}

static void free_span(struct otlp_span *s)
{
    for (size_t i = 0; i < s->n_events; i++) {
        free(s->events[i].name);
        free_attrs(&s->events[i].attributes);
    }
    free(s->events);
    free(s->trace_state);
    free(s->name);
    free(s->status_message);
    free_attrs(&s->attributes);
}

static void free_scope(struct otlp_scope *sc)
{
    for (size_t i = 0; i < sc->n_spans; i++)
        free_span(&sc->spans[i]);
    free(sc->spans);
    free(sc->name);
    free(sc->version);
    free(sc->schema_url);
    free_attrs(&sc->attributes);
}

void otlp_request_free(struct otlp_request *req)
{
    if (!req)
        return;
    for (size_t r = 0; r < req->n_resources; r++) {
        struct otlp_resource *res = &req->resources[r];
        for (size_t c = 0; c < res->n_scopes; c++)
            free_scope(&res->scopes[c]);
        free(res->scopes);
        free(res->schema_url);
        free_attrs(&res->attributes);
    }
    free(req->resources);
    free(req);
}

/* v as JSON. Strings, integers, booleans and their arrays and lists are
 * written here: json-c's own writer allocates a print buffer for every
 * value it writes (it was a third of the worker's time on a large
 * request); a double keeps its text as decoded, through json-c. */
static void value_json(struct json_object *v, struct buf *out)
{
    switch (json_object_get_type(v)) {
    case json_type_string:
        buf_json_string(out, json_object_get_string(v), (size_t)json_object_get_string_len(v));
        break;
    case json_type_int:
        buf_put_int(out, (long long)json_object_get_int64(v));
        break;
    case json_type_boolean:
        buf_puts(out, json_object_get_boolean(v) ? "true" : "false");
        break;
    case json_type_array:
        buf_putc(out, '[');
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            if (i)
                buf_putc(out, ',');
            value_json(json_object_array_get_idx(v, i), out);
        }
        buf_putc(out, ']');
        break;
    case json_type_object: {
        bool first = true;
        buf_putc(out, '{');
        json_object_object_foreach(v, key, member) {
            if (!first)
                buf_putc(out, ',');
            first = false;
            buf_json_string(out, key, strlen(key));
            buf_putc(out, ':');
            value_json(member, out);
        }
        buf_putc(out, '}');
        break;
    }
    case json_type_null:
        buf_puts(out, "null");
        break;
    default:
        buf_puts(out, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        break;
    }
}

void otlp_attrs_json(const struct otlp_attrs *attrs, struct buf *out)
{
    buf_putc(out, '{');
    for (size_t i = 0; i < attrs->n; i++) {
        const struct otlp_attr *a = &attrs->items[i];
        if (i)
            buf_putc(out, ',');
        buf_json_string(out, a->key, a->key_len);
        buf_putc(out, ':');
        if (a->value)
            value_json(a->value, out);
        else
            buf_puts(out, "null");
    }
    buf_putc(out, '}');
}

struct json_object *otlp_attr_get(const struct otlp_attrs *attrs, const char *key, bool *found)
{
    size_t len = strlen(key);
    for (size_t i = attrs->n; i-- > 0;) {
        if (attrs->items[i].key_len == len && memcmp(attrs->items[i].key, key, len) == 0) {
            *found = true;
            return attrs->items[i].value;
        }
    }
    *found = false;
    return NULL;
}

const struct otlp_span *otlp_first_rejected(const struct otlp_request *req, size_t *resource, size_t *scope,
                                            size_t *span)
{
    for (size_t r = 0; r < req->n_resources; r++) {
        const struct otlp_resource *res = &req->resources[r];
        for (size_t c = 0; c < res->n_scopes; c++) {
            const struct otlp_scope *sc = &res->scopes[c];
            for (size_t i = 0; i < sc->n_spans; i++) {
                if (sc->spans[i].rejected) {
                    *resource = r;
                    *scope = c;
                    *span = i;
                    return &sc->spans[i];
                }
            }
        }
    }
    return NULL;
}

void otlp_rejection_message(const struct otlp_request *req, char *msg, size_t cap)
{
    size_t r, c, i;
    const struct otlp_span *s = otlp_first_rejected(req, &r, &c, &i);
    if (!cap)
        return;
    msg[0] = '\0';
    if (!s)
        return;
    snprintf(msg, cap, "%zu of %zu spans rejected; the first (resourceSpans[%zu].scopeSpans[%zu].spans[%zu]): %s",
             req->n_rejected, req->n_spans, r, c, i, s->rejected);
}
