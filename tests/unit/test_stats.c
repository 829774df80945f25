/* Unit tests of the statistics' pure parts: the histograms' text, buckets
 * and percentile bound (stats_hist.c) and the window rules (stats.c). The
 * bound against PostgreSQL's own percentile_cont is checked end to end by
 * tests/integration/test_stats.py. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "domain/stats.h"
#include "domain/stats_hist.h"

TestSuite(stats);

#define HOUR (3600LL * 1000000LL)
#define DAY (24 * HOUR)

Test(stats, buckets_follow_the_sql_rule)
{
    cr_assert_eq(hist_bucket(0.0), 0);
    cr_assert_eq(hist_bucket(-5.0), 0);
    cr_assert_eq(hist_bucket(0.0009), 0);
    cr_assert_eq(hist_bucket(0.001), 1);
    cr_assert_eq(hist_bucket(0.002), 9);
    cr_assert_eq(hist_bucket(1e30), HIST_MAX);
    cr_assert_eq(hist_bucket(NAN), -1);
}

Test(stats, arrays_with_and_without_bounds_add_up)
{
    struct hist h;
    hist_clear(&h);
    cr_assert_eq(hist_add_text(&h, "{1,2}"), 0);
    cr_assert_eq(hist_add_text(&h, "[2:4]={5,0,7};[400:400]={1}"), 0);
    cr_assert_eq(hist_add_text(&h, NULL), 0);
    cr_assert_eq(h.n[1], 1);
    cr_assert_eq(h.n[2], 7);
    cr_assert_eq(h.n[4], 7);
    cr_assert_eq(h.n[400], 1);
    cr_assert_eq(h.total, 16);
}

Test(stats, malformed_arrays_are_refused)
{
    static const char *const bad[] = {"1,2", "{1,2", "[3:4]={1}", "[401:401]={1}", "{1;2}", "{a}", "[0:0]={1}x"};
    struct hist h;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hist_clear(&h);
        cr_assert_eq(hist_add_text(&h, bad[i]), -1, "%s", bad[i]);
    }
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* percentile_cont, as PostgreSQL computes it. */
static double exact(const double *sorted, size_t n, double p)
{
    double pos = p * (double)(n - 1);
    size_t k = (size_t)floor(pos);
    double f = pos - (double)k;
    return k + 1 < n ? sorted[k] + f * (sorted[k + 1] - sorted[k]) : sorted[k];
}

Test(stats, percentiles_stay_within_the_documented_bound)
{
    static const double ps[] = {0.0, 0.01, 0.5, 0.9, 0.95, 0.99, 1.0};
    srand(7);
    for (int trial = 0; trial < 200; trial++) {
        size_t n = 1 + (size_t)(rand() % 500);
        double *v = malloc(n * sizeof *v);
        struct hist h;
        hist_clear(&h);
        for (size_t i = 0; i < n; i++) {
            /* log-uniform from 0.001 ms to 10 minutes, a few exact repeats */
            v[i] = trial % 5 == 0 && i % 3 ? 42.0 : 0.001 * pow(10.0, 8.7 * rand() / (double)RAND_MAX);
            h.n[hist_bucket(v[i])]++;
            h.total++;
        }
        qsort(v, n, sizeof *v, cmp);
        for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
            double x = exact(v, n, ps[k]), e = hist_percentile(&h, ps[k]);
            cr_assert_leq(fabs(e - x), HIST_REL_ERROR * x + HIST_ABS_ERROR_MS, "n=%zu p=%g exact=%g est=%g", n,
                          ps[k], x, e);
        }
        free(v);
    }
}

Test(stats, an_empty_histogram_has_no_percentile)
{
    struct hist h;
    hist_clear(&h);
    cr_assert(isnan(hist_percentile(&h, 0.5)));
}

Test(stats, windows_are_rounded_to_their_buckets)
{
    struct stats_window w;
    const char *path, *why;
    int64_t since = 10 * DAY + 5 * HOUR + 7, until = 12 * DAY + 1;
    cr_assert_eq(stats_window_make(&since, &until, "day", 0, &w, &path, &why), 0);
    cr_assert_eq(w.since_us, 10 * DAY);
    cr_assert_eq(w.until_us, 13 * DAY);
    cr_assert_eq(stats_window_make(&since, &until, "hour", 0, &w, &path, &why), 0);
    cr_assert_eq(w.since_us, 10 * DAY + 5 * HOUR);
    cr_assert_eq(w.until_us, 12 * DAY + HOUR);
    cr_assert_eq(stats_window_make(NULL, NULL, NULL, 40 * DAY, &w, &path, &why), 0);
    cr_assert_eq(w.bucket, STATS_DAY);
    cr_assert_eq(w.since_us, 10 * DAY);
    cr_assert_eq(w.until_us, 40 * DAY);
}

Test(stats, bad_windows_name_their_parameter)
{
    struct stats_window w;
    const char *path, *why;
    int64_t since = 10 * DAY, until = 10 * DAY, far = 100 * DAY;
    cr_assert_eq(stats_window_make(&since, &until, NULL, 0, &w, &path, &why), -1);
    cr_assert_str_eq(path, "since");
    cr_assert_eq(stats_window_make(NULL, NULL, "week", 0, &w, &path, &why), -1);
    cr_assert_str_eq(path, "bucket");
    cr_assert_eq(stats_window_make(&since, &far, "hour", 0, &w, &path, &why), -1);
    cr_assert_str_eq(path, "since");
    cr_assert_eq(stats_window_make(NULL, &since, "day", 0, &w, &path, &why), 0);
    cr_assert_eq(stats_window_make(&far, NULL, "day", 0, &w, &path, &why), -1);
    cr_assert_str_eq(path, "since");
}
