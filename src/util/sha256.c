/* SHA-256 through OpenSSL's EVP interface (see sha256.h). */
#include "util/sha256.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

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
