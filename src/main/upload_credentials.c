/* agora-upload's credential: an API key or a user's token, read from a
 * file only (--api-key-file, --token-file, or the AGORA_API_KEY_FILE and
 * AGORA_TOKEN_FILE settings), never from the command line, where every
 * user can read it in /proc. It becomes the one Authorization line the
 * workers copy into their connections; it is wiped after use and never
 * printed. */
#include "main/upload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/config.h"

/* The credential settings: AGORA_API_KEY_FILE or AGORA_TOKEN_FILE, which
 * the options set. The values themselves (AGORA_API_KEY...) are never
 * taken: a credential is read from a file only. */
struct credential_source {
    const char *file_var;
    const char *file;
};

static const char *credential_get(const char *name, void *ctx)
{
    const struct credential_source *src = ctx;
    return strcmp(name, src->file_var) == 0 ? src->file : NULL;
}

char *read_authorization(const struct options *opt)
{
    struct credential_source src = {NULL, NULL};
    bool is_key;
    const char *env_key = getenv("AGORA_API_KEY_FILE"), *env_token = getenv("AGORA_TOKEN_FILE");
    if (opt->api_key_file || opt->token_file) {
        is_key = opt->api_key_file != NULL;
        src.file = is_key ? opt->api_key_file : opt->token_file;
    } else if (env_key && *env_key && env_token && *env_token) {
        fputs("agora-upload: AGORA_API_KEY_FILE and AGORA_TOKEN_FILE are both set: give one\n", stderr);
        return NULL;
    } else if ((env_key && *env_key) || (env_token && *env_token)) {
        is_key = env_key && *env_key;
        src.file = is_key ? env_key : env_token;
    } else {
        fputs("agora-upload: no credentials: give --api-key-file FILE or --token-file FILE\n", stderr);
        return NULL;
    }
    src.file_var = is_key ? "AGORA_API_KEY_FILE" : "AGORA_TOKEN_FILE";

    unsigned char *cred = NULL;
    size_t len = 0;
    char err[512] = "";
    const char *what = is_key ? "--api-key-file" : "--token-file";
    if (config_secret(is_key ? "AGORA_API_KEY" : "AGORA_TOKEN", credential_get, &src, true, &cred, &len, err,
                      sizeof err) <= 0) {
        /* err names the variable and the file, never the value. */
        fprintf(stderr, "agora-upload: %s: %s\n", what, err[0] ? err : "no credential");
        return NULL;
    }
    /* A header value: visible ASCII only, so nothing can end the header
     * early; and the shape of the kind claimed, to catch swapped files. */
    bool ok = true;
    size_t dots = 0;
    for (size_t i = 0; i < len; i++) {
        ok = ok && cred[i] > 0x20 && cred[i] < 0x7f;
        dots += cred[i] == '.';
    }
    if (!ok || (is_key ? strncmp((const char *)cred, "agk_", 4) != 0 : dots != 2)) {
        fprintf(stderr, "agora-upload: %s: %s does not hold %s\n", what, src.file,
                is_key ? "an API key (agk_... on one line)" : "a token (a JWT on one line)");
        explicit_bzero(cred, len);
        free(cred);
        return NULL;
    }
    struct buf line;
    buf_init(&line);
    buf_puts(&line, "Authorization: Bearer ");
    buf_append(&line, cred, len);
    explicit_bzero(cred, len);
    free(cred);
    return buf_steal(&line);
}
