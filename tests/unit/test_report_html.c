/* The run report's pure pieces: HTML escaping (every client text goes
 * through it) and where a node execution's bars land on the Gantt chart. */
#include <criterion/criterion.h>
#include <string.h>

#include "domain/report_html.h"

TestSuite(report_html);

static char *escaped(const char *s, size_t len)
{
    struct buf b;
    buf_init(&b);
    html_escape(&b, s, len);
    buf_putc(&b, '\0');
    return buf_steal(&b);
}

static void assert_escapes(const char *in, const char *want)
{
    char *got = escaped(in, strlen(in));
    cr_assert_str_eq(got, want, "html_escape(\"%s\")", in);
    free(got);
}

Test(report_html, a_script_tag_becomes_text)
{
    assert_escapes("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;");
}

Test(report_html, quotes_and_ampersands_are_safe_in_attributes)
{
    assert_escapes("a\"b' & c", "a&quot;b&#39; &amp; c");
}

Test(report_html, plain_text_and_utf8_pass_unchanged)
{
    assert_escapes("charge_card \xc3\xa9t\xc3\xa9 \xe2\x9c\x93", "charge_card \xc3\xa9t\xc3\xa9 \xe2\x9c\x93");
}

Test(report_html, control_characters_and_bad_utf8_become_replacement_characters)
{
    assert_escapes("a\x01" "b\tc\n\x7f", "a\xef\xbf\xbd" "b\tc\n\xef\xbf\xbd");
    assert_escapes("x\xff" "y\xc3", "x\xef\xbf\xbdy\xef\xbf\xbd");
}

Test(report_html, a_nul_inside_the_length_is_not_the_end)
{
    char *got = escaped("a\0<", 3);
    cr_assert_str_eq(got, "a\xef\xbf\xbd&lt;");
    free(got);
}

static void assert_bars(const struct gantt_bars *g, double x, double prep, double exec, double post)
{
    cr_assert_float_eq(g->x, x, 1e-9);
    cr_assert_float_eq(g->prep, prep, 1e-9);
    cr_assert_float_eq(g->exec, exec, 1e-9);
    cr_assert_float_eq(g->post, post, 1e-9);
}

Test(report_html, phases_are_placed_in_order_and_scaled_to_the_chart)
{
    struct gantt_input in = {.started = true, .offset_ms = 250, .prep_ms = 50, .exec_ms = 400, .post_ms = 50,
                             .duration_ms = 500};
    struct gantt_bars g;
    cr_assert(gantt_place(&in, 1000, &g));
    assert_bars(&g, 250, 50, 400, 50);
    cr_assert(gantt_place(&in, 2000, &g));
    assert_bars(&g, 125, 25, 200, 25);
}

Test(report_html, a_node_without_phases_is_one_bar_of_its_duration)
{
    struct gantt_input in = {.started = true, .offset_ms = 0, .prep_ms = -1, .exec_ms = -1, .post_ms = -1,
                             .duration_ms = 100};
    struct gantt_bars g;
    cr_assert(gantt_place(&in, 400, &g));
    assert_bars(&g, 0, 0, 250, 0);
}

Test(report_html, an_instant_still_shows_and_nothing_leaves_the_chart)
{
    struct gantt_input instant = {.started = true, .offset_ms = 1000, .duration_ms = 0};
    struct gantt_bars g;
    cr_assert(gantt_place(&instant, 1000, &g));
    cr_assert_float_eq(g.x + g.exec, GANTT_WIDTH, 1e-9);
    cr_assert_geq(g.exec, GANTT_MIN_WIDTH);

    struct gantt_input late = {.started = true, .offset_ms = 900, .exec_ms = 500, .post_ms = 500};
    cr_assert(gantt_place(&late, 1000, &g));
    cr_assert_leq(g.x + g.prep + g.exec + g.post, GANTT_WIDTH + 1e-9);

    struct gantt_input skewed = {.started = true, .offset_ms = -20, .exec_ms = 10};
    cr_assert(gantt_place(&skewed, 1000, &g));
    cr_assert_float_eq(g.x, 0, 1e-9);
}

Test(report_html, a_node_that_never_started_or_an_empty_chart_draws_nothing)
{
    struct gantt_input never = {.started = false, .exec_ms = 10};
    struct gantt_input some = {.started = true, .offset_ms = 0, .exec_ms = 10};
    struct gantt_bars g;
    cr_assert_not(gantt_place(&never, 1000, &g));
    cr_assert_not(gantt_place(&some, 0, &g));
}
