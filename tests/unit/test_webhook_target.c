/* Unit tests for webhook_target.c: which webhook URLs are accepted (and
 * the numeric spellings of hosts that are not), which networks each
 * address is on (IPv4, IPv6, IPv4 inside IPv6), the operator's allowance,
 * and the delivery signature against a reference HMAC-SHA256. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "domain/webhook_target.h"

TestSuite(webhook_target);

struct url_case {
    char url[96];
    bool ok;
    char host[48];
    unsigned port;
    bool literal;
};

Test(webhook_target, urls_accepted_and_refused)
{
    static const struct url_case cases[] = {
        {"https://hooks.slack.com/services/T0/B0/xyz", true, "hooks.slack.com", 443, false},
        {"https://Example.COM:8443/a?b=c&d=%20", true, "example.com", 8443, false},
        {"https://example.com", true, "example.com", 443, false},
        {"https://example.com?x=1", true, "example.com", 443, false},
        {"https://127.0.0.1:9000/hook", true, "127.0.0.1", 9000, true},
        {"https://[::1]:9000/hook", true, "::1", 9000, true},
        {"https://[2001:db8::1]/", true, "2001:db8::1", 443, true},
        {"https://localhost/", true, "localhost", 443, false},
        {"https://a-b.c1/", true, "a-b.c1", 443, false},
        {"http://example.com/", false, "", 0, false},           /* https only */
        {"ftp://example.com/", false, "", 0, false},
        {"https://user:pw@example.com/", false, "", 0, false},  /* credentials */
        {"https://example.com@evil.test/", false, "", 0, false},
        {"https://example.com/#frag", false, "", 0, false},
        {"https://exa mple.com/", false, "", 0, false},
        {"https://example.com\\@evil/", false, "", 0, false},
        {"https://127.1/", false, "", 0, false},                /* numeric, not a dotted quad */
        {"https://0x7f.0.0.1/", false, "", 0, false},
        {"https://2130706433/", false, "", 0, false},
        {"https://0177.0.0.1/", false, "", 0, false},           /* octal */
        {"https://127.000.0.1/", false, "", 0, false},
        {"https://example.0x10/", false, "", 0, false},
        {"https://[::1/", false, "", 0, false},
        {"https://[fe80::1%25eth0]/", false, "", 0, false},     /* zone ids */
        {"https://-a.com/", false, "", 0, false},
        {"https://a-.com/", false, "", 0, false},
        {"https://a..com/", false, "", 0, false},
        {"https://a.com./", false, "", 0, false},
        {"https://a_b.com/", false, "", 0, false},
        {"https://example.com:0/", false, "", 0, false},
        {"https://example.com:65536/", false, "", 0, false},
        {"https://example.com:080/", false, "", 0, false},
        {"https://example.com:/", false, "", 0, false},
        {"https:///path", false, "", 0, false},
        {"https://:443/", false, "", 0, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct webhook_url u;
        const char *why = NULL;
        int rc = webhook_url_parse(cases[i].url, false, &u, &why);
        cr_assert_eq(rc == 0, cases[i].ok, "%s: %s", cases[i].url, rc == 0 ? "accepted" : why);
        if (rc != 0) {
            cr_assert_not_null(why);
            continue;
        }
        cr_assert_str_eq(u.host, cases[i].host, "%s", cases[i].url);
        cr_assert_eq(u.port, cases[i].port, "%s", cases[i].url);
        cr_assert_eq(u.literal, cases[i].literal, "%s", cases[i].url);
        cr_assert(u.https);
    }
}

Test(webhook_target, http_only_when_the_operator_allows_it)
{
    struct webhook_url u;
    const char *why;
    cr_assert_eq(webhook_url_parse("http://example.com/h", true, &u, &why), 0);
    cr_assert_eq(u.port, 80);
    cr_assert_not(u.https);
    char long_url[WEBHOOK_URL_MAX + 32] = "https://example.com/";
    memset(long_url + strlen(long_url), 'a', WEBHOOK_URL_MAX);
    long_url[WEBHOOK_URL_MAX + 1] = '\0';
    cr_assert_eq(webhook_url_parse(long_url, true, &u, &why), -1);
}

static enum webhook_net net_of(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (strchr(text, ':')) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        cr_assert_eq(inet_pton(AF_INET6, text, &in6->sin6_addr), 1, "%s", text);
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        cr_assert_eq(inet_pton(AF_INET, text, &in->sin_addr), 1, "%s", text);
    }
    return webhook_addr_net((struct sockaddr *)&ss);
}

struct net_case {
    char addr[48];
    enum webhook_net net;
};

