/* Unit tests for auth.c and token.c: JWT verification under each pinned
 * algorithm (including the attacks a lenient verifier falls for), claim
 * checks, Bearer header parsing, credentials in query strings, and the 401s
 * auth_identify_or_reply sends when no database is involved.
 *
 * Tokens come from token_mint and, where token_mint would refuse to make
 * them (alg none, a header lying about its alg, odd claim types), from
 * hand-crafted base64url text signed here with OpenSSL's HMAC. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "auth/apikey.h"
#include "auth/jwt.h"
#include "http/authenticate.h"
#include "util/buf.h"
#include "ops/config.h"
#include "http/request.h"
#include "auth/token.h"

#define NOW 1700000000LL
#define SECRET "an-hs256-secret-of-at-least-32-bytes!!"
#define AUD "authenticated"
#define ISS "https://issuer.example/auth/v1"
#define SUB "8f14e45f-ceea-467f-a9b2-6d3b7c1e0a42"
#define SUB_UPPER "8F14E45F-CEEA-467F-A9B2-6D3B7C1E0A42"

/* ---- helpers ------------------------------------------------------- */

static struct config hs_config(void)
{
    struct config cfg = {0};

    cfg.jwt_alg = PIN_HS256;
    cfg.jwt_key = (unsigned char *)SECRET;
    cfg.jwt_key_len = strlen(SECRET);
    cfg.jwt_audience = AUD;
    cfg.jwt_issuer = ISS;
    cfg.jwt_leeway_s = 30;
    return cfg;
}

/* A token valid at NOW under hs_config(), unless the arguments say otherwise. */
static char *mint_hs(const char *sub, long long exp, long long nbf, const char *aud, const char *iss)
{
    char *t = token_mint(PIN_HS256, (const unsigned char *)SECRET, strlen(SECRET), sub, NOW - 60,
                         exp, nbf, aud, iss);
    cr_assert_not_null(t, "token_mint failed");
    return t;
}

static char *b64url(const void *data, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    int n;

    cr_assert_not_null(out);
    n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    for (char *p = out; *p; p++) {
        if (*p == '+')
            *p = '-';
        else if (*p == '/')
            *p = '_';
    }
    return out;
}

/* "b64(header).b64(payload).b64(HMAC-SHA256(secret))"; secret NULL gives an
 * empty signature, as alg "none" tokens have. Caller frees. */
static char *craft(const char *header, const char *payload, const char *secret)
{
    char *h = b64url(header, strlen(header));
    char *p = b64url(payload, strlen(payload));
    char *s = NULL;
    struct buf b;

    buf_init(&b);
    buf_printf(&b, "%s.%s", h, p);
    if (secret != NULL) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int maclen = 0;
        cr_assert_not_null(HMAC(EVP_sha256(), secret, (int)strlen(secret),
                                (const unsigned char *)b.data, b.len, mac, &maclen));
        s = b64url(mac, maclen);
    }
    buf_printf(&b, ".%s", s ? s : "");
    free(h);
    free(p);
    free(s);
    return buf_steal(&b);
}

#define HS_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* A payload valid at NOW with the given extra JSON members. */
static char *payload(const char *members)
{
    struct buf b;

    buf_init(&b);
    buf_printf(&b, "{%s}", members);
    return buf_steal(&b);
}

static void assert_accepted(const struct config *cfg, const char *tok, long long now)
{
    char uid[UUID_STR_LEN + 1] = "";
    const char *why = NULL;
    int rc = auth_verify_jwt(cfg, tok, strlen(tok), now, uid, &why);

    cr_assert_eq(rc, 0, "rejected (%s): %s", why ? why : "?", tok);
    cr_assert_str_eq(uid, SUB);
}

static void assert_rejected(const struct config *cfg, const char *tok, size_t len, long long now,
                            const char *want_why)
{
    char uid[UUID_STR_LEN + 1] = "";
    const char *why = NULL;
    int rc = auth_verify_jwt(cfg, tok, len, now, uid, &why);

    cr_assert_eq(rc, -1, "accepted: %.*s", (int)(len > 200 ? 200 : len), tok);
    cr_assert_not_null(why);
    if (want_why != NULL)
        cr_assert_str_eq(why, want_why, "token %.*s", (int)(len > 200 ? 200 : len), tok);
}

static void assert_crafted_rejected(const char *header, const char *members, const char *secret,
                                    const char *want_why)
{
    struct config cfg = hs_config();
    char *p = payload(members);
    char *tok = craft(header, p, secret);

    assert_rejected(&cfg, tok, strlen(tok), NOW, want_why);
    free(tok);
    free(p);
}

