/* The pure decisions of a delivery (see alert_delivery.h). */
#include "domain/alert_delivery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "domain/webhook_target.h"
#include "util/buf.h"

bool alert_next_try(long long created_s, long long now_s, int attempts, long first_s, long long *next_s)
{
    long long delay = first_s > 0 ? first_s : 1;
    for (int i = 1; i < attempts && delay < ALERT_RETRY_MAX_S; i++)
        delay *= 2;
    if (delay > ALERT_RETRY_MAX_S)
        delay = ALERT_RETRY_MAX_S;
    *next_s = now_s + delay;
    return *next_s <= created_s + ALERT_GIVE_UP_S;
}

int alert_pick_address(const struct addrinfo *list, unsigned allow, struct sockaddr_storage *out,
                       socklen_t *out_len, const char **why)
{
    *why = "the host has no address";
    for (const struct addrinfo *a = list; a; a = a->ai_next) {
        if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) || a->ai_addrlen > sizeof *out)
            continue;
        if (!webhook_addr_allowed(a->ai_addr, allow)) {
            /* The reason of the first refusal: usually the only address. */
            if (strcmp(*why, "the host has no address") == 0) {
                switch (webhook_addr_net(a->ai_addr)) {
                case WN_LOOPBACK: *why = "the host resolves to a loopback address"; break;
                case WN_PRIVATE: *why = "the host resolves to a private address"; break;
                case WN_LINK_LOCAL: *why = "the host resolves to a link-local address"; break;
                default: *why = "the host resolves to a reserved address"; break;
                }
            }
            continue;
        }
        memset(out, 0, sizeof *out);
        memcpy(out, a->ai_addr, a->ai_addrlen);
        *out_len = a->ai_addrlen;
        return 0;
    }
    return -1;
}

/* The viewer's page for the alert: its run, else its workflow's runs,
 * else its project's statistics. */
static void link_of(struct json_object *payload, const char *base_url, struct buf *b)
{
    struct json_object *v, *w, *p;
    if (json_object_object_get_ex(payload, "execution_id", &v) && json_object_is_type(v, json_type_string))
        buf_printf(b, "%s/#/executions/%s", base_url, json_object_get_string(v));
    else if (json_object_object_get_ex(payload, "workflow", &w) && json_object_object_get_ex(w, "id", &v) &&
             json_object_is_type(v, json_type_string))
        buf_printf(b, "%s/#/executions?workflow_id=%s", base_url, json_object_get_string(v));
    else if (json_object_object_get_ex(payload, "project", &p) && json_object_object_get_ex(p, "id", &v) &&
             json_object_is_type(v, json_type_string))
        buf_printf(b, "%s/#/projects/%s/stats", base_url, json_object_get_string(v));
    else
        buf_printf(b, "%s/", base_url);
}

char *alert_body(const char *payload, const char *base_url, size_t *len)
{
    struct json_object *obj = json_tokener_parse(payload), *summary;
    struct buf link, text;
    char *out = NULL;
    if (!obj || !json_object_is_type(obj, json_type_object))
        goto done;
    buf_init(&link);
    buf_init(&text);
    link_of(obj, base_url, &link);
    const char *s = json_object_object_get_ex(obj, "summary", &summary) &&
                            json_object_is_type(summary, json_type_string)
                        ? json_object_get_string(summary)
                        : "Alert";
    /* Slack's link markup: <url|label>. */
    buf_printf(&text, "%s <%s|Open in Agora>", s, link.data);
    json_object_object_add(obj, "link", json_object_new_string(link.data));
    json_object_object_add(obj, "text", json_object_new_string(text.data));
    buf_free(&link);
    buf_free(&text);
    const char *t = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
                                                      len);
    if (t && !(out = strdup(t)))
        agora_oom();
done:
    json_object_put(obj);
    return out;
}
