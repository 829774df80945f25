/* The bridge between libfcgi and the request context: reads the FastCGI
 * parameters nginx sends, and points the request's source and sink at the
 * FastCGI streams. Nothing else in the code knows about libfcgi. */
#ifndef AGORA_FCGI_IO_H
#define AGORA_FCGI_IO_H

#include <fcgiapp.h>

#include "http/request.h"

/* Fills r (already req_init'ed) from an accepted request. The strings are
 * borrowed from fr and valid until FCGX_Finish_r; the path is copied into
 * path_store (pathlen bytes), and a request too long for it gets an empty
 * path, which routes to 404. */
void fcgi_fill_request(struct req *r, FCGX_Request *fr, char *path_store, size_t pathlen);

/* Ends the request (FCGX_Finish_r), closing the connection at once when
 * its whole input has been read. */
void fcgi_finish(FCGX_Request *fr);

#endif
