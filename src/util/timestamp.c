/* RFC 3339 timestamps: a strict, hand-written parser (no sscanf, no
 * strptime, no locale, no time zone database) and the canonical formatter.
 *
 * Accepted: YYYY-MM-DD, then 'T', 't' or one space, then hh:mm:ss, then an
 * optional '.' and 1..9 digits, then 'Z', 'z', +hh:mm, -hh:mm or nothing
 * (nothing means UTC: the reference client's form). Every field is range
 * checked against the calendar.
 *
 * Two rules are narrower than RFC 3339, both because PostgreSQL stores what
 * this parser accepts and must never refuse it:
 * - offsets are at most 15:59 either way (PostgreSQL's MAX_TZDISP_HOUR is
 *   15: "+16:00" is "time zone displacement out of range"; real zones span
 *   -12:00..+14:00);
 * - the instant, in UTC, lies in 0001-01-01T00:00:00Z ..
 *   9999-12-31T23:59:59.999999Z, so it always formats back to four-digit
 *   years ("0001-01-01T00:00:00+01:00" is year 0 in UTC: refused).
 *
 * Fractions beyond microseconds round half up on the 7th digit
 * (.1234565 -> .123457); a carry may roll into the next second, day, year.
 * Note PostgreSQL itself rounds with rint() on a double, so exact half-way
 * cases may differ from it by one microsecond; nothing here depends on
 * that (ingest stores PostgreSQL's own reading of the text).
 *
 * Calendar arithmetic is Howard Hinnant's days_from_civil / civil_from_days
 * (proleptic Gregorian, exact for any year, floor division throughout). */
#include "util/timestamp.h"

#include <stdbool.h>

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_SEC)
#define MAX_OFFSET_HOURS 15

/* days_from_civil(1, 1, 1) and days_from_civil(10000, 1, 1). */
#define DAYS_0001 INT64_C(-719162)
#define DAYS_10000 INT64_C(2932897)
_Static_assert(TS_MIN_MICROS == DAYS_0001 * US_PER_DAY && TS_MAX_MICROS == DAYS_10000 * US_PER_DAY - 1,
               "timestamp.h's range is 0001-01-01 to 9999-12-31T23:59:59.999999Z");

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);                        /* [0, 399] */
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

/* The date of z days since 1970-01-01. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);                          /* [0, 146096] */
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                /* [0, 365] */
    const unsigned mp = (5 * doy + 2) / 153;                                     /* [0, 11] */
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(unsigned y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned char len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

/* Reads exactly n ASCII digits at s[*i] into *v. False (and *i unchanged
 * in meaning) when one of them is not a digit or the text ends. */
static bool digits(const char *s, size_t len, size_t *i, unsigned n, unsigned *v)
{
    unsigned acc = 0;
    if (len - *i < n)
        return false;
    for (unsigned k = 0; k < n; k++) {
        char c = s[*i + k];
        if (c < '0' || c > '9')
            return false;
        acc = acc * 10 + (unsigned)(c - '0');
    }
    *i += n;
    *v = acc;
    return true;
}

static bool expect(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c)
        return false;
    (*i)++;
    return true;
}

int ts_parse(const char *s, size_t len, int64_t *micros)
{
    unsigned year, mon, day, hour, min, sec;
    size_t i = 0;
    if (!s)
        return -1;
    if (!digits(s, len, &i, 4, &year) || !expect(s, len, &i, '-') ||
        !digits(s, len, &i, 2, &mon) || !expect(s, len, &i, '-') ||
        !digits(s, len, &i, 2, &day))
        return -1;
    if (year < 1 || mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon))
        return -1;
    if (i >= len || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
        return -1;
    i++;
    if (!digits(s, len, &i, 2, &hour) || !expect(s, len, &i, ':') ||
        !digits(s, len, &i, 2, &min) || !expect(s, len, &i, ':') ||
        !digits(s, len, &i, 2, &sec))
        return -1;
    if (hour > 23 || min > 59 || sec > 59)
        return -1;

    /* Fraction: 1..9 digits, kept as microseconds plus a rounding bit. */
    int64_t frac = 0;
    if (i < len && s[i] == '.') {
        unsigned n = 0;
        int round_digit = 0;
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, n++) {
            if (n < 6)
                frac = frac * 10 + (s[i] - '0');
            else if (n == 6)
                round_digit = s[i] - '0';
        }
        if (n < 1 || n > 9)
            return -1;
        for (unsigned k = n; k < 6; k++)
            frac *= 10;
        if (round_digit >= 5)
            frac++; /* may reach 1000000: carried by the addition below */
    }

    /* Zone: none (UTC), Z/z, or +hh:mm / -hh:mm with the colon. */
    int64_t offset_s = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1;
        unsigned oh, om;
        i++;
        if (!digits(s, len, &i, 2, &oh) || !expect(s, len, &i, ':') || !digits(s, len, &i, 2, &om))
            return -1;
        if (oh > MAX_OFFSET_HOURS || om > 59)
            return -1;
        offset_s = sign * (int64_t)(oh * 3600 + om * 60);
    }
    if (i != len)
        return -1;

    int64_t secs = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec - offset_s;
    int64_t us = secs * US_PER_SEC + frac;
    if (us < TS_MIN_MICROS || us > TS_MAX_MICROS)
        return -1;
    *micros = us;
    return 0;
}

/* Writes v as exactly n decimal digits (v < 10^n) at p. */
static char *put_digits(char *p, uint64_t v, unsigned n)
{
    for (unsigned k = n; k > 0; k--) {
        p[k - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

/* Values outside 0001..9999 cannot be written with four-digit years; ts_parse
 * never produces them, and they are clamped to the nearest end here rather
 * than printed wrong. */
void ts_format(int64_t micros, char out[TS_TEXT_LEN + 1])
{
    if (micros < TS_MIN_MICROS)
        micros = TS_MIN_MICROS;
    if (micros > TS_MAX_MICROS)
        micros = TS_MAX_MICROS;
    /* Floor division: -1 is 1969-12-31T23:59:59.999999Z. */
    int64_t days = micros / US_PER_DAY;
    int64_t rem = micros % US_PER_DAY;
    if (rem < 0) {
        rem += US_PER_DAY;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    uint64_t r = (uint64_t)rem;
    uint64_t sec_of_day = r / (uint64_t)US_PER_SEC;
    char *p = out;
    p = put_digits(p, (uint64_t)y, 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p++ = 'T';
    p = put_digits(p, sec_of_day / 3600, 2);
    *p++ = ':';
    p = put_digits(p, sec_of_day / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, sec_of_day % 60, 2);
    *p++ = '.';
    p = put_digits(p, r % (uint64_t)US_PER_SEC, 6);
    *p++ = 'Z';
    *p = '\0';
}
