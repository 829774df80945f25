/* Minting JWTs with libjwt, for agora-admin's development tokens and for the
 * unit tests. The worker itself never calls this: it only verifies tokens
 * (auth.c). */
#include "auth/token.h"

#include <limits.h>
#include <stdlib.h>

#include <jwt.h>

#include "util/buf.h"

jwt_alg_t token_jwt_alg(enum jwt_pin alg)
{
    switch (alg) {
    case PIN_HS256:
        return JWT_ALG_HS256;
    case PIN_RS256:
        return JWT_ALG_RS256;
    case PIN_ES256:
        return JWT_ALG_ES256;
    }
    return JWT_ALG_INVAL;
}

/* libjwt 1.10 stores integer claims as long; refuse what would not fit
 * rather than minting a token with a silently different time. */
static int add_time(jwt_t *jwt, const char *name, long long v)
{
    if (v < LONG_MIN || v > LONG_MAX)
        return -1;
    return jwt_add_grant_int(jwt, name, (long)v) == 0 ? 0 : -1;
}

/* Returns a new string the caller free()s, or NULL when libjwt refuses (bad
 * key, bad algorithm) or an argument is missing. The copy is ours (xstrdup)
 * so the caller never needs to know which allocator libjwt used. */
char *token_mint(enum jwt_pin alg, const unsigned char *key, size_t keylen, const char *sub,
                 long long iat, long long exp, long long nbf, const char *aud, const char *iss)
{
    jwt_t *jwt = NULL;
    char *encoded = NULL;
    char *out = NULL;
    jwt_alg_t jalg = token_jwt_alg(alg);

    if (key == NULL || keylen == 0 || keylen > INT_MAX || sub == NULL || jalg == JWT_ALG_INVAL)
        goto out;
    if (jwt_new(&jwt) != 0)
        goto out;
    if (jwt_add_grant(jwt, "sub", sub) != 0)
        goto out;
    if (add_time(jwt, "iat", iat) != 0 || add_time(jwt, "exp", exp) != 0)
        goto out;
    if (nbf >= 0 && add_time(jwt, "nbf", nbf) != 0)
        goto out;
    if (aud != NULL && jwt_add_grant(jwt, "aud", aud) != 0)
        goto out;
    if (iss != NULL && jwt_add_grant(jwt, "iss", iss) != 0)
        goto out;
    if (jwt_set_alg(jwt, jalg, key, (int)keylen) != 0)
        goto out;
    encoded = jwt_encode_str(jwt);
    if (encoded == NULL)
        goto out;
    out = xstrdup(encoded);

out:
    /* libjwt 1.10 has no jwt_free_str: its strings come from malloc. */
    free(encoded);
    jwt_free(jwt);
    return out;
}