/* Claims that make a crafted token valid at NOW. */
#define OK_SUB "\"sub\":\"" SUB "\""
#define OK_EXP "\"exp\":1700003600"
#define OK_AUD "\"aud\":\"" AUD "\""
#define OK_ISS "\"iss\":\"" ISS "\""

/* PEM text of a fresh key pair. */
struct pem_pair {
    char *priv;
    size_t priv_len;
    char *pub;
    size_t pub_len;
};

static char *bio_text(BIO *bio, size_t *len)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    char *copy;

    cr_assert(n > 0);
    copy = malloc((size_t)n + 1);
    cr_assert_not_null(copy);
    memcpy(copy, data, (size_t)n);
    copy[n] = '\0';
    *len = (size_t)n;
    return copy;
}

static struct pem_pair make_pair(EVP_PKEY *pkey)
{
    struct pem_pair pp;
    BIO *priv = BIO_new(BIO_s_mem()), *pub = BIO_new(BIO_s_mem());

    cr_assert_not_null(pkey, "key generation failed");
    cr_assert(priv && pub);
    cr_assert_eq(PEM_write_bio_PrivateKey(priv, pkey, NULL, NULL, 0, NULL, NULL), 1);
    cr_assert_eq(PEM_write_bio_PUBKEY(pub, pkey), 1);
    pp.priv = bio_text(priv, &pp.priv_len);
    pp.pub = bio_text(pub, &pp.pub_len);
    BIO_free(priv);
    BIO_free(pub);
    EVP_PKEY_free(pkey);
    return pp;
}

static struct pem_pair rsa_pair(void)
{
    return make_pair(EVP_RSA_gen(2048));
}

static struct pem_pair ec_pair(void)
{
    return make_pair(EVP_EC_gen("P-256"));
}

static void pair_free(struct pem_pair *pp)
{
    free(pp->priv);
    free(pp->pub);
}

static struct config pk_config(enum jwt_pin pin, const struct pem_pair *pp)
{
    struct config cfg = hs_config();

    cfg.jwt_alg = pin;
    cfg.jwt_key = (unsigned char *)pp->pub;
    cfg.jwt_key_len = pp->pub_len;
    return cfg;
}

TestSuite(jwt);

/* ---- tokens that pass ---------------------------------------------- */

Test(jwt, a_valid_hs256_token_is_accepted)
{
    struct config cfg = hs_config();
    char *tok = mint_hs(SUB, NOW + 3600, NOW - 10, AUD, ISS);

    assert_accepted(&cfg, tok, NOW);
    free(tok);
}

Test(jwt, the_user_id_comes_back_lowercased)
{
    struct config cfg = hs_config();
    char *tok = mint_hs(SUB_UPPER, NOW + 3600, -1, AUD, ISS);

    assert_accepted(&cfg, tok, NOW);
    free(tok);
}

Test(jwt, aud_and_iss_are_not_needed_when_not_configured)
{
    struct config cfg = hs_config();
    char *tok = mint_hs(SUB, NOW + 3600, -1, NULL, NULL);

    cfg.jwt_audience = NULL;
    cfg.jwt_issuer = NULL;
    assert_accepted(&cfg, tok, NOW);
    free(tok);
}

Test(jwt, an_aud_array_containing_ours_is_accepted)
{
    struct config cfg = hs_config();
    char *p = payload(OK_SUB "," OK_EXP "," OK_ISS ",\"aud\":[\"other\",\"" AUD "\"]");
    char *tok = craft(HS_HEADER, p, SECRET);

    assert_accepted(&cfg, tok, NOW);
    free(tok);
    free(p);
}

Test(jwt, a_token_expired_within_the_leeway_is_accepted)
{
    struct config cfg = hs_config();
    char *tok = mint_hs(SUB, NOW - 10, -1, AUD, ISS);

    assert_accepted(&cfg, tok, NOW);
    free(tok);
}

Test(jwt, a_token_not_yet_valid_within_the_leeway_is_accepted)
{
    struct config cfg = hs_config();
    char *tok = mint_hs(SUB, NOW + 3600, NOW + 10, AUD, ISS);

    assert_accepted(&cfg, tok, NOW);
    free(tok);
}

