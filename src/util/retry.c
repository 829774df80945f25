/* Retry delays and Retry-After (see retry.h). */
#include "util/retry.h"

#include <stdbool.h>
#include <string.h>

/* The longest wait a Retry-After can say, in seconds (about 31 years):
 * larger numbers are read as this, so no arithmetic overflows. */
#define RETRY_AFTER_CEILING 1000000000LL

uint32_t retry_delay_ms(unsigned attempt, uint32_t rnd)
{
    uint32_t d = RETRY_FIRST_MS;
    for (unsigned i = 1; i < attempt && d < RETRY_MAX_MS; i++)
        d *= 2;
    if (d > RETRY_MAX_MS)
        d = RETRY_MAX_MS;
    uint32_t half = d / 2;
    return half + rnd % (d - half + 1);
}

/* A cursor over the header value. */
struct cur {
    const char *p, *end;
};

static bool lit(struct cur *c, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* Exactly n digits. */
static bool digits(struct cur *c, int n, int *out)
{
    int v = 0;
    if (c->end - c->p < n)
        return false;
    for (int i = 0; i < n; i++) {
        char d = c->p[i];
        if (d < '0' || d > '9')
            return false;
        v = v * 10 + (d - '0');
    }
    c->p += n;
    *out = v;
    return true;
}

/* One of the names (HTTP-dates are case-sensitive); its index. */
static bool one_of(struct cur *c, const char *const *names, int count, int *index)
{
    for (int i = 0; i < count; i++)
        if (lit(c, names[i])) {
            *index = i;
            return true;
        }
    return false;
}

static const char *const short_days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const long_days[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static bool month(struct cur *c, int *m)
{
    return one_of(c, months, 12, m);
}

/* "HH:MM:SS" (a leap second's 60 allowed). */
static bool time_of_day(struct cur *c, int *secs)
{
    int h, m, s;
    if (!digits(c, 2, &h) || !lit(c, ":") || !digits(c, 2, &m) || !lit(c, ":") || !digits(c, 2, &s) ||
        h > 23 || m > 59 || s > 60)
        return false;
    *secs = h * 3600 + m * 60 + s;
    return true;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), m 0..11. */
static long long days_from_civil(int y, int m, int d)
{
    y -= m < 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - (int)era * 400;
    int mp = (m + 10) % 12;
    int doy = (153 * mp + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool valid_date(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return y >= 1 && d >= 1 && d <= mdays[m] + (m == 1 && leap(y));
}

/* The three HTTP-date forms; the date as Unix seconds. */
static bool http_date(struct cur *c, time_t now, long long *when)
{
    int wd, d, m, y, secs;
    const char *start = c->p;
    if (one_of(c, long_days, 7, &wd) && lit(c, ", ")) {
        /* RFC 850: the two-digit year is the one in this century or the
         * next that is at most 50 years ahead, else the most recent past
         * one (RFC 9110 section 5.6.7). */
        if (!digits(c, 2, &d) || !lit(c, "-") || !month(c, &m) || !lit(c, "-") || !digits(c, 2, &y) ||
            !lit(c, " ") || !time_of_day(c, &secs) || !lit(c, " GMT"))
            return false;
        long long now_year = 1970 + (long long)now / 31556952;
        y += (int)(now_year / 100) * 100;
        if (y > now_year + 50)
            y -= 100;
        else if (y + 100 <= now_year + 50)
            y += 100;
    } else {
        c->p = start;
        if (!one_of(c, short_days, 7, &wd))
            return false;
        if (lit(c, ", ")) { /* IMF-fixdate */
            if (!digits(c, 2, &d) || !lit(c, " ") || !month(c, &m) || !lit(c, " ") || !digits(c, 4, &y) ||
                !lit(c, " ") || !time_of_day(c, &secs) || !lit(c, " GMT"))
                return false;
        } else { /* asctime: the day is two digits or a space and one */
            if (!lit(c, " ") || !month(c, &m) || !lit(c, " "))
                return false;
            if (!(lit(c, " ") ? digits(c, 1, &d) : digits(c, 2, &d)) || !lit(c, " ") || !time_of_day(c, &secs) ||
                !lit(c, " ") || !digits(c, 4, &y))
                return false;
        }
    }
    if (!valid_date(y, m, d))
        return false;
    *when = days_from_civil(y, m, d) * 86400 + secs;
    return true;
}

static bool ows(char ch)
{
    return ch == ' ' || ch == '\t';
}

int retry_after_parse(const char *value, size_t len, time_t now, long long *seconds)
{
    struct cur c = {value, value + len};
    while (c.p < c.end && ows(*c.p))
        c.p++;
    while (c.end > c.p && ows(c.end[-1]))
        c.end--;
    if (c.p == c.end)
        return -1;
    if (*c.p >= '0' && *c.p <= '9') {
        long long v = 0;
        for (; c.p < c.end; c.p++) {
            if (*c.p < '0' || *c.p > '9')
                return -1;
            if (v < RETRY_AFTER_CEILING)
                v = v * 10 + (*c.p - '0');
        }
        *seconds = v < RETRY_AFTER_CEILING ? v : RETRY_AFTER_CEILING;
        return 0;
    }
    long long when;
    if (!http_date(&c, now, &when) || c.p != c.end)
        return -1;
    long long wait = when - (long long)now;
    *seconds = wait < 0 ? 0 : wait < RETRY_AFTER_CEILING ? wait : RETRY_AFTER_CEILING;
    return 0;
}
