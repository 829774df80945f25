/* Unit tests for exec_after_from_cursor (executions.c): turning a decoded
 * cursor into the keyset position of the execution list (a UUID and a
 * timestamp in years 0001..9999) or of an item list (a positive decimal
 * bigint, with a timestamp or, for snapshots, an int32 sequence or none).
 * Anything else is refused, and a refused cursor leaves no position. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "domain/execution_reads.h"

#define E_ID "3a2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d"
#define TS_MIN (-62135596800000000LL)  /* 0001-01-01T00:00:00Z */
#define TS_MAX 253402300799999999LL    /* 9999-12-31T23:59:59.999999Z */
#define NO_SEQUENCE INT64_MAX          /* a snapshot without a sequence */

TestSuite(execution_reads);

/* Parameters hold no pointers: Criterion runs each case in a re-executed
 * process, where addresses of string literals may differ (ASLR). */
struct after_case {
    bool items, sequence;
    int64_t micros;
    char id[CURSOR_ID_MAX + 1];
    bool ok;
    char why[48];
};

static int from(bool items, bool sequence, int64_t micros, const char *id, struct exec_after *out)
{
    struct cursor c;
    memset(&c, 0, sizeof c);
    c.micros = micros;
    snprintf(c.id, sizeof c.id, "%s", id);
    return exec_after_from_cursor(&c, items, sequence, out);
}