Test(webhook_target, every_special_range_is_classified)
{
    static const struct net_case cases[] = {
        {"8.8.8.8", WN_PUBLIC},          {"1.1.1.1", WN_PUBLIC},         {"172.32.0.1", WN_PUBLIC},
        {"100.128.0.1", WN_PUBLIC},      {"169.253.255.255", WN_PUBLIC}, {"223.255.255.255", WN_PUBLIC},
        {"127.0.0.1", WN_LOOPBACK},      {"127.255.255.254", WN_LOOPBACK},
        {"10.0.0.1", WN_PRIVATE},        {"172.16.0.1", WN_PRIVATE},     {"172.31.255.255", WN_PRIVATE},
        {"192.168.1.1", WN_PRIVATE},     {"100.64.0.1", WN_PRIVATE},     {"100.127.255.255", WN_PRIVATE},
        {"169.254.169.254", WN_LINK_LOCAL},
        {"0.0.0.0", WN_RESERVED},        {"0.1.2.3", WN_RESERVED},       {"224.0.0.1", WN_RESERVED},
        {"239.255.255.250", WN_RESERVED}, {"240.0.0.1", WN_RESERVED},    {"255.255.255.255", WN_RESERVED},
        {"192.0.2.1", WN_RESERVED},      {"198.51.100.7", WN_RESERVED},  {"203.0.113.9", WN_RESERVED},
        {"198.18.0.1", WN_RESERVED},     {"198.19.255.255", WN_RESERVED}, {"192.0.0.8", WN_RESERVED},
        {"2606:4700::1111", WN_PUBLIC},  {"::1", WN_LOOPBACK},           {"::", WN_RESERVED},
        {"fe80::1", WN_LINK_LOCAL},      {"febf::1", WN_LINK_LOCAL},     {"fc00::1", WN_PRIVATE},
        {"fdff::1", WN_PRIVATE},         {"fec0::1", WN_PRIVATE},        {"ff02::1", WN_RESERVED},
        {"2001:db8::1", WN_RESERVED},    {"2001::1", WN_RESERVED},       {"::7f00:1", WN_RESERVED},
        /* IPv4 inside IPv6 is the IPv4 address's network */
        {"::ffff:127.0.0.1", WN_LOOPBACK}, {"::ffff:169.254.169.254", WN_LINK_LOCAL},
        {"::ffff:8.8.8.8", WN_PUBLIC},   {"64:ff9b::10.0.0.1", WN_PRIVATE}, {"64:ff9b::8.8.4.4", WN_PUBLIC},
        {"2002:7f00:1::", WN_LOOPBACK},  {"2002:0808:0808::1", WN_PUBLIC},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(net_of(cases[i].addr), cases[i].net, "%s: %s, want %s", cases[i].addr,
                     webhook_net_name(net_of(cases[i].addr)), webhook_net_name(cases[i].net));
}

Test(webhook_target, the_operator_allows_networks_but_never_reserved_ones)
{
    unsigned allow = 99;
    const char *why;
    cr_assert_eq(webhook_allow_parse("", &allow, &why), 0);
    cr_assert_eq(allow, 0);
    cr_assert_eq(webhook_allow_parse(NULL, &allow, &why), 0);
    cr_assert_eq(webhook_allow_parse("loopback", &allow, &why), 0);
    cr_assert_eq(allow, WEBHOOK_ALLOW_LOOPBACK);
    cr_assert_eq(webhook_allow_parse("private,link-local,loopback", &allow, &why), 0);
    cr_assert_eq(allow, WEBHOOK_ALLOW_LOOPBACK | WEBHOOK_ALLOW_PRIVATE | WEBHOOK_ALLOW_LINK_LOCAL);
    cr_assert_eq(webhook_allow_parse("loopback,", &allow, &why), -1);
    cr_assert_eq(webhook_allow_parse("public", &allow, &why), -1);
    cr_assert_eq(webhook_allow_parse("loopback,,private", &allow, &why), -1);
    cr_assert_eq(webhook_allow_parse("Loopback", &allow, &why), -1);

    struct sockaddr_in in = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
    cr_assert_not(webhook_addr_allowed((struct sockaddr *)&in, 0));
    cr_assert(webhook_addr_allowed((struct sockaddr *)&in, WEBHOOK_ALLOW_LOOPBACK));
    cr_assert_not(webhook_addr_allowed((struct sockaddr *)&in, WEBHOOK_ALLOW_PRIVATE));
    inet_pton(AF_INET, "0.0.0.0", &in.sin_addr);
    cr_assert_not(webhook_addr_allowed((struct sockaddr *)&in, ~0u));
    inet_pton(AF_INET, "93.184.216.34", &in.sin_addr);
    cr_assert(webhook_addr_allowed((struct sockaddr *)&in, 0));
    struct sockaddr other = {.sa_family = AF_UNIX};
    cr_assert_not(webhook_addr_allowed(&other, ~0u));
}

Test(webhook_target, the_signature_is_hmac_sha256_of_time_dot_body)
{
    char sig[WEBHOOK_SIGNATURE_MAX];
    /* Python: hmac.new(b'whsec', b'1700000000.{"a":1}', hashlib.sha256).hexdigest() */
    webhook_signature("whsec", 5, 1700000000, "{\"a\":1}", 7, sig);
    cr_assert_str_eq(sig, "t=1700000000,v1=8ad37ba156048ae0e0a5533c75cdf26fee88b07f93cb57ee4c80adb053012032");

    /* RFC-style vector through the underlying function, in two parts. */
    char mac[2 * SHA256_LEN + 1];
    struct byte_span parts[2] = {{"The quick brown fox ", 20}, {"jumps over the lazy dog", 23}};
    hmac_sha256_hex("key", 3, parts, 2, mac);
    cr_assert_str_eq(mac, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}
