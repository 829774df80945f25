/* Unit tests for text.c: UTF-8 sequence checks and decoding, hex digits,
 * the decimals of a JSON number,
 * and the rule for the characters of names (a table of
 * every range's edges, and the Unicode Character Database where it is
 * installed). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

TestSuite(text);

Test(text, utf8_seq_len_accepts_well_formed_and_refuses_the_rest)
{
    cr_assert_eq(utf8_seq_len((const unsigned char *)"a", 1), 1);
    cr_assert_eq(utf8_seq_len((const unsigned char *)"\xc3\xa9", 2), 2);
    cr_assert_eq(utf8_seq_len((const unsigned char *)"\xe2\x82\xac", 3), 3);
    cr_assert_eq(utf8_seq_len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
    cr_assert_eq(utf8_seq_len((const unsigned char *)"\xc0\xaf", 2), 0, "overlong");
    cr_assert_eq(utf8_seq_len((const unsigned char *)"\xed\xa0\x80", 3), 0, "surrogate");
    cr_assert_eq(utf8_seq_len((const unsigned char *)"\xf4\x90\x80\x80", 4), 0, "above U+10FFFF");
    cr_assert_eq(utf8_seq_len((const unsigned char *)"\xe2\x82", 2), 0, "cut short");
    cr_assert_eq(utf8_seq_len((const unsigned char *)"\xff", 1), 0);
}

Test(text, hex_digit_value_maps_both_cases)
{
    cr_assert_eq(hex_digit_value('0'), 0);
    cr_assert_eq(hex_digit_value('9'), 9);
    cr_assert_eq(hex_digit_value('a'), 10);
    cr_assert_eq(hex_digit_value('F'), 15);
    cr_assert_eq(hex_digit_value('g'), -1);
    cr_assert_eq(hex_digit_value(' '), -1);
}

Test(text, base64_digit_value_maps_both_alphabets)
{
    static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; i++)
        cr_assert_eq(base64_digit_value(std[i]), i);
    cr_assert_eq(base64_digit_value('-'), 62);
    cr_assert_eq(base64_digit_value('_'), 63);
    cr_assert_eq(base64_digit_value('='), -1);
    cr_assert_eq(base64_digit_value('.'), -1);
    cr_assert_eq(base64_digit_value('\0'), -1);
}

/* ---- the characters of names ------------------------------------------- */

struct class_case {
    uint32_t cp;
    enum name_char want;
};

