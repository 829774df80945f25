/* JWT verification for the users' tokens. libjwt 1.10 verifies only the
 * signature, and with the algorithm named by the token itself, so this
 * file pins the algorithm (alg confusion: an HS256 token "signed" with an
 * RS256 public key as HMAC secret) and checks every claim itself. Pure: no
 * request, no database; the caller turns a refusal into its 401. */
#include "auth/jwt.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <jwt.h>

#include "auth/token.h"
#include "ops/config.h"
#include "util/buf.h"
#include "util/text.h"

/* Real tokens are well under 2 KiB; a cap keeps a hostile header from costing
 * base64 and JSON work, and bounds what libjwt ever sees. */
#define JWT_MAX_LEN 8192
/* Claims are small; anything deeper than this is not a token we issued. */
#define CLAIMS_MAX_DEPTH 32

/* ---- JWT ------------------------------------------------------------- */

static bool is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

/* True when token is exactly three non-empty unpadded base64url segments
 * separated by dots. Catches garbage (and alg "none" tokens with an empty
 * signature) before libjwt's lenient decoder sees them. */
static bool jwt_shape_ok(const char *token, size_t len)
{
    size_t seglen = 0;
    int dots = 0;

    for (size_t i = 0; i < len; i++) {
        if (token[i] == '.') {
            /* A base64 group of one character encodes no whole byte. */
            if (seglen == 0 || seglen % 4 == 1 || ++dots > 2)
                return false;
            seglen = 0;
        } else if (is_b64url(token[i])) {
            seglen++;
        } else {
            return false;
        }
    }
    return dots == 2 && seglen > 0 && seglen % 4 != 1;
}

/* Reads an optional NumericDate claim. 1 with *out set when present, 0 when
 * absent, -1 when present but not an integer (a string "exp" must not be
 * read as 0 or skipped). */
static int claim_time(struct json_object *claims, const char *name, long long *out)
{
    struct json_object *v;

    if (!json_object_object_get_ex(claims, name, &v))
        return 0;
    if (!json_object_is_type(v, json_type_int))
        return -1;
    *out = (long long)json_object_get_int64(v);
    return 1;
}

/* True when v is a string equal to want. By length, since JSON strings may
 * hold "\u0000" and "ours\u0000evil" must not pass as "ours". */
static bool string_is(struct json_object *v, const char *want)
{
    size_t n = strlen(want);

    return json_object_is_type(v, json_type_string) &&
           (size_t)json_object_get_string_len(v) == n &&
           memcmp(json_object_get_string(v), want, n) == 0;
}

/* "aud" may be one string or an array of strings (RFC 7519 4.1.3). */
static bool audience_ok(struct json_object *claims, const char *want)
{
    struct json_object *aud;

    if (!json_object_object_get_ex(claims, "aud", &aud))
        return false;
    if (json_object_is_type(aud, json_type_string))
        return string_is(aud, want);
    if (!json_object_is_type(aud, json_type_array))
        return false;
    for (size_t i = 0; i < json_object_array_length(aud); i++) {
        if (string_is(json_object_array_get_idx(aud, i), want))
            return true;
    }
    return false;
}

/* The claims as a json-c object (new reference), parsed from libjwt's JSON
 * text: libjwt's objects are jansson's and must never meet json-c's. */
static struct json_object *claims_of(jwt_t *jwt)
{
    struct json_tokener *tok = NULL;
    struct json_object *obj = NULL;
    char *text = jwt_get_grants_json(jwt, NULL);
    size_t n;

    if (text == NULL)
        goto fail;
    tok = json_tokener_new_ex(CLAIMS_MAX_DEPTH);
    if (tok == NULL)
        goto fail;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    n = strlen(text);
    obj = json_tokener_parse_ex(tok, text, (int)n);
    if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != n || !json_object_is_type(obj, json_type_object))
        goto fail;
    json_tokener_free(tok);
    free(text); /* libjwt 1.10 has no jwt_free_str: jansson's dumps use malloc */
    return obj;

fail:
    json_object_put(obj);
    json_tokener_free(tok);
    free(text);
    return NULL;
}

