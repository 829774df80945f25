/* Unit tests for apikey.c: the text form of API keys, strict parsing of a
 * presented key, SHA-256 and the constant-time hash comparison. */
#include <criterion/criterion.h>
#include <string.h>

#include "auth/apikey.h"
#include "util/uuid.h"

/* A well-formed key with a known id and secret, for the parser tests. */
#define GOOD_ID_HEX "0123456789abcdef0123456789abcdef"
#define GOOD_SECRET "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define GOOD_KEY "agk_" GOOD_ID_HEX GOOD_SECRET

static void assert_parse_fails(const char *text, size_t len)
{
    struct apikey_parts parts;

    cr_assert_eq(apikey_parse(text, len, &parts), -1, "accepted %.*s", (int)len, text);
}

static void assert_hash_hex(const char *input, const char *want)
{
    unsigned char h[APIKEY_HASH_LEN];
    char hex[2 * APIKEY_HASH_LEN + 1];

    sha256(input, strlen(input), h);
    apikey_hash_hex(h, hex);
    cr_assert_str_eq(hex, want, "SHA-256(\"%s\")", input);
}

TestSuite(apikey);

Test(apikey, generated_key_has_the_prefix_the_length_and_only_lowercase_hex)
{
    char key[APIKEY_TEXT_LEN + 1];
    struct apikey_parts parts;

    cr_assert_eq(apikey_generate(key, &parts), 0);
    cr_assert_eq(strlen(key), APIKEY_TEXT_LEN);
    cr_assert_eq(strncmp(key, "agk_", 4), 0, "key %s", key);
    for (size_t i = 4; i < APIKEY_TEXT_LEN; i++)
        cr_assert(strchr("0123456789abcdef", key[i]) != NULL, "key %s: byte %zu", key, i);
    cr_assert(uuid_valid(parts.id), "id %s", parts.id);
}

Test(apikey, generated_id_is_a_lowercase_version_4_uuid)
{
    char key[APIKEY_TEXT_LEN + 1];
    struct apikey_parts parts;
    char lower[UUID_STR_LEN + 1];

    cr_assert_eq(apikey_generate(key, &parts), 0);
    uuid_lower(parts.id, lower);
    cr_assert_str_eq(parts.id, lower);
    cr_assert_eq(parts.id[14], '4', "id %s", parts.id);
}

Test(apikey, parsing_a_generated_key_gives_back_its_id_and_hash)
{
    char key[APIKEY_TEXT_LEN + 1];
    struct apikey_parts made, parsed;

    cr_assert_eq(apikey_generate(key, &made), 0);
    cr_assert_eq(apikey_parse(key, strlen(key), &parsed), 0, "key %s", key);
    cr_assert_str_eq(parsed.id, made.id);
    cr_assert_eq(memcmp(parsed.hash, made.hash, APIKEY_HASH_LEN), 0);
    cr_assert(apikey_hash_equal(parsed.hash, made.hash));
}

Test(apikey, two_generated_keys_differ)
{
    char k1[APIKEY_TEXT_LEN + 1], k2[APIKEY_TEXT_LEN + 1];
    struct apikey_parts p1, p2;

    cr_assert_eq(apikey_generate(k1, &p1), 0);
    cr_assert_eq(apikey_generate(k2, &p2), 0);
    cr_assert_str_neq(k1, k2);
    cr_assert_str_neq(p1.id, p2.id);
    cr_assert_neq(memcmp(k1 + 36, k2 + 36, 64), 0, "secrets repeat");
    cr_assert_not(apikey_hash_equal(p1.hash, p2.hash));
}

Test(apikey, a_key_made_for_an_id_keeps_the_id_with_a_new_secret)
{
    char k1[APIKEY_TEXT_LEN + 1], k2[APIKEY_TEXT_LEN + 1];
    struct apikey_parts p1, p2, parsed;

    cr_assert_eq(apikey_generate_for("0123456789AB4DEF8123456789ABCDEF", k1, &p1), -1, "not a UUID");
    cr_assert_eq(apikey_generate_for("01234567-89AB-4DEF-8123-456789ABCDEF", k1, &p1), 0);
    cr_assert_str_eq(p1.id, "01234567-89ab-4def-8123-456789abcdef");
    cr_assert_eq(strncmp(k1, "agk_0123456789ab4def8123456789abcdef", 36), 0, "key %s", k1);
    cr_assert_eq(apikey_parse(k1, strlen(k1), &parsed), 0, "key %s", k1);
    cr_assert_str_eq(parsed.id, p1.id);
    cr_assert(apikey_hash_equal(parsed.hash, p1.hash));
    /* Rotating again: the same id, another secret and hash. */
    cr_assert_eq(apikey_generate_for(p1.id, k2, &p2), 0);
    cr_assert_str_eq(p2.id, p1.id);
    cr_assert_eq(strncmp(k1, k2, 36), 0);
    cr_assert_neq(memcmp(k1 + 36, k2 + 36, 64), 0, "secrets repeat");
    cr_assert_not(apikey_hash_equal(p1.hash, p2.hash));
}

