/* Where an alert may be delivered, and how a delivery is signed (the
 * rules of issue "Alerts": README "Alerts" once delivery lands). Pure: no
 * I/O; the delivery process resolves the host and asks about every
 * address it is about to connect to, after DNS, so a name that resolves
 * to an internal address is refused even when it looked public when the
 * rule was saved (DNS rebinding).
 *
 * A webhook URL is strict: http(s)://host[:port][/path][?query], with
 * host a DNS name, a dotted-quad IPv4 address or a bracketed IPv6 one;
 * no user information (credentials never go in a URL), no fragment, only
 * visible ASCII, at most WEBHOOK_URL_MAX bytes. Numeric hosts in any other
 * spelling (127.1, 0x7f.0.0.1, 2130706433) are refused: resolvers read
 * them as addresses, a way around a check that reads them as names. */
#ifndef AGORA_WEBHOOK_TARGET_H
#define AGORA_WEBHOOK_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/sha256.h"

#define WEBHOOK_URL_MAX 2048
#define WEBHOOK_HOST_MAX 253

/* A URL that passed webhook_url_parse. */
struct webhook_url {
    bool https;
    char host[WEBHOOK_HOST_MAX + 1];  /* a name (lowercase) or an address, IPv6 without brackets */
    bool literal;                     /* host is an IP address */
    uint16_t port;                    /* given, or 443 / 80 */
};

/* 0 with *out, or -1 with *why (static text). allow_http: an operator
 * setting; https only otherwise. */
int webhook_url_parse(const char *url, bool allow_http, struct webhook_url *out, const char **why);

/* What kind of network an address is on. Reserved (unspecified,
 * multicast, broadcast, documentation, benchmarking, the IETF's and the
 * future-use blocks) is never delivered to. */
enum webhook_net {
    WN_PUBLIC,
    WN_LOOPBACK,   /* 127.0.0.0/8, ::1 */
    WN_PRIVATE,    /* 10/8, 172.16/12, 192.168/16, 100.64/10 (CGNAT), fc00::/7, fec0::/10 */
    WN_LINK_LOCAL, /* 169.254/16 (cloud metadata lives there), fe80::/10 */
    WN_RESERVED,
};

/* Networks an operator lets deliveries reach besides public ones
 * (AGORA_WEBHOOK_ALLOW: a comma-separated list of loopback, private,
 * link-local; empty by default). */
enum {
    WEBHOOK_ALLOW_LOOPBACK = 1u << WN_LOOPBACK,
    WEBHOOK_ALLOW_PRIVATE = 1u << WN_PRIVATE,
    WEBHOOK_ALLOW_LINK_LOCAL = 1u << WN_LINK_LOCAL,
};

/* Parses the setting's text into *allow. 0, or -1 with *why. */
int webhook_allow_parse(const char *text, unsigned *allow, const char **why);

/* The network of an AF_INET or AF_INET6 address; an IPv6 address that
 * carries an IPv4 one (mapped, NAT64, 6to4) is the IPv4 one's. Any other
 * family is WN_RESERVED. */
enum webhook_net webhook_addr_net(const struct sockaddr *sa);

/* Whether a delivery may connect to sa under allow. */
bool webhook_addr_allowed(const struct sockaddr *sa, unsigned allow);

/* "loopback", "private", ...: for refusals. */
const char *webhook_net_name(enum webhook_net net);

/* The signature header's value of a delivery: "t=<unix seconds>,v1=<hex
 * HMAC-SHA256 of "<t>.<body>" under secret>". A receiver recomputes it,
 * compares in constant time and refuses old timestamps (replays). */
#define WEBHOOK_SIGNATURE_MAX (2 + 20 + 4 + 2 * SHA256_LEN + 1)
void webhook_signature(const char *secret, size_t secret_len, long long unix_s, const char *body, size_t len,
                       char out[WEBHOOK_SIGNATURE_MAX]);

#endif
