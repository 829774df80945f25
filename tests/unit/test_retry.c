/* Unit tests for retry.c: retry delays double from 0.5 s to 30 s with
 * their jitter in the upper half, and a Retry-After is read as seconds or
 * as any of the three HTTP-date forms, strictly, relative to now. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "util/retry.h"

TestSuite(retry);

/* RFC 9110's example date, "Sun, 06 Nov 1994 08:49:37 GMT". */
#define EXAMPLE_TIME ((time_t)784111777)

Test(retry, delays_double_from_half_a_second_to_thirty_seconds_and_jitter_in_their_upper_half)
{
    static const uint32_t base[] = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
    for (unsigned i = 0; i < sizeof base / sizeof base[0]; i++) {
        unsigned attempt = i + 1;
        uint32_t lo = retry_delay_ms(attempt, 0), hi = retry_delay_ms(attempt, base[i] / 2);
        cr_assert_eq(lo, base[i] / 2, "retry %u: %u ms at least, want %u", attempt, lo, base[i] / 2);
        cr_assert_eq(hi, base[i], "retry %u: %u ms at most, want %u", attempt, hi, base[i]);
        for (uint32_t r = 0; r < 5000; r += 7) {
            uint32_t d = retry_delay_ms(attempt, r * 2654435761u);
            cr_assert(d >= base[i] / 2 && d <= base[i], "retry %u: %u ms outside [%u, %u]", attempt, d, base[i] / 2,
                      base[i]);
        }
    }
}

Test(retry, a_delay_never_passes_the_cap_however_many_retries)
{
    cr_assert_leq(retry_delay_ms(1000000, UINT32_MAX), RETRY_MAX_MS);
    cr_assert_leq(retry_delay_ms(UINT32_MAX, UINT32_MAX), RETRY_MAX_MS);
    cr_assert_geq(retry_delay_ms(UINT32_MAX, 0), RETRY_MAX_MS / 2);
    /* 0 reads as the first retry. */
    cr_assert_leq(retry_delay_ms(0, UINT32_MAX), RETRY_FIRST_MS);
}

struct after_case {
    const char *value;
    int rc;
    long long seconds;
};

static void check_after(const struct after_case *c)
{
    long long s = -42;
    int rc = retry_after_parse(c->value, strlen(c->value), EXAMPLE_TIME, &s);
    cr_assert_eq(rc, c->rc, "Retry-After \"%s\": %d, want %d", c->value, rc, c->rc);
    if (c->rc == 0)
        cr_assert_eq(s, c->seconds, "Retry-After \"%s\": %lld s, want %lld", c->value, s, c->seconds);
}

