/* Unit tests of live monitoring's parsers of untrusted input: the
 * subscription path, the ticket, the message id a resuming client sends
 * back (live_tickets.c), the notification payload agora-live splits
 * (live_announce.c), and the windows in which agora-live coalesces a
 * project channel's messages (live_batch.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/execution_json.h"
#include "domain/live_announce.h"
#include "domain/live_batch.h"
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

/* LIVE_NODE_TEXT_MIN may not exceed what the shortest node execution's
 * JSON takes as jsonb's text, {"key": v, ...} with one-byte values, and
 * its separator: else a message that fits would go out truncated. Every
 * quoted word of NODE_JSON_FROM is one of its keys. */
Test(live, the_node_text_bound_is_no_more_than_the_shortest_node)
{
    const char *sql = NODE_JSON_FROM("s");
    size_t keys = 0, bytes = 2; /* the braces */
    for (const char *p = strchr(sql, '\''); p; p = strchr(p, '\'')) {
        const char *end = strchr(p + 1, '\'');
        cr_assert_not_null(end);
        bytes += (size_t)(end - p - 1) + 2 + 2 + 1; /* "key": v */
        keys++;
        p = end + 1;
    }
    bytes += 2 * (keys - 1); /* ", " between members */
    cr_assert_eq(keys, 23);
    cr_assert_leq(strtoul(LIVE_NODE_TEXT_MIN, NULL, 10), bytes + 2, "bound %s, shortest %zu + 2",
                  LIVE_NODE_TEXT_MIN, bytes);
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

/* ------------------------------------------------------------------ batches
 * live_batch.c: what agora-live publishes on a project channel. */

#define PROJ_A "project/" UID
#define PROJ_B "project/1a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
#define BATCH_OPEN LIVE_ROWS_HEAD
/* The message of one row r, as the batcher publishes it. */
#define ALONE(r) BATCH_OPEN r "]}"

/* What the batcher published, in order. */
struct sent {
    int n;
    char channel[8][LIVE_CHANNEL_MAX + 1];
    char *message[8];
    size_t len[8];
};

static void record(void *ctx, const char *channel, const char *message, size_t len)
{
    struct sent *s = ctx;
    cr_assert_lt(s->n, 8, "more publishes than the test expects");
    cr_assert_eq(strlen(message), len, "len is the message's length");
    strcpy(s->channel[s->n], channel);
    s->message[s->n] = strdup(message);
    s->len[s->n] = len;
    s->n++;
}

static void sent_free(struct sent *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->message[i]);
    s->n = 0;
}

/* Each test's batcher (a 100 ms window) and what it published. */
static struct live_batcher *b;
static struct sent s;

static void batch_init(void)
{
    b = live_batcher_new(100);
    memset(&s, 0, sizeof s);
}

static void batch_fini(void)
{
    sent_free(&s);
    live_batcher_free(b);
}

TestSuite(live_batch, .init = batch_init, .fini = batch_fini);

/* A row of exactly n bytes: [<seq>,"xxx..."]. */
static char *message_of(size_t n, int seq)
{
    char head[40];
    int h = snprintf(head, sizeof head, "[%d,\"", seq);
    cr_assert_gt(n, (size_t)h + 2);
    char *m = malloc(n + 1);
    memcpy(m, head, (size_t)h);
    memset(m + h, 'x', n - (size_t)h - 2);
    memcpy(m + n - 2, "\"]", 3);
    return m;
}

