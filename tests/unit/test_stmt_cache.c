/* Unit tests for stmt_cache.c: which statements get prepared, that a text
 * maps to one stable name for the life of the table, that different texts
 * (even ones differing in one character) get different names, that the
 * table stops at STMT_CACHE_SLOTS, and that clearing starts the names
 * over. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "db/stmt_cache.h"

TestSuite(stmt_cache);

Test(stmt_cache, prepares_only_dml_and_queries)
{
    cr_expect(stmt_cache_wanted("SELECT 1"));
    cr_expect(stmt_cache_wanted("  \n\tselect 1"));
    cr_expect(stmt_cache_wanted("INSERT INTO t VALUES ($1)"));
    cr_expect(stmt_cache_wanted("update t set a = $1"));
    cr_expect(stmt_cache_wanted("DELETE FROM t"));
    cr_expect(stmt_cache_wanted("WITH x AS (SELECT 1) SELECT * FROM x"));
    cr_expect(stmt_cache_wanted("SELECT\n1"));
    cr_expect_not(stmt_cache_wanted("BEGIN"));
    cr_expect_not(stmt_cache_wanted("COMMIT"));
    cr_expect_not(stmt_cache_wanted("ROLLBACK"));
    cr_expect_not(stmt_cache_wanted("DECLARE c NO SCROLL CURSOR FOR SELECT 1"));
    cr_expect_not(stmt_cache_wanted("FETCH FORWARD 100 FROM c"));
    cr_expect_not(stmt_cache_wanted("CLOSE c"));
    cr_expect_not(stmt_cache_wanted(""));
    /* A word that only starts like a verb is not one. */
    cr_expect_not(stmt_cache_wanted("SELECTED"));
    cr_expect_not(stmt_cache_wanted("select_thing()"));
    cr_expect_not(stmt_cache_wanted("WITHOUT"));
}

Test(stmt_cache, a_text_keeps_its_name)
{
    struct stmt_cache c;
    stmt_cache_init(&c);
    cr_assert_eq(stmt_cache_find(&c, "SELECT 1"), -1);
    cr_assert_eq(stmt_cache_next(&c), 0);
    cr_assert_eq(stmt_cache_add(&c, "SELECT 1"), 0);
    cr_assert_eq(stmt_cache_add(&c, "SELECT 2"), 1);
    cr_expect_eq(stmt_cache_find(&c, "SELECT 1"), 0);
    cr_expect_eq(stmt_cache_find(&c, "SELECT 2"), 1);
    cr_expect_eq(stmt_cache_find(&c, "SELECT 3"), -1);
    cr_expect_eq(stmt_cache_find(&c, "SELECT 1 "), -1);
    cr_expect_eq(stmt_cache_find(&c, "select 1"), -1);

    char name[STMT_CACHE_NAME_LEN];
    stmt_cache_name(0, name);
    cr_expect_str_eq(name, "agora_s0");
    stmt_cache_name(63, name);
    cr_expect_str_eq(name, "agora_s63");
    stmt_cache_clear(&c);
}

Test(stmt_cache, the_table_copies_the_text)
{
    struct stmt_cache c;
    char sql[32];
    stmt_cache_init(&c);
    snprintf(sql, sizeof sql, "SELECT %d", 7);
    cr_assert_eq(stmt_cache_add(&c, sql), 0);
    memset(sql, 'x', sizeof sql - 1);
    cr_expect_eq(stmt_cache_find(&c, "SELECT 7"), 0);
    stmt_cache_clear(&c);
}

Test(stmt_cache, stops_when_full_and_clear_starts_over)
{
    struct stmt_cache c;
    char sql[32];
    stmt_cache_init(&c);
    for (int i = 0; i < STMT_CACHE_SLOTS; i++) {
        snprintf(sql, sizeof sql, "SELECT %d", i);
        cr_assert_eq(stmt_cache_add(&c, sql), i);
    }
    cr_expect_eq(stmt_cache_next(&c), -1);
    cr_expect_eq(stmt_cache_add(&c, "SELECT 'one more'"), -1);
    cr_expect_eq(stmt_cache_find(&c, "SELECT 'one more'"), -1);
    for (int i = 0; i < STMT_CACHE_SLOTS; i++) {
        snprintf(sql, sizeof sql, "SELECT %d", i);
        cr_expect_eq(stmt_cache_find(&c, sql), i);
    }
    stmt_cache_clear(&c);
    cr_expect_eq(c.count, 0u);
    cr_expect_eq(stmt_cache_find(&c, "SELECT 0"), -1);
    cr_expect_eq(stmt_cache_add(&c, "SELECT 'again'"), 0);
    stmt_cache_clear(&c);
}
