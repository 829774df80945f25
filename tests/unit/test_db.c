/* Unit tests for db.c's db_status_from_sqlstate: how PostgreSQL's
 * SQLSTATEs map to the statuses the HTTP layer turns into 503, 409, 404,
 * 403, 422 and 500 (test_errors.c checks that mapping). No server is
 * needed. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "db/db.h"

/* Parameters hold no pointers: Criterion runs each case in a re-executed
 * process, where addresses of string literals may differ (ASLR). */
struct state_case {
    char sqlstate[8];
    enum db_status want;
    char what[64];
};

TestSuite(db);

ParameterizedTestParameters(db, each_sqlstate_maps_to_the_status_handlers_expect)
{
    static struct state_case cases[] = {
        {"08000", DB_UNAVAILABLE, "connection exception"},
        {"08006", DB_UNAVAILABLE, "connection failure"},
        {"57P01", DB_UNAVAILABLE, "admin shutdown"},
        {"57P02", DB_UNAVAILABLE, "crash shutdown"},
        {"57P03", DB_UNAVAILABLE, "cannot connect now"},
        {"53300", DB_UNAVAILABLE, "too many connections"},
        {"53100", DB_UNAVAILABLE, "disk full"},
        {"57014", DB_TIMEOUT, "statement timeout"},
        {"55P03", DB_TIMEOUT, "lock not available"},
        {"23505", DB_CONFLICT, "unique violation"},
        {"40001", DB_CONFLICT, "serialization failure"},
        {"40P01", DB_CONFLICT, "deadlock"},
        {"42501", DB_FORBIDDEN, "insufficient privilege (RLS WITH CHECK)"},
        {"23503", DB_NOT_FOUND, "foreign key violation"},
        {"22P02", DB_INVALID, "invalid text representation"},
        {"22007", DB_INVALID, "invalid datetime format"},
        {"22021", DB_INVALID, "invalid byte sequence"},
        {"22003", DB_INVALID, "numeric out of range"},
        {"23514", DB_INVALID, "check violation"},
        {"23502", DB_INVALID, "not null violation"},
        {"42P01", DB_ERROR, "undefined table: a bug, not the client's fault"},
        {"42601", DB_ERROR, "syntax error"},
        {"XX000", DB_ERROR, "internal error"},
        {"", DB_ERROR, "empty"},
        {"2350", DB_ERROR, "too short"},
        {"235050", DB_ERROR, "too long"},
    };
    return cr_make_param_array(struct state_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct state_case *tc, db, each_sqlstate_maps_to_the_status_handlers_expect)
{
    cr_assert_eq(db_status_from_sqlstate(tc->sqlstate), tc->want, "%s (%s)", tc->sqlstate, tc->what);
}

Test(db, a_missing_sqlstate_is_an_internal_error)
{
    cr_assert_eq(db_status_from_sqlstate(NULL), DB_ERROR);
}
