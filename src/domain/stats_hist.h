/* Duration histograms of the statistics rollups (sql/011_stats_rollups.sql),
 * read back: the stored bigint[] texts summed, and percentiles estimated
 * from the sum. Pure (no I/O), so the unit tests check the error bound.
 *
 * Buckets are fixed and log-scale, growth factor g = 2^(1/8): bucket 0 holds
 * durations below 0.001 ms, bucket i >= 1 holds [0.001 g^(i-1), 0.001 g^i)
 * ms, bucket HIST_MAX everything from its lower bound on. The bucket
 * numbers are the arrays' subscripts, as agora.hist_bucket() assigns them. */
#ifndef AGORA_STATS_HIST_H
#define AGORA_STATS_HIST_H

#include <stdint.h>

#define HIST_MAX 400

/* The promise of hist_percentile: for samples of at least 0.001 ms, below
 * bucket HIST_MAX, the estimate e of the exact percentile x (PostgreSQL's
 * percentile_cont of the same samples) satisfies |e - x| <= HIST_REL_ERROR x
 * + HIST_ABS_ERROR_MS. sqrt(g) - 1 = 2^(1/16) - 1. */
#define HIST_REL_ERROR 0.0443
#define HIST_REL_ERROR_TEXT "0.0443"
#define HIST_ABS_ERROR_MS 0.001

struct hist {
    int64_t n[HIST_MAX + 1];
    int64_t total;
};

void hist_clear(struct hist *h);
/* The bucket of a duration in ms, as agora.hist_bucket() (-1 for NaN). */
int hist_bucket(double ms);
/* Adds the arrays in text, PostgreSQL's output of bigint[] ("{1,2}" with
 * lower bound 1, "[37:39]={1,0,2}" otherwise), several separated by ';'
 * (string_agg). NULL or "" adds nothing. 0, or -1 when text is not such a
 * list or names a bucket outside 0..HIST_MAX (h is then partly added). */
int hist_add_text(struct hist *h, const char *text);
/* The p-quantile (0 <= p <= 1) in ms, interpolated between ranks as
 * percentile_cont is, each rank's value taken as its bucket's geometric
 * middle (0 for bucket 0). NaN for an empty histogram. */
double hist_percentile(const struct hist *h, double p);

#endif
