/* API keys for machine clients: making them, splitting a presented key into
 * the row id it names and the hash of its secret, and comparing hashes.
 *
 * Text form: "agk_" + 32 lowercase hex digits (the 16 bytes of the key's
 * UUID, dashes removed) + 64 lowercase hex digits (32 random bytes). The id
 * half lets the server find the row with one indexed lookup; the secret half
 * is what proves possession. The database stores only SHA-256 of the 64
 * secret hex digits as text (so `printf %s SECRET | sha256sum` reproduces it
 * by hand), which is enough because the secret has 256 bits of entropy: no
 * salt or slow hash is needed, unlike passwords. */
#include "auth/apikey.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>

#include "util/text.h"

#define ID_HEX_LEN 32
#define SECRET_BYTES 32
#define SECRET_HEX_LEN (2 * SECRET_BYTES)
#define PREFIX_LEN (sizeof(APIKEY_PREFIX) - 1)

/* Fills buf with len bytes from the kernel's CSPRNG. getrandom may return
 * fewer bytes than asked (signals, or len > 256 on old kernels), so loop
 * until done. 0, or -1 with errno set. */
static int fill_random(unsigned char *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

/* Only lowercase: the key has exactly one spelling, so two texts that differ
 * are two different keys (and nothing like case folding happens on input). */
static bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

void apikey_hash_hex(const unsigned char hash[APIKEY_HASH_LEN], char out[2 * APIKEY_HASH_LEN + 1])
{
    hex_encode(hash, APIKEY_HASH_LEN, out);
}

bool apikey_hash_equal(const unsigned char a[APIKEY_HASH_LEN],
                       const unsigned char b[APIKEY_HASH_LEN])
{
    /* CRYPTO_memcmp's time does not depend on where the first difference
     * is, so a caller cannot learn the stored hash byte by byte. */
    return CRYPTO_memcmp(a, b, APIKEY_HASH_LEN) == 0;
}

int apikey_generate_for(const char *id, char key_out[APIKEY_TEXT_LEN + 1], struct apikey_parts *parts)
{
    unsigned char secret[SECRET_BYTES];
    char *p = key_out;
    int rc = -1;

    if (!uuid_valid(id))
        goto out;
    if (fill_random(secret, sizeof secret) != 0)
        goto out;

    memcpy(p, APIKEY_PREFIX, PREFIX_LEN);
    p += PREFIX_LEN;
    for (const char *s = id; *s != '\0'; s++) {
        if (*s != '-')
            *p++ = (char)tolower((unsigned char)*s);
    }
    hex_encode(secret, sizeof secret, p);

    uuid_lower(id, parts->id);
    sha256(p, SECRET_HEX_LEN, parts->hash);
    rc = 0;

out:
    /* The secret lives on only in key_out, which the caller shows once. */
    OPENSSL_cleanse(secret, sizeof secret);
    if (rc != 0)
        OPENSSL_cleanse(key_out, APIKEY_TEXT_LEN + 1);
    return rc;
}

int apikey_generate(char key_out[APIKEY_TEXT_LEN + 1], struct apikey_parts *parts)
{
    char id[UUID_STR_LEN + 1];

    if (uuid_v4(id) != 0)
        return -1;
    return apikey_generate_for(id, key_out, parts);
}

int apikey_parse(const char *text, size_t len, struct apikey_parts *parts)
{
    /* Where the dashes go in 8-4-4-4-12. */
    static const int dash_after[] = {8, 12, 16, 20};
    const char *hex;
    char *q;
    size_t d = 0;

    if (text == NULL || len != APIKEY_TEXT_LEN)
        return -1;
    if (memcmp(text, APIKEY_PREFIX, PREFIX_LEN) != 0)
        return -1;
    hex = text + PREFIX_LEN;
    /* Also rejects an embedded NUL: it is not a hex digit. */
    for (size_t i = 0; i < ID_HEX_LEN + SECRET_HEX_LEN; i++) {
        if (!is_lower_hex(hex[i]))
            return -1;
    }

    q = parts->id;
    for (int i = 0; i < ID_HEX_LEN; i++) {
        if (d < sizeof dash_after / sizeof dash_after[0] && i == dash_after[d]) {
            *q++ = '-';
            d++;
        }
        *q++ = hex[i];
    }
    *q = '\0';

    sha256(hex + ID_HEX_LEN, SECRET_HEX_LEN, parts->hash);
    return 0;
}