Test(jwt, an_rs256_token_is_accepted_under_the_rs256_pin)
{
    struct pem_pair pp = rsa_pair();
    struct config cfg = pk_config(PIN_RS256, &pp);
    char *tok = token_mint(PIN_RS256, (unsigned char *)pp.priv, pp.priv_len, SUB, NOW, NOW + 60,
                           -1, AUD, ISS);

    cr_assert_not_null(tok);
    assert_accepted(&cfg, tok, NOW);
    free(tok);
    pair_free(&pp);
}

Test(jwt, an_es256_token_is_accepted_under_the_es256_pin)
{
    struct pem_pair pp = ec_pair();
    struct config cfg = pk_config(PIN_ES256, &pp);
    char *tok = token_mint(PIN_ES256, (unsigned char *)pp.priv, pp.priv_len, SUB, NOW, NOW + 60,
                           -1, AUD, ISS);

    cr_assert_not_null(tok);
    assert_accepted(&cfg, tok, NOW);
    free(tok);
    pair_free(&pp);
}

/* ---- signature and algorithm --------------------------------------- */

Test(jwt, a_token_signed_with_another_secret_is_rejected)
{
    struct config cfg = hs_config();
    const char *other = "another-secret-of-at-least-32-bytes!!!";
    char *tok = token_mint(PIN_HS256, (const unsigned char *)other, strlen(other), SUB, NOW,
                           NOW + 60, -1, AUD, ISS);

    cr_assert_not_null(tok);
    assert_rejected(&cfg, tok, strlen(tok), NOW, "bad signature or undecodable token");
    free(tok);
}

Test(jwt, alg_none_is_rejected)
{
    assert_crafted_rejected("{\"alg\":\"none\",\"typ\":\"JWT\"}",
                            OK_SUB "," OK_EXP "," OK_AUD "," OK_ISS, NULL, "token malformed");
}

Test(jwt, alg_none_with_a_dummy_signature_is_rejected)
{
    assert_crafted_rejected("{\"alg\":\"none\"}", OK_SUB "," OK_EXP "," OK_AUD "," OK_ISS,
                            SECRET, NULL);
}

Test(jwt, an_rs256_header_on_an_hs256_signed_token_is_rejected_under_the_hs256_pin)
{
    assert_crafted_rejected("{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
                            OK_SUB "," OK_EXP "," OK_AUD "," OK_ISS, SECRET, NULL);
}

Test(jwt, an_hs512_token_with_the_right_secret_is_rejected_under_the_hs256_pin)
{
    struct config cfg = hs_config();
    char *p = payload(OK_SUB "," OK_EXP "," OK_AUD "," OK_ISS);
    char *h = b64url("{\"alg\":\"HS512\"}", 15);
    char *pb = b64url(p, strlen(p));
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    struct buf b;
    char *s, *tok;

    buf_init(&b);
    buf_printf(&b, "%s.%s", h, pb);
    cr_assert_not_null(HMAC(EVP_sha512(), SECRET, (int)strlen(SECRET),
                            (const unsigned char *)b.data, b.len, mac, &maclen));
    s = b64url(mac, maclen);
    buf_printf(&b, ".%s", s);
    tok = buf_steal(&b);
    assert_rejected(&cfg, tok, strlen(tok), NOW, "algorithm not the pinned one");
    free(tok);
    free(s);
    free(pb);
    free(h);
    free(p);
}

Test(jwt, an_hs256_token_signed_with_the_public_key_is_rejected_under_the_rs256_pin)
{
    /* The classic confusion attack: the public key is public, so anyone can
     * use its PEM text as an HMAC secret. libjwt 1.10 would accept it; the
     * pin must not. */
    struct pem_pair pp = rsa_pair();
    struct config cfg = pk_config(PIN_RS256, &pp);
    char *tok = token_mint(PIN_HS256, (unsigned char *)pp.pub, pp.pub_len, SUB, NOW, NOW + 60,
                           -1, AUD, ISS);

    cr_assert_not_null(tok);
    assert_rejected(&cfg, tok, strlen(tok), NOW, "algorithm not the pinned one");
    free(tok);
    pair_free(&pp);
}

Test(jwt, an_rs256_token_from_another_key_is_rejected)
{
    struct pem_pair ours = rsa_pair(), theirs = rsa_pair();
    struct config cfg = pk_config(PIN_RS256, &ours);
    char *tok = token_mint(PIN_RS256, (unsigned char *)theirs.priv, theirs.priv_len, SUB, NOW,
                           NOW + 60, -1, AUD, ISS);

    cr_assert_not_null(tok);
    assert_rejected(&cfg, tok, strlen(tok), NOW, "bad signature or undecodable token");
    free(tok);
    pair_free(&ours);
    pair_free(&theirs);
}

