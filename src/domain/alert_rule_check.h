/* An alert rule as a client sends it (README "Alerts"), and the checks
 * that need no database: which fields a kind takes, their ranges, and the
 * webhook URLs (webhook_target.h). Pure, so the unit tests cover every
 * rule; the handler reads the body's types, this says what the values
 * mean. */
#ifndef AGORA_ALERT_RULE_CHECK_H
#define AGORA_ALERT_RULE_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/* A rule's channels and the lengths sql/014 allows. */
#define ALERT_CHANNELS_MAX 10
#define ALERT_TEXT_MAX 200
#define ALERT_SECRET_MAX 512
#define ALERT_WINDOW_MAX 10080   /* minutes: a week */
#define ALERT_COOLDOWN_DEFAULT "60"

struct alert_channel_input {
    const char *url;     /* required */
    const char *secret;  /* NULL: unsigned deliveries (or, on update, keep the secret of the same URL) */
};

/* All borrowed; numbers as their JSON text (json_decimal_or_reply), NULL
 * when absent. */
struct alert_rule_input {
    const char *name;
    const char *kind;            /* one of alert_rule_kinds */
    const char *workflow_id;     /* optional for every kind */
    const char *node_name;       /* execution_failed, node_failure_rate */
    const char *error_contains;  /* execution_failed */
    const char *threshold;       /* duration_above (ms), node_failure_rate (percent), usage_above */
    const char *metric;          /* usage_above: tokens or cost_usd */
    const char *window_minutes;  /* node_failure_rate, usage_above, stale_run (minutes without telemetry) */
    const char *min_runs;        /* node_failure_rate; 1 when absent */
    const char *cooldown_minutes;
    struct alert_channel_input channels[ALERT_CHANNELS_MAX];
    size_t n_channels;
};

extern const char *const alert_rule_kinds[];   /* NULL-terminated */
extern const char *const alert_rule_metrics[]; /* NULL-terminated */

/* Where a rule may deliver: webhook_target.h's AGORA_WEBHOOK_ALLOW bits,
 * and whether http:// is allowed (AGORA_WEBHOOK_ALLOW_HTTP). */
struct webhook_policy {
    unsigned allow;
    bool allow_http;
};

/* What is wrong with a rule: the field's path ("threshold",
 * "channels[1].url") and why (static text). */
struct alert_rule_problem {
    char path[40];
    const char *why;
};

/* 0 when in is a complete, consistent rule, else -1 with *p. A URL with
 * an address for its host must be on a network the policy allows; a name
 * is checked at every delivery, after DNS. */
int alert_rule_check(const struct alert_rule_input *in, const struct webhook_policy *policy,
                     struct alert_rule_problem *p);

#endif
