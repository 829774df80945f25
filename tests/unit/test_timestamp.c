/* Unit tests for timestamp.c: the strict RFC 3339 parser (every valid form
 * with its exact instant, every malformation refused), rounding of
 * fractions beyond microseconds, and the canonical formatter, including
 * instants before 1970. Expected instants were computed offline with
 * PostgreSQL 15 (extract(epoch ...)) and GNU date, and are hard-coded. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/timestamp.h"

/* Parameters hold no pointers: Criterion runs each case in a re-executed
 * process, where addresses of string literals may differ (ASLR). */
struct valid_case {
    char text[48];
    int64_t micros;
};

struct invalid_case {
    char text[48];
    char why[48];
};

struct format_case {
    int64_t micros;
    char text[TS_TEXT_LEN + 1];
};

struct canonical_case {
    char text[48];
    char canonical[TS_TEXT_LEN + 1];
};

TestSuite(timestamp);

/* ---- ts_parse: valid inputs -------------------------------------------- */

ParameterizedTestParameters(timestamp, parse_accepts_every_valid_form_with_its_exact_instant)
{
    static struct valid_case cases[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"1970-01-01T00:00:00.000001Z", 1},
        {"1969-12-31T23:59:59.999999Z", -1},
        {"1969-12-31T23:59:59Z", -1000000},
        {"2024-11-26T12:00:00", INT64_C(1732622400000000)},        /* no offset: UTC */
        {"2024-11-26T12:00:00Z", INT64_C(1732622400000000)},
        {"2024-11-26t12:00:00z", INT64_C(1732622400000000)},       /* lowercase t and z */
        {"2024-11-26 12:00:00Z", INT64_C(1732622400000000)},       /* one space */
        {"2024-11-26T12:00:00.123456Z", INT64_C(1732622400123456)},
        {"2024-11-26T12:00:00.1Z", INT64_C(1732622400100000)},
        {"2024-11-26T12:00:00.12345Z", INT64_C(1732622400123450)},
        {"2024-11-26T12:00:00.123456789Z", INT64_C(1732622400123457)}, /* 9 digits, rounded */
        {"2024-11-26T12:00:00.123456499Z", INT64_C(1732622400123456)}, /* below half: down */
        {"2024-11-26T12:00:00.1234565Z", INT64_C(1732622400123457)},   /* half: up */
        {"2024-11-26T12:00:00.0000005Z", INT64_C(1732622400000001)},
        {"2024-11-26T12:00:00.100", INT64_C(1732622400100000)},
        {"2024-11-26T17:30:00+05:30", INT64_C(1732622400000000)},
        {"2024-11-26T06:00:00-06:00", INT64_C(1732622400000000)},
        {"2024-11-26T12:00:00+00:00", INT64_C(1732622400000000)},
        {"2024-11-26T12:00:00-00:00", INT64_C(1732622400000000)},
        {"2024-11-27T03:59:00+15:59", INT64_C(1732622400000000)},  /* widest offsets */
        {"2024-11-25T20:01:00-15:59", INT64_C(1732622400000000)},
        {"2024-11-26T12:00:00.5+05:30", INT64_C(1732602600500000)},
        {"2024-02-29T00:00:00Z", INT64_C(1709164800000000)},       /* leap year */
        {"2000-02-29T23:59:59Z", INT64_C(951868799000000)},        /* divisible by 400 */
        {"1900-03-01T00:00:00Z", INT64_C(-2203891200000000)},
        {"1600-02-29T12:00:00Z", INT64_C(-11670955200000000)},
        {"2024-03-01T00:30:00+01:00", INT64_C(1709249400000000)},  /* back into Feb 29 */
        {"1969-07-20T20:17:40Z", INT64_C(-14182940000000)},
        {"2038-01-19T03:14:08Z", INT64_C(2147483648000000)},       /* past 32-bit time_t */
        {"1066-10-14T09:00:00Z", INT64_C(-28502722800000000)},
        {"0001-01-01T00:00:00Z", INT64_C(-62135596800000000)},     /* first instant */
        {"0001-01-01T15:59:00+15:59", INT64_C(-62135596800000000)},
        {"9999-12-31T23:59:59.999999Z", INT64_C(253402300799999999)}, /* last instant */
        {"9999-12-31T08:00:00-15:59", INT64_C(253402300740000000)},
    };
    return cr_make_param_array(struct valid_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct valid_case *tc, timestamp, parse_accepts_every_valid_form_with_its_exact_instant)
{
    int64_t got = INT64_MIN;
    int rc = ts_parse(tc->text, strlen(tc->text), &got);
    cr_assert_eq(rc, 0, "ts_parse(\"%s\") should succeed", tc->text);
    cr_assert_eq(got, tc->micros, "ts_parse(\"%s\") = %" PRId64 ", expected %" PRId64, tc->text, got,
                 tc->micros);
}

