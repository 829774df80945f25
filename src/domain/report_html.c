/* HTML escaping and Gantt geometry for the run report (see report_html.h). */
#include "domain/report_html.h"

#include "util/text.h"

void html_escape(struct buf *out, const char *s, size_t len)
{
    static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        const char *entity = NULL;
        switch (c) {
        case '&': entity = "&amp;"; break;
        case '<': entity = "&lt;"; break;
        case '>': entity = "&gt;"; break;
        case '"': entity = "&quot;"; break;
        case '\'': entity = "&#39;"; break;
        default: break;
        }
        if (entity) {
            buf_puts(out, entity);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            if (c == '\t' || c == '\n')
                buf_putc(out, (char)c);
            else
                buf_puts(out, replacement);
            i++;
        } else if (c < 0x80) {
            buf_putc(out, (char)c);
            i++;
        } else {
            size_t n = utf8_seq_len((const unsigned char *)s + i, len - i);
            if (n == 0) {
                buf_puts(out, replacement);
                i++;
            } else {
                buf_append(out, s + i, n);
                i += n;
            }
        }
    }
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

bool gantt_place(const struct gantt_input *in, double range_ms, struct gantt_bars *out)
{
    *out = (struct gantt_bars){0};
    if (!in->started || !(range_ms > 0))
        return false;
    double scale = GANTT_WIDTH / range_ms;
    double prep = in->prep_ms > 0 ? in->prep_ms : 0;
    double exec = in->exec_ms > 0 ? in->exec_ms : 0;
    double post = in->post_ms > 0 ? in->post_ms : 0;
    if (prep + exec + post == 0 && in->duration_ms > 0)
        exec = in->duration_ms;
    out->x = clamp(in->offset_ms * scale, 0, GANTT_WIDTH - GANTT_MIN_WIDTH);
    double room = GANTT_WIDTH - out->x;
    out->prep = clamp(prep * scale, 0, room);
    room -= out->prep;
    out->exec = clamp(exec * scale, 0, room);
    room -= out->exec;
    out->post = clamp(post * scale, 0, room);
    /* An instant (or phases too short to see) still gets a visible mark. */
    if (out->prep + out->exec + out->post < GANTT_MIN_WIDTH)
        out->exec = GANTT_MIN_WIDTH - out->prep - out->post;
    return true;
}
