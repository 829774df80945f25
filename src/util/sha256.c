/* SHA-256 and HMAC-SHA256 through OpenSSL's EVP interfaces (see sha256.h). */
#include "util/sha256.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "util/text.h"

void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN])
{
    unsigned int outlen = 0;

    /* EVP_Digest fails only when OpenSSL cannot allocate its context: treat
     * it like any other allocation failure (see buf.h), since a worker that
     * cannot hash cannot authenticate anyone. */
    if (EVP_Digest(data, len, out, &outlen, EVP_sha256(), NULL) != 1 || outlen != SHA256_LEN) {
        fputs("sha256: EVP_Digest(SHA-256) failed\n", stderr);
        abort();
    }
}

void sha256_hex(const void *data, size_t len, char out[2 * SHA256_LEN + 1])
{
    unsigned char digest[SHA256_LEN];
    sha256(data, len, digest);
    hex_encode(digest, SHA256_LEN, out);
}

void hmac_sha256_hex(const void *key, size_t key_len, const struct byte_span *parts, size_t n,
                     char out[2 * SHA256_LEN + 1])
{
    unsigned char digest[SHA256_LEN];
    size_t outlen = 0;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    /* As sha256(): OpenSSL fails here only when it cannot allocate. */
    bool ok = ctx && EVP_MAC_init(ctx, key, key_len, params) == 1;
    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_MAC_update(ctx, parts[i].data, parts[i].len) == 1;
    ok = ok && EVP_MAC_final(ctx, digest, &outlen, sizeof digest) == 1 && outlen == SHA256_LEN;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    if (!ok) {
        fputs("sha256: HMAC-SHA256 failed\n", stderr);
        abort();
    }
    hex_encode(digest, SHA256_LEN, out);
}
