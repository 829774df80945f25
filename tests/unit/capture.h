/* A request harness for unit tests: a struct req whose sink writes into a
 * buffer and whose source reads from a given byte string, with a default
 * configuration, plus parsing of the captured CGI output (status, headers,
 * JSON body) and assertions that print the whole response when they fail.
 *
 * Usage:
 *     struct capture c;
 *     capture_init(&c, "POST", "/api/things");
 *     capture_json_body(&c, "{\"name\":\"x\"}");
 *     router_dispatch(table, n, &c.req);
 *     assert_status(&c, 201);
 *     capture_fini(&c);
 *
 * Everything the capture allocates (the request's own parts, the
 * configuration, the output buffer, the parsed body) is released by
 * capture_fini. */
#ifndef AGORA_TEST_CAPTURE_H
#define AGORA_TEST_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "util/buf.h"
#include "ops/config.h"
#include "http/request.h"

/* The HS256 secret of the test configuration (32+ bytes). */
#define CAPTURE_JWT_SECRET "unit-test-secret-0123456789abcdef-0123456789"

struct capture {
    struct req req;
    struct config cfg;     /* defaults; tests may change fields before dispatch */
    struct buf out;        /* everything written to the sink */
    int sink_writes;

    /* The body source. */
    const char *src;
    size_t src_len;
    size_t src_pos;
    size_t src_chunk;      /* bytes per read at most; 0 = as many as asked */
    int src_reads;         /* how many times the source was read */
    size_t src_bytes_read;
    char content_length[32];

    /* Parsed lazily from out. */
    struct json_object *json;
    bool json_parsed;
};

/* Prepares c: req_init, method and path, the default configuration, the
 * buffer sink and an empty source. Aborts the test if the configuration
 * cannot be built. */
void capture_init(struct capture *c, const char *method, const char *path);
void capture_fini(struct capture *c);

/* Sets the bytes the source will hand out (borrowed: must outlive the
 * request). Does not touch Content-Length or Content-Type. */
void capture_source(struct capture *c, const char *data, size_t len);
/* Sets the source to body, Content-Type to application/json and
 * Content-Length to strlen(body). */
void capture_json_body(struct capture *c, const char *body);

/* The captured output parsed back. */
int capture_status(const struct capture *c);
/* The value of the first header named name (case-insensitive), copied into
 * out; NULL when absent. */
const char *capture_header(const struct capture *c, const char *name, char *out, size_t outlen);
/* The body: the bytes after the blank line; *len set when len is not NULL. */
const char *capture_body(const struct capture *c, size_t *len);
/* The body parsed with json-c (strict, UTF-8 validated, whole body but a
 * final newline); NULL when it is not JSON. Borrowed from c. */
struct json_object *capture_json(struct capture *c);
/* A string member of the body's "error" object, or NULL. Borrowed. */
const char *capture_error_field(struct capture *c, const char *field);

/* Assertions; each prints the whole response when it fails. */
#define assert_status(c, st) assert_status_at((c), (st), __FILE__, __LINE__)
#define assert_error(c, st, code) assert_error_at((c), (st), (code), NULL, __FILE__, __LINE__)
#define assert_error_path(c, st, code, path) assert_error_at((c), (st), (code), (path), __FILE__, __LINE__)
#define assert_no_output(c) assert_no_output_at((c), __FILE__, __LINE__)

void assert_status_at(struct capture *c, int status, const char *file, int line);
/* Status, a valid JSON error body of exactly the contract's shape, and the
 * code; when path is not NULL, also the error's "path" member. */
void assert_error_at(struct capture *c, int status, const char *code, const char *path,
                     const char *file, int line);
void assert_no_output_at(struct capture *c, const char *file, int line);

/* Checks the body is {"error":{"code","message","path"?,"request_id"?}}
 * with string values and nothing else. NULL when it is, else a reason. */
const char *capture_error_shape_problem(struct capture *c);

/* bytes of out, printable, for failure messages (static storage). */
const char *capture_dump(const struct capture *c);

#endif
