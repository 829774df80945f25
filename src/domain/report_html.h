/* The pure pieces of the run report (execution_report.c): HTML escaping
 * and the Gantt chart's geometry. No database, no HTTP: unit-tested
 * (tests/unit/test_report_html.c). */
#ifndef AGORA_REPORT_HTML_H
#define AGORA_REPORT_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* Width of a Gantt row's SVG viewBox: bars are placed in 0..GANTT_WIDTH. */
#define GANTT_WIDTH 1000.0
/* A bar never gets narrower than this, so an instant still shows. */
#define GANTT_MIN_WIDTH 1.0

/* Appends s (len bytes) to out as HTML text, safe inside an element and
 * inside a quoted attribute: & < > " ' become entities; control
 * characters other than tab and newline become U+FFFD, as does any byte
 * that is not part of well-formed UTF-8. */
void html_escape(struct buf *out, const char *s, size_t len);

/* One node execution, in milliseconds from the run's start (an offset
 * may be negative: clocks skew). A missing phase or duration is 0 or
 * negative (SQL null). */
struct gantt_input {
    bool started;  /* false: no started_at, so no offset */
    double offset_ms;
    double prep_ms, exec_ms, post_ms;
    double duration_ms;  /* completed minus started */
};

/* A row's bars in viewBox units: x, then the three phases' widths (0 when
 * a phase is absent). A node that reported no phases but has a duration
 * is drawn as one exec bar of that duration. */
struct gantt_bars {
    double x, prep, exec, post;
};

/* Places in's bars on a chart spanning range_ms. false when the node has
 * no start (nothing to draw). Bars are clamped to the chart. */
bool gantt_place(const struct gantt_input *in, double range_ms, struct gantt_bars *out);

#endif