Test(jwt, an_es256_token_is_rejected_under_the_rs256_pin)
{
    struct pem_pair rsa = rsa_pair(), ec = ec_pair();
    struct config cfg = pk_config(PIN_RS256, &rsa);
    char *tok = token_mint(PIN_ES256, (unsigned char *)ec.priv, ec.priv_len, SUB, NOW, NOW + 60,
                           -1, AUD, ISS);

    cr_assert_not_null(tok);
    assert_rejected(&cfg, tok, strlen(tok), NOW, NULL);
    free(tok);
    pair_free(&rsa);
    pair_free(&ec);
}

Test(jwt, a_tampered_payload_with_the_original_signature_is_rejected)
{
    struct config cfg = hs_config();
    char *good = mint_hs(SUB, NOW + 3600, -1, AUD, ISS);
    char *evil_p = payload("\"sub\":\"00000000-0000-4000-8000-000000000000\"," OK_EXP "," OK_AUD
                           "," OK_ISS);
    char *evil = craft(HS_HEADER, evil_p, SECRET);
    const char *sig = strrchr(good, '.');
    struct buf b;
    char *tok;

    /* evil's header and payload, good's signature. */
    buf_init(&b);
    buf_append(&b, evil, (size_t)(strrchr(evil, '.') - evil));
    buf_puts(&b, sig);
    tok = buf_steal(&b);
    assert_rejected(&cfg, tok, strlen(tok), NOW, "bad signature or undecodable token");
    free(tok);
    free(evil);
    free(evil_p);
    free(good);
}

Test(jwt, a_flipped_character_in_the_payload_is_rejected)
{
    struct config cfg = hs_config();
    char *tok = mint_hs(SUB, NOW + 3600, -1, AUD, ISS);
    char *dot = strchr(tok, '.');

    dot[3] = dot[3] == 'A' ? 'B' : 'A';
    assert_rejected(&cfg, tok, strlen(tok), NOW, NULL);
    free(tok);
}

Test(jwt, an_unknown_typ_is_rejected)
{
    assert_crafted_rejected("{\"alg\":\"HS256\",\"typ\":\"at+jwt-x\"}",
                            OK_SUB "," OK_EXP "," OK_AUD "," OK_ISS, SECRET, NULL);
}

Test(jwt, no_key_configured_means_every_token_is_rejected)
{
    struct config cfg = hs_config();
    char *tok = mint_hs(SUB, NOW + 3600, -1, AUD, ISS);

    cfg.jwt_key = NULL;
    cfg.jwt_key_len = 0;
    assert_rejected(&cfg, tok, strlen(tok), NOW, "no verification key configured");
    free(tok);
}

/* ---- shape --------------------------------------------------------- */

Test(jwt, garbage_is_rejected)
{
    struct config cfg = hs_config();
    static const char *const junk[] = {
        "", "garbage", "a.b.c", "...", "a..c", "YQ.YQ.YQ", "abc.def.gh!", "abc.def.ghi.jkl",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln ", "e.e.e",
    };

    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        assert_rejected(&cfg, junk[i], strlen(junk[i]), NOW, NULL);
}

Test(jwt, a_token_with_two_segments_is_rejected)
{
    struct config cfg = hs_config();
    char *tok = mint_hs(SUB, NOW + 3600, -1, AUD, ISS);

    *strrchr(tok, '.') = '\0';
    assert_rejected(&cfg, tok, strlen(tok), NOW, "token malformed");
    free(tok);
}

Test(jwt, a_token_of_10_kib_is_rejected)
{
    struct config cfg = hs_config();
    struct buf members;
    char *p, *tok;

    buf_init(&members);
    buf_puts(&members, OK_SUB "," OK_EXP "," OK_AUD "," OK_ISS ",\"pad\":\"");
    for (int i = 0; i < 10 * 1024; i++)
        buf_putc(&members, 'x');
    buf_putc(&members, '"');
    p = payload(members.data);
    tok = craft(HS_HEADER, p, SECRET);
    cr_assert_gt(strlen(tok), 10 * 1024);
    assert_rejected(&cfg, tok, strlen(tok), NOW, "token too long");
    free(tok);
    free(p);
    buf_free(&members);
}

