/* API keys for machine clients: "agk_" + 32 hex digits naming the key's row
 * + 64 hex digits of secret. Only the SHA-256 of the secret is stored; a
 * presented key is checked by hashing its secret and comparing in constant
 * time with the stored hash. */
#ifndef AGORA_APIKEY_H
#define AGORA_APIKEY_H

#include <stdbool.h>
#include <stddef.h>

#include "util/sha256.h"
#include "util/uuid.h"

#define APIKEY_PREFIX "agk_"
#define APIKEY_TEXT_LEN (4 + 32 + 64)
#define APIKEY_HASH_LEN SHA256_LEN

struct apikey_parts {
    char id[UUID_STR_LEN + 1];              /* api_keys.id, canonical form */
    unsigned char hash[APIKEY_HASH_LEN];    /* SHA-256 of the secret part */
};

/* Makes a new key from getrandom(2): key_out gets the text shown to the
 * user once, parts what is stored. 0, or -1 when randomness fails. */
int apikey_generate(char key_out[APIKEY_TEXT_LEN + 1], struct apikey_parts *parts);
/* The same for an existing key id (rotation: a new secret, same id):
 * id must be a UUID. 0, or -1 when it is not or randomness fails. */
int apikey_generate_for(const char *id, char key_out[APIKEY_TEXT_LEN + 1], struct apikey_parts *parts);
/* Splits a presented key (len bytes) and hashes its secret. -1 when the
 * text is not a well-formed key. */
int apikey_parse(const char *text, size_t len, struct apikey_parts *parts);
/* Constant-time comparison of two hashes. */
bool apikey_hash_equal(const unsigned char a[APIKEY_HASH_LEN],
                       const unsigned char b[APIKEY_HASH_LEN]);
/* Lowercase hex of a hash: 64 digits and a NUL. */
void apikey_hash_hex(const unsigned char hash[APIKEY_HASH_LEN], char out[2 * APIKEY_HASH_LEN + 1]);

#endif
