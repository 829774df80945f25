/* libFuzzer harness: the Authorization header path of auth.c without the
 * database: auth_bearer_token, then apikey_parse for "agk_" keys or
 * auth_verify_jwt under a fixed HS256 configuration.
 *
 * Byte 0 picks the mode (and, bit 1, whether aud/iss are configured):
 *   even: the rest is the Authorization header value, as sent;
 *   odd:  the rest is a JSON claims set, signed with the right key by
 *         libjwt, so the claim checks (exp, nbf, iat, aud, iss, sub) are
 *         reached with a valid signature.
 * Properties: a token that verifies yields a canonical lowercase UUID; a
 * failure always has a reason; a key that parses is exactly 100 bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>

#include "auth/apikey.h"
#include "auth/jwt.h"
#include "http/authenticate.h"
#include "fuzz_common.h"
#include "util/uuid.h"

#define SECRET "fuzz-secret-0123456789abcdef-0123456789abcdef"
#define NOW 1700000000LL

static struct config plain, strict;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_default_config(&plain);
    plain.jwt_key = (unsigned char *)SECRET;
    plain.jwt_key_len = strlen(SECRET);
    strict = plain;
    strict.jwt_audience = "authenticated";
    strict.jwt_issuer = "https://issuer.example/auth/v1";
    return 0;
}

static void verify(const struct config *cfg, const char *tok, size_t len)
{
    char user[UUID_STR_LEN + 1];
    const char *why = NULL;
    memset(user, 'x', sizeof user);
    if (auth_verify_jwt(cfg, tok, len, NOW, user, &why) == 0) {
        if (why || !uuid_valid(user))
            abort();
        for (const char *c = user; *c; c++)
            if (*c >= 'A' && *c <= 'F')
                abort();
    } else if (!why) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct config *cfg = data[0] & 2 ? &strict : &plain;
    char *text = fuzz_cstring(data + 1, size - 1);

    if ((data[0] & 1) == 0) {
        const char *tok = NULL;
        size_t len = 0;
        if (auth_bearer_token(text, &tok, &len) == 0) {
            if (len == 0 || tok < text || tok + len > text + strlen(text))
                abort();
            if (len >= 4 && memcmp(tok, APIKEY_PREFIX, 4) == 0) {
                struct apikey_parts parts;
                if (apikey_parse(tok, len, &parts) == 0 && (len != APIKEY_TEXT_LEN || !uuid_valid(parts.id)))
                    abort();
            } else {
                verify(cfg, tok, len);
            }
        }
        (void)auth_query_has_credential(text);
    } else {
        jwt_t *jwt = NULL;
        if (jwt_new(&jwt) == 0 && jwt_add_grants_json(jwt, text) == 0 &&
            jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)SECRET, (int)strlen(SECRET)) == 0) {
            char *enc = jwt_encode_str(jwt);
            if (enc) {
                verify(cfg, enc, strlen(enc));
                free(enc);
            }
        }
        jwt_free(jwt);
    }
    free(text);
    return 0;
}