Test(jwt, an_embedded_nul_is_rejected)
{
    struct config cfg = hs_config();
    char *tok = mint_hs(SUB, NOW + 3600, -1, AUD, ISS);
    size_t len = strlen(tok);

    tok[len / 2] = '\0';
    assert_rejected(&cfg, tok, len, NOW, "token malformed");
    free(tok);
}

Test(jwt, only_len_bytes_of_the_token_are_read)
{
    struct config cfg = hs_config();
    char *tok = mint_hs(SUB, NOW + 3600, -1, AUD, ISS);
    struct buf b;

    buf_init(&b);
    buf_puts(&b, tok);
    buf_puts(&b, "trailing");
    assert_rejected(&cfg, b.data, b.len, NOW, NULL);
    cr_assert_eq(auth_verify_jwt(&cfg, b.data, strlen(tok), NOW, (char[UUID_STR_LEN + 1]){0},
                                 &(const char *){NULL}),
                 0);
    buf_free(&b);
    free(tok);
}

/* ---- time claims --------------------------------------------------- */

Test(jwt, an_expired_token_is_rejected)
{
    struct config cfg = hs_config();
    char *tok = mint_hs(SUB, NOW - 3600, -1, AUD, ISS);

    assert_rejected(&cfg, tok, strlen(tok), NOW, "expired");
    free(tok);
}

Test(jwt, a_token_expired_beyond_the_leeway_is_rejected)
{
    struct config cfg = hs_config();
    char *tok = mint_hs(SUB, NOW - 60, -1, AUD, ISS);

    assert_rejected(&cfg, tok, strlen(tok), NOW, "expired");
    free(tok);
}

Test(jwt, a_token_is_rejected_at_the_exact_end_of_its_leeway)
{
    struct config cfg = hs_config();
    char *tok = mint_hs(SUB, NOW - 30, -1, AUD, ISS);

    assert_rejected(&cfg, tok, strlen(tok), NOW, "expired");
    free(tok);
}

Test(jwt, without_leeway_a_token_expiring_now_is_rejected)
{
    struct config cfg = hs_config();
    char *tok = mint_hs(SUB, NOW, -1, AUD, ISS);

    cfg.jwt_leeway_s = 0;
    assert_rejected(&cfg, tok, strlen(tok), NOW, "expired");
    assert_accepted(&cfg, tok, NOW - 1);
    free(tok);
}

Test(jwt, a_token_with_nbf_in_the_future_is_rejected)
{
    struct config cfg = hs_config();
    char *tok = mint_hs(SUB, NOW + 3600, NOW + 120, AUD, ISS);

    assert_rejected(&cfg, tok, strlen(tok), NOW, "not yet valid (nbf)");
    free(tok);
}

Test(jwt, a_token_issued_in_the_future_is_rejected)
{
    assert_crafted_rejected(HS_HEADER, OK_SUB "," OK_EXP "," OK_AUD "," OK_ISS ",\"iat\":1700000300",
                            SECRET, "issued in the future (iat)");
}

Test(jwt, a_token_without_exp_is_rejected)
{
    assert_crafted_rejected(HS_HEADER, OK_SUB "," OK_AUD "," OK_ISS, SECRET, "exp missing");
}

Test(jwt, exp_as_a_string_is_rejected)
{
    assert_crafted_rejected(HS_HEADER, OK_SUB "," OK_AUD "," OK_ISS ",\"exp\":\"1700003600\"",
                            SECRET, "exp not an integer");
}

Test(jwt, exp_as_a_fraction_is_rejected)
{
    assert_crafted_rejected(HS_HEADER, OK_SUB "," OK_AUD "," OK_ISS ",\"exp\":1700003600.5",
                            SECRET, "exp not an integer");
}

Test(jwt, exp_as_null_is_rejected)
{
    assert_crafted_rejected(HS_HEADER, OK_SUB "," OK_AUD "," OK_ISS ",\"exp\":null", SECRET,
                            "exp not an integer");
}

Test(jwt, a_huge_exp_does_not_overflow)
{
    struct config cfg = hs_config();
    char *p = payload(OK_SUB "," OK_AUD "," OK_ISS ",\"exp\":9223372036854775807,"
                             "\"nbf\":-9223372036854775807");
    char *tok = craft(HS_HEADER, p, SECRET);

    assert_accepted(&cfg, tok, NOW);
    free(tok);
    free(p);
}

