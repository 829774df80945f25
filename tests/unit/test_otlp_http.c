/* Unit tests for the HTTP side of OTLP decoding (otlp_decode.c,
 * otlp_inflate.c, otlp_answer.c): the Content-Type and Content-Encoding
 * headers, gzip and deflate bodies (zlib and raw streams, several gzip
 * members), corrupt and cut ones, the two limits of inflating (a 100 MB
 * bomb refused at the ratio without the memory it claims), the HTTP
 * status of each error, and the answers in both formats, read back with
 * protobuf-c and json-c. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <zlib.h>

#include "otlp/otlp_decode.h"
#include "otlp/trace.pb-c.h"

TestSuite(otlp_http);

Test(otlp_http, content_types_choose_the_decoder)
{
    static const struct {
        const char *header;
        enum otlp_err err;
        enum otlp_format fmt;
    } cases[] = {
        {"application/x-protobuf", OTLP_OK, OTLP_PROTOBUF},
        {"Application/X-Protobuf", OTLP_OK, OTLP_PROTOBUF},
        {"application/protobuf", OTLP_OK, OTLP_PROTOBUF},
        {"application/json", OTLP_OK, OTLP_JSON},
        {"application/json; charset=utf-8", OTLP_OK, OTLP_JSON},
        {" application/json;charset=\"UTF-8\" ", OTLP_OK, OTLP_JSON},
        {"application/json; foo=bar; charset=utf8", OTLP_OK, OTLP_JSON},
        {"application/json; charset=iso-8859-1", OTLP_ERR_MEDIA_TYPE, 0},
        {"application/jsonx", OTLP_ERR_MEDIA_TYPE, 0},
        {"application/json x", OTLP_ERR_MEDIA_TYPE, 0},
        {"text/plain", OTLP_ERR_MEDIA_TYPE, 0},
        {"", OTLP_ERR_MEDIA_TYPE, 0},
        {NULL, OTLP_ERR_MEDIA_TYPE, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        enum otlp_format fmt = (enum otlp_format)-1;
        cr_assert_eq(otlp_format_parse(cases[i].header, &fmt), cases[i].err, "case %zu", i);
        if (cases[i].err == OTLP_OK)
            cr_assert_eq(fmt, cases[i].fmt, "case %zu", i);
    }
    cr_assert_eq(otlp_err_http(OTLP_ERR_MEDIA_TYPE), 415);
}

Test(otlp_http, content_encodings_choose_the_inflater)
{
    static const struct {
        const char *header;
        enum otlp_err err;
        enum otlp_encoding enc;
    } cases[] = {
        {NULL, OTLP_OK, OTLP_IDENTITY},   {"", OTLP_OK, OTLP_IDENTITY},     {"identity", OTLP_OK, OTLP_IDENTITY},
        {"gzip", OTLP_OK, OTLP_GZIP},     {" GZIP ", OTLP_OK, OTLP_GZIP},   {"x-gzip", OTLP_OK, OTLP_GZIP},
        {"deflate", OTLP_OK, OTLP_DEFLATE}, {"br", OTLP_ERR_ENCODING, 0},   {"zstd", OTLP_ERR_ENCODING, 0},
        {"gzip, deflate", OTLP_ERR_ENCODING, 0}, {"gzip deflate", OTLP_ERR_ENCODING, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        enum otlp_encoding enc = (enum otlp_encoding)-1;
        cr_assert_eq(otlp_encoding_parse(cases[i].header, &enc), cases[i].err, "case %zu", i);
        if (cases[i].err == OTLP_OK)
            cr_assert_eq(enc, cases[i].enc, "case %zu", i);
    }
    cr_assert_eq(otlp_err_http(OTLP_ERR_ENCODING), 415);
}

/* Compresses n bytes (data, or zeros when NULL, streamed a MiB at a time
 * so that a bomb is never held whole) with the given window bits (31:
 * gzip, 15: zlib, -15: raw deflate). The caller frees *out. */
