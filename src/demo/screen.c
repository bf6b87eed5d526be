/*
 * screen: the demo's live view, compact log block and final summary. See
 * screen.h.
 */
#include "demo/screen.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <utf8proc.h>

#define ESC "\033["

/* Brand and ticket rows shown at most, when the terminal has room. */
#define SCREEN_MAX_BRANDS 8
#define SCREEN_MAX_TICKETS 10

/* Copies s into dst (size bytes) keeping at most cols display columns;
 * control characters become spaces; a cut is marked with an ellipsis.
 * Returns the columns used. */
static int screen_fit(char *dst, size_t size, const char *s, int cols)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s);
    size_t len = 0;
    int used = 0;

    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0)
            break;
        int w = (cp < 0x20 || cp == 0x7F) ? 1 : utf8proc_charwidth(cp);
        /* Keep one column for the ellipsis unless this is the last char. */
        int room = cols - (n < left ? 1 : 0);
        if (used + w > room) {
            if (used < cols && len + 3 < size) {
                memcpy(dst + len, "\xE2\x80\xA6", 3); /* U+2026 */
                len += 3;
                used++;
            }
            break;
        }
        if (len + (size_t)n + 4 > size)
            break;
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0))
            dst[len++] = ' ';
        else {
            memcpy(dst + len, p, (size_t)n);
            len += (size_t)n;
        }
        used += w;
        p += n;
        left -= n;
    }
    dst[len] = '\0';
    return used;
}

/* s in exactly cols columns, cut or padded; right-aligned if right. */
static void screen_cell(FILE *out, const char *s, int cols, int right)
{
    char buf[1024];
    int used = screen_fit(buf, sizeof(buf), s, cols);

    if (right)
        fprintf(out, "%*s%s", cols - used, "", buf);
    else
        fprintf(out, "%s%*s", buf, cols - used, "");
}

/* 1234567 -> "1,234,567" */
static const char *screen_count(char buf[32], uint64_t n)
{
    char digits[24];
    int len = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n), o = 0;

    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

/* Followers the way people say them: 216, 3.1k, 45k, 1.2M. */
static const char *screen_short(char buf[16], int64_t n)
{
    if (n < 0)
        snprintf(buf, 16, "?");
    else if (n < 1000)
        snprintf(buf, 16, "%lld", (long long)n);
    else if (n < 10000)
        snprintf(buf, 16, "%.1fk", (double)n / 1e3);
    else if (n < 1000000)
        snprintf(buf, 16, "%lldk", (long long)(n / 1000));
    else
        snprintf(buf, 16, "%.1fM", (double)n / 1e6);
    return buf;
}

static double screen_rate(const demo_screen_state *s, uint64_t now, uint64_t prev)
{
    double dt = s->now.t - s->prev.t;
    return dt > 0 && now >= prev ? (double)(now - prev) / dt : 0.0;
}

static const char *screen_clock(char buf[32], double secs)
{
    long t = secs > 0 ? (long)secs : 0;
    if (t >= 3600)
        snprintf(buf, 32, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, 32, "%02ld:%02ld", t / 60, t % 60);
    return buf;
}

