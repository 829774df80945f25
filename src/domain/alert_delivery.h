/* What agora-alerts decides about one delivery (README "Alerts"), pure so
 * the unit tests cover it without a network or a clock: when to try again
 * and when to give up, which resolved address it may connect to, and the
 * body a webhook receives. The sending itself is src/main/alerts.c. */
#ifndef AGORA_ALERT_DELIVERY_H
#define AGORA_ALERT_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <netdb.h>
#include <sys/socket.h>

/* Retries stop this long after the alert fired. */
#define ALERT_GIVE_UP_S (24 * 3600)
/* The longest wait between two attempts. */
#define ALERT_RETRY_MAX_S 3600
/* The longest response body read from a receiver; the rest is not read. */
#define ALERT_RESPONSE_MAX 4096

/* After attempts failed attempts (>= 1) of a delivery created at
 * created_s, the time of the next: now_s + first_s * 2^(attempts-1), at
 * most ALERT_RETRY_MAX_S later. false when that is past created_s +
 * ALERT_GIVE_UP_S: give up. */
bool alert_next_try(long long created_s, long long now_s, int attempts, long first_s, long long *next_s);

/* The first address of list (getaddrinfo's answer) a delivery may connect
 * to under allow (webhook_target.h), copied to *out (*out_len bytes).
 * -1 with *why (static text, naming the network) when there is none. */
int alert_pick_address(const struct addrinfo *list, unsigned allow, struct sockaddr_storage *out,
                       socklen_t *out_len, const char **why);

/* The body a receiver gets: the stored payload (sql/014's alert_payload)
 * with "link", the viewer's page of the run (or the project's list when the
 * alert is about no run), and "text", the summary and the link as a Slack
 * incoming webhook shows them. base_url is the viewer's address without
 * a trailing slash. Returns a new string (*len bytes) the caller frees, or
 * NULL when payload is not a JSON object. */
char *alert_body(const char *payload, const char *base_url, size_t *len);

#endif
