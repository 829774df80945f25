/* UUID text validation and random v4 generation. Path ids and payload ids
 * are checked here before they reach SQL, so a malformed id is a 404 or a
 * 422 rather than a database error. */
#include "util/uuid.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <sys/random.h>

#include "util/buf.h"
#include "util/sha256.h"

bool uuid_valid_n(const char *s, size_t len)
{
    if (!s || len != UUID_STR_LEN)
        return false;
    for (size_t i = 0; i < UUID_STR_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

bool uuid_valid(const char *s)
{
    return s && uuid_valid_n(s, strnlen(s, UUID_STR_LEN + 1));
}

void uuid_lower(const char *s, char out[UUID_STR_LEN + 1])
{
    for (size_t i = 0; i < UUID_STR_LEN; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[UUID_STR_LEN] = '\0';
}

/* Writes b (16 bytes) as version ver, RFC 4122 variant. */
static void uuid_format(unsigned char b[16], int ver, char out[UUID_STR_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    b[6] = (unsigned char)((b[6] & 0x0f) | (ver << 4));
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    *p = '\0';
}

int uuid_v4(char out[UUID_STR_LEN + 1])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)n;
    }
    uuid_format(b, 4, out);
    return 0;
}

void uuid_v8_name(const char *ns, const void *name, size_t len, char out[UUID_STR_LEN + 1])
{
    size_t nslen = strlen(ns);
    unsigned char *msg = xmalloc(nslen + 1 + len), digest[SHA256_LEN];
    memcpy(msg, ns, nslen + 1);
    if (len)
        memcpy(msg + nslen + 1, name, len);
    sha256(msg, nslen + 1 + len, digest);
    free(msg);
    uuid_format(digest, 8, out);
}