/* "2021-08-10T20:20:42Z" -> "20:20Z"; anything else -> "-". */
const char *demo_screen_due(char *buf, size_t size, const char *respond_by, int64_t clock_ms)
{
    struct tm tm = {0};
    char *end;
    int64_t left, min;

    end = strptime(respond_by, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end || clock_ms < 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    left = (int64_t)timegm(&tm) * 1000 - clock_ms;
    min = ((left < 0 ? -left : left) + 30000) / 60000;
    if (min == 0)
        snprintf(buf, size, "due now");
    else if (left > 0)
        snprintf(buf, size, "due in %lld min", (long long)min);
    else
        snprintf(buf, size, "%lld min overdue", (long long)min);
    return buf;
}

const char *demo_screen_alert(char *buf, size_t size, const dash_alert_view *a)
{
    char hhmm[8];
    time_t t = (time_t)(a->window_start / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(hhmm, sizeof(hhmm), "%H:%M", &tm);
    if (!strcmp(a->type, "influencer"))
        snprintf(buf, size, "%s influencer %s: a complaint by @%s", hhmm, a->brand, a->handle);
    else
        snprintf(buf, size, "%s %s %s: %lld complaints, baseline %.1f (x%.1f)", hhmm, a->type,
                 a->brand, a->complaints, a->baseline, a->ratio);
    return buf;
}

static int screen_brand_cmp(const void *a, const void *b)
{
    const demo_brand_count *x = *(const demo_brand_count *const *)a;
    const demo_brand_count *y = *(const demo_brand_count *const *)b;

    if (x->complaints != y->complaints)
        return x->complaints > y->complaints ? -1 : 1;
    if (x->mentions != y->mentions)
        return x->mentions > y->mentions ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* The view's brands, most complained about first. Returns the count. */
static int screen_brands_sorted(const demo_tally_view *v,
                                const demo_brand_count *out[DEMO_TALLY_MAX_BRANDS])
{
    for (int i = 0; i < v->n_brands; i++)
        out[i] = &v->brands[i];
    qsort(out, (size_t)v->n_brands, sizeof(out[0]), screen_brand_cmp);
    return v->n_brands;
}

/* Ends a frame line: clear the rest of the old line, then newline. */
static void screen_eol(FILE *out)
{
    fputs(ESC "K\n", out);
}

static void screen_flow_row(FILE *out, const demo_screen_state *s, const char *what,
                            const char *where, uint64_t now, uint64_t prev, const char *extra)
{
    char n[32], r[32];

    fprintf(out, " %-10s %-28s %12s %9s  %s", what, where, screen_count(n, now),
            screen_count(r, (uint64_t)(screen_rate(s, now, prev) + 0.5)), extra);
    screen_eol(out);
}

static void screen_tickets(FILE *out, const demo_screen_state *s, int rows, int width)
{
    const demo_tally_view *v = s->view;
    const char *bold = s->color ? ESC "1m" : "", *off = s->color ? ESC "0m" : "";
    int text_cols = width - 57; /* what the columns before it take */

    fprintf(out, "%s LATEST TICKETS%s from care.tickets, priority >= %d, DUE on the demo's clock",
            bold, off, v->min_priority);
    screen_eol(out);
    fprintf(out, " PRI BRAND      AUTHOR        FOLLOWERS DUE             TEXT");
    screen_eol(out);
    if (!v->n_recent) {
        fprintf(out, "   (none yet)");
        screen_eol(out);
        return;
    }
    for (int i = 0; i < rows && i < v->n_recent; i++) {
        const demo_ticket *t = demo_tally_recent(v, i);
        char handle[80], fol[16], due[32];
        const char *hue = !s->color            ? ""
                          : t->priority >= 80 ? ESC "1;31m"
                          : t->priority >= 60 ? ESC "33m"
                                              : "";

        snprintf(handle, sizeof(handle), "@%s", t->handle);
        fprintf(out, " %s%3d%s ", hue, t->priority, *hue ? off : "");
        screen_cell(out, t->brand, 10, 0);
        fputc(' ', out);
        screen_cell(out, handle, 13, 0);
        fputc(' ', out);
        screen_cell(out, screen_short(fol, t->followers), 9, 1);
        fputc(' ', out);
        screen_cell(out, demo_screen_due(due, sizeof(due), t->respond_by, s->clock_ms), 15, 0);
        fputc(' ', out);
        screen_cell(out, t->text, text_cols > 10 ? text_cols : 10, 0);
        screen_eol(out);
    }
}

static int screen_reason_cmp(const void *a, const void *b)
{
    const demo_reason_count *x = a, *y = b;
    return x->count != y->count ? (x->count > y->count ? -1 : 1) : strcmp(x->reason, y->reason);
}

static void screen_reasons(FILE *out, const demo_tally_view *v, int width)
{
    demo_reason_count r[DEMO_TALLY_MAX_REASONS];
    char line[512], n[32];
    size_t len = 0;

    memcpy(r, v->reasons, sizeof(r[0]) * (size_t)v->n_reasons);
    qsort(r, (size_t)v->n_reasons, sizeof(r[0]), screen_reason_cmp);

    len += (size_t)snprintf(line, sizeof(line), " rejected (posts.rejected):");
    if (!v->n_reasons)
        snprintf(line + len, sizeof(line) - len, " (none yet)");
    for (int i = 0; i < v->n_reasons && len < sizeof(line); i++)
        len += (size_t)snprintf(line + len, sizeof(line) - len, "%s %s %s", i ? "," : "",
                                r[i].reason, screen_count(n, r[i].count));
    screen_cell(out, line, width, 0);
    screen_eol(out);
}

void demo_screen_frame(FILE *out, const demo_screen_state *s)
{
    const demo_tally_view *v = s->view;
    const demo_brand_count *brands[DEMO_TALLY_MAX_BRANDS];
    const char *bold = s->color ? ESC "1m" : "", *off = s->color ? ESC "0m" : "";
    char *frame = NULL, clock[32], total[48], lag[48], line[512];
    size_t frame_len = 0;
    /* One column short of the terminal, so no line ever wraps; 80 columns
     * is what the layout is designed for, wider ones get more post text. */
    int width = (s->cols > 0 ? s->cols : 80) - 1, rows = s->rows > 0 ? s->rows : 24;
    FILE *f = open_memstream(&frame, &frame_len);

    if (!f)
        return;
    if (width > 159)
        width = 159;

    /* Lines that are always there: 3 title, 6 flow, 1 gap, 1 brand header,
     * 1 gap, 2 ticket headers, 1 gap, 1 reasons, and the cursor's line. */
    int spare = rows - 22; /* and 2-3 alert lines, a gap */
    int n_brands = screen_brands_sorted(v, brands);
    int brand_rows = spare / 2 < 3 ? 3 : spare / 2;
    if (brand_rows > SCREEN_MAX_BRANDS)
        brand_rows = SCREEN_MAX_BRANDS;
    if (brand_rows > n_brands)
        brand_rows = n_brands ? n_brands : 1;
    int ticket_rows = spare - brand_rows < 3 ? 3 : spare - brand_rows;
    if (ticket_rows > SCREEN_MAX_TICKETS)
        ticket_rows = SCREEN_MAX_TICKETS;

    fputs(ESC "H", f);
    if (s->duration > 0)
        snprintf(total, sizeof(total), " / %s", screen_clock(clock, s->duration));
    else
        total[0] = '\0';
    fprintf(f, "%searshot demo%s  ", bold, off);
    snprintf(line, sizeof(line), "%s  %s%s  %s", s->phase, screen_clock(clock, s->run),
             total, s->hint ? s->hint : "");
    screen_cell(f, line, width - 14, 0);
    screen_eol(f);
    snprintf(line, sizeof(line),
             " Kafka: %s (embedded mock cluster), %d partitions, %d threads",
             s->brokers, s->partitions, s->threads);
    screen_cell(f, line, width, 0);
    screen_eol(f);
    screen_eol(f);

    fprintf(f, "%s %-10s %-28s %12s %9s%s", bold, "FLOW", "", "TOTAL", "PER SEC", off);
    screen_eol(f);
    snprintf(line, sizeof(line), "firehose -> posts");
    screen_flow_row(f, s, "generated", line, s->now.generated, s->prev.generated, "");
    if (s->now.lag >= 0)
        snprintf(lag, sizeof(lag), "lag %lld%s", (long long)s->now.lag,
                 s->now.paused ? " (paused)" : "");
    else
        snprintf(lag, sizeof(lag), "lag ?");
    screen_flow_row(f, s, "consumed", "posts -> earshot", s->now.consumed, s->prev.consumed,
                    lag);
    screen_flow_row(f, s, "enriched", "earshot -> posts.enriched", s->now.produced[0],
                    s->prev.produced[0], "");
    screen_flow_row(f, s, "tickets", "earshot -> care.tickets", s->now.produced[1],
                    s->prev.produced[1], "");
    screen_flow_row(f, s, "rejected", "earshot -> posts.rejected", s->now.produced[2],
                    s->prev.produced[2], "");
    screen_eol(f);

    fprintf(f, "%s %-22s %9s %10s %7s %9s %8s%s", bold, "BRAND (posts.enriched)", "MENTIONS",
            "COMPLAINTS", "PRAISE", "QUESTIONS", "TICKETS", off);
    screen_eol(f);
    if (!n_brands) {
        fprintf(f, "   (none yet)");
        screen_eol(f);
    }
    for (int i = 0; i < brand_rows && i < n_brands; i++) {
        const demo_brand_count *b = brands[i];
        char c[5][32];
        fputc(' ', f);
        screen_cell(f, b->name, 22, 0);
        fprintf(f, " %9s %10s %7s %9s %8s", screen_count(c[0], b->mentions),
                screen_count(c[1], b->complaints), screen_count(c[2], b->praise),
                screen_count(c[3], b->questions), screen_count(c[4], b->tickets));
        screen_eol(f);
    }
    screen_eol(f);

    fprintf(f, "%s ALERTS%s from care.alerts", bold, off);
    screen_eol(f);
    if (!s->n_alerts) {
        fprintf(f, "   (none yet)");
        screen_eol(f);
    }
    for (int i = 0; i < s->n_alerts && i < 2; i++) {
        fprintf(f, " %s", s->color && !strcmp(s->alerts[i].type, "spike") ? ESC "1;31m" : "");
        screen_cell(f, demo_screen_alert(line, sizeof(line), &s->alerts[i]), width - 1, 0);
        fputs(s->color ? ESC "0m" : "", f);
        screen_eol(f);
    }
    screen_eol(f);

    screen_tickets(f, s, ticket_rows, width);
    screen_eol(f);
    screen_reasons(f, v, width);
    fputs(ESC "J", f);

    if (fclose(f) == 0) {
        fwrite(frame, 1, frame_len, out);
        fflush(out);
    }
    free(frame);
}

void demo_screen_block(FILE *out, const demo_screen_state *s)
{
    const demo_tally_view *v = s->view;
    const demo_brand_count *brands[DEMO_TALLY_MAX_BRANDS];
    int n_brands = screen_brands_sorted(v, brands);
    char a[32], b[32], c[32], line[512], clock[32];
    size_t len;

    fprintf(out, "[%s] %s: generated %s (%.0f/s), consumed %s (%.0f/s), lag %lld\n",
            screen_clock(clock, s->run), s->phase, screen_count(a, s->now.generated),
            screen_rate(s, s->now.generated, s->prev.generated),
            screen_count(b, s->now.consumed), screen_rate(s, s->now.consumed, s->prev.consumed),
            (long long)s->now.lag);
    fprintf(out, "        out: enriched %s, tickets %s, rejected %s\n",
            screen_count(a, s->now.produced[0]), screen_count(b, s->now.produced[1]),
            screen_count(c, s->now.produced[2]));

    len = (size_t)snprintf(line, sizeof(line), "        complaints:");
    for (int i = 0; i < n_brands && i < 5 && brands[i]->complaints; i++)
        len += (size_t)snprintf(line + len, sizeof(line) - len, "%s %s %s", i ? "," : "",
                                brands[i]->name, screen_count(a, brands[i]->complaints));
    if (n_brands && brands[0]->complaints) {
        screen_cell(out, line, 79, 0);
        fputc('\n', out);
    }
    for (int i = 0; i < s->n_alerts && i < 2; i++) {
        char al[256];
        snprintf(line, sizeof(line), "        alert: %s",
                 demo_screen_alert(al, sizeof(al), &s->alerts[i]));
        screen_cell(out, line, 79, 0);
        fputc('\n', out);
    }
    if (v->n_recent) {
        const demo_ticket *t = demo_tally_recent(v, 0);
        char fol[16], due[32];
        snprintf(line, sizeof(line), "        latest ticket: %d %s @%s (%s) %s \"%s\"",
                 t->priority, t->brand, t->handle, screen_short(fol, t->followers),
                 demo_screen_due(due, sizeof(due), t->respond_by, s->clock_ms), t->text);
        screen_cell(out, line, 79, 0);
        fputc('\n', out);
    }
    fputc('\n', out);
    fflush(out);
}

int demo_screen_summary(FILE *out, const demo_summary *sum)
{
    static const char *const routes[3][2] = {
        {"enriched", "posts.enriched"},
        {"tickets", "care.tickets"},
        {"rejected", "posts.rejected"},
    };
    int ok = sum->pipeline_rc == 0 && sum->consumed == sum->generated;

    fprintf(out, "earshot demo: final summary after %.1f s\n", sum->elapsed);
    fprintf(out, "  generated  %10llu posts (%llu of them malformed on purpose)\n",
            (unsigned long long)sum->generated, (unsigned long long)sum->malformed);
    if (!sum->generated && !sum->gen_failed)
        fprintf(out, "             (stopped before the firehose started)\n");
    if (sum->gen_failed)
        fprintf(out, "             %10llu more could not be delivered to the broker\n",
                (unsigned long long)sum->gen_failed);
    fprintf(out, "  consumed   %10llu posts: %s\n", (unsigned long long)sum->consumed,
            sum->consumed == sum->generated ? "consumed == generated, every post was read"
            : sum->consumed > sum->generated
                ? "MISMATCH, more than generated (some were read twice)"
            : sum->hurried ? "fewer than generated: the second Ctrl-C cut the wait short"
                           : "MISMATCH, fewer than generated (some were not read)");
    if (sum->consumed < sum->generated && !sum->hurried && sum->input_dropped > 0)
        fprintf(out, "             the embedded broker keeps ~5 MB per partition and had dropped\n"
                     "             the oldest %lld posts: the pipeline fell behind; lower --rate\n",
                (long long)sum->input_dropped);
    for (int i = 0; i < 3; i++) {
        int same = sum->read_back[i] == sum->produced[i];
        if (!same)
            ok = 0;
        fprintf(out, "  %-9s  %10llu events to %-14s (read back: %llu%s)\n", routes[i][0],
                (unsigned long long)sum->produced[i], routes[i][1],
                (unsigned long long)sum->read_back[i],
                same ? "" : sum->hurried ? ", reading cut short" : ", MISMATCH");
    }
    if (sum->view && sum->view->unreadable) {
        fprintf(out, "  %llu events read back were not the JSON expected\n",
                (unsigned long long)sum->view->unreadable);
        ok = 0;
    }
    if (sum->pipeline_rc)
        fprintf(out, "  the pipeline stopped with errors (see the log above)\n");
    fprintf(out, "  %s\n", ok             ? "all counts agree"
                          : sum->hurried ? "counts not checked to the end (second Ctrl-C)"
                                         : "counts DISAGREE (see above)");
    fflush(out);
    return ok ? 0 : -1;
}