/* Each range of the rule at both ends, and the characters just outside. */
ParameterizedTestParameters(text, name_char_class_refuses_controls_and_format_characters)
{
    static struct class_case cases[] = {
        {0x00, NAME_CHAR_CONTROL}, {0x1F, NAME_CHAR_CONTROL}, {0x20, NAME_CHAR_OK}, {0x7E, NAME_CHAR_OK},
        {0x7F, NAME_CHAR_CONTROL}, {0x80, NAME_CHAR_CONTROL}, {0x85, NAME_CHAR_CONTROL},
        {0x9F, NAME_CHAR_CONTROL}, {0xA0, NAME_CHAR_OK}, {0xAC, NAME_CHAR_OK},
        {0xAD, NAME_CHAR_FORMAT}, {0xAE, NAME_CHAR_OK}, {0xE9, NAME_CHAR_OK},
        {0x05FF, NAME_CHAR_OK}, {0x0600, NAME_CHAR_FORMAT}, {0x0605, NAME_CHAR_FORMAT}, {0x0606, NAME_CHAR_OK},
        {0x061B, NAME_CHAR_OK}, {0x061C, NAME_CHAR_FORMAT}, {0x061D, NAME_CHAR_OK},
        {0x06DC, NAME_CHAR_OK}, {0x06DD, NAME_CHAR_FORMAT}, {0x06DE, NAME_CHAR_OK},
        {0x070E, NAME_CHAR_OK}, {0x070F, NAME_CHAR_FORMAT}, {0x0710, NAME_CHAR_OK},
        {0x088F, NAME_CHAR_OK}, {0x0890, NAME_CHAR_FORMAT}, {0x0891, NAME_CHAR_FORMAT}, {0x0892, NAME_CHAR_OK},
        {0x08E1, NAME_CHAR_OK}, {0x08E2, NAME_CHAR_FORMAT}, {0x08E3, NAME_CHAR_OK},
        {0x180D, NAME_CHAR_OK}, {0x180E, NAME_CHAR_FORMAT}, {0x180F, NAME_CHAR_OK},
        {0x200A, NAME_CHAR_OK}, {0x200B, NAME_CHAR_FORMAT}, {0x200D, NAME_CHAR_FORMAT},
        {0x200E, NAME_CHAR_FORMAT}, {0x200F, NAME_CHAR_FORMAT}, {0x2010, NAME_CHAR_OK},
        {0x2029, NAME_CHAR_OK}, {0x202A, NAME_CHAR_FORMAT}, {0x202E, NAME_CHAR_FORMAT}, {0x202F, NAME_CHAR_OK},
        {0x205F, NAME_CHAR_OK}, {0x2060, NAME_CHAR_FORMAT}, {0x2064, NAME_CHAR_FORMAT}, {0x2065, NAME_CHAR_OK},
        {0x2066, NAME_CHAR_FORMAT}, {0x2069, NAME_CHAR_FORMAT}, {0x206F, NAME_CHAR_FORMAT},
        {0x2070, NAME_CHAR_OK}, {0xFEFE, NAME_CHAR_OK}, {0xFEFF, NAME_CHAR_FORMAT}, {0xFF00, NAME_CHAR_OK},
        {0xFFF8, NAME_CHAR_OK}, {0xFFF9, NAME_CHAR_FORMAT}, {0xFFFB, NAME_CHAR_FORMAT}, {0xFFFC, NAME_CHAR_OK},
        {0x110BC, NAME_CHAR_OK}, {0x110BD, NAME_CHAR_FORMAT}, {0x110BE, NAME_CHAR_OK},
        {0x110CC, NAME_CHAR_OK}, {0x110CD, NAME_CHAR_FORMAT}, {0x110CE, NAME_CHAR_OK},
        {0x1342F, NAME_CHAR_OK}, {0x13430, NAME_CHAR_FORMAT}, {0x1343F, NAME_CHAR_FORMAT},
        {0x13440, NAME_CHAR_OK}, {0x1BC9F, NAME_CHAR_OK}, {0x1BCA0, NAME_CHAR_FORMAT},
        {0x1BCA3, NAME_CHAR_FORMAT}, {0x1BCA4, NAME_CHAR_OK}, {0x1D172, NAME_CHAR_OK},
        {0x1D173, NAME_CHAR_FORMAT}, {0x1D17A, NAME_CHAR_FORMAT}, {0x1D17B, NAME_CHAR_OK},
        {0x1F600, NAME_CHAR_OK}, {0xE0000, NAME_CHAR_OK}, {0xE0001, NAME_CHAR_FORMAT},
        {0xE0002, NAME_CHAR_OK}, {0xE001F, NAME_CHAR_OK}, {0xE0020, NAME_CHAR_FORMAT},
        {0xE007F, NAME_CHAR_FORMAT}, {0xE0080, NAME_CHAR_OK}, {0x10FFFF, NAME_CHAR_OK},
    };
    return cr_make_param_array(struct class_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct class_case *tc, text, name_char_class_refuses_controls_and_format_characters)
{
    cr_assert_eq(name_char_class(tc->cp), tc->want, "U+%04X", (unsigned)tc->cp);
}

/* Against the Unicode Character Database (Debian's unicode-data, which
 * test.sh installs): Cc and Cf are refused, nothing else. */
Test(text, name_char_class_agrees_with_unicode_data)
{
    FILE *f = fopen("/usr/share/unicode/UnicodeData.txt", "r");
    cr_assert_not_null(f, "no /usr/share/unicode/UnicodeData.txt (apt-get install unicode-data)");
    static unsigned char cat[0x110000]; /* 0: other, 1: Cc, 2: Cf */
    char line[512];
    unsigned long first = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long cp = strtoul(line, NULL, 16);
        char *name = strchr(line, ';'), *gc = name ? strchr(name + 1, ';') : NULL;
        cr_assert_not_null(gc, "%s", line);
        unsigned char c = strncmp(gc + 1, "Cc;", 3) == 0 ? 1 : strncmp(gc + 1, "Cf;", 3) == 0 ? 2 : 0;
        /* Ranges are written as their first and last lines. */
        if (strstr(name, ", First>"))
            first = cp;
        for (unsigned long k = strstr(name, ", Last>") ? first : cp; k <= cp; k++)
            cat[k] = c;
    }
    fclose(f);
    size_t formats = 0;
    for (uint32_t cp = 0; cp < 0x110000; cp++) {
        enum name_char want = cat[cp] == 1 ? NAME_CHAR_CONTROL : cat[cp] == 2 ? NAME_CHAR_FORMAT : NAME_CHAR_OK;
        cr_assert_eq(name_char_class(cp), want, "U+%04X", (unsigned)cp);
        formats += cat[cp] == 2;
    }
    cr_assert_geq(formats, 170, "only %zu format characters in the file", formats);
}

