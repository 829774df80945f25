/* Writing responses: a status line, headers, then the body, through the
 * request's sink. Small answers are built whole (reply_json_text); large ones are
 * streamed (reply_start + reply_write) so they never sit twice in memory. */
#ifndef AGORA_RESPONSE_H
#define AGORA_RESPONSE_H

#include "http/request.h"

const char *http_reason(int status);
/* Adds a header to the response; name and value must be free of CR/LF
 * (values are sanitized). Only before the reply starts. */
void reply_header(struct req *r, const char *name, const char *value);
/* Sends the status line and headers; content_type NULL means no body. */
int reply_start(struct req *r, int status, const char *content_type);
int reply_write(struct req *r, const char *data, size_t len);
/* Sends a prebuilt JSON text as the whole body. */
int reply_json_text(struct req *r, int status, const char *text, size_t len);
/* Sends a prebuilt body of any type (binary allowed: len bytes). */
int reply_body(struct req *r, int status, const char *content_type, const char *data, size_t len);
/* A reply with no body, e.g. 204. */
int reply_empty(struct req *r, int status);

#endif
