/* libFuzzer harness: what an alert rule's author controls in webhook
 * delivery (webhook_target.c). Byte 0 picks one:
 *   0: a webhook URL (webhook_url_parse), https only; 1: the same with
 *      http allowed. An accepted URL has a host of at most 253 bytes, a
 *      port from 1 to 65535, no '@' before its path or query, no '#',
 *      visible ASCII only;
 *      a name host is lowercase letters, digits, '-' and '.'; a literal
 *      one parses back as an address;
 *   2: the operator's allowance (webhook_allow_parse): only its three bits;
 *   3: an address: 4 bytes IPv4, 16 bytes IPv6. An IPv4 address and the
 *      same in an IPv4-mapped IPv6 address are on the same network, and
 *      a reserved one is never allowed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/webhook_target.h"
#include "fuzz_common.h"

static void check_url(const char *text, bool allow_http)
{
    struct webhook_url u;
    const char *why = NULL;
    if (webhook_url_parse(text, allow_http, &u, &why) < 0) {
        if (!why)
            abort();
        return;
    }
    const char *authority = strstr(text, "://") + 3;
    if (u.port == 0 || strlen(u.host) == 0 || strlen(u.host) > WEBHOOK_HOST_MAX ||
        memchr(authority, '@', strcspn(authority, "/?")) || strchr(text, '#') || (!allow_http && !u.https))
        abort();
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            abort();
    if (u.literal) {
        unsigned char addr[16];
        if (inet_pton(strchr(u.host, ':') ? AF_INET6 : AF_INET, u.host, addr) != 1)
            abort();
        return;
    }
    for (const char *p = u.host; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
            abort();
}

static void check_addr(const uint8_t *data, size_t size)
{
    unsigned all = WEBHOOK_ALLOW_LOOPBACK | WEBHOOK_ALLOW_PRIVATE | WEBHOOK_ALLOW_LINK_LOCAL;
    if (size >= 16) {
        struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
        memcpy(in6.sin6_addr.s6_addr, data, 16);
        enum webhook_net net = webhook_addr_net((struct sockaddr *)&in6);
        if (net == WN_RESERVED && webhook_addr_allowed((struct sockaddr *)&in6, all))
            abort();
    }
    if (size >= 4) {
        struct sockaddr_in in = {.sin_family = AF_INET};
        memcpy(&in.sin_addr, data, 4);
        struct sockaddr_in6 mapped = {.sin6_family = AF_INET6};
        mapped.sin6_addr.s6_addr[10] = 0xff;
        mapped.sin6_addr.s6_addr[11] = 0xff;
        memcpy(mapped.sin6_addr.s6_addr + 12, data, 4);
        enum webhook_net net = webhook_addr_net((struct sockaddr *)&in);
        if (net != webhook_addr_net((struct sockaddr *)&mapped))
            abort();
        if (net == WN_RESERVED && webhook_addr_allowed((struct sockaddr *)&in, all))
            abort();
        if (net != WN_PUBLIC && webhook_addr_allowed((struct sockaddr *)&in, 0))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *text = fuzz_cstring(data + 1, size - 1);
    unsigned allow = 0;
    const char *why;
    switch (data[0] % 4) {
    case 0:
    case 1:
        check_url(text, data[0] % 4 == 1);
        break;
    case 2:
        if (webhook_allow_parse(text, &allow, &why) == 0 &&
            (allow & ~(unsigned)(WEBHOOK_ALLOW_LOOPBACK | WEBHOOK_ALLOW_PRIVATE | WEBHOOK_ALLOW_LINK_LOCAL)))
            abort();
        break;
    default:
        check_addr(data + 1, size - 1);
    }
    free(text);
    return 0;
}
