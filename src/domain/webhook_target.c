/* Webhook URLs, the networks a delivery may reach, and delivery
 * signatures (webhook_target.h). Addresses are classified by the ranges
 * of the IANA special-purpose registries (RFC 6890 and its updates). */
#include "domain/webhook_target.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The last label of a name reads as a number to URL parsers and
 * resolvers (WHATWG's "ends in a number"): all digits, or 0x and hex. */
static bool ends_in_number(const char *host, size_t len)
{
    size_t start = len;
    while (start > 0 && host[start - 1] != '.')
        start--;
    const char *l = host + start;
    size_t n = len - start;
    if (n == 0)
        return false;
    if (n >= 2 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X')) {
        for (size_t i = 2; i < n; i++)
            if (!is_hex(l[i]))
                return false;
        return true;
    }
    for (size_t i = 0; i < n; i++)
        if (!is_digit(l[i]))
            return false;
    return true;
}

/* A DNS name of letters, digits and hyphens, lowercased into out. */
static int parse_name(const char *host, size_t len, char *out, const char **why)
{
    if (len == 0 || len > WEBHOOK_HOST_MAX)
        return *why = "the host must be 1 to 253 characters", -1;
    size_t label = 0;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? host[i] : '.';
        if (c == '.') {
            if (label == 0 || label > 63)
                return *why = "each part of the host name must be 1 to 63 characters", -1;
            if (host[i - 1] == '-' || host[i - label] == '-')
                return *why = "a part of the host name cannot start or end with '-'", -1;
            label = 0;
        } else if (is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-') {
            label++;
        } else {
            return *why = "the host name may hold only letters, digits, '-' and '.'", -1;
        }
        if (i < len)
            out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[len] = '\0';
    return 0;
}

static int parse_host(const char *host, size_t len, struct webhook_url *out, const char **why)
{
    char tmp[WEBHOOK_HOST_MAX + 1];
    if (len > 0 && host[0] == '[') {
        unsigned char addr[sizeof(struct in6_addr)];
        if (len < 3 || host[len - 1] != ']' || len - 2 > sizeof tmp - 1)
            return *why = "an IPv6 host must be in brackets", -1;
        memcpy(tmp, host + 1, len - 2);
        tmp[len - 2] = '\0';
        if (inet_pton(AF_INET6, tmp, addr) != 1)
            return *why = "the host is not an IPv6 address", -1;
        snprintf(out->host, sizeof out->host, "%s", tmp);
        out->literal = true;
        return 0;
    }
    if (len > 0 && len <= WEBHOOK_HOST_MAX && ends_in_number(host, len)) {
        struct in_addr a;
        memcpy(tmp, host, len);
        tmp[len] = '\0';
        /* inet_pton takes four decimal parts without leading zeros only. */
        if (inet_pton(AF_INET, tmp, &a) != 1)
            return *why = "a numeric host must be an IPv4 address written as four decimal numbers", -1;
        snprintf(out->host, sizeof out->host, "%s", tmp);
        out->literal = true;
        return 0;
    }
    out->literal = false;
    return parse_name(host, len, out->host, why);
}

static int parse_port(const char *p, size_t len, uint16_t *port, const char **why)
{
    unsigned v = 0;
    if (len == 0 || len > 5 || p[0] == '0')
        return *why = "the port must be a number from 1 to 65535", -1;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(p[i]))
            return *why = "the port must be a number from 1 to 65535", -1;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v > 65535)
        return *why = "the port must be a number from 1 to 65535", -1;
    *port = (uint16_t)v;
    return 0;
}

int webhook_url_parse(const char *url, bool allow_http, struct webhook_url *out, const char **why)
{
    struct webhook_url u = {0};
    size_t len = strlen(url);
    if (len > WEBHOOK_URL_MAX)
        return *why = "the URL is longer than 2048 bytes", -1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)url[i] < 0x21 || (unsigned char)url[i] > 0x7e || url[i] == '\\')
            return *why = "the URL may hold only visible ASCII characters, and no backslash", -1;
    if (strchr(url, '#'))
        return *why = "the URL cannot have a fragment ('#')", -1;

    const char *rest;
    if (strncmp(url, "https://", 8) == 0) {
        u.https = true;
        rest = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        if (!allow_http)
            return *why = "the URL must be https", -1;
        rest = url + 7;
    } else {
        return *why = allow_http ? "the URL must be http or https" : "the URL must be https", -1;
    }
    size_t auth = strcspn(rest, "/?");
    if (memchr(rest, '@', auth))
        return *why = "the URL cannot hold user information (credentials go in the secret, not the URL)", -1;

    /* The port is after the last ':' outside brackets. */
    size_t host_len = auth;
    const char *close = memchr(rest, ']', auth);
    const char *colon = NULL;
    for (size_t i = close ? (size_t)(close - rest) : 0; i < auth; i++)
        if (rest[i] == ':')
            colon = rest + i;
    u.port = u.https ? 443 : 80;
    if (colon) {
        host_len = (size_t)(colon - rest);
        if (parse_port(colon + 1, auth - host_len - 1, &u.port, why) < 0)
            return -1;
    }
    if (host_len == 0)
        return *why = "the URL has no host", -1;
    if (parse_host(rest, host_len, &u, why) < 0)
        return -1;
    *out = u;
    return 0;
}

