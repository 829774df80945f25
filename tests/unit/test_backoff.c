/* Unit tests for backoff.c: the supervisor's restart delays double per quick
 * death from 100 ms, stop at 30 s, and start over after a healthy run. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "ops/backoff.h"

TestSuite(backoff);

Test(backoff, a_first_quick_death_waits_the_first_delay)
{
    cr_assert_eq(backoff_next_ms(0, 0), 100);
    cr_assert_eq(backoff_next_ms(0, 9999), 100);
}

Test(backoff, quick_deaths_double_the_delay_up_to_the_cap_and_stay_there)
{
    static const uint32_t want[] = {100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000};
    uint32_t d = 0;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        d = backoff_next_ms(d, 1500);
        cr_assert_eq(d, want[i], "death %zu: %u ms, want %u ms", i + 1, d, want[i]);
    }
    /* For ever: still the cap after many more. */
    for (int i = 0; i < 1000; i++)
        d = backoff_next_ms(d, 0);
    cr_assert_eq(d, BACKOFF_MAX_MS);
}

Test(backoff, a_worker_that_lived_long_enough_resets_its_slot)
{
    cr_assert_eq(backoff_next_ms(30000, 10000), 100);
    cr_assert_eq(backoff_next_ms(6400, UINT64_MAX), 100);
    /* Just short of healthy: still doubling. */
    cr_assert_eq(backoff_next_ms(6400, 9999), 12800);
}

Test(backoff, delays_between_the_steps_double_and_never_pass_the_cap)
{
    cr_assert_eq(backoff_next_ms(50, 0), 100);      /* below the first: the first */
    cr_assert_eq(backoff_next_ms(150, 0), 300);
    cr_assert_eq(backoff_next_ms(14999, 0), 29998);
    cr_assert_eq(backoff_next_ms(15000, 0), 30000);
    cr_assert_eq(backoff_next_ms(UINT32_MAX, 0), 30000); /* no overflow */
}