/* U+202E, U+200B, U+0085 as UTF-8. */
#define RLO "\xe2\x80\xae"
#define ZWSP "\xe2\x80\x8b"
#define NEL "\xc2\x85"

Test(text, name_text_class_finds_the_first_refused_character_at_any_offset)
{
    cr_assert_eq(name_text_class("", 0), NAME_CHAR_OK);
    cr_assert_eq(name_text_class("processor.exec", 14), NAME_CHAR_OK);
    cr_assert_eq(name_text_class("caf\xc3\xa9 \xf0\x9f\x98\x80 \xe6\x97\xa5", 14), NAME_CHAR_OK);
    cr_assert_eq(name_text_class(RLO "gnp.exe", 10), NAME_CHAR_FORMAT);
    cr_assert_eq(name_text_class("a\nb", 3), NAME_CHAR_CONTROL);
    cr_assert_eq(name_text_class("a" NEL ZWSP, 6), NAME_CHAR_CONTROL, "the first one decides");
    cr_assert_eq(name_text_class("a" ZWSP NEL, 6), NAME_CHAR_FORMAT, "the first one decides");
    cr_assert_eq(name_text_class("a\xff", 2), NAME_CHAR_CONTROL, "a byte that is no character");
    /* Each kind of character at every offset of a 40-byte name, so the
     * eight-byte scan sees it at every alignment and in the tail. */
    static const struct {
        const char *seq;
        enum name_char want;
    } kinds[] = {{"\x01", NAME_CHAR_CONTROL}, {"\x1f", NAME_CHAR_CONTROL}, {"\x7f", NAME_CHAR_CONTROL},
                 {NEL, NAME_CHAR_CONTROL}, {"\xc2\xad", NAME_CHAR_FORMAT}, {RLO, NAME_CHAR_FORMAT},
                 {ZWSP, NAME_CHAR_FORMAT}, {"\xef\xbb\xbf", NAME_CHAR_FORMAT},
                 {"\xf3\xa0\x80\x81", NAME_CHAR_FORMAT}, {" ", NAME_CHAR_OK}, {"~", NAME_CHAR_OK},
                 {"\xc2\xa0", NAME_CHAR_OK}, {"\xe2\x82\xac", NAME_CHAR_OK}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        size_t n = strlen(kinds[k].seq);
        for (size_t at = 0; at + n <= 40; at++) {
            char s[41];
            memset(s, 'x', 40);
            memcpy(s + at, kinds[k].seq, n);
            cr_assert_eq(name_text_class(s, 40), kinds[k].want, "kind %zu at %zu", k, at);
            cr_assert_eq(name_text_class(s, at), NAME_CHAR_OK, "kind %zu after the end (%zu)", k, at);
        }
    }
}

Test(text, name_char_rule_words_each_refusal)
{
    cr_assert_str_eq(name_char_rule(NAME_CHAR_CONTROL), "must not contain control characters");
    cr_assert(strstr(name_char_rule(NAME_CHAR_FORMAT), "format characters"));
}

Test(text, utf8_decode_reads_each_length)
{
    cr_assert_eq(utf8_decode((const unsigned char *)"A", 1), 0x41);
    cr_assert_eq(utf8_decode((const unsigned char *)"\xc2\x85", 2), 0x85);
    cr_assert_eq(utf8_decode((const unsigned char *)RLO, 3), 0x202E);
    cr_assert_eq(utf8_decode((const unsigned char *)"\xf3\xa0\x80\x81", 4), 0xE0001);
    cr_assert_eq(utf8_decode((const unsigned char *)"\xf4\x8f\xbf\xbf", 4), 0x10FFFF);
}

Test(text, number_decimal_places_counts_decimals_without_trailing_zeros)
{
    static const struct {
        const char *s;
        long places;
    } cases[] = {
        {"0", 0}, {"12", 0}, {"-3", 0}, {"2.5", 1}, {"2.50", 1}, {"2.000", 0}, {"0.075", 3},
        {"1e-3", 3}, {"25e-1", 1}, {"100e-2", 0}, {"10.0e-1", 0}, {"1.5E+2", 0}, {"1.25e1", 1},
        {"0.000000001", 9}, {"1e-10", 10}, {"-0.05", 2}, {"0.0", 0}, {"1e-99999999999", 100000},
        {"", -1}, {"abc", -1}, {"1.", -1}, {".5", -1}, {"1e", -1}, {"1e+", -1}, {"1.5x", -1}, {"--1", -1},
    };
    cr_assert_eq(number_decimal_places(NULL), -1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(number_decimal_places(cases[i].s), cases[i].places, "%s: %ld", cases[i].s,
                     number_decimal_places(cases[i].s));
}
