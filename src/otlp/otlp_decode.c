/* The front of otlp_decode.h: what the errors mean in HTTP, the two
 * headers that choose a decoder (Content-Type, Content-Encoding), and the
 * dispatch to the protobuf or JSON decoder. */
#include "otlp/otlp_decode.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

int otlp_err_http(enum otlp_err err)
{
    switch (err) {
    case OTLP_OK:
        return 200;
    case OTLP_ERR_MEDIA_TYPE:
    case OTLP_ERR_ENCODING:
        return 415;
    case OTLP_ERR_INFLATED_SIZE:
    case OTLP_ERR_RATIO:
    case OTLP_ERR_DECODED_SIZE:
        return 413;
    case OTLP_ERR_CORRUPT:
    case OTLP_ERR_MALFORMED:
    case OTLP_ERR_TOO_DEEP:
        break;
    }
    return 400;
}

int32_t otlp_err_rpc_code(enum otlp_err err)
{
    switch (otlp_err_http(err)) {
    case 413:
        return 8; /* RESOURCE_EXHAUSTED */
    case 415:
        return 12; /* UNIMPLEMENTED */
    default:
        return 3; /* INVALID_ARGUMENT */
    }
}

const char *otlp_err_text(enum otlp_err err)
{
    switch (err) {
    case OTLP_OK:
        return "ok";
    case OTLP_ERR_MEDIA_TYPE:
        return "Content-Type must be application/x-protobuf or application/json";
    case OTLP_ERR_ENCODING:
        return "Content-Encoding must be gzip, deflate or identity";
    case OTLP_ERR_CORRUPT:
        return "the compressed body does not inflate";
    case OTLP_ERR_INFLATED_SIZE:
        return "the body is too large once inflated";
    case OTLP_ERR_RATIO:
        return "the body inflates beyond the allowed compression ratio";
    case OTLP_ERR_MALFORMED:
        return "the body is not an ExportTraceServiceRequest";
    case OTLP_ERR_TOO_DEEP:
        return "attribute values are nested too deeply";
    case OTLP_ERR_DECODED_SIZE:
        return "the request is too large to decode";
    }
    return "unknown error";
}

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Whether the token at p (n bytes) is word, in any case. */
static bool token_is(const char *p, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(p, word, n) == 0;
}

/* Whether the parameters after a media type (";name=value"...) allow
 * UTF-8 JSON: a charset, when there is one, must be utf-8. */
static bool charset_utf8(const char *p)
{
    while (*(p = skip_ows(p)) == ';') {
        p = skip_ows(p + 1);
        size_t name = strcspn(p, "=;");
        bool charset = token_is(p, strcspn(p, "=; \t"), "charset");
        p += name;
        if (*p != '=')
            continue;
        p++;
        bool quoted = *p == '"';
        p += quoted;
        size_t n = strcspn(p, quoted ? "\"" : "; \t");
        if (charset && !token_is(p, n, "utf-8") && !token_is(p, n, "utf8"))
            return false;
        p += n + (quoted && p[n] == '"');
    }
    return true;
}

enum otlp_err otlp_format_parse(const char *content_type, enum otlp_format *out)
{
    if (!content_type)
        return OTLP_ERR_MEDIA_TYPE;
    const char *p = skip_ows(content_type);
    size_t n = strcspn(p, "; \t");
    const char *rest = skip_ows(p + n);
    if (*rest != ';' && *rest != '\0')
        return OTLP_ERR_MEDIA_TYPE;
    if (token_is(p, n, "application/x-protobuf") || token_is(p, n, "application/protobuf")) {
        *out = OTLP_PROTOBUF;
        return OTLP_OK;
    }
    if (token_is(p, n, "application/json") && charset_utf8(rest)) {
        *out = OTLP_JSON;
        return OTLP_OK;
    }
    return OTLP_ERR_MEDIA_TYPE;
}

enum otlp_err otlp_encoding_parse(const char *content_encoding, enum otlp_encoding *out)
{
    const char *p = skip_ows(content_encoding ? content_encoding : "");
    size_t n = strcspn(p, " \t,");
    if (*skip_ows(p + n) != '\0') /* a list: no client of OTLP sends one */
        return OTLP_ERR_ENCODING;
    if (n == 0 || token_is(p, n, "identity"))
        *out = OTLP_IDENTITY;
    else if (token_is(p, n, "gzip") || token_is(p, n, "x-gzip"))
        *out = OTLP_GZIP;
    else if (token_is(p, n, "deflate"))
        *out = OTLP_DEFLATE;
    else
        return OTLP_ERR_ENCODING;
    return OTLP_OK;
}

enum otlp_err otlp_decode(enum otlp_format fmt, const char *body, size_t len, const struct otlp_limits *lim,
                          struct otlp_request **out, char *why, size_t cap)
{
    return fmt == OTLP_JSON ? otlp_decode_json(body, len, lim, out, why, cap)
                            : otlp_decode_proto(body, len, lim, out, why, cap);
}