Test(live_batch, the_head_names_the_columns_once_and_makes_valid_json_with_its_rows)
{
    /* The head and tail around rows are one JSON object whose columns are
     * the project row's, each a distinct non-empty string. */
    live_batcher_add(b, PROJ_A, "[1]", 0, record, &s);
    live_batcher_add(b, PROJ_A, "[2]", 1, record, &s);
    live_batcher_flush(b, record, &s);
    cr_assert_eq(s.n, 1);
    const char *m = s.message[0];
    cr_assert(strncmp(m, "{\"type\":\"rows\",\"columns\":[\"seq\",", 30) == 0, "%s", m);
    const char *rows = strstr(m, "],\"rows\":[");
    cr_assert_not_null(rows);
    cr_assert_str_eq(rows, "],\"rows\":[[1],[2]]}");
    cr_assert_null(strstr(rows + 1, "\"columns\""), "the columns come once");
    /* 20 columns: the list's members, usage and counts spelt out. */
    size_t quotes = 0;
    for (const char *p = strchr(m, '[') + 1; p < rows; p++)
        quotes += *p == '"';
    cr_assert_eq(quotes, 40, "%s", m);
    cr_assert_not_null(strstr(m, "\"execution.started_at:us\""));
    cr_assert_null(strstr(m, "project_id"));
    cr_assert_null(strstr(m, "metadata"));
}

Test(live_batch, a_window_of_several_messages_publishes_one_batch_in_their_order)
{
    live_batcher_add(b, PROJ_A, "[1]", 1000, record, &s);
    live_batcher_add(b, PROJ_A, "[2]", 1030, record, &s);
    cr_assert_eq(live_batcher_due(b, 1050, record, &s), 50, "the window ends 100 ms after its first message");
    live_batcher_add(b, PROJ_A, "[3]", 1099, record, &s);
    cr_assert_eq(s.n, 0, "nothing before the window ends");
    cr_assert_eq(live_batcher_due(b, 1100, record, &s), -1, "no window open after it");
    cr_assert_eq(s.n, 1);
    cr_assert_str_eq(s.channel[0], PROJ_A);
    cr_assert_str_eq(s.message[0], BATCH_OPEN "[1],[2],[3]]}");
    /* The next row opens a new window, from its own arrival. */
    live_batcher_add(b, PROJ_A, "[4]", 1500, record, &s);
    cr_assert_eq(live_batcher_due(b, 1599, record, &s), 1);
    cr_assert_eq(live_batcher_due(b, 1600, record, &s), -1);
    cr_assert_eq(s.n, 2);
    cr_assert_str_eq(s.message[1], ALONE("[4]"), "a window of one row has the same head");
}

Test(live_batch, each_channel_has_its_own_window)
{
    live_batcher_add(b, PROJ_A, "[\"a\",1]", 0, record, &s);
    live_batcher_add(b, PROJ_B, "[\"b\",1]", 40, record, &s);
    live_batcher_add(b, PROJ_A, "[\"a\",2]", 60, record, &s);
    cr_assert_eq(live_batcher_due(b, 100, record, &s), 40);
    cr_assert_eq(s.n, 1);
    cr_assert_str_eq(s.channel[0], PROJ_A);
    cr_assert_str_eq(s.message[0], BATCH_OPEN "[\"a\",1],[\"a\",2]]}");
    cr_assert_eq(live_batcher_due(b, 140, record, &s), -1);
    cr_assert_str_eq(s.channel[1], PROJ_B);
    cr_assert_str_eq(s.message[1], ALONE("[\"b\",1]"));
}

