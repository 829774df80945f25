/* SHA-256 (OpenSSL's), for what the project fingerprints: API-key secrets,
 * migration files, ingest bodies under an idempotency key; and HMAC-SHA256,
 * for what it signs (webhook deliveries). */
#ifndef AGORA_SHA256_H
#define AGORA_SHA256_H

#include <stddef.h>

#define SHA256_LEN 32

/* The digest of data (len bytes). Aborts when OpenSSL cannot allocate, like
 * any allocation failure (buf.h). */
void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);
/* The digest as 64 lowercase hex digits. */
void sha256_hex(const void *data, size_t len, char out[2 * SHA256_LEN + 1]);

/* Bytes to sign: one of several parts, hashed in order as if joined. */
struct byte_span {
    const void *data;
    size_t len;
};

/* HMAC-SHA256 of the n parts (joined) under key, as 64 lowercase hex
 * digits. Aborts as sha256() does. */
void hmac_sha256_hex(const void *key, size_t key_len, const struct byte_span *parts, size_t n,
                     char out[2 * SHA256_LEN + 1]);

#endif
