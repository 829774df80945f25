/* Summing the rollups' histograms and reading percentiles from them
 * (stats_hist.h).
 *
 * Why the bound holds: percentile_cont of n sorted samples at p is
 * x_k + f (x_{k+1} - x_k) with k = floor(p (n - 1)) and f its fraction.
 * Here x_k and x_{k+1} are replaced by the middles of their buckets. A
 * sample v in [a, a g) and the middle a sqrt(g) differ by a factor of at
 * most sqrt(g), and so does a mix (1 - f) m_k + f m_{k+1} of two such
 * middles from the same mix of the samples (both terms are positive). A
 * sample below 0.001 ms is read as 0, off by less than 0.001 ms. */
#include "domain/stats_hist.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void hist_clear(struct hist *h)
{
    memset(h, 0, sizeof *h);
}

int hist_bucket(double ms)
{
    if (isnan(ms))
        return -1;
    if (ms < 0.001)
        return 0;
    double b = floor(8.0 * log(ms / 0.001) / log(2.0)) + 1.0;
    return b >= HIST_MAX ? HIST_MAX : (int)b;
}

/* A whole number at *s, advancing it; -1 when there is none. */
static int number_at(const char **s, long long *out)
{
    char *end;
    errno = 0;
    *out = strtoll(*s, &end, 10);
    if (end == *s || errno != 0)
        return -1;
    *s = end;
    return 0;
}

/* One array at *s, advancing past it. */
static int add_one(struct hist *h, const char **s)
{
    const char *p = *s;
    long long lo = 1, hi = -1, v;
    if (*p == '[') {
        p++;
        if (number_at(&p, &lo) < 0 || *p++ != ':' || number_at(&p, &hi) < 0 || *p++ != ']' || *p++ != '=')
            return -1;
    }
    if (*p++ != '{')
        return -1;
    long long i = lo;
    if (*p == '}') {
        *s = p + 1;
        return 0;
    }
    for (;; i++) {
        if (number_at(&p, &v) < 0 || i < 0 || i > HIST_MAX)
            return -1;
        h->n[i] += v;
        h->total += v;
        if (*p == '}')
            break;
        if (*p++ != ',')
            return -1;
    }
    if (hi >= 0 && i != hi)
        return -1;
    *s = p + 1;
    return 0;
}

int hist_add_text(struct hist *h, const char *text)
{
    if (!text)
        return 0;
    const char *p = text;
    while (*p) {
        if (add_one(h, &p) < 0)
            return -1;
        if (*p == ';')
            p++;
        else if (*p)
            return -1;
    }
    return 0;
}

/* The geometric middle of bucket i. */
static double middle(int i)
{
    return i == 0 ? 0.0 : 0.001 * pow(2.0, ((double)i - 0.5) / 8.0);
}

/* The value of the sample of 0-based rank r (r < total). */
static double at_rank(const struct hist *h, int64_t r)
{
    int64_t seen = 0;
    for (int i = 0; i <= HIST_MAX; i++) {
        seen += h->n[i];
        if (r < seen)
            return middle(i);
    }
    return middle(HIST_MAX);
}

double hist_percentile(const struct hist *h, double p)
{
    if (h->total <= 0)
        return NAN;
    double pos = p * (double)(h->total - 1);
    int64_t k = (int64_t)floor(pos);
    double f = pos - (double)k;
    double lo = at_rank(h, k);
    if (f == 0.0 || k + 1 >= h->total)
        return lo;
    return lo + f * (at_rank(h, k + 1) - lo);
}
