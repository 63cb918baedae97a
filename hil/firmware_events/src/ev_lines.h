/*
 * ev_lines.h - the event-level line protocol, device side (docs/protocol.md section 7): reading
 * the bench's lines (A, V, T, R) byte by byte, and formatting the device's lines (P, I, ".").
 *
 * A line is at most EV_LINE_MAX bytes before its '\n' (a '\r' before the '\n' is dropped); an
 * empty line is skipped. Numbers are canonical decimal: "0" or a non-zero digit followed by at
 * most 19 digits, and they must fit 64 bits. Fields are separated by exactly one space. Anything
 * else is a bad line: it is reported once (EV_LINE_BAD, with its first bytes), and counted.
 */
#ifndef EV_LINES_H
#define EV_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EV_LINE_MAX 64u

typedef enum {
    EV_LINE_SENSE_A = 1, /* "A <t_us>" */
    EV_LINE_SENSE_V,     /* "V <t_us>" */
    EV_LINE_TIME,        /* "T <t_us>" */
    EV_LINE_RESET,       /* "R" */
    EV_LINE_BAD          /* over EV_LINE_MAX bytes, or not in the grammar */
} ev_line_kind_t;

typedef struct {
    ev_line_kind_t kind;
    uint64_t t_us;
    char text[EV_LINE_MAX + 1u]; /* the line as received (a bad line: its first bytes), NUL */
} ev_line_t;

typedef struct {
    char buf[EV_LINE_MAX + 1u];
    size_t len;
    bool overlong; /* dropping the rest of a line that passed EV_LINE_MAX */
    uint32_t bad_lines;
} ev_line_reader_t;

void ev_line_reader_init(ev_line_reader_t *r);
/* Feed one received byte. Returns true when it completed a non-empty line, stored in *out
 * (kind EV_LINE_BAD for a rejected line, which is also counted in r->bad_lines). */
bool ev_line_feed(ev_line_reader_t *r, uint8_t byte, ev_line_t *out);
/* Parse one line without its '\n' (len bytes, not NUL-terminated). */
ev_line_kind_t ev_line_parse(const char *line, size_t len, uint64_t *t_us);

/* Device lines, each ending in '\n'; return the length written (0 if cap is too small). */
size_t ev_format_pace(char *out, size_t cap, char chamber, uint64_t t_us, bool details,
                      uint16_t amplitude_mv, uint16_t width_us);
size_t ev_format_identity(char *out, size_t cap, const char *name, const char *version,
                          const char *hash, const char *caps);
size_t ev_format_end(char *out, size_t cap);

#endif