/* ---- ts_parse: invalid inputs ------------------------------------------ */

ParameterizedTestParameters(timestamp, parse_refuses_every_malformed_or_impossible_timestamp)
{
    static struct invalid_case cases[] = {
        {"", "empty"},
        {"2024-11-26", "date only"},
        {"2024-11-26T", "no time"},
        {"2024-11-26T12:00", "missing seconds"},
        {"2024-11-26T12:00Z", "missing seconds with a zone"},
        {"2024-11-26T24:00:00Z", "hour 24"},
        {"2024-11-26T12:60:00Z", "minute 60"},
        {"2024-11-26T12:00:60Z", "leap second"},
        {"2024-02-30T00:00:00Z", "February 30"},
        {"2023-02-29T00:00:00Z", "February 29 in a common year"},
        {"1900-02-29T00:00:00Z", "February 29 in a century year"},
        {"2024-11-31T00:00:00Z", "November 31"},
        {"2024-13-01T00:00:00Z", "month 13"},
        {"2024-00-10T00:00:00Z", "month 0"},
        {"2024-11-00T00:00:00Z", "day 0"},
        {"2024-11-32T00:00:00Z", "day 32"},
        {"0000-01-01T00:00:00Z", "year 0"},
        {"2024-11-26T12:00:00Zx", "trailing garbage"},
        {"2024-11-26T12:00:00ZZ", "two zones"},
        {"2024-11-26T12:00:00Z+01:00", "Z and an offset"},
        {" 2024-11-26T12:00:00Z", "leading space"},
        {"2024-11-26T12:00:00Z ", "trailing space"},
        {"2024-11-26T12:00:00\n", "trailing newline"},
        {"2024-11-26T12:00:00 Z", "space before the zone"},
        {"2024-11-26T12:00:00.Z", "empty fraction"},
        {"2024-11-26T12:00:00.", "dot at the end"},
        {"2024-11-26T12:00:00.1234567890Z", "ten fraction digits"},
        {"2024-11-26T12:00:00,5Z", "comma fraction"},
        {"2024-11-26T12:00:00+0530", "offset without a colon"},
        {"2024-11-26T12:00:00+05", "offset without minutes"},
        {"2024-11-26T12:00:00+5:30", "one-digit offset hour"},
        {"2024-11-26T12:00:00+05:3", "one-digit offset minute"},
        {"2024-11-26T12:00:00+05:60", "offset minute 60"},
        {"2024-11-26T12:00:00+16:00", "offset beyond PostgreSQL's 15:59"},
        {"2024-11-26T12:00:00-23:59", "offset beyond PostgreSQL's 15:59"},
        {"2024-11-26T12:00:00+24:00", "offset hour 24"},
        {"2024-11-26T12:00:00+", "sign only"},
        {"2024-11-26T12:00:00-", "minus only"},
        {"2024-11-26X12:00:00Z", "bad separator"},
        {"2024-11-26  12:00:00Z", "two spaces"},
        {"2024-11-26T12:00:00\t", "tab"},
        {"2024/11/26T12:00:00Z", "slashes"},
        {"24-11-26T12:00:00Z", "two-digit year"},
        {"20241-11-26T12:00:00Z", "five-digit year"},
        {"+2024-11-26T12:00:00Z", "signed year"},
        {"2024-1-26T12:00:00Z", "one-digit month"},
        {"2024-11-6T12:00:00Z", "one-digit day"},
        {"2024-11-26T2:00:00Z", "one-digit hour"},
        {"2024-11-26T1a:00:00Z", "letter in the hour"},
        {"2024-11-26T12:00:00.12a4Z", "letter in the fraction"},
        {"9999-12-31T23:59:59.9999995Z", "rounds into year 10000"},
        {"9999-12-31T23:59:59-00:01", "after 9999 in UTC"},
        {"0001-01-01T00:00:00+00:01", "before year 1 in UTC"},
        {"1732622400", "epoch seconds"},
        {"Tue, 26 Nov 2024 12:00:00 GMT", "RFC 1123"},
        {"now", "a word"},
    };
    return cr_make_param_array(struct invalid_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct invalid_case *tc, timestamp, parse_refuses_every_malformed_or_impossible_timestamp)
{
    int64_t got = 42;
    cr_assert_eq(ts_parse(tc->text, strlen(tc->text), &got), -1, "ts_parse(\"%s\") (%s) should fail",
                 tc->text, tc->why);
    cr_assert_eq(got, 42, "a failed parse must leave *micros alone");
}

Test(timestamp, parse_reads_exactly_len_bytes)
{
    const char *s = "2024-11-26T12:00:00Zgarbage";
    int64_t got = 0;
    cr_assert_eq(ts_parse(s, 20, &got), 0);
    cr_assert_eq(got, INT64_C(1732622400000000));
    cr_assert_eq(ts_parse(s, 21, &got), -1);
    cr_assert_eq(ts_parse(s, 19, &got), 0, "without the Z it is offset-less, still valid");
    cr_assert_eq(ts_parse(s, 18, &got), -1, "cut inside the seconds");
}

Test(timestamp, parse_refuses_a_nul_byte_inside_the_text)
{
    static const char s[] = "2024-11-26T12:00:00\0Z";
    int64_t got;
    cr_assert_eq(ts_parse(s, sizeof s - 1, &got), -1);
    static const char t[] = "2024-11-26T12:0\0:00Z";
    cr_assert_eq(ts_parse(t, sizeof t - 1, &got), -1);
}

Test(timestamp, parse_refuses_null)
{
    int64_t got;
    cr_assert_eq(ts_parse(NULL, 0, &got), -1);
}

/* ---- rounding ---------------------------------------------------------- */

Test(timestamp, rounding_carries_into_the_next_second)
{
    int64_t got;
    const char *s = "2024-11-26T12:00:00.9999995Z";
    cr_assert_eq(ts_parse(s, strlen(s), &got), 0);
    cr_assert_eq(got, INT64_C(1732622401000000));
    const char *below = "2024-11-26T12:00:00.9999994Z";
    cr_assert_eq(ts_parse(below, strlen(below), &got), 0);
    cr_assert_eq(got, INT64_C(1732622400999999));
}

Test(timestamp, rounding_carries_across_a_year_boundary)
{
    int64_t got;
    char out[TS_TEXT_LEN + 1];
    const char *s = "2024-12-31T23:59:59.999999999Z";
    cr_assert_eq(ts_parse(s, strlen(s), &got), 0);
    cr_assert_eq(got, INT64_C(1735689600000000));
    ts_format(got, out);
    cr_assert_str_eq(out, "2025-01-01T00:00:00.000000Z");
}

Test(timestamp, rounding_before_1970_moves_toward_the_later_instant)
{
    int64_t got;
    const char *s = "1969-12-31T23:59:59.9999995Z";
    cr_assert_eq(ts_parse(s, strlen(s), &got), 0);
    cr_assert_eq(got, 0);
}

/* ---- ts_format --------------------------------------------------------- */

ParameterizedTestParameters(timestamp, format_writes_canonical_utc_with_six_digits)
{
    static struct format_case cases[] = {
        {0, "1970-01-01T00:00:00.000000Z"},
        {1, "1970-01-01T00:00:00.000001Z"},
        {-1, "1969-12-31T23:59:59.999999Z"},               /* floor, not truncation */
        {-1000000, "1969-12-31T23:59:59.000000Z"},
        {-1000001, "1969-12-31T23:59:58.999999Z"},
        {INT64_C(-86400000000), "1969-12-31T00:00:00.000000Z"},
        {INT64_C(-86400000001), "1969-12-30T23:59:59.999999Z"},
        {INT64_C(1732622400123456), "2024-11-26T12:00:00.123456Z"},
        {INT64_C(1709164800000000), "2024-02-29T00:00:00.000000Z"},
        {INT64_C(951868799000000), "2000-02-29T23:59:59.000000Z"},
        {INT64_C(-2203891200000000), "1900-03-01T00:00:00.000000Z"},
        {INT64_C(-14182940000000), "1969-07-20T20:17:40.000000Z"},
        {INT64_C(-28502722800000000), "1066-10-14T09:00:00.000000Z"},
        {INT64_C(-62135596800000000), "0001-01-01T00:00:00.000000Z"},
        {INT64_C(253402300799999999), "9999-12-31T23:59:59.999999Z"},
        /* Outside 0001..9999: clamped to the ends, never misprinted. */
        {INT64_C(-62135596800000001), "0001-01-01T00:00:00.000000Z"},
        {INT64_C(253402300800000000), "9999-12-31T23:59:59.999999Z"},
        {INT64_MIN, "0001-01-01T00:00:00.000000Z"},
        {INT64_MAX, "9999-12-31T23:59:59.999999Z"},
    };
    return cr_make_param_array(struct format_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct format_case *tc, timestamp, format_writes_canonical_utc_with_six_digits)
{
    char out[TS_TEXT_LEN + 2];
    memset(out, 'X', sizeof out);
    ts_format(tc->micros, out);
    cr_assert_str_eq(out, tc->text, "ts_format(%" PRId64 ")", tc->micros);
    cr_assert_eq(out[TS_TEXT_LEN + 1], 'X', "wrote past TS_TEXT_LEN + 1 bytes");
    cr_assert_eq(strlen(out), TS_TEXT_LEN);
}

ParameterizedTestParameters(timestamp, format_of_parse_is_the_canonical_text)
{
    static struct canonical_case cases[] = {
        {"2024-11-26T12:00:00", "2024-11-26T12:00:00.000000Z"},
        {"2024-11-26t12:00:00.5z", "2024-11-26T12:00:00.500000Z"},
        {"2024-11-26 12:00:00.123456Z", "2024-11-26T12:00:00.123456Z"},
        {"2024-11-26T17:30:00.25+05:30", "2024-11-26T12:00:00.250000Z"},
        {"2024-11-26T00:30:00+01:00", "2024-11-25T23:30:00.000000Z"},
        {"2024-11-26T23:30:00-01:00", "2024-11-27T00:30:00.000000Z"},
        {"2024-11-26T12:00:00.1234565Z", "2024-11-26T12:00:00.123457Z"},
        {"2024-11-26T12:00:00.9999995Z", "2024-11-26T12:00:01.000000Z"},
        {"1969-12-31T23:59:59.9Z", "1969-12-31T23:59:59.900000Z"},
        {"1960-01-01T00:00:00+01:00", "1959-12-31T23:00:00.000000Z"},
        {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000000Z"},
        {"9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999Z"},
    };
    return cr_make_param_array(struct canonical_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct canonical_case *tc, timestamp, format_of_parse_is_the_canonical_text)
{
    int64_t us;
    char out[TS_TEXT_LEN + 1];
    cr_assert_eq(ts_parse(tc->text, strlen(tc->text), &us), 0, "ts_parse(\"%s\")", tc->text);
    ts_format(us, out);
    cr_assert_str_eq(out, tc->canonical, "format(parse(\"%s\"))", tc->text);
    int64_t again;
    cr_assert_eq(ts_parse(out, strlen(out), &again), 0);
    cr_assert_eq(again, us, "parse(format(x)) must be x for \"%s\"", tc->text);
}

/* Every day from 0001-01-01 to 9999-12-31, checked against glibc's gmtime
 * (an independent implementation of the same calendar), both ways. */
Test(timestamp, every_day_of_years_1_to_9999_agrees_with_gmtime)
{
    const int64_t first = INT64_C(-719162), last = INT64_C(2932896);
    for (int64_t day = first; day <= last; day++) {
        int64_t us = day * INT64_C(86400000000) + INT64_C(45296789012); /* 12:34:56.789012 */
        char out[TS_TEXT_LEN + 1], want[64];
        time_t t = (time_t)(day * 86400);
        struct tm tm;
        cr_assert_not_null(gmtime_r(&t, &tm));
        snprintf(want, sizeof want, "%04d-%02d-%02dT12:34:56.789012Z", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday);
        ts_format(us, out);
        if (strcmp(out, want) != 0)
            cr_assert_fail("day %" PRId64 ": ts_format gave %s, gmtime %s", day, out, want);
        int64_t back;
        if (ts_parse(out, TS_TEXT_LEN, &back) != 0 || back != us)
            cr_assert_fail("day %" PRId64 ": parse(\"%s\") did not give %" PRId64, day, out, us);
    }
}

/* A deterministic sweep of instants across the whole range, including
 * every microsecond position: parse(format(x)) == x. */
Test(timestamp, parse_of_format_is_the_identity_across_the_range)
{
    const int64_t lo = INT64_C(-62135596800000000), hi = INT64_C(253402300799999999);
    uint64_t state = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 200000; i++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        int64_t us = lo + (int64_t)(state % (uint64_t)(hi - lo + 1));
        char out[TS_TEXT_LEN + 1];
        int64_t back;
        ts_format(us, out);
        if (ts_parse(out, strlen(out), &back) != 0 || back != us)
            cr_assert_fail("%" PRId64 " -> \"%s\" did not parse back", us, out);
    }
}
