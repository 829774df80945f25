/* Unit tests for uuid.c: strict validation of the canonical text form,
 * lowercasing, and random version-4 generation. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "util/uuid.h"

/* Parameters hold no pointers: Criterion runs each case in a re-executed
 * process, where addresses of string literals may differ (ASLR). */
struct uuid_case {
    char text[48];
    bool valid;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

TestSuite(uuid);

ParameterizedTestParameters(uuid, validation_accepts_only_the_canonical_form)
{
    static struct uuid_case cases[] = {
        {"123e4567-e89b-12d3-a456-426614174000", true},
        {"00000000-0000-0000-0000-000000000000", true},
        {"ffffffff-ffff-ffff-ffff-ffffffffffff", true},
        {"123E4567-E89B-12D3-A456-426614174000", true},   /* uppercase is fine */
        {"123e4567-E89b-12D3-a456-426614174AbC", true},   /* mixed case too */
        {"", false},
        {"123e4567-e89b-12d3-a456-42661417400", false},   /* 35 characters */
        {"123e4567-e89b-12d3-a456-4266141740000", false}, /* 37 characters */
        {"123e4567e89b12d3a456426614174000", false},      /* no dashes */
        {"123e4567-e89b-12d3-a456426614174000-", false},  /* dash moved */
        {"123e456-7e89b-12d3-a456-426614174000", false},  /* dash moved */
        {"123e4567-e89b-12d3-a4564-26614174000", false},  /* dash moved */
        {"123e4567-e89b-12d3-a456-42661417400g", false},  /* non-hex */
        {"z23e4567-e89b-12d3-a456-426614174000", false},  /* non-hex */
        {"123e4567-e89b-12d3-a456_426614174000", false},  /* underscore for a dash */
        {"{123e4567-e89b-12d3-a456-426614174000}", false},/* braces */
        {" 23e4567-e89b-12d3-a456-426614174000", false},  /* space */
        {"123e4567-e89b-12d3-a456-42661417400 ", false},  /* trailing space */
        {"123e4567-e89b-12d3-a456-42661417400\n", false}, /* newline */
        {"123e4567+e89b-12d3-a456-426614174000", false},
        {"------------------------------------", false},
        {"not-a-uuid", false},
    };
    return cr_make_param_array(struct uuid_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct uuid_case *tc, uuid, validation_accepts_only_the_canonical_form)
{
    cr_assert_eq(uuid_valid(tc->text), tc->valid, "uuid_valid(\"%s\") should be %s", tc->text,
                 tc->valid ? "true" : "false");
    cr_assert_eq(uuid_valid_n(tc->text, strlen(tc->text)), tc->valid, "uuid_valid_n(\"%s\")", tc->text);
}

Test(uuid, validation_of_null_is_false)
{
    cr_assert_not(uuid_valid(NULL));
    cr_assert_not(uuid_valid_n(NULL, 36));
}

Test(uuid, validation_with_a_length_uses_only_that_many_bytes)
{
    const char *s = "123e4567-e89b-12d3-a456-426614174000/timeline";
    cr_assert(uuid_valid_n(s, 36));
    cr_assert_not(uuid_valid_n(s, 37));
    cr_assert_not(uuid_valid(s));
}

Test(uuid, lower_copies_in_lowercase_and_terminates)
{
    char out[UUID_STR_LEN + 1];
    memset(out, 'X', sizeof out);
    uuid_lower("123E4567-E89B-12D3-A456-426614174ABC", out);
    cr_assert_str_eq(out, "123e4567-e89b-12d3-a456-426614174abc");
}

Test(uuid, v4_has_the_canonical_lowercase_form)
{
    char u[UUID_STR_LEN + 1];
    cr_assert_eq(uuid_v4(u), 0);
    cr_assert_eq(strlen(u), UUID_STR_LEN);
    cr_assert(uuid_valid(u), "%s", u);
    for (int i = 0; i < UUID_STR_LEN; i++)
        cr_assert(u[i] == '-' || (u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f'), "%s", u);
}

Test(uuid, v4_has_version_4_and_the_rfc_4122_variant)
{
    for (int i = 0; i < 200; i++) {
        char u[UUID_STR_LEN + 1];
        cr_assert_eq(uuid_v4(u), 0);
        cr_assert_eq(u[14], '4', "version nibble of %s", u);
        cr_assert(strchr("89ab", u[19]) != NULL, "variant nibble of %s", u);
    }
}

Test(uuid, a_thousand_v4_uuids_are_all_distinct)
{
    enum { N = 1000 };
    char (*all)[UUID_STR_LEN + 1] = calloc(N, sizeof *all);
    cr_assert_not_null(all);
    for (int i = 0; i < N; i++)
        cr_assert_eq(uuid_v4(all[i]), 0);
    qsort(all, N, sizeof *all, cmp_str);
    for (int i = 1; i < N; i++)
        cr_assert_str_neq(all[i - 1], all[i], "duplicate %s", all[i]);
    free(all);
}