Test(jwt, nbf_as_a_string_is_rejected)
{
    assert_crafted_rejected(HS_HEADER,
                            OK_SUB "," OK_EXP "," OK_AUD "," OK_ISS ",\"nbf\":\"1699990000\"",
                            SECRET, "nbf not an integer");
}

/* ---- subject, audience, issuer ------------------------------------- */

Test(jwt, a_token_without_sub_is_rejected)
{
    assert_crafted_rejected(HS_HEADER, OK_EXP "," OK_AUD "," OK_ISS, SECRET, "sub missing");
}

Test(jwt, a_sub_that_is_not_a_uuid_is_rejected)
{
    struct config cfg = hs_config();
    char *tok = mint_hs("user-42", NOW + 3600, -1, AUD, ISS);

    assert_rejected(&cfg, tok, strlen(tok), NOW, "sub not a UUID");
    free(tok);
}

Test(jwt, a_numeric_sub_is_rejected)
{
    assert_crafted_rejected(HS_HEADER, OK_EXP "," OK_AUD "," OK_ISS ",\"sub\":42", SECRET,
                            "sub missing");
}

/* libjwt's JSON parser (jansson) already refuses "\u0000"; auth.c compares
 * strings by length as well, in case a later libjwt lets them through. */
Test(jwt, a_uuid_sub_with_a_nul_and_a_tail_is_rejected)
{
    assert_crafted_rejected(HS_HEADER,
                            OK_EXP "," OK_AUD "," OK_ISS ",\"sub\":\"" SUB "\\u0000evil\"", SECRET,
                            NULL);
}

Test(jwt, a_wrong_aud_is_rejected)
{
    struct config cfg = hs_config();
    char *tok = mint_hs(SUB, NOW + 3600, -1, "someone-else", ISS);

    assert_rejected(&cfg, tok, strlen(tok), NOW, "audience mismatch");
    free(tok);
}

Test(jwt, a_missing_aud_is_rejected_when_one_is_configured)
{
    struct config cfg = hs_config();
    char *tok = mint_hs(SUB, NOW + 3600, -1, NULL, ISS);

    assert_rejected(&cfg, tok, strlen(tok), NOW, "audience mismatch");
    free(tok);
}

Test(jwt, an_aud_array_without_ours_is_rejected)
{
    assert_crafted_rejected(HS_HEADER, OK_SUB "," OK_EXP "," OK_ISS ",\"aud\":[\"a\",\"b\",7]",
                            SECRET, "audience mismatch");
}

Test(jwt, an_aud_with_ours_as_a_prefix_is_rejected)
{
    assert_crafted_rejected(HS_HEADER,
                            OK_SUB "," OK_EXP "," OK_ISS ",\"aud\":\"" AUD "\\u0000x\"", SECRET,
                            NULL);
    assert_crafted_rejected(HS_HEADER, OK_SUB "," OK_EXP "," OK_ISS ",\"aud\":\"" AUD "x\"",
                            SECRET, "audience mismatch");
}

Test(jwt, a_wrong_iss_is_rejected)
{
    struct config cfg = hs_config();
    char *tok = mint_hs(SUB, NOW + 3600, -1, AUD, "https://evil.example/");

    assert_rejected(&cfg, tok, strlen(tok), NOW, "issuer mismatch");
    free(tok);
}

Test(jwt, a_missing_iss_is_rejected_when_one_is_configured)
{
    struct config cfg = hs_config();
    char *tok = mint_hs(SUB, NOW + 3600, -1, AUD, NULL);

    assert_rejected(&cfg, tok, strlen(tok), NOW, "issuer mismatch");
    free(tok);
}

/* ---- token_mint ---------------------------------------------------- */

Test(jwt, token_mint_refuses_a_missing_key_or_subject)
{
    cr_assert_null(token_mint(PIN_HS256, NULL, 0, SUB, NOW, NOW + 60, -1, NULL, NULL));
    cr_assert_null(token_mint(PIN_HS256, (const unsigned char *)SECRET, strlen(SECRET), NULL, NOW,
                              NOW + 60, -1, NULL, NULL));
}

Test(jwt, token_mint_refuses_a_secret_as_an_rs256_private_key)
{
    cr_assert_null(token_mint(PIN_RS256, (const unsigned char *)SECRET, strlen(SECRET), SUB, NOW,
                              NOW + 60, -1, NULL, NULL));
}

/* ---- Bearer header ------------------------------------------------- */

