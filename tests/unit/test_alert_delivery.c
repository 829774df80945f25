/* Unit tests for alert_delivery.c: the retry schedule and when it gives
 * up, which resolved address a delivery may use, and the body receivers
 * get (link and Slack text added to the stored payload). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "domain/alert_delivery.h"
#include "domain/webhook_target.h"

TestSuite(alert_delivery);

Test(alert_delivery, retries_double_from_the_first_delay_up_to_an_hour)
{
    long long next;
    cr_assert(alert_next_try(0, 100, 1, 5, &next));
    cr_assert_eq(next, 105);
    cr_assert(alert_next_try(0, 100, 2, 5, &next));
    cr_assert_eq(next, 110);
    cr_assert(alert_next_try(0, 100, 4, 5, &next));
    cr_assert_eq(next, 140);
    cr_assert(alert_next_try(0, 100, 40, 5, &next));
    cr_assert_eq(next, 100 + ALERT_RETRY_MAX_S);
}

Test(alert_delivery, it_gives_up_when_the_next_try_would_pass_a_day)
{
    long long next;
    cr_assert(alert_next_try(0, ALERT_GIVE_UP_S - ALERT_RETRY_MAX_S, 30, 5, &next));
    cr_assert_not(alert_next_try(0, ALERT_GIVE_UP_S - 10, 30, 5, &next));
    /* A day of doubling from 5 s: about 30 attempts, never more than 40. */
    long long now = 0;
    int attempts = 0;
    while (alert_next_try(0, now, ++attempts, 5, &next))
        now = next;
    cr_assert(attempts > 20 && attempts < 40, "gave up after %d attempts", attempts);
}

static struct addrinfo *v4(const char *text, struct addrinfo *next)
{
    struct addrinfo *a = calloc(1, sizeof *a);
    struct sockaddr_in *sin = calloc(1, sizeof *sin);
    sin->sin_family = AF_INET;
    cr_assert_eq(inet_pton(AF_INET, text, &sin->sin_addr), 1);
    a->ai_family = AF_INET;
    a->ai_addr = (struct sockaddr *)sin;
    a->ai_addrlen = sizeof *sin;
    a->ai_next = next;
    return a;
}

static void free_list(struct addrinfo *a)
{
    while (a) {
        struct addrinfo *n = a->ai_next;
        free(a->ai_addr);
        free(a);
        a = n;
    }
}

Test(alert_delivery, only_allowed_addresses_are_picked)
{
    struct sockaddr_storage ss;
    socklen_t len;
    const char *why;
    struct addrinfo *list = v4("127.0.0.1", v4("169.254.169.254", NULL));
    cr_assert_eq(alert_pick_address(list, 0, &ss, &len, &why), -1);
    cr_assert_str_eq(why, "the host resolves to a loopback address");
    cr_assert_eq(alert_pick_address(list, WEBHOOK_ALLOW_LOOPBACK, &ss, &len, &why), 0);
    cr_assert_eq(((struct sockaddr_in *)&ss)->sin_addr.s_addr, htonl(0x7f000001));
    free_list(list);
    /* A private first answer is skipped for the public one after it. */
    list = v4("10.0.0.1", v4("93.184.216.34", NULL));
    cr_assert_eq(alert_pick_address(list, 0, &ss, &len, &why), 0);
    cr_assert_eq(((struct sockaddr_in *)&ss)->sin_addr.s_addr, inet_addr("93.184.216.34"));
    free_list(list);
    cr_assert_eq(alert_pick_address(NULL, 0, &ss, &len, &why), -1);
    cr_assert_str_eq(why, "the host has no address");
}

Test(alert_delivery, the_body_adds_the_link_and_the_slack_text)
{
    size_t len;
    char *body = alert_body("{\"id\":\"a1\",\"summary\":\"Run of \\\"w\\\" failed\","
                            "\"execution_id\":\"e1\",\"project\":{\"id\":\"p1\"}}",
                            "https://agora.example.com", &len);
    cr_assert_not_null(body);
    struct json_object *o = json_tokener_parse(body), *v;
    cr_assert(json_object_object_get_ex(o, "link", &v));
    cr_assert_str_eq(json_object_get_string(v), "https://agora.example.com/#/executions/e1");
    cr_assert(json_object_object_get_ex(o, "text", &v));
    cr_assert_str_eq(json_object_get_string(v),
                     "Run of \"w\" failed <https://agora.example.com/#/executions/e1|Open in Agora>");
    cr_assert(json_object_object_get_ex(o, "id", &v));
    cr_assert_str_eq(json_object_get_string(v), "a1");
    cr_assert_eq(strlen(body), len);
    json_object_put(o);
    free(body);

    body = alert_body("{\"summary\":\"s\",\"execution_id\":null,\"project\":{\"id\":\"p1\"}}", "https://h", &len);
    o = json_tokener_parse(body);
    cr_assert(json_object_object_get_ex(o, "link", &v));
    cr_assert_str_eq(json_object_get_string(v), "https://h/#/projects/p1/stats");
    json_object_put(o);
    free(body);

    cr_assert_null(alert_body("[1]", "https://h", &len));
    cr_assert_null(alert_body("not json", "https://h", &len));
}
