/* ev_lines.c - line reader and formatter of the event-level protocol (see ev_lines.h). */
#include "ev_lines.h"

#include <string.h>

void ev_line_reader_init(ev_line_reader_t *r)
{
    memset(r, 0, sizeof(*r));
}

/* Canonical unsigned decimal that fits 64 bits; returns 0 on success. */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0u || n > 20u || (s[0] == '0' && n > 1u)) {
        return -1;
    }
    uint64_t v = 0u;
    for (size_t i = 0; i < n; ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10u) {
            return -1; /* does not fit 64 bits */
        }
        v = v * 10u + d;
    }
    *out = v;
    return 0;
}

ev_line_kind_t ev_line_parse(const char *line, size_t len, uint64_t *t_us)
{
    if (len == 1u && line[0] == 'R') {
        return EV_LINE_RESET;
    }
    if (len < 3u || line[1] != ' ') {
        return EV_LINE_BAD;
    }
    ev_line_kind_t kind;
    switch (line[0]) {
    case 'A':
        kind = EV_LINE_SENSE_A;
        break;
    case 'V':
        kind = EV_LINE_SENSE_V;
        break;
    case 'T':
        kind = EV_LINE_TIME;
        break;
    default:
        return EV_LINE_BAD;
    }
    if (parse_u64(line + 2, len - 2u, t_us) != 0) {
        return EV_LINE_BAD;
    }
    return kind;
}

static void reject(ev_line_reader_t *r, ev_line_t *out)
{
    r->bad_lines++;
    out->kind = EV_LINE_BAD;
    out->t_us = 0u;
}

bool ev_line_feed(ev_line_reader_t *r, uint8_t byte, ev_line_t *out)
{
    if (byte != (uint8_t)'\n') {
        if (r->overlong) {
            return false;
        }
        if (r->len == EV_LINE_MAX) {
            /* one byte over the limit: reject now, drop the rest of the line */
            memcpy(out->text, r->buf, r->len);
            out->text[r->len] = '\0';
            r->len = 0u;
            r->overlong = true;
            reject(r, out);
            return true;
        }
        r->buf[r->len++] = (char)byte;
        return false;
    }
    if (r->overlong) {
        r->overlong = false;
        return false;
    }
    size_t n = r->len;
    r->len = 0u;
    if (n > 0u && r->buf[n - 1u] == '\r') {
        n--;
    }
    if (n == 0u) {
        return false;
    }
    memcpy(out->text, r->buf, n);
    out->text[n] = '\0';
    out->kind = ev_line_parse(r->buf, n, &out->t_us);
    if (out->kind == EV_LINE_BAD) {
        reject(r, out);
    }
    return true;
}

static size_t put_u64(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0u;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    for (size_t i = 0; i < n; ++i) {
        out[i] = tmp[n - 1u - i];
    }
    return n;
}

size_t ev_format_pace(char *out, size_t cap, char chamber, uint64_t t_us, bool details,
                      uint16_t amplitude_mv, uint16_t width_us)
{
    char line[64];
    size_t n = 0u;
    line[n++] = 'P';
    line[n++] = ' ';
    line[n++] = chamber;
    line[n++] = ' ';
    n += put_u64(line + n, t_us);
    if (details) {
        line[n++] = ' ';
        n += put_u64(line + n, amplitude_mv);
        line[n++] = ' ';
        n += put_u64(line + n, width_us);
    }
    line[n++] = '\n';
    if (n > cap) {
        return 0u;
    }
    memcpy(out, line, n);
    return n;
}

typedef struct {
    char *out;
    size_t cap;
    size_t n;
    bool overflow;
} builder_t;

static void put(builder_t *b, const char *text)
{
    size_t k = strlen(text);
    if (b->overflow || b->n + k > b->cap) {
        b->overflow = true;
        return;
    }
    memcpy(b->out + b->n, text, k);
    b->n += k;
}

size_t ev_format_identity(char *out, size_t cap, const char *name, const char *version,
                          const char *hash, const char *caps)
{
    builder_t b = {out, cap, 0u, false};
    put(&b, "I name=");
    put(&b, name);
    put(&b, " version=");
    put(&b, version);
    if (hash != NULL && hash[0] != '\0') {
        put(&b, " hash=");
        put(&b, hash);
    }
    if (caps != NULL && caps[0] != '\0') {
        put(&b, " caps=");
        put(&b, caps);
    }
    put(&b, "\n");
    return b.overflow ? 0u : b.n;
}

size_t ev_format_end(char *out, size_t cap)
{
    if (cap < 2u) {
        return 0u;
    }
    out[0] = '.';
    out[1] = '\n';
    return 2u;
}