/* Checks the registered claims at time now. 0 with user_id set, or -1 with
 * *why set (a static string). */
static int check_claims(const struct config *cfg, struct json_object *claims, long long now,
                        char user_id[UUID_STR_LEN + 1], const char **why)
{
    struct json_object *v;
    long long exp = 0, nbf = 0, iat = 0;
    long long leeway = cfg->jwt_leeway_s > 0 ? cfg->jwt_leeway_s : 0;
    int has;

    /* Written as claim-vs-(now +/- leeway) so a huge claim value cannot
     * overflow: now and leeway are both sane, claims are not. */
    has = claim_time(claims, "exp", &exp);
    if (has == 0) {
        *why = "exp missing";
        return -1;
    }
    if (has < 0) {
        *why = "exp not an integer";
        return -1;
    }
    if (exp <= now - leeway) {
        *why = "expired";
        return -1;
    }

    has = claim_time(claims, "nbf", &nbf);
    if (has < 0) {
        *why = "nbf not an integer";
        return -1;
    }
    if (has > 0 && nbf > now + leeway) {
        *why = "not yet valid (nbf)";
        return -1;
    }

    has = claim_time(claims, "iat", &iat);
    if (has < 0) {
        *why = "iat not an integer";
        return -1;
    }
    if (has > 0 && iat > now + leeway) {
        *why = "issued in the future (iat)";
        return -1;
    }

    if (cfg->jwt_audience != NULL && !audience_ok(claims, cfg->jwt_audience)) {
        *why = "audience mismatch";
        return -1;
    }

    if (cfg->jwt_issuer != NULL) {
        if (!json_object_object_get_ex(claims, "iss", &v) || !string_is(v, cfg->jwt_issuer)) {
            *why = "issuer mismatch";
            return -1;
        }
    }

    if (!json_object_object_get_ex(claims, "sub", &v) || !json_object_is_type(v, json_type_string)) {
        *why = "sub missing";
        return -1;
    }
    if (!uuid_valid_n(json_object_get_string(v), (size_t)json_object_get_string_len(v))) {
        *why = "sub not a UUID";
        return -1;
    }
    uuid_lower(json_object_get_string(v), user_id);
    return 0;
}

int auth_verify_jwt(const struct config *cfg, const char *token, size_t len, long long now,
                    char user_id[UUID_STR_LEN + 1], const char **why)
{
    jwt_t *jwt = NULL;
    struct json_object *claims = NULL;
    char *copy = NULL;
    int rc = -1;

    *why = "invalid token";
    if (cfg == NULL || cfg->jwt_key == NULL || cfg->jwt_key_len == 0 || cfg->jwt_key_len > INT_MAX) {
        /* Never reach jwt_decode without a key: with NULL it skips the
         * signature check altogether. */
        *why = "no verification key configured";
        goto out;
    }
    if (token == NULL) {
        *why = "no token";
        goto out;
    }
    if (len > JWT_MAX_LEN) {
        *why = "token too long";
        goto out;
    }
    if (!jwt_shape_ok(token, len)) {
        *why = "token malformed";
        goto out;
    }
    copy = xstrndup(token, len); /* jwt_decode wants a NUL-terminated string */
    if (jwt_decode(&jwt, copy, cfg->jwt_key, (int)cfg->jwt_key_len) != 0) {
        jwt = NULL;
        *why = "bad signature or undecodable token";
        goto out;
    }
    /* libjwt verified with the token's own alg: refuse any other than ours
     * before trusting a single claim. */
    if (jwt_get_alg(jwt) != token_jwt_alg(cfg->jwt_alg)) {
        *why = "algorithm not the pinned one";
        goto out;
    }
    claims = claims_of(jwt);
    if (claims == NULL) {
        *why = "claims unreadable";
        goto out;
    }
    if (check_claims(cfg, claims, now, user_id, why) != 0)
        goto out;
    *why = NULL;
    rc = 0;

out:
    json_object_put(claims);
    jwt_free(jwt);
    free(copy);
    return rc;
}
