/* The columns in which an OTLP request's spans and events reach step 5 of
 * the store: written by otlp_plan.c, numbered as parameters by the
 * statement of otlp_sql.c (which asserts the numbers). */
#ifndef AGORA_OTLP_COLUMNS_H
#define AGORA_OTLP_COLUMNS_H

/* The spans' and events' columns, one parameter of step 5 each
 * (otlp_sql.c): PostgreSQL array literals, one element per span (per
 * event), NULL where a span has no value, expanded there by one
 * multi-argument unnest(); the attribute maps (OSC_ATTRS, OEC_DATA) are
 * JSON arrays of objects instead, read by position. */
enum otlp_span_col {
    OSC_EXEC,   /* uuid: its execution */
    OSC_SPAN,   /* text: span id in hex */
    OSC_PARENT, /* text: parent span id in hex, NULL for a root */
    OSC_NAME,   /* text */
    OSC_KIND,   /* text */
    OSC_START,  /* timestamptz */
    OSC_END,    /* timestamptz */
    OSC_DUR,    /* double precision: ms */
    OSC_STATUS, /* text: ok, error, unset */
    OSC_ATTRS,  /* JSON array: each span's attributes, an object */
    OSC_NODE,   /* text: its node's name or its nearest node ancestor's, or NULL */
    OSC_CID,    /* uuid: its node execution's client id, NULL when not a node */
    OSC_NTYPE,  /* text: the node execution's type, NULL when not a node */
    OSC_ERR,    /* text: the error message when the status is error, else NULL */
    OSC_TIN,    /* bigint: tokens in, out, cache read, cache creation (node */
    OSC_TOUT,   /* spans with usage only; NULL when absent) */
    OSC_TCR,
    OSC_TCC,
    OSC_MODEL, /* text: usage's model and provider, or NULL */
    OSC_PROV,
    OSC_COUNT
};

/* An event carries its span's execution, id and node itself, rather than
 * the span's position: step 5 then never joins the events to the spans
 * (a join of two parameter-sized sets is what a generic plan may do by
 * nested loop, BENCHMARKS.md "OpenTelemetry ingest"). */
enum otlp_event_col {
    OEC_EXEC, /* uuid: its span's execution */
    OEC_SPAN, /* text: its span's id in hex */
    OEC_NODE, /* text: its span's node name (OSC_NODE), or NULL */
    OEC_TYPE, /* text */
    OEC_TIME, /* timestamptz */
    OEC_DATA, /* JSON array: each event's data, {span_id, attributes} */
    OEC_COUNT
};

#endif
