/* Unit tests for audit.c's query check (audit_list_parse): the page size,
 * and cursors that belong to the log of that organization only. */
#include <criterion/criterion.h>
#include <string.h>

#include "domain/audit.h"

#define ORG "11111111-1111-4111-8111-111111111111"
#define OTHER "22222222-2222-4222-8222-222222222222"

TestSuite(audit);

/* A cursor of org's log after the row id (as audit_list hands them out). */
static void cursor_of(const char *org, const char *id, char text[CURSOR_TEXT_MAX + 1])
{
    struct audit_list_params p;
    const char *path;
    char msg[128];
    cr_assert_eq(audit_list_parse(org, NULL, NULL, &p, &path, msg, sizeof msg), 0);
    struct cursor c = {.scope = p.scope, .micros = 0};
    snprintf(c.id, sizeof c.id, "%s", id);
    cursor_encode(&c, text);
}

static void assert_refused(const char *org, const char *limit, const char *cursor, const char *want_path)
{
    struct audit_list_params p;
    const char *path = NULL;
    char msg[128] = "";
    cr_assert_eq(audit_list_parse(org, limit, cursor, &p, &path, msg, sizeof msg), -1, "accepted limit %s cursor %s",
                 limit ? limit : "-", cursor ? cursor : "-");
    cr_assert_str_eq(path, want_path);
    cr_assert(msg[0], "no message");
}

Test(audit, without_parameters_a_page_is_the_default_size_from_the_newest)
{
    struct audit_list_params p;
    const char *path;
    char msg[128];
    cr_assert_eq(audit_list_parse(ORG, NULL, NULL, &p, &path, msg, sizeof msg), 0);
    cr_assert_eq(p.limit, AUDIT_LIST_DEFAULT);
    cr_assert_not(p.has_cursor);
}

Test(audit, limits_are_strict_decimals_from_1_to_the_maximum)
{
    struct audit_list_params p;
    const char *path;
    char msg[128];
    cr_assert_eq(audit_list_parse(ORG, "200", NULL, &p, &path, msg, sizeof msg), 0);
    cr_assert_eq(p.limit, 200);
    const char *bad[] = {"0", "201", "-1", "1.5", " 5", "5 ", "", "0x10", "9999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_refused(ORG, bad[i], NULL, "limit");
}

Test(audit, a_cursor_of_this_log_gives_back_its_row_id)
{
    char text[CURSOR_TEXT_MAX + 1];
    struct audit_list_params p;
    const char *path;
    char msg[128];
    cursor_of(ORG, "9223372036854775807", text);
    cr_assert_eq(audit_list_parse(ORG, "3", text, &p, &path, msg, sizeof msg), 0, "%s", msg);
    cr_assert(p.has_cursor);
    cr_assert_eq(p.after_id, 9223372036854775807LL);
    /* The organization's id is canonical in the scope: case does not matter. */
    cursor_of("11111111-1111-4111-8111-111111111111", "42", text);
    cr_assert_eq(audit_list_parse("11111111-1111-4111-8111-111111111111", NULL, text, &p, &path, msg, sizeof msg), 0);
    cr_assert_eq(p.after_id, 42);
}

Test(audit, a_cursor_of_another_organization_or_a_bad_position_is_refused)
{
    char text[CURSOR_TEXT_MAX + 1];
    cursor_of(OTHER, "42", text);
    assert_refused(ORG, NULL, text, "cursor");
    const char *ids[] = {"0", "-1", "abc", "", "9223372036854775808", "12345678-1234-4234-8234-123456789012"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        cursor_of(ORG, ids[i], text);
        assert_refused(ORG, NULL, text, "cursor");
    }
    assert_refused(ORG, NULL, "not-a-cursor", "cursor");
    /* Another list's cursor (the execution list's, a timestamp position). */
    struct cursor c = {.scope = cursor_scope_begin("executions"), .micros = 1700000000000000LL};
    snprintf(c.id, sizeof c.id, "%s", ORG);
    cursor_encode(&c, text);
    assert_refused(ORG, NULL, text, "cursor");
}
