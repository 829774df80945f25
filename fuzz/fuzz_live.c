/* libFuzzer harness: live monitoring's parsers of what a subscriber or the
 * database hands us (live_tickets.c, live_announce.c). Byte 0 picks one:
 *   0: a subscription path (live_channel_from_path): what parses names a
 *      channel that spells the path again, lowercase;
 *   1: a Last-Event-ID (live_message_id_time): what parses is digits,
 *      a colon, digits, and its time is the leading number;
 *   2: a ticket (live_ticket_valid): valid means 64 lowercase hex digits;
 *   3: a notification payload (live_notice_parse): the channel is the
 *      payload's prefix and the message the non-empty rest. */
#include <ctype.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/live_announce.h"
#include "domain/live_tickets.h"

static void check_path(const char *text)
{
    struct live_channel c;
    char name[16 + UUID_STR_LEN], again[64];
    if (live_channel_from_path(text, &c) < 0)
        return;
    live_channel_name(&c, name);
    snprintf(again, sizeof again, "/live/%ss/%s", c.kind == LIVE_EXECUTION ? "execution" : "project", c.id);
    if (strlen(again) != strlen(text) || strncasecmp(again, text, strlen(text)) != 0 ||
        strncmp(name, again + 6, strlen(name) - UUID_STR_LEN - 1) != 0)
        abort();
}

static void check_message_id(const char *text)
{
    time_t when;
    if (live_message_id_time(text, &when) < 0)
        return;
    const char *colon = strchr(text, ':');
    if (!colon || colon == text || !colon[1] || when != (time_t)strtoll(text, NULL, 10))
        abort();
    for (const char *p = text; *p; p++)
        if (p != colon && !isdigit((unsigned char)*p))
            abort();
}

static void check_ticket(const char *text)
{
    if (!live_ticket_valid(text))
        return;
    if (strlen(text) != LIVE_TICKET_LEN || strspn(text, "0123456789abcdef") != LIVE_TICKET_LEN)
        abort();
}

static void check_notice(const char *text)
{
    char channel[LIVE_CHANNEL_MAX + 1];
    const char *msg;
    if (live_notice_parse(text, channel, &msg) < 0)
        return;
    size_t n = strlen(channel);
    if (strncmp(text, channel, n) != 0 || text[n] != ' ' || msg != text + n + 1 || !*msg)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* These parsers take C strings (FastCGI parameters, libpq's payload):
     * a NUL-terminated copy, in a block of exactly that size. */
    char *text = malloc(size);
    if (!text)
        abort();
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    switch (data[0] % 4) {
    case 0: check_path(text); break;
    case 1: check_message_id(text); break;
    case 2: check_ticket(text); break;
    default: check_notice(text); break;
    }
    free(text);
    return 0;
}
