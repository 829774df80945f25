/* The checks of an alert rule that need no database (alert_rule_check.h).
 * Each kind has a table of the fields it takes and requires; a field a
 * kind does not take is refused rather than ignored, so a rule never reads
 * other than it was written. */
#include "domain/alert_rule_check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/webhook_target.h"

const char *const alert_rule_kinds[] = {"execution_failed", "duration_above", "node_failure_rate", "stale_run",
                                        "usage_above", NULL};
const char *const alert_rule_metrics[] = {"tokens", "cost_usd", NULL};

enum field { F_NODE, F_ERROR, F_THRESHOLD, F_METRIC, F_WINDOW, F_MIN_RUNS, F_COUNT };

static const char *const field_names[F_COUNT] = {"node_name", "error_contains", "threshold", "metric",
                                                 "window_minutes", "min_runs"};

/* Per kind: the fields it takes (bit set) and those it requires. */
static const struct {
    const char *kind;
    unsigned takes, needs;
} kinds[] = {
    {"execution_failed", 1u << F_NODE | 1u << F_ERROR, 0},
    {"duration_above", 1u << F_THRESHOLD, 1u << F_THRESHOLD},
    {"node_failure_rate", 1u << F_NODE | 1u << F_THRESHOLD | 1u << F_WINDOW | 1u << F_MIN_RUNS,
     1u << F_THRESHOLD | 1u << F_WINDOW},
    {"stale_run", 1u << F_WINDOW, 1u << F_WINDOW},
    {"usage_above", 1u << F_THRESHOLD | 1u << F_METRIC | 1u << F_WINDOW,
     1u << F_THRESHOLD | 1u << F_METRIC | 1u << F_WINDOW},
};

static int problem(struct alert_rule_problem *p, const char *path, const char *why)
{
    snprintf(p->path, sizeof p->path, "%s", path);
    p->why = why;
    return -1;
}

/* The URL's host, when an address, on a network the policy allows. */
static const char *address_refusal(const struct webhook_url *u, const struct webhook_policy *policy)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, u->host, &v4->sin_addr) == 1)
        v4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, u->host, &v6->sin6_addr) == 1)
        v6->sin6_family = AF_INET6;
    else
        return "the URL's address cannot be read";
    if (webhook_addr_allowed((struct sockaddr *)&ss, policy->allow))
        return NULL;
    switch (webhook_addr_net((struct sockaddr *)&ss)) {
    case WN_LOOPBACK: return "the URL's address is a loopback address, which this server does not deliver to";
    case WN_PRIVATE: return "the URL's address is a private address, which this server does not deliver to";
    case WN_LINK_LOCAL: return "the URL's address is a link-local address, which this server does not deliver to";
    default: return "the URL's address is a reserved address, which no alert is delivered to";
    }
}

static int check_channels(const struct alert_rule_input *in, const struct webhook_policy *policy,
                          struct alert_rule_problem *p)
{
    char path[40];
    if (in->n_channels == 0)
        return problem(p, "channels", "a rule needs at least one channel");
    for (size_t i = 0; i < in->n_channels; i++) {
        struct webhook_url u;
        const char *why;
        snprintf(path, sizeof path, "channels[%zu].url", i);
        if (webhook_url_parse(in->channels[i].url, policy->allow_http, &u, &why) < 0)
            return problem(p, path, why);
        if (u.literal && (why = address_refusal(&u, policy)) != NULL)
            return problem(p, path, why);
    }
    return 0;
}

/* text (a JSON number the handler read) at least min. */
static bool at_least(const char *text, double min)
{
    return strtod(text, NULL) >= min;
}

int alert_rule_check(const struct alert_rule_input *in, const struct webhook_policy *policy,
                     struct alert_rule_problem *p)
{
    const char *values[F_COUNT] = {in->node_name, in->error_contains, in->threshold, in->metric,
                                   in->window_minutes, in->min_runs};
    size_t k = 0;
    while (k < sizeof kinds / sizeof kinds[0] && strcmp(kinds[k].kind, in->kind) != 0)
        k++;
    if (k == sizeof kinds / sizeof kinds[0])
        return problem(p, "kind", "kind is not a kind of rule");
    for (int f = 0; f < F_COUNT; f++) {
        if (values[f] && !(kinds[k].takes & (1u << f)))
            return problem(p, field_names[f], "this kind of rule does not take this field");
        if (!values[f] && (kinds[k].needs & (1u << f)))
            return problem(p, field_names[f], "this kind of rule needs this field");
    }
    if (in->window_minutes && !at_least(in->window_minutes, 1))
        return problem(p, "window_minutes", "window_minutes must be from 1 to 10080");
    if (in->min_runs && !at_least(in->min_runs, 1))
        return problem(p, "min_runs", "min_runs must be at least 1");
    if (in->threshold && strcmp(in->kind, "node_failure_rate") == 0 && !(strtod(in->threshold, NULL) < 100))
        return problem(p, "threshold", "a failure rate's threshold is a percentage below 100");
    return check_channels(in, policy, p);
}
