/* The OTLP unit tests' shared checks (otlp_check.h). */
#include "otlp_check.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../reference/otlp_encode.h"

const struct otlp_limits otlp_test_limits = OTLP_LIMITS_DEFAULT(16u << 20);

enum otlp_err otlp_test_decode(enum otlp_format fmt, const void *data, size_t len, struct otlp_request **out,
                               char *why, size_t cap)
{
    char *copy = malloc(len ? len : 1);
    cr_assert_not_null(copy);
    memcpy(copy, data, len);
    enum otlp_err err = otlp_decode(fmt, copy, len, &otlp_test_limits, out, why, cap);
    free(copy);
    if (err == OTLP_OK) {
        char what[256];
        cr_assert_eq(otlp_model_check(*out, what, sizeof what), 0, "%s", what);
    } else {
        cr_assert_null(*out);
        cr_assert(why[0], "an error without a reason");
    }
    return err;
}

struct otlp_request *otlp_test_decode_ok(enum otlp_format fmt, const void *data, size_t len)
{
    struct otlp_request *req;
    char why[256] = "";
    enum otlp_err err = otlp_test_decode(fmt, data, len, &req, why, sizeof why);
    cr_assert_eq(err, OTLP_OK, "%s: %s", otlp_err_text(err), why);
    return req;
}

const char *otlp_test_attr(const struct otlp_attrs *attrs, const char *key)
{
    bool found;
    struct json_object *v = otlp_attr_get(attrs, key, &found);
    cr_assert(found, "no attribute %s", key);
    return v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "null";
}

/* The attribute "dup" is given twice, "first" then "second"; "list" is
 * a kvlist where "dup" is too. */
static const struct {
    const char *key, *json;
} values[] = {
    {"big", "\"9007199254740993\""},        /* 2^53 + 1: exact only as text */
    {"edge", "-9007199254740992"},           /* -2^53: still a number */
    {"min", "\"-9223372036854775808\""},
    {"nan", "\"NaN\""},
    {"inf", "\"-Infinity\""},
    {"bytes", "\"3q2+7w==\""},              /* de ad be ef */
    {"empty", "null"},                       /* an AnyValue with nothing set */
    {"arr", "[true,[0.25]]"},
    {"list", "{\"dup\":\"second\"}"},      /* a kvlist keeps its last */
    {"elist", "{}"},                          /* an empty kvlist */
    {"dup", "\"second\""},
};

void otlp_test_values_are(const struct otlp_attrs *attrs)
{
    for (size_t i = 0; i < sizeof values / sizeof *values; i++)
        cr_assert_str_eq(otlp_test_attr(attrs, values[i].key), values[i].json, "attribute %s", values[i].key);
    /* A set keeps a repeated key; as one JSON object, the last wins. */
    struct buf text;
    buf_init(&text);
    otlp_attrs_json(attrs, &text);
    cr_assert(strstr(text.data, "\"dup\":\"first\",\"dup\":\"second\""), "%s", text.data);
    struct json_object *parsed = json_tokener_parse(text.data), *dup;
    cr_assert(json_object_object_get_ex(parsed, "dup", &dup), "not one JSON object: %s", text.data);
    cr_assert_str_eq(json_object_get_string(dup), "second");
    json_object_put(parsed);
    buf_free(&text);
}

void otlp_test_round_trip(const struct otlp_request *req)
{
    static const enum otlp_format formats[] = {OTLP_PROTOBUF, OTLP_JSON};
    for (int f = 0; f < 2; f++) {
        struct buf b;
        char diff[256];
        buf_init(&b);
        if (formats[f] == OTLP_PROTOBUF)
            otlp_encode_proto(req, &b);
        else
            otlp_encode_json(req, &b);
        struct otlp_request *again = otlp_test_decode_ok(formats[f], b.data, b.len);
        cr_assert_eq(otlp_model_compare(req, again, diff, sizeof diff), 0, "%s: %s",
                     formats[f] == OTLP_PROTOBUF ? "protobuf" : "JSON", diff);
        otlp_request_free(again);
        buf_free(&b);
    }
}