int webhook_allow_parse(const char *text, unsigned *allow, const char **why)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"loopback", WEBHOOK_ALLOW_LOOPBACK}, {"private", WEBHOOK_ALLOW_PRIVATE},
                 {"link-local", WEBHOOK_ALLOW_LINK_LOCAL}};
    unsigned got = 0;
    const char *p = text ? text : "";
    while (*p) {
        size_t n = strcspn(p, ",");
        size_t k = 0;
        for (; k < sizeof names / sizeof names[0]; k++)
            if (strlen(names[k].name) == n && strncmp(p, names[k].name, n) == 0)
                break;
        if (k == sizeof names / sizeof names[0])
            return *why = "must be a comma-separated list of loopback, private and link-local", -1;
        got |= names[k].bit;
        p += n;
        if (*p == ',' && *++p == '\0')
            return *why = "must be a comma-separated list of loopback, private and link-local", -1;
    }
    *allow = got;
    return 0;
}

/* a's first bits bits equal to prefix's (both in network order). */
static bool in_v4(uint32_t a, uint32_t prefix, int bits)
{
    uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
    return (a & mask) == (prefix & mask);
}

static enum webhook_net net_v4(uint32_t a)
{
    static const struct {
        uint32_t prefix;
        int bits;
        enum webhook_net net;
    } ranges[] = {
        {0x00000000u, 8, WN_RESERVED},    /* "this network" */
        {0x0a000000u, 8, WN_PRIVATE},     /* 10/8 */
        {0x64400000u, 10, WN_PRIVATE},    /* 100.64/10, shared address space (CGNAT) */
        {0x7f000000u, 8, WN_LOOPBACK},    /* 127/8 */
        {0xa9fe0000u, 16, WN_LINK_LOCAL}, /* 169.254/16 */
        {0xac100000u, 12, WN_PRIVATE},    /* 172.16/12 */
        {0xc0000000u, 24, WN_RESERVED},   /* 192.0.0/24, IETF protocol assignments */
        {0xc0000200u, 24, WN_RESERVED},   /* 192.0.2/24, documentation */
        {0xc0586300u, 24, WN_RESERVED},   /* 192.88.99/24, 6to4 relays */
        {0xc0a80000u, 16, WN_PRIVATE},    /* 192.168/16 */
        {0xc6120000u, 15, WN_RESERVED},   /* 198.18/15, benchmarking */
        {0xc6336400u, 24, WN_RESERVED},   /* 198.51.100/24, documentation */
        {0xcb007100u, 24, WN_RESERVED},   /* 203.0.113/24, documentation */
        {0xe0000000u, 4, WN_RESERVED},    /* 224/4 multicast */
        {0xf0000000u, 4, WN_RESERVED},    /* 240/4 future use, and the broadcast address */
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (in_v4(a, ranges[i].prefix, ranges[i].bits))
            return ranges[i].net;
    return WN_PUBLIC;
}

static uint32_t v4_at(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static bool prefix6(const unsigned char *a, const unsigned char *p, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, p, (size_t)whole) != 0)
        return false;
    return rest == 0 || ((a[whole] ^ p[whole]) & (0xff << (8 - rest))) == 0;
}

static enum webhook_net net_v6(const unsigned char *a)
{
    static const unsigned char zero[16] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    static const unsigned char six_to_four[2] = {0x20, 0x02};
    static const unsigned char ula[1] = {0xfc}, link_local[2] = {0xfe, 0x80}, site_local[2] = {0xfe, 0xc0};
    static const unsigned char multicast[1] = {0xff}, doc[4] = {0x20, 0x01, 0x0d, 0xb8};
    static const unsigned char teredo[4] = {0x20, 0x01, 0x00, 0x00};

    if (memcmp(a, zero, 15) == 0)
        return a[15] == 1 ? WN_LOOPBACK : WN_RESERVED; /* ::1, :: */
    if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
        return net_v4(v4_at(a + 12));
    if (prefix6(a, six_to_four, 16))
        return net_v4(v4_at(a + 2));
    if (prefix6(a, zero, 96))
        return WN_RESERVED; /* IPv4-compatible, deprecated */
    if (prefix6(a, ula, 7) || prefix6(a, site_local, 10))
        return WN_PRIVATE;
    if (prefix6(a, link_local, 10))
        return WN_LINK_LOCAL;
    if (prefix6(a, multicast, 8) || prefix6(a, doc, 32) || prefix6(a, teredo, 32))
        return WN_RESERVED;
    return WN_PUBLIC;
}

enum webhook_net webhook_addr_net(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return net_v4(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        return net_v6(in6->sin6_addr.s6_addr);
    }
    return WN_RESERVED;
}

bool webhook_addr_allowed(const struct sockaddr *sa, unsigned allow)
{
    enum webhook_net net = webhook_addr_net(sa);
    if (net == WN_PUBLIC)
        return true;
    if (net == WN_RESERVED)
        return false;
    return (allow & (1u << net)) != 0;
}

const char *webhook_net_name(enum webhook_net net)
{
    switch (net) {
    case WN_PUBLIC:
        return "public";
    case WN_LOOPBACK:
        return "loopback";
    case WN_PRIVATE:
        return "private";
    case WN_LINK_LOCAL:
        return "link-local";
    case WN_RESERVED:
        break;
    }
    return "reserved";
}

void webhook_signature(const char *secret, size_t secret_len, long long unix_s, const char *body, size_t len,
                       char out[WEBHOOK_SIGNATURE_MAX])
{
    char t[21], mac[2 * SHA256_LEN + 1]; /* t: a long long, sign included */
    int tn = snprintf(t, sizeof t, "%lld", unix_s);
    struct byte_span parts[3] = {{t, (size_t)tn}, {".", 1}, {body, len}};
    hmac_sha256_hex(secret, secret_len, parts, 3, mac);
    snprintf(out, WEBHOOK_SIGNATURE_MAX, "t=%s,v1=%s", t, mac);
}
