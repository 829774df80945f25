/* The lifetime of a request context: one init, one release. */
#include "http/request.h"

#include <stdlib.h>
#include <string.h>

void req_init(struct req *r)
{
    memset(r, 0, sizeof *r);
    r->query = "";
    buf_init(&r->extra_headers);
}

void req_release(struct req *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    buf_free(&r->extra_headers);
}