static size_t compress_bytes(const void *data, size_t n, int window, char **out)
{
    static char zeros[1 << 20];
    z_stream z;
    memset(&z, 0, sizeof z);
    cr_assert_eq(deflateInit2(&z, 9, Z_DEFLATED, window, 9, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, n < (1u << 24) ? n : (1u << 24)) + (n >> 9) + 64, len = 0, done = 0;
    char *buf = malloc(cap);
    for (;;) {
        size_t chunk = n - done < sizeof zeros ? n - done : sizeof zeros;
        z.next_in = (Bytef *)(data ? (const char *)data + done : zeros);
        z.avail_in = (uInt)chunk;
        done += chunk;
        int flush = done == n ? Z_FINISH : Z_NO_FLUSH, rc;
        do {
            if (cap - len < 65536)
                buf = realloc(buf, cap *= 2);
            z.next_out = (Bytef *)buf + len;
            z.avail_out = (uInt)(cap - len);
            rc = deflate(&z, flush);
            len = cap - z.avail_out;
        } while (z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
        if (flush == Z_FINISH)
            break;
    }
    deflateEnd(&z);
    *out = buf;
    return len;
}

static const struct otlp_limits limits = OTLP_LIMITS_DEFAULT(16u << 20);
static const char text[] = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"inflated\"}]}]}]}";

Test(otlp_http, gzip_and_deflate_bodies_inflate_to_the_body)
{
    static const struct {
        enum otlp_encoding enc;
        int window;
    } cases[] = {{OTLP_GZIP, 31}, {OTLP_DEFLATE, 15}, {OTLP_DEFLATE, -15}};
    for (size_t i = 0; i < 3; i++) {
        char *z, *owned;
        const char *out;
        size_t out_len, n = compress_bytes(text, strlen(text), cases[i].window, &z);
        cr_assert_eq(otlp_inflate(cases[i].enc, z, n, &limits, &out, &out_len, &owned), OTLP_OK, "case %zu", i);
        cr_assert_eq(out_len, strlen(text));
        cr_assert_arr_eq(out, text, out_len);
        cr_assert_eq(out, owned);
        free(owned);
        free(z);
    }
    /* identity: the body itself, nothing to free */
    const char *out;
    char *owned;
    size_t out_len;
    cr_assert_eq(otlp_inflate(OTLP_IDENTITY, text, 10, &limits, &out, &out_len, &owned), OTLP_OK);
    cr_assert_eq(out, text);
    cr_assert_eq(out_len, 10);
    cr_assert_null(owned);
}

Test(otlp_http, a_gzip_body_of_several_members_is_their_concatenation)
{
    char *a, *b;
    size_t na = compress_bytes(text, 20, 31, &a), nb = compress_bytes(text + 20, strlen(text) - 20, 31, &b);
    char *both = malloc(na + nb);
    memcpy(both, a, na);
    memcpy(both + na, b, nb);
    const char *out;
    char *owned;
    size_t out_len;
    cr_assert_eq(otlp_inflate(OTLP_GZIP, both, na + nb, &limits, &out, &out_len, &owned), OTLP_OK);
    cr_assert_eq(out_len, strlen(text));
    cr_assert_arr_eq(out, text, out_len);
    free(owned);
    free(both);
    free(a);
    free(b);
}

Test(otlp_http, corrupt_cut_and_trailing_bodies_do_not_inflate)
{
    char *z;
    size_t n = compress_bytes(text, strlen(text), 31, &z);
    const char *out;
    char *owned;
    size_t out_len;
    for (size_t cut = 0; cut < n; cut++)
        cr_assert_eq(otlp_inflate(OTLP_GZIP, z, cut, &limits, &out, &out_len, &owned), OTLP_ERR_CORRUPT,
                     "cut at %zu", cut);
    char *bad = malloc(n + 3);
    memcpy(bad, z, n);
    memcpy(bad + n, "xyz", 3);
    cr_assert_eq(otlp_inflate(OTLP_GZIP, bad, n + 3, &limits, &out, &out_len, &owned), OTLP_ERR_CORRUPT,
                 "bytes after the last member");
    bad[n / 2] ^= 0x55;
    cr_assert_eq(otlp_inflate(OTLP_GZIP, bad, n, &limits, &out, &out_len, &owned), OTLP_ERR_CORRUPT);
    cr_assert_eq(otlp_inflate(OTLP_DEFLATE, text, strlen(text), &limits, &out, &out_len, &owned),
                 OTLP_ERR_CORRUPT, "plain text is no deflate stream");
    cr_assert_null(owned);
    cr_assert_eq(otlp_err_http(OTLP_ERR_CORRUPT), 400);
    free(bad);
    free(z);
}

static long max_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

Test(otlp_http, a_compression_bomb_is_refused_at_the_ratio_without_its_memory)
{
    char *z;
    size_t n = compress_bytes(NULL, (size_t)100 << 20, 31, &z); /* 100 MiB of zeros: about 100 KB */
    cr_assert_lt(n, (size_t)1 << 20);
    const char *out;
    char *owned;
    size_t out_len;
    long before = max_rss_kib();
    cr_assert_eq(otlp_inflate(OTLP_GZIP, z, n, &limits, &out, &out_len, &owned), OTLP_ERR_RATIO);
    /* It stopped at 100 times its size: about 10 MiB, never 100. */
    cr_assert_lt(max_rss_kib() - before, 40 * 1024, "the bomb took %ld KiB", max_rss_kib() - before);
    cr_assert_null(owned);
    cr_assert_eq(otlp_err_http(OTLP_ERR_RATIO), 413);

    /* With a generous ratio, the body limit stops it instead. */
    struct otlp_limits generous = {(size_t)4 << 20, 100000, 16, 0};
    cr_assert_eq(otlp_inflate(OTLP_GZIP, z, n, &generous, &out, &out_len, &owned), OTLP_ERR_INFLATED_SIZE);
    cr_assert_eq(otlp_err_http(OTLP_ERR_INFLATED_SIZE), 413);
    free(z);
}

Test(otlp_http, the_limits_hold_to_the_byte)
{
    char *z, *owned;
    const char *out;
    size_t out_len, n = compress_bytes(NULL, (size_t)1 << 20, 31, &z);
    struct otlp_limits exact = {(size_t)1 << 20, 100000, 16, 0}, under = {((size_t)1 << 20) - 1, 100000, 16, 0};
    cr_assert_eq(otlp_inflate(OTLP_GZIP, z, n, &exact, &out, &out_len, &owned), OTLP_OK);
    cr_assert_eq(out_len, (size_t)1 << 20);
    free(owned);
    cr_assert_eq(otlp_inflate(OTLP_GZIP, z, n, &under, &out, &out_len, &owned), OTLP_ERR_INFLATED_SIZE);
    cr_assert_eq(otlp_inflate(OTLP_IDENTITY, z, n, &(struct otlp_limits){n - 1, 100, 16, 0}, &out, &out_len, &owned),
                 OTLP_ERR_INFLATED_SIZE);
    /* a small body may always inflate to 64 KiB, whatever its ratio */
    free(z);
    n = compress_bytes(NULL, (size_t)64 << 10, 31, &z);
    cr_assert_gt(((size_t)64 << 10) / n, 100);
    cr_assert_eq(otlp_inflate(OTLP_GZIP, z, n, &limits, &out, &out_len, &owned), OTLP_OK);
    free(owned);
    free(z);
}

Test(otlp_http, the_answer_to_a_full_success_is_empty)
{
    struct buf b;
    buf_init(&b);
    otlp_response(OTLP_PROTOBUF, 0, "ignored", &b);
    cr_assert_eq(b.len, 0);
    otlp_response(OTLP_JSON, 0, NULL, &b);
    cr_assert_str_eq(b.data, "{}");
    buf_free(&b);
}

Test(otlp_http, a_partial_success_counts_the_rejected_spans_in_the_requests_format)
{
    struct buf b;
    buf_init(&b);
    otlp_response(OTLP_JSON, 3, "3 of 5 spans rejected; \"quoted\"\x01 and \xff cut", &b);
    cr_assert_str_eq(b.data, "{\"partialSuccess\":{\"rejectedSpans\":\"3\",\"errorMessage\":"
                             "\"3 of 5 spans rejected; \\\"quoted\\\" and  cut\"}}");
    buf_reset(&b);
    otlp_response(OTLP_PROTOBUF, 3, "3 of 5 spans rejected", &b);
    Otlp__ExportTraceServiceResponse *resp =
        otlp__export_trace_service_response__unpack(NULL, b.len, (const uint8_t *)b.data);
    cr_assert_not_null(resp);
    cr_assert_not_null(resp->partial_success);
    cr_assert_eq(resp->partial_success->rejected_spans, 3);
    cr_assert_str_eq(resp->partial_success->error_message, "3 of 5 spans rejected");
    otlp__export_trace_service_response__free_unpacked(resp, NULL);
    buf_free(&b);
}

Test(otlp_http, an_error_answers_with_a_google_rpc_status)
{
    struct buf b;
    buf_init(&b);
    otlp_status(OTLP_JSON, otlp_err_rpc_code(OTLP_ERR_MALFORMED), "the body is not JSON: invalid UTF-8", &b);
    cr_assert_str_eq(b.data, "{\"code\":3,\"message\":\"the body is not JSON: invalid UTF-8\"}");
    buf_reset(&b);
    otlp_status(OTLP_PROTOBUF, otlp_err_rpc_code(OTLP_ERR_DECODED_SIZE), "too large", &b);
    Otlp__RpcStatus *st = otlp__rpc_status__unpack(NULL, b.len, (const uint8_t *)b.data);
    cr_assert_not_null(st);
    cr_assert_eq(st->code, 8);
    cr_assert_str_eq(st->message, "too large");
    cr_assert_eq(st->n_details, 0);
    otlp__rpc_status__free_unpacked(st, NULL);
    cr_assert_eq(otlp_err_rpc_code(OTLP_ERR_ENCODING), 12);
    buf_free(&b);
}

Test(otlp_http, every_error_has_a_status_and_words)
{
    for (int e = OTLP_OK; e <= OTLP_ERR_DECODED_SIZE; e++) {
        int status = otlp_err_http((enum otlp_err)e);
        cr_assert(status == 200 || status == 400 || status == 413 || status == 415, "error %d", e);
        cr_assert(strlen(otlp_err_text((enum otlp_err)e)) > 1);
    }
}