Test(apikey, parse_puts_the_dashes_back_into_the_id)
{
    struct apikey_parts parts;

    cr_assert_eq(apikey_parse(GOOD_KEY, strlen(GOOD_KEY), &parts), 0);
    cr_assert_str_eq(parts.id, "01234567-89ab-cdef-0123-456789abcdef");
}

Test(apikey, parse_hashes_the_secret_hex_text)
{
    struct apikey_parts parts;
    unsigned char want[APIKEY_HASH_LEN];

    cr_assert_eq(apikey_parse(GOOD_KEY, strlen(GOOD_KEY), &parts), 0);
    sha256(GOOD_SECRET, strlen(GOOD_SECRET), want);
    cr_assert(apikey_hash_equal(parts.hash, want));
}

Test(apikey, parse_rejects_a_wrong_prefix)
{
    assert_parse_fails("agx_" GOOD_ID_HEX GOOD_SECRET, APIKEY_TEXT_LEN);
    assert_parse_fails("agk-" GOOD_ID_HEX GOOD_SECRET, APIKEY_TEXT_LEN);
}

Test(apikey, parse_rejects_an_uppercase_prefix)
{
    assert_parse_fails("AGK_" GOOD_ID_HEX GOOD_SECRET, APIKEY_TEXT_LEN);
    assert_parse_fails("Agk_" GOOD_ID_HEX GOOD_SECRET, APIKEY_TEXT_LEN);
}

Test(apikey, parse_rejects_a_wrong_length)
{
    assert_parse_fails(GOOD_KEY, APIKEY_TEXT_LEN - 1);
    assert_parse_fails(GOOD_KEY "0", APIKEY_TEXT_LEN + 1);
    assert_parse_fails("agk_", 4);
    assert_parse_fails("", 0);
}

Test(apikey, parse_rejects_non_hex_and_uppercase_hex)
{
    char key[] = GOOD_KEY;

    key[10] = 'g';
    assert_parse_fails(key, APIKEY_TEXT_LEN);
    memcpy(key, GOOD_KEY, sizeof key);
    key[50] = 'A';
    assert_parse_fails(key, APIKEY_TEXT_LEN);
    memcpy(key, GOOD_KEY, sizeof key);
    key[APIKEY_TEXT_LEN - 1] = '-';
    assert_parse_fails(key, APIKEY_TEXT_LEN);
}

Test(apikey, parse_rejects_an_embedded_nul)
{
    char key[] = GOOD_KEY;

    key[40] = '\0';
    assert_parse_fails(key, APIKEY_TEXT_LEN);
}

Test(apikey, parse_rejects_null)
{
    assert_parse_fails(NULL, APIKEY_TEXT_LEN);
}

Test(apikey, sha256_matches_the_known_vectors)
{
    assert_hash_hex("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_hash_hex("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Test(apikey, hash_equal_is_true_for_equal_hashes)
{
    unsigned char a[APIKEY_HASH_LEN], b[APIKEY_HASH_LEN];

    sha256("abc", 3, a);
    sha256("abc", 3, b);
    cr_assert(apikey_hash_equal(a, b));
}

Test(apikey, hash_equal_is_false_when_the_first_byte_differs)
{
    unsigned char a[APIKEY_HASH_LEN], b[APIKEY_HASH_LEN];

    sha256("abc", 3, a);
    memcpy(b, a, sizeof b);
    b[0] ^= 0x80;
    cr_assert_not(apikey_hash_equal(a, b));
}

Test(apikey, hash_equal_is_false_when_only_the_last_byte_differs)
{
    unsigned char a[APIKEY_HASH_LEN], b[APIKEY_HASH_LEN];

    sha256("abc", 3, a);
    memcpy(b, a, sizeof b);
    b[APIKEY_HASH_LEN - 1] ^= 0x01;
    cr_assert_not(apikey_hash_equal(a, b));
}