Test(retry, retry_after_in_seconds_is_digits_only)
{
    static const struct after_case cases[] = {
        {"0", 0, 0},
        {"1", 0, 1},
        {"120", 0, 120},
        {" \t30 ", 0, 30},
        {"007", 0, 7},
        {"999999999999999999999999", 0, 1000000000}, /* no overflow: capped */
        {"", -1, 0},
        {"   ", -1, 0},
        {"-1", -1, 0},
        {"+5", -1, 0},
        {"1.5", -1, 0},
        {"5s", -1, 0},
        {"5 5", -1, 0},
        {"0x10", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_after(&cases[i]);
}

Test(retry, retry_after_as_a_date_is_the_wait_until_then_in_any_of_the_three_forms)
{
    static const struct after_case cases[] = {
        {"Sun, 06 Nov 1994 08:49:37 GMT", 0, 0},
        {"Sun, 06 Nov 1994 08:50:37 GMT", 0, 60},
        {"Sunday, 06-Nov-94 08:51:37 GMT", 0, 120},
        {"Sun Nov  6 08:52:37 1994", 0, 180},
        {"Mon, 07 Nov 1994 08:49:37 GMT", 0, 86400},
        {"Thu, 01 Dec 1994 00:00:00 GMT", 0, 786240000 - 784111777},
        {"Wed, 29 Feb 1996 00:00:00 GMT", 0, 825552000 - 784111777}, /* a leap day */
        {"Sat, 31 Dec 1994 23:59:60 GMT", 0, 788918400 - 784111777}, /* a leap second */
        {"Sun Nov 16 08:49:37 1994", 0, 10 * 86400},
        {"Sat, 05 Nov 1994 08:49:37 GMT", 0, 0}, /* in the past: now */
        {"  Sun, 06 Nov 1994 08:49:47 GMT  ", 0, 10},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_after(&cases[i]);
}

Test(retry, a_date_that_is_not_exactly_one_of_the_forms_is_refused)
{
    static const struct after_case cases[] = {
        {"Sun, 06 Nov 1994 08:49:37 UTC", -1, 0},
        {"Sun, 06 Nov 1994 08:49:37 gmt", -1, 0},
        {"sun, 06 Nov 1994 08:49:37 GMT", -1, 0},
        {"Sun, 6 Nov 1994 08:49:37 GMT", -1, 0},
        {"Sun, 06 nov 1994 08:49:37 GMT", -1, 0},
        {"Sun, 06 Nov 94 08:49:37 GMT", -1, 0},
        {"Sun, 06 Nov 1994 8:49:37 GMT", -1, 0},
        {"Sun, 06 Nov 1994 24:00:00 GMT", -1, 0},
        {"Sun, 06 Nov 1994 08:60:00 GMT", -1, 0},
        {"Sun, 06 Nov 1994 08:49:61 GMT", -1, 0},
        {"Sun, 31 Nov 1994 08:49:37 GMT", -1, 0},
        {"Tue, 29 Feb 1995 00:00:00 GMT", -1, 0},
        {"Sun, 00 Nov 1994 08:49:37 GMT", -1, 0},
        {"Sun, 06 Nov 1994 08:49:37 GMT x", -1, 0},
        {"Sun, 06 Nov 1994 08:49:37", -1, 0},
        {"Sunday, 06-Nov-1994 08:49:37 GMT", -1, 0},
        {"Sun Nov 6 08:49:37 1994", -1, 0},
        {"Sun Nov  6 08:49:37 94", -1, 0},
        {"Funday, 06-Nov-94 08:49:37 GMT", -1, 0},
        {"Sun,", -1, 0},
        {"Sun", -1, 0},
        {"S", -1, 0},
        {"tomorrow", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_after(&cases[i]);
}

Test(retry, an_rfc_850_year_is_this_century_unless_that_is_more_than_50_years_ahead)
{
    long long s;
    /* now = 1994: "94" is 1994; "44" is 2044 (50 years ahead, not more);
     * "45" would be 2045 (51 ahead), so it is 1945, in the past; "10" is
     * 2010, not 1910. */
    cr_assert_eq(retry_after_parse("Sunday, 06-Nov-94 08:49:38 GMT", 30, EXAMPLE_TIME, &s), 0);
    cr_assert_eq(s, 1);
    cr_assert_eq(retry_after_parse("Sunday, 06-Nov-45 08:49:38 GMT", 30, EXAMPLE_TIME, &s), 0);
    cr_assert_eq(s, 0);
    cr_assert_eq(retry_after_parse("Sunday, 06-Nov-44 08:49:37 GMT", 30, EXAMPLE_TIME, &s), 0);
    cr_assert_eq(s, 1000000000LL); /* 2044: beyond the ceiling of about 31 years */
    cr_assert_eq(retry_after_parse("Sunday, 06-Nov-10 08:49:37 GMT", 30, EXAMPLE_TIME, &s), 0);
    cr_assert_eq(s, (1289033377LL - 784111777LL));
}

Test(retry, the_value_is_read_only_within_its_length)
{
    long long s;
    cr_assert_eq(retry_after_parse("12345", 2, EXAMPLE_TIME, &s), 0);
    cr_assert_eq(s, 12);
    cr_assert_eq(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMTX", 29, EXAMPLE_TIME, &s), 0);
}
