/* Query strings: whitelisted, percent-decoded parameters. An unknown
 * parameter, a repeated one or a bad escape answers 422 naming it, so a
 * typo in a filter is never silently ignored. */
#ifndef AGORA_QUERY_H
#define AGORA_QUERY_H

#include "http/request.h"

#define QUERY_MAX_PARAMS 16

struct query {
    int n;
    const char *name[QUERY_MAX_PARAMS];  /* borrowed from the allowed list */
    char *value[QUERY_MAX_PARAMS];       /* owned, decoded, NUL-free */
};

/* Parses r->query against the NULL-terminated allowed names. 0, or -1
 * after replying 422. On success q must be released with query_free. */
int query_parse_or_reply(struct req *r, const char *const *allowed, struct query *q);
/* The decoded value of name, or NULL when absent. Borrowed from q. */
const char *query_get(const struct query *q, const char *name);
void query_free(struct query *q);

/* Percent-decodes src (len bytes) into a new string; '+' is a space. NULL
 * when an escape is malformed or decodes to NUL. */
char *query_decode(const char *src, size_t len);

#endif
