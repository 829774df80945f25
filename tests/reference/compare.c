/* REFERENCE ONLY: the inputs the differential test of the body parser
 * (test_json_tree.c, against the former json-c parser in old_json_in.c)
 * walks: JSONTestSuite's files and every single-byte change of a text. */
#include "compare.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long ref_each_suite_file(void (*fn)(void *ctx, const char *name, const char *text, size_t len), void *ctx)
{
    const char *dir = getenv("AGORA_JSONTESTSUITE");
    if (!dir)
        dir = "../shared/testdata/JSONTestSuite/test_parsing";
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    static char body[1 << 20];
    long files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        char file[1024];
        snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
        FILE *f = fopen(file, "rb");
        if (!f)
            continue;
        size_t len = fread(body, 1, sizeof body, f);
        fclose(f);
        files++;
        fn(ctx, e->d_name, body, len);
    }
    closedir(d);
    return files;
}

void ref_each_byte_change(const char *text, size_t len, const char *bytes, size_t nbytes,
                          void (*fn)(void *ctx, const char *what, const char *body, size_t len), void *ctx)
{
    char *body = malloc(len + 2), what[64];
    if (!body)
        abort();
    for (size_t i = 0; i <= len; i++) {
        snprintf(what, sizeof what, "cut at %zu", i);
        fn(ctx, what, text, i);
        if (i == len)
            break;
        memcpy(body, text, i);
        memcpy(body + i, text + i + 1, len - i - 1);
        snprintf(what, sizeof what, "byte %zu deleted", i);
        fn(ctx, what, body, len - 1);
        memcpy(body, text, i + 1);
        memcpy(body + i + 1, text + i, len - i);
        snprintf(what, sizeof what, "byte %zu doubled", i);
        fn(ctx, what, body, len + 1);
        memcpy(body, text, len);
        for (size_t r = 0; r < nbytes; r++) {
            if (bytes[r] == text[i])
                continue;
            body[i] = bytes[r];
            snprintf(what, sizeof what, "byte %zu = 0x%02x", i, (unsigned char)bytes[r]);
            fn(ctx, what, body, len);
        }
    }
    free(body);
}