static void assert_bearer(const char *header, const char *want)
{
    const char *tok = NULL;
    size_t len = 0;

    cr_assert_eq(auth_bearer_token(header, &tok, &len), 0, "refused [%s]", header);
    cr_assert_eq(len, strlen(want), "[%s]", header);
    cr_assert_eq(strncmp(tok, want, len), 0, "[%s]", header);
}

static void assert_not_bearer(const char *header)
{
    const char *tok = NULL;
    size_t len = 0;

    cr_assert_eq(auth_bearer_token(header, &tok, &len), -1, "accepted [%s]",
                 header ? header : "(null)");
}

Test(jwt, bearer_parsing_finds_the_token)
{
    assert_bearer("Bearer abc.def.ghi", "abc.def.ghi");
    assert_bearer("Bearer agk_0123", "agk_0123");
}

Test(jwt, bearer_parsing_ignores_the_scheme_case)
{
    assert_bearer("bearer abc", "abc");
    assert_bearer("BEARER abc", "abc");
    assert_bearer("BeArEr abc", "abc");
}

Test(jwt, bearer_parsing_allows_several_spaces_and_trailing_spaces)
{
    assert_bearer("Bearer    abc", "abc");
    assert_bearer("Bearer abc   ", "abc");
}

Test(jwt, bearer_parsing_refuses_other_schemes)
{
    assert_not_bearer("Basic dXNlcjpwYXNz");
    assert_not_bearer("Token abc");
    assert_not_bearer("Bearerabc");
    assert_not_bearer("Bear abc");
}

Test(jwt, bearer_parsing_refuses_a_missing_token)
{
    assert_not_bearer(NULL);
    assert_not_bearer("");
    assert_not_bearer("Bearer");
    assert_not_bearer("Bearer ");
    assert_not_bearer("Bearer    ");
}

Test(jwt, bearer_parsing_refuses_spaces_inside_or_control_characters)
{
    assert_not_bearer("Bearer abc def");
    assert_not_bearer("Bearer\tabc");
    assert_not_bearer("Bearer abc\tdef");
    assert_not_bearer("Bearer abc\r\n");
    assert_not_bearer("Bearer ab\x7f");
    assert_not_bearer("Bearer ab\xc3\xa9");
    assert_not_bearer(" Bearer abc");
}

/* ---- credentials in the query string -------------------------------- */

Test(jwt, query_credentials_are_found_by_name)
{
    static const char *const yes[] = {
        "access_token=x", "token=x", "api_key=x", "apikey=x", "key=x", "jwt=x",
        "authorization=Bearer%20x", "limit=5&access_token=x", "a=1&&key=", "TOKEN=x",
        "Api_Key=x", "jwt", "a=1&token",
    };

    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        cr_assert(auth_query_has_credential(yes[i]), "missed [%s]", yes[i]);
}

Test(jwt, query_parameters_that_merely_resemble_credentials_are_allowed)
{
    static const char *const no[] = {
        "", "limit=5&cursor=abc", "keyboard=1", "monkey=1", "x=token", "tokens=1",
        "status=success&session_id=key", "&&&", "=token",
    };

    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        cr_assert_not(auth_query_has_credential(no[i]), "flagged [%s]", no[i]);
    cr_assert_not(auth_query_has_credential(NULL));
}

/* ---- auth_identify_or_reply without a database ------------------------ */

static int sink_to_buf(void *ctx, const char *data, size_t len)
{
    buf_append(ctx, data, len);
    return 0;
}

struct fixture {
    struct req r;
    struct config cfg;
    struct buf out;
};

static void fixture_init(struct fixture *f, const char *authorization, const char *query)
{
    req_init(&f->r);
    f->cfg = hs_config();
    buf_init(&f->out);
    f->r.method = "GET";
    f->r.path = "/api/executions";
    f->r.query = query;
    f->r.authorization = authorization;
    snprintf(f->r.request_id, sizeof f->r.request_id, "req-test-1");
    f->r.sink.write = sink_to_buf;
    f->r.sink.ctx = &f->out;
    f->r.cfg = &f->cfg;
    f->r.db = NULL;
}

static void fixture_free(struct fixture *f)
{
    req_release(&f->r);
    buf_free(&f->out);
}

static void assert_401(struct fixture *f, const char *message)
{
    cr_assert_eq(f->r.status, 401, "status %d", f->r.status);
    cr_assert_eq(f->r.who.kind, CALLER_NONE);
    cr_assert_not_null(strstr(f->out.data, "\"unauthorized\""), "%s", f->out.data);
    cr_assert_not_null(strstr(f->out.data, message), "%s", f->out.data);
    cr_assert_not_null(strstr(f->out.data, "WWW-Authenticate: Bearer"), "%s", f->out.data);
}