ParameterizedTestParameters(execution_reads, a_cursor_is_taken_only_in_the_shape_its_list_hands_out)
{
    static struct after_case cases[] = {
        /* the execution list: a UUID and a timestamp */
        {false, false, 0, E_ID, true, "the epoch"},
        {false, false, TS_MIN, E_ID, true, "the first microsecond of year 1"},
        {false, false, TS_MAX, E_ID, true, "the last microsecond of year 9999"},
        {false, false, TS_MIN - 1, E_ID, false, "before year 1"},
        {false, false, TS_MAX + 1, E_ID, false, "after year 9999"},
        {false, false, INT64_MIN, E_ID, false, "INT64_MIN"},
        {false, false, INT64_MAX, E_ID, false, "INT64_MAX"},
        {false, false, 0, "1", false, "an item id"},
        {false, false, 0, "", false, "an empty id"},
        {false, false, 0, "3a2b1c0d9e8f4a7b8c6d5e4f3a2b1c0d", false, "a UUID without hyphens"},
        {false, false, 0, "3a2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0", false, "a short UUID"},
        {false, false, 0, "3a2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0g", false, "a UUID with a g"},

        /* the item lists: a positive decimal bigint and a timestamp */
        {true, false, 0, "1", true, "the smallest id"},
        {true, false, 0, "42", true, "a small id"},
        {true, false, 0, "9223372036854775807", true, "the largest bigint"},
        {true, false, 0, "9223372036854775808", false, "one past the largest bigint"},
        {true, false, 0, "9999999999999999999", false, "19 nines"},
        {true, false, 0, "10000000000000000000", false, "20 digits"},
        {true, false, 0, "0", false, "zero"},
        {true, false, 0, "01", false, "a leading zero"},
        {true, false, 0, "-1", false, "a sign"},
        {true, false, 0, "+1", false, "a plus sign"},
        {true, false, 0, "1 ", false, "a trailing space"},
        {true, false, 0, "1a", false, "a letter"},
        {true, false, 0, "", false, "an empty id"},
        {true, false, 0, E_ID, false, "a UUID"},
        {true, false, TS_MAX + 1, "1", false, "a timestamp after year 9999"},
        {true, false, TS_MIN - 1, "1", false, "a timestamp before year 1"},

        /* snapshots: an int32 sequence, or none */
        {true, true, 0, "1", true, "sequence 0"},
        {true, true, INT32_MAX, "1", true, "the largest int32"},
        {true, true, INT32_MIN, "1", true, "the smallest int32"},
        {true, true, (int64_t)INT32_MAX + 1, "1", false, "one past the largest int32"},
        {true, true, (int64_t)INT32_MIN - 1, "1", false, "one below the smallest int32"},
        {true, true, NO_SEQUENCE, "1", true, "no sequence"},
        {true, true, INT64_MAX - 1, "1", false, "next to no sequence"},
        {true, true, INT64_MIN, "1", false, "INT64_MIN"},
        {true, true, TS_MAX, "1", false, "a timestamp where a sequence belongs"},
        {true, true, 0, "0", false, "zero id"},
    };
    return cr_make_param_array(struct after_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct after_case *tc, execution_reads, a_cursor_is_taken_only_in_the_shape_its_list_hands_out)
{
    struct exec_after a;
    memset(&a, 'X', sizeof a);
    int rc = from(tc->items, tc->sequence, tc->micros, tc->id, &a);
    cr_assert_eq(rc, tc->ok ? 0 : -1, "%s (micros %lld, id \"%s\")", tc->why, (long long)tc->micros, tc->id);
    cr_assert_eq(a.set, tc->ok, "%s: set only when taken", tc->why);
}

Test(execution_reads, a_list_position_has_a_lowercase_uuid_and_canonical_timestamp)
{
    struct exec_after a;
    cr_assert_eq(from(false, false, 1732622400123456, "3A2B1C0D-9E8F-4A7B-8C6D-5E4F3A2B1C0D", &a), 0);
    cr_assert(a.set);
    cr_assert_str_eq(a.id, E_ID);
    cr_assert_str_eq(a.ts, "2024-11-26T12:00:00.123456Z");
}

struct ts_case {
    int64_t micros;
    char ts[TS_TEXT_LEN + 1];
};

ParameterizedTestParameters(execution_reads, the_timestamp_is_written_in_utc_with_six_digits)
{
    static struct ts_case cases[] = {
        {0, "1970-01-01T00:00:00.000000Z"},
        {-1, "1969-12-31T23:59:59.999999Z"},
        {TS_MIN, "0001-01-01T00:00:00.000000Z"},
        {TS_MAX, "9999-12-31T23:59:59.999999Z"},
        {951782400000000, "2000-02-29T00:00:00.000000Z"},
    };
    return cr_make_param_array(struct ts_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct ts_case *tc, execution_reads, the_timestamp_is_written_in_utc_with_six_digits)
{
    struct exec_after a;
    cr_assert_eq(from(true, false, tc->micros, "7", &a), 0);
    cr_assert_str_eq(a.ts, tc->ts, "micros %lld", (long long)tc->micros);
    cr_assert_str_eq(a.id, "7");
}

Test(execution_reads, a_snapshot_position_keeps_its_sequence_and_no_timestamp)
{
    struct exec_after a;
    cr_assert_eq(from(true, true, 12, "99", &a), 0);
    cr_assert(a.set);
    cr_assert_eq(a.seq, 12);
    cr_assert_not(a.seq_null);
    cr_assert_str_eq(a.ts, "");
    cr_assert_str_eq(a.id, "99");
}

Test(execution_reads, a_snapshot_without_a_sequence_is_marked_null)
{
    struct exec_after a;
    cr_assert_eq(from(true, true, NO_SEQUENCE, "5", &a), 0);
    cr_assert(a.set);
    cr_assert(a.seq_null);
}

Test(execution_reads, a_timestamp_position_has_no_sequence)
{
    struct exec_after a;
    cr_assert_eq(from(true, false, 0, "5", &a), 0);
    cr_assert_eq(a.seq, 0);
    cr_assert_not(a.seq_null);
}

Test(execution_reads, a_refused_cursor_leaves_no_position)
{
    struct exec_after a;
    /* The id is good, the sequence is not: nothing of it is kept as set. */
    memset(&a, 'X', sizeof a);
    cr_assert_eq(from(true, true, (int64_t)INT32_MAX + 1, "5", &a), -1);
    cr_assert_not(a.set);
    memset(&a, 'X', sizeof a);
    cr_assert_eq(from(false, false, TS_MAX + 1, E_ID, &a), -1);
    cr_assert_not(a.set);
}
