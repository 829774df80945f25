/* Unit tests of live monitoring's parsers of untrusted input: the
 * subscription path, the ticket, the message id a resuming client sends
 * back (live_tickets.c), and the notification payload agora-live splits
 * (live_announce.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "domain/live_announce.h"
#include "domain/live_tickets.h"

#define UID "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

Test(live, channel_paths_name_their_channel_in_lowercase)
{
    struct live_channel c;
    char name[16 + UUID_STR_LEN];
    cr_assert_eq(live_channel_from_path("/live/executions/" UID, &c), 0);
    cr_assert_eq(c.kind, LIVE_EXECUTION);
    live_channel_name(&c, name);
    cr_assert_str_eq(name, "execution/" UID);
    cr_assert_eq(live_channel_from_path("/live/projects/0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D", &c), 0);
    cr_assert_eq(c.kind, LIVE_PROJECT);
    live_channel_name(&c, name);
    cr_assert_str_eq(name, "project/" UID);
}

Test(live, other_paths_are_no_channel)
{
    static const char *bad[] = {
        "/live/executions/",          "/live/executions/" UID "/",  "/live/execution/" UID,
        "/live/workflows/" UID,       "/live/executions/" UID "x",  "/live/executions/0a1b2c3d",
        "/api/executions/" UID,       "/live/projects/not-a-uuid-at-all-not-a-uuid-at-all!", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct live_channel c;
        cr_assert_eq(live_channel_from_path(bad[i], &c), -1, "%s", bad[i]);
    }
}

Test(live, tickets_are_64_lowercase_hex_digits)
{
    char t[LIVE_TICKET_LEN + 2];
    memset(t, 'a', LIVE_TICKET_LEN);
    t[LIVE_TICKET_LEN] = '\0';
    cr_assert(live_ticket_valid(t));
    t[3] = 'A';
    cr_assert_not(live_ticket_valid(t));
    t[3] = 'g';
    cr_assert_not(live_ticket_valid(t));
    t[3] = '9';
    t[LIVE_TICKET_LEN - 1] = '\0';
    cr_assert_not(live_ticket_valid(t));
    t[LIVE_TICKET_LEN - 1] = '0';
    t[LIVE_TICKET_LEN] = '0';
    t[LIVE_TICKET_LEN + 1] = '\0';
    cr_assert_not(live_ticket_valid(t));
    cr_assert_not(live_ticket_valid(""));
}

Test(live, message_ids_give_their_time)
{
    time_t when = 0;
    cr_assert_eq(live_message_id_time("1796407971:2", &when), 0);
    cr_assert_eq(when, 1796407971);
    cr_assert_eq(live_message_id_time("0:0", &when), 0);
    cr_assert_eq(when, 0);
}

Test(live, malformed_message_ids_are_refused)
{
    static const char *bad[] = {"", ":", "1:", ":1", "1796407971", "1796407971:2:3", "a:1", "1:a",
                                "-1:2", "1796407971:[2]", "1796407971:2,3", " 1:2", "1:2 ",
                                "9999999999999:1", "1:99999999999", "1796407971:2\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        time_t when = 42;
        cr_assert_eq(live_message_id_time(bad[i], &when), -1, "'%s'", bad[i]);
        cr_assert_eq(when, 42);
    }
}

Test(live, notices_split_into_channel_and_message)
{
    char channel[LIVE_CHANNEL_MAX + 1];
    const char *msg = NULL;
    cr_assert_eq(live_notice_parse("execution/" UID " {\"seq\":1}", channel, &msg), 0);
    cr_assert_str_eq(channel, "execution/" UID);
    cr_assert_str_eq(msg, "{\"seq\":1}");
    cr_assert_eq(live_notice_parse("project/" UID " x", channel, &msg), 0);
    cr_assert_str_eq(channel, "project/" UID);
    cr_assert_str_eq(msg, "x");
}

Test(live, other_notices_are_refused)
{
    static const char *bad[] = {"", "execution/" UID, "execution/" UID " ", "execution/" UID "{}",
                                "workflow/" UID " {}", "execution/../../x/" UID " {}",
                                "execution/0a1b2c3d {}", "project/" UID "x {}", " execution/" UID " {}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char channel[LIVE_CHANNEL_MAX + 1];
        const char *msg = NULL;
        cr_assert_eq(live_notice_parse(bad[i], channel, &msg), -1, "'%s'", bad[i]);
    }
}