static char *bearer_of(const char *tok)
{
    struct buf b;

    buf_init(&b);
    buf_printf(&b, "Bearer %s", tok);
    return buf_steal(&b);
}

Test(jwt, identify_with_a_valid_token_sets_the_user, .init = cr_redirect_stderr)
{
    struct fixture f;
    long long now = (long long)time(NULL);
    char *tok = token_mint(PIN_HS256, (const unsigned char *)SECRET, strlen(SECRET), SUB_UPPER,
                           now, now + 600, -1, AUD, ISS);
    char *hdr = bearer_of(tok);

    fixture_init(&f, hdr, "");
    cr_assert_eq(auth_identify_or_reply(&f.r), 0, "%s", f.out.data);
    cr_assert_eq(f.r.status, 0);
    cr_assert_eq(f.r.who.kind, CALLER_USER);
    cr_assert_str_eq(f.r.who.user_id, SUB);
    cr_assert_str_eq(f.r.who.key_id, "");
    fixture_free(&f);
    free(hdr);
    free(tok);
}

Test(jwt, identify_without_a_header_answers_401, .init = cr_redirect_stderr)
{
    struct fixture f;

    fixture_init(&f, NULL, "");
    cr_assert_eq(auth_identify_or_reply(&f.r), -1);
    assert_401(&f, "missing bearer token");
    fixture_free(&f);
}

Test(jwt, identify_with_a_credential_in_the_query_answers_401, .init = cr_redirect_stderr)
{
    struct fixture f;

    fixture_init(&f, NULL, "limit=5&access_token=abc");
    cr_assert_eq(auth_identify_or_reply(&f.r), -1);
    assert_401(&f, "credentials in the URL are refused");
    fixture_free(&f);
}

Test(jwt, identify_with_another_scheme_answers_401, .init = cr_redirect_stderr)
{
    struct fixture f;

    fixture_init(&f, "Basic dXNlcjpwYXNz", "");
    cr_assert_eq(auth_identify_or_reply(&f.r), -1);
    assert_401(&f, "Bearer TOKEN");
    fixture_free(&f);
}

Test(jwt, identify_with_a_bad_token_answers_401_and_logs_the_reason_not_the_token,
     .init = cr_redirect_stderr)
{
    struct fixture f;
    char *tok = mint_hs(SUB, NOW - 3600, -1, AUD, ISS); /* long expired */
    char *hdr = bearer_of(tok);
    char log[1024] = "";
    FILE *err;

    fixture_init(&f, hdr, "");
    cr_assert_eq(auth_identify_or_reply(&f.r), -1);
    assert_401(&f, "invalid or expired token");
    fflush(stderr);
    err = cr_get_redirected_stderr();
    cr_assert_not_null(err);
    cr_assert_not_null(fgets(log, sizeof log, err));
    cr_assert_str_eq(log, "auth: rejected token: expired request_id=req-test-1\n");
    cr_assert_null(strstr(f.out.data, tok));
    fixture_free(&f);
    free(hdr);
    free(tok);
}

Test(jwt, identify_gives_every_token_failure_the_same_message, .init = cr_redirect_stderr)
{
    static const char *const headers[] = {
        "Bearer garbage", "Bearer a.b.c", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
    };

    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        struct fixture f;
        fixture_init(&f, headers[i], "");
        cr_assert_eq(auth_identify_or_reply(&f.r), -1);
        assert_401(&f, "\"invalid or expired token\"");
        fixture_free(&f);
    }
}

Test(jwt, identify_with_a_malformed_api_key_answers_401, .init = cr_redirect_stderr)
{
    struct fixture f;

    fixture_init(&f, "Bearer agk_0123", "");
    cr_assert_eq(auth_identify_or_reply(&f.r), -1);
    assert_401(&f, "invalid API key");
    fixture_free(&f);
}

Test(jwt, identify_with_an_api_key_but_no_database_answers_401, .init = cr_redirect_stderr)
{
    struct fixture f;
    char hdr[8 + APIKEY_TEXT_LEN + 1] = "Bearer ";

    strcat(hdr, "agk_0123456789abcdef0123456789abcdef"
                "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    fixture_init(&f, hdr, "");
    cr_assert_eq(auth_identify_or_reply(&f.r), -1);
    assert_401(&f, "invalid API key");
    fixture_free(&f);
}
