/* Unit tests for alert_rule_check.c: the fields each kind of rule takes
 * and needs, their ranges, and the webhook URLs a rule may be saved with
 * under the operator's policy (refusals name the field's path). */
#include <criterion/criterion.h>
#include <string.h>

#include "domain/alert_rule_check.h"
#include "domain/webhook_target.h"

TestSuite(alert_rule_check);

static const struct webhook_policy strict = {0, false};
static const struct webhook_policy tests_policy = {WEBHOOK_ALLOW_LOOPBACK, true};

static struct alert_rule_input rule(const char *kind)
{
    struct alert_rule_input in = {.name = "r", .kind = kind, .n_channels = 1};
    in.channels[0].url = "https://hooks.example.com/x";
    return in;
}

static void assert_refused(const struct alert_rule_input *in, const struct webhook_policy *pol, const char *path)
{
    struct alert_rule_problem p = {{0}, NULL};
    cr_assert_eq(alert_rule_check(in, pol, &p), -1, "expected %s to be refused", path);
    cr_assert_str_eq(p.path, path);
    cr_assert_not_null(p.why);
}

static void assert_accepted(const struct alert_rule_input *in, const struct webhook_policy *pol)
{
    struct alert_rule_problem p = {{0}, NULL};
    cr_assert_eq(alert_rule_check(in, pol, &p), 0, "refused at %s: %s", p.path, p.why ? p.why : "");
}

Test(alert_rule_check, each_kind_with_its_required_fields_is_accepted)
{
    struct alert_rule_input a = rule("execution_failed");
    a.node_name = "fetch";
    a.error_contains = "timeout";
    assert_accepted(&a, &strict);
    struct alert_rule_input b = rule("duration_above");
    b.threshold = "1500";
    assert_accepted(&b, &strict);
    struct alert_rule_input c = rule("node_failure_rate");
    c.threshold = "25";
    c.window_minutes = "15";
    c.min_runs = "10";
    assert_accepted(&c, &strict);
    struct alert_rule_input d = rule("stale_run");
    d.window_minutes = "30";
    assert_accepted(&d, &strict);
    struct alert_rule_input e = rule("usage_above");
    e.threshold = "2.5";
    e.metric = "cost_usd";
    e.window_minutes = "60";
    assert_accepted(&e, &strict);
}

/* Each row is a rule refused at one field: one its kind needs is missing,
 * one its kind does not take is there, or one is out of range. */
Test(alert_rule_check, a_refused_field_is_named)
{
    static const struct {
        struct alert_rule_input in;
        const char *path;
    } rows[] = {
        /* Missing. */
        {{.kind = "duration_above"}, "threshold"},
        {{.kind = "node_failure_rate", .threshold = "25"}, "window_minutes"},
        {{.kind = "usage_above", .threshold = "1", .window_minutes = "5"}, "metric"},
        /* Not the kind's. */
        {{.kind = "execution_failed", .threshold = "5"}, "threshold"},
        {{.kind = "stale_run", .window_minutes = "30", .node_name = "x"}, "node_name"},
        {{.kind = "no_such_kind"}, "kind"},
        /* Out of range. */
        {{.kind = "node_failure_rate", .threshold = "100", .window_minutes = "15"}, "threshold"},
        {{.kind = "node_failure_rate", .threshold = "50", .window_minutes = "0"}, "window_minutes"},
        {{.kind = "node_failure_rate", .threshold = "50", .window_minutes = "1", .min_runs = "0"}, "min_runs"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct alert_rule_input in = rows[i].in;
        struct alert_rule_input base = rule(in.kind);
        in.name = base.name;
        in.n_channels = base.n_channels;
        in.channels[0] = base.channels[0];
        assert_refused(&in, &strict, rows[i].path);
    }
}

Test(alert_rule_check, channels_are_required_and_checked_one_by_one)
{
    struct alert_rule_input a = rule("execution_failed");
    a.n_channels = 0;
    assert_refused(&a, &strict, "channels");
    a.n_channels = 2;
    a.channels[1].url = "http://hooks.example.com/";
    assert_refused(&a, &strict, "channels[1].url");   /* https only */
    a.channels[1].url = "https://user:pw@hooks.example.com/";
    assert_refused(&a, &strict, "channels[1].url");
}

Test(alert_rule_check, internal_addresses_are_refused_unless_the_operator_allows_them)
{
    static const char *const internal[] = {"https://127.0.0.1/", "https://[::1]/", "https://10.0.0.1/",
                                           "https://169.254.169.254/latest", "https://[fe80::1]/",
                                           "https://[::ffff:127.0.0.1]/", "https://0.0.0.0/"};
    for (size_t i = 0; i < sizeof internal / sizeof internal[0]; i++) {
        struct alert_rule_input a = rule("execution_failed");
        a.channels[0].url = internal[i];
        assert_refused(&a, &strict, "channels[0].url");
    }
    struct alert_rule_input a = rule("execution_failed");
    a.channels[0].url = "http://127.0.0.1:8099/hook";
    assert_accepted(&a, &tests_policy);
    /* Loopback allowed says nothing of the others. */
    a.channels[0].url = "http://169.254.169.254/";
    assert_refused(&a, &tests_policy, "channels[0].url");
    a.channels[0].url = "http://10.1.2.3/";
    assert_refused(&a, &tests_policy, "channels[0].url");
    /* A name is checked at delivery, after DNS. */
    a.channels[0].url = "https://localhost/";
    assert_accepted(&a, &strict);
}