Test(live_batch, a_burst_goes_out_in_full_batches_at_once_and_none_exceeds_the_bound)
{
    /* Two messages that make a batch of exactly the bound, then a third:
     * it does not fit, so the full batch goes out at once and the third
     * starts the next. */
    size_t each = 8000, rest = LIVE_BATCH_MAX - strlen(BATCH_OPEN) - strlen("]}") - 1 - each;
    char *m[3] = {message_of(each, 1), message_of(rest, 2), message_of(each, 3)};
    for (int i = 0; i < 3; i++)
        live_batcher_add(b, PROJ_A, m[i], 5, record, &s);
    cr_assert_eq(s.n, 1, "the first batch went out when the third did not fit");
    cr_assert_eq(s.len[0], (size_t)LIVE_BATCH_MAX);
    cr_assert(strncmp(s.message[0], BATCH_OPEN, strlen(BATCH_OPEN)) == 0);
    cr_assert(strncmp(s.message[0] + strlen(BATCH_OPEN), m[0], each) == 0);
    cr_assert_eq(s.message[0][strlen(BATCH_OPEN) + each], ',');
    cr_assert(strncmp(s.message[0] + strlen(BATCH_OPEN) + each + 1, m[1], rest) == 0);
    cr_assert_str_eq(s.message[0] + strlen(BATCH_OPEN) + each + 1 + rest, "]}");
    /* The third waits for its own window, which began when it came. */
    cr_assert_eq(live_batcher_due(b, 50, record, &s), 55);
    live_batcher_flush(b, record, &s);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(s.len[1], strlen(BATCH_OPEN) + each + 2);
    cr_assert(strncmp(s.message[1] + strlen(BATCH_OPEN), m[2], each) == 0);
    for (int i = 0; i < 3; i++)
        free(m[i]);
}

Test(live_batch, a_message_too_large_to_share_a_batch_goes_alone_after_what_was_held)
{
    char *big = message_of(LIVE_BATCH_MAX, 2);
    live_batcher_add(b, PROJ_A, "[1]", 0, record, &s);
    live_batcher_add(b, PROJ_A, big, 10, record, &s);
    cr_assert_eq(s.n, 2);
    cr_assert_str_eq(s.message[0], ALONE("[1]"));
    cr_assert(strncmp(s.message[1], BATCH_OPEN, strlen(BATCH_OPEN)) == 0);
    cr_assert(strncmp(s.message[1] + strlen(BATCH_OPEN), big, LIVE_BATCH_MAX) == 0);
    cr_assert_str_eq(s.message[1] + strlen(BATCH_OPEN) + LIVE_BATCH_MAX, "]}");
    cr_assert_eq(live_batcher_due(b, 10, record, &s), -1);
    free(big);
}

Test(live_batch, a_window_of_zero_publishes_every_message_at_once)
{
    live_batcher_free(b);
    b = live_batcher_new(0);
    live_batcher_add(b, PROJ_A, "[1]", 0, record, &s);
    live_batcher_add(b, PROJ_A, "[2]", 0, record, &s);
    cr_assert_eq(s.n, 2);
    cr_assert_str_eq(s.message[0], ALONE("[1]"));
    cr_assert_str_eq(s.message[1], ALONE("[2]"));
    cr_assert_eq(live_batcher_due(b, 0, record, &s), -1);
}

Test(live_batch, flush_publishes_every_open_window_oldest_first)
{
    live_batcher_add(b, PROJ_B, "[\"b\",1]", 0, record, &s);
    live_batcher_add(b, PROJ_A, "[\"a\",1]", 20, record, &s);
    live_batcher_add(b, PROJ_B, "[\"b\",2]", 30, record, &s);
    live_batcher_flush(b, record, &s);
    cr_assert_eq(s.n, 2);
    cr_assert_str_eq(s.channel[0], PROJ_B);
    cr_assert_str_eq(s.message[0], BATCH_OPEN "[\"b\",1],[\"b\",2]]}");
    cr_assert_str_eq(s.channel[1], PROJ_A);
    cr_assert_eq(live_batcher_due(b, 1000, record, &s), -1, "nothing held after a flush");
}

Test(live_batch, more_channels_than_slots_publish_the_oldest_window_early)
{
    char channel[LIVE_CHANNEL_MAX + 1];
    for (int i = 0; i <= LIVE_BATCH_CHANNELS; i++) {
        snprintf(channel, sizeof channel, "project/00000000-0000-4000-8000-%012d", i);
        live_batcher_add(b, channel, "[]", (uint64_t)i, record, &s);
    }
    cr_assert_eq(s.n, 1, "one slot too few: the oldest window went out");
    cr_assert_str_eq(s.channel[0], "project/00000000-0000-4000-8000-000000000000");
}
