/*
 * fb_protocol.c - codec of the bench-to-device protocol v1 (docs/protocol.md).
 */
#include "fb_protocol.h"

#include <string.h>

#include "fb_sha256.h"

/* C99 compile-time checks of the RAM budget stated in the header. */
#define FB_STATIC_CHECK(name, cond) typedef char fb_static_check_##name[(cond) ? 1 : -1]
FB_STATIC_CHECK(decoder_budget, sizeof(fb_decoder_t) <= FB_RAM_DECODER_BYTES);
FB_STATIC_CHECK(encoder_budget, sizeof(fb_encoder_t) <= FB_RAM_ENCODER_BYTES);
FB_STATIC_CHECK(message_budget, sizeof(fb_message_t) <= FB_RAM_MESSAGE_BYTES);

#define N_MODES 23u
#define N_STATE_COMMANDS 6u
#define N_STATES 4u
#define N_BATTERY 3u
#define N_RESET 2u
#define MAX_NACK_REASON 10u
#define MAX_RULE 9u
#define MAX_KIND 13u
#define MAX_CHAMBER 2u
#define WINDOW_FIXED 11u /* t0 (8) + n (2) + flags (1) */
#define EVENTS_FIXED 12u /* t0 (8) + consumed (2) + flags (1) + count (1) */

/* ---- little-endian writer and reader --------------------------------------------------- */
typedef struct {
    uint8_t *p;
    size_t len;
    size_t cap;
    bool ok;
} writer_t;

static void w_bytes(writer_t *w, const void *src, size_t n)
{
    if (!w->ok || w->cap - w->len < n) {
        w->ok = false;
        return;
    }
    if (n > 0u) {
        memcpy(w->p + w->len, src, n);
    }
    w->len += n;
}

static void w_u8(writer_t *w, uint8_t v) { w_bytes(w, &v, 1); }

static void w_uint(writer_t *w, uint64_t v, unsigned n)
{
    uint8_t b[8];
    unsigned i;
    for (i = 0; i < n; i++) {
        b[i] = (uint8_t)(v >> (8u * i));
    }
    w_bytes(w, b, n);
}

typedef struct {
    const uint8_t *p;
    size_t len;
    size_t pos;
    bool ok;
} reader_t;

static uint64_t r_uint(reader_t *r, unsigned n)
{
    uint64_t v = 0;
    unsigned i;
    if (!r->ok || r->len - r->pos < n) {
        r->ok = false;
        return 0;
    }
    for (i = 0; i < n; i++) {
        v |= (uint64_t)r->p[r->pos + i] << (8u * i);
    }
    r->pos += n;
    return v;
}

static uint8_t r_u8(reader_t *r) { return (uint8_t)r_uint(r, 1); }
static uint16_t r_u16(reader_t *r) { return (uint16_t)r_uint(r, 2); }
static uint32_t r_u32(reader_t *r) { return (uint32_t)r_uint(r, 4); }
static uint64_t r_u64(reader_t *r) { return r_uint(r, 8); }

static void r_bytes(reader_t *r, void *dst, size_t n)
{
    if (!r->ok || r->len - r->pos < n) {
        r->ok = false;
        return;
    }
    if (n > 0u) {
        memcpy(dst, r->p + r->pos, n);
    }
    r->pos += n;
}

/* ---- CRC-32C ---------------------------------------------------------------------------- */
uint32_t fb_crc32c_update(uint32_t crc, const uint8_t *data, size_t len)
{
    /* Nibble-wise table: 16 entries keep flash small and stay fast enough for 1 kB frames. */
    static const uint32_t T[16] = {
        0x00000000u, 0x105ec76fu, 0x20bd8edeu, 0x30e349b1u, 0x417b1dbcu, 0x5125dad3u,
        0x61c69362u, 0x7198540du, 0x82f63b78u, 0x92a8fc17u, 0xa24bb5a6u, 0xb21572c9u,
        0xc38d26c4u, 0xd3d3e1abu, 0xe330a81au, 0xf36e6f75u};
    size_t i;
    crc = ~crc;
    for (i = 0; i < len; i++) {
        crc ^= data[i];
        crc = (crc >> 4) ^ T[crc & 0x0fu];
        crc = (crc >> 4) ^ T[crc & 0x0fu];
    }
    return ~crc;
}

uint32_t fb_crc32c(const uint8_t *data, size_t len) { return fb_crc32c_update(0, data, len); }

/* ---- COBS ------------------------------------------------------------------------------- */
size_t fb_cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    size_t o = 1, code_pos = 0, i;
    uint8_t code = 1;
    if (cap == 0u) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (in[i] == 0u) {
            out[code_pos] = code;
            code = 1;
            code_pos = o++;
            if (o > cap) {
                return 0;
            }
        } else {
            if (o >= cap) {
                return 0;
            }
            out[o++] = in[i];
            code++;
            if (code == 0xffu && i + 1u < len) {
                out[code_pos] = code;
                code = 1;
                code_pos = o++;
                if (o > cap) {
                    return 0;
                }
            }
        }
    }
    out[code_pos] = code;
    return o;
}

size_t fb_cobs_decode(const uint8_t *in, size_t len, uint8_t *out)
{
    size_t i = 0, o = 0;
    while (i < len) {
        uint8_t code = in[i];
        size_t k;
        if (code == 0u || (size_t)code - 1u > len - i - 1u) {
            return (size_t)-1;
        }
        i++;
        for (k = 1; k < code; k++) {
            if (in[i] == 0u) {
                return (size_t)-1;
            }
            out[o++] = in[i++];
        }
        if (code != 0xffu && i < len) {
            out[o++] = 0;
        }
    }
    return o;
}

/* ---- sample coding ---------------------------------------------------------------------- */
static size_t put_varint(uint32_t u, uint8_t *out, size_t cap)
{
    size_t n = 0;
    do {
        uint8_t b = (uint8_t)(u & 0x7fu);
        u >>= 7;
        if (u != 0u) {
            b |= 0x80u;
        }
        if (n >= cap) {
            return 0;
        }
        out[n++] = b;
    } while (u != 0u);
    return n;
}

size_t fb_samples_encode(const int16_t *samples, size_t n, uint8_t *out, size_t cap)
{
    size_t i = 0, o = 0;
    int32_t prev = 0;
    while (i < n) {
        int32_t d = (int32_t)samples[i] - prev;
        uint32_t u;
        size_t k;
        if (d == 0) {
            size_t run = 0;
            while (i < n && samples[i] == prev) {
                run++;
                i++;
            }
            u = ((uint32_t)(run - 1u) << 1) | 1u;
        } else {
            uint32_t zz = d >= 0 ? (uint32_t)d << 1 : (((uint32_t)(-(d + 1))) << 1) | 1u;
            u = zz << 1;
            prev = samples[i];
            i++;
        }
        k = put_varint(u, out + o, cap - o);
        if (k == 0u) {
            return 0;
        }
        o += k;
    }
    return o;
}

size_t fb_samples_decode(const uint8_t *in, size_t len, int16_t *samples, size_t n)
{
    size_t i = 0, pos = 0;
    int32_t prev = 0;
    bool last_run = false;
    while (i < n) {
        uint32_t u = 0;
        unsigned k = 0;
        for (;;) {
            uint8_t b;
            if (pos >= len || k == 3u) {
                return 0;
            }
            b = in[pos++];
            u |= (uint32_t)(b & 0x7fu) << (7u * k);
            k++;
            if ((b & 0x80u) == 0u) {
                if (k > 1u && b == 0u) {
                    return 0; /* non-minimal */
                }
                break;
            }
        }
        if (u == 0u) {
            return 0;
        }
        if (u & 1u) {
            size_t run = (size_t)(u >> 1) + 1u;
            size_t j;
            if (last_run || run > n - i) {
                return 0;
            }
            for (j = 0; j < run; j++) {
                samples[i++] = (int16_t)prev;
            }
            last_run = true;
        } else {
            uint32_t zz = u >> 1;
            int32_t d = (zz & 1u) ? -(int32_t)(zz >> 1) - 1 : (int32_t)(zz >> 1);
            int32_t v = prev + d;
            if (v < -32768 || v > 32767) {
                return 0;
            }
            samples[i++] = (int16_t)v;
            prev = v;
            last_run = false;
        }
    }
    return pos;
}

bool fb_window_decode(const uint8_t *payload, size_t len, fb_window_t *win)
{
    reader_t r;
    size_t k;
    unsigned ch;
    int16_t *chans[3];
    r.p = payload;
    r.len = len;
    r.pos = 0;
    r.ok = true;
    win->t0_us = r_u64(&r);
    win->n_samples = r_u16(&r);
    win->flags = r_u8(&r);
    if (!r.ok || win->n_samples == 0u || win->n_samples > FB_MAX_WINDOW_SAMPLES ||
        (win->flags & ~FB_WINDOW_EARLY_STOP) != 0u) {
        return false;
    }
    chans[0] = win->atrial_uv;
    chans[1] = win->ventricular_uv;
    chans[2] = win->activity_mg;
    for (ch = 0; ch < 3u; ch++) {
        k = fb_samples_decode(payload + r.pos, len - r.pos, chans[ch], win->n_samples);
        if (k == 0u) {
            return false;
        }
        r.pos += k;
    }
    return r.pos == len;
}

/* ---- validation shared by encoder and decoder ------------------------------------------- */
static bool type_known(uint8_t t)
{
    switch (t) {
    case FB_T_HELLO_REQ: case FB_T_HELLO: case FB_T_PROGRAM: case FB_T_SET_STATE:
    case FB_T_SET_BATTERY: case FB_T_RESET: case FB_T_ACK: case FB_T_NACK:
    case FB_T_INTERROGATE: case FB_T_INTERROGATION: case FB_T_TICK: case FB_T_EVENTS:
    case FB_T_STREAM: case FB_T_TELEMETRY_REQ: case FB_T_TELEMETRY: case FB_T_ERROR:
        return true;
    default:
        return false;
    }
}

bool fb_type_requires_auth(uint8_t type)
{
    return type == FB_T_PROGRAM || type == FB_T_SET_STATE || type == FB_T_SET_BATTERY ||
           type == FB_T_RESET;
}

static bool params_valid(const fb_param_t *p, unsigned count)
{
    uint64_t seen = 0;
    unsigned i;
    for (i = 0; i < count; i++) {
        if (p[i].id == 0u || p[i].id > FB_MAX_PARAMS || (seen >> p[i].id) & 1u) {
            return false;
        }
        seen |= (uint64_t)1u << p[i].id;
    }
    return true;
}

static bool str_valid(const char *s, unsigned len, unsigned max)
{
    unsigned i;
    if (len > max) {
        return false;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20u || c > 0x7eu) {
            return false;
        }
    }
    return true;
}

static bool events_valid(const fb_events_t *e)
{
    unsigned i;
    if (e->count > FB_MAX_EVENTS || e->consumed > FB_MAX_WINDOW_SAMPLES ||
        (e->flags & ~(FB_EVENTS_STOPPED_AT_PACE | FB_EVENTS_STREAMED)) != 0u) {
        return false;
    }
    for (i = 0; i < e->count; i++) {
        const fb_event_t *v = &e->events[i];
        if (v->chamber > MAX_CHAMBER || v->kind == 0u || v->kind > MAX_KIND) {
            return false;
        }
        if (i > 0u && v->t_us < e->events[i - 1u].t_us) {
            return false;
        }
    }
    return true;
}

/* Check the body fields of a message (everything the wire layout constrains). */
static bool body_valid(const fb_message_t *m)
{
    switch (m->header.type) {
    case FB_T_HELLO: {
        const fb_hello_t *h = &m->body.hello;
        return h->max_window_samples <= FB_MAX_WINDOW_SAMPLES &&
               str_valid(h->model, h->model_len, FB_MAX_STR) &&
               str_valid(h->serial, h->serial_len, FB_MAX_STR) &&
               str_valid(h->firmware_version, h->firmware_version_len, FB_MAX_STR);
    }
    case FB_T_PROGRAM:
        return m->body.program.count >= 1u && m->body.program.count <= FB_MAX_PARAMS &&
               params_valid(m->body.program.params, m->body.program.count);
    case FB_T_SET_STATE:
        return m->body.set_state.command < N_STATE_COMMANDS && m->body.set_state.mode < N_MODES &&
               (m->body.set_state.command == FB_CMD_TEMPORARY || m->body.set_state.mode == 0u);
    case FB_T_SET_BATTERY:
        return m->body.set_battery.state < N_BATTERY;
    case FB_T_RESET:
        return m->body.reset.kind < N_RESET;
    case FB_T_NACK:
        return m->body.nack.reason >= 1u && m->body.nack.reason <= MAX_NACK_REASON &&
               m->body.nack.param_id <= FB_MAX_PARAMS && m->body.nack.rule <= MAX_RULE;
    case FB_T_INTERROGATION: {
        const fb_interrogation_t *q = &m->body.interrogation;
        return q->state < N_STATES && q->magnet <= 1u && q->active_mode < N_MODES &&
               q->battery < N_BATTERY && q->count <= FB_MAX_PARAMS &&
               params_valid(q->params, q->count);
    }
    case FB_T_TICK:
    case FB_T_STREAM:
        return m->body.window.n_samples >= 1u &&
               m->body.window.n_samples <= FB_MAX_WINDOW_SAMPLES &&
               (m->body.window.flags & ~FB_WINDOW_EARLY_STOP) == 0u;
    case FB_T_EVENTS:
        return events_valid(&m->body.events);
    case FB_T_TELEMETRY:
        return m->body.telemetry.battery_state < N_BATTERY;
    case FB_T_ERROR:
        return str_valid(m->body.error.text, m->body.error.text_len, FB_MAX_ERROR_TEXT);
    default:
        return true;
    }
}

/* ---- payload writer --------------------------------------------------------------------- */
static void w_params(writer_t *w, const fb_param_t *p, unsigned count)
{
    unsigned i;
    w_u8(w, (uint8_t)count);
    for (i = 0; i < count; i++) {
        w_u8(w, p[i].id);
        w_uint(w, (uint32_t)p[i].value, 4);
    }
}

static void w_str(writer_t *w, const char *s, uint8_t len)
{
    w_u8(w, len);
    w_bytes(w, s, len);
}

static void w_samples(writer_t *w, const int16_t *s, unsigned n)
{
    size_t k;
    if (!w->ok) {
        return;
    }
    k = fb_samples_encode(s, n, w->p + w->len, w->cap - w->len);
    if (k == 0u) {
        w->ok = false;
        return;
    }
    w->len += k;
}

static void write_body(writer_t *w, const fb_message_t *m)
{
    unsigned i;
    switch (m->header.type) {
    case FB_T_HELLO: {
        const fb_hello_t *h = &m->body.hello;
        w_u8(w, h->protocol_version);
        w_uint(w, h->capabilities, 4);
        w_uint(w, h->max_window_samples, 2);
        w_uint(w, h->sample_rate_hz, 2);
        w_uint(w, h->auth_counter, 4);
        w_bytes(w, h->firmware_hash, 32);
        w_str(w, h->model, h->model_len);
        w_str(w, h->serial, h->serial_len);
        w_str(w, h->firmware_version, h->firmware_version_len);
        break;
    }
    case FB_T_PROGRAM:
        w_params(w, m->body.program.params, m->body.program.count);
        break;
    case FB_T_SET_STATE:
        w_u8(w, m->body.set_state.command);
        w_u8(w, m->body.set_state.mode);
        break;
    case FB_T_SET_BATTERY:
        w_u8(w, m->body.set_battery.state);
        break;
    case FB_T_RESET:
        w_u8(w, m->body.reset.kind);
        break;
    case FB_T_ACK:
        w_u8(w, m->body.ack.acked_type);
        break;
    case FB_T_NACK:
        w_u8(w, m->body.nack.acked_type);
        w_u8(w, m->body.nack.reason);
        w_u8(w, m->body.nack.param_id);
        w_u8(w, m->body.nack.rule);
        break;
    case FB_T_INTERROGATION: {
        const fb_interrogation_t *q = &m->body.interrogation;
        w_u8(w, q->state);
        w_u8(w, q->magnet);
        w_u8(w, q->active_mode);
        w_u8(w, q->battery);
        w_uint(w, q->time_us, 8);
        w_params(w, q->params, q->count);
        break;
    }
    case FB_T_TICK:
    case FB_T_STREAM: {
        const fb_window_t *win = &m->body.window;
        w_uint(w, win->t0_us, 8);
        w_uint(w, win->n_samples, 2);
        w_u8(w, win->flags);
        w_samples(w, win->atrial_uv, win->n_samples);
        w_samples(w, win->ventricular_uv, win->n_samples);
        w_samples(w, win->activity_mg, win->n_samples);
        break;
    }
    case FB_T_EVENTS: {
        const fb_events_t *e = &m->body.events;
        w_uint(w, e->t0_us, 8);
        w_uint(w, e->consumed, 2);
        w_u8(w, e->flags);
        w_u8(w, e->count);
        for (i = 0; i < e->count; i++) {
            const fb_event_t *v = &e->events[i];
            w_uint(w, v->t_us, 8);
            w_u8(w, v->chamber);
            w_u8(w, v->kind);
            w_u8(w, v->flags);
            w_uint(w, v->amplitude_mv, 2);
            w_uint(w, v->width_us, 2);
        }
        break;
    }
    case FB_T_TELEMETRY: {
        const fb_telemetry_t *t = &m->body.telemetry;
        w_uint(w, t->time_us, 8);
        w_uint(w, t->battery_mv, 2);
        w_u8(w, t->battery_state);
        w_uint(w, t->atrial_impedance_ohm, 2);
        w_uint(w, t->ventricular_impedance_ohm, 2);
        w_uint(w, t->ap_count, 4);
        w_uint(w, t->as_count, 4);
        w_uint(w, t->ar_count, 4);
        w_uint(w, t->vp_count, 4);
        w_uint(w, t->vs_count, 4);
        w_uint(w, t->vr_count, 4);
        w_uint(w, t->pvc_count, 4);
        w_uint(w, t->frames_ok, 4);
        w_uint(w, t->frames_bad, 4);
        w_uint(w, t->nacks_sent, 4);
        w_uint(w, t->auth_failures, 4);
        break;
    }
    case FB_T_ERROR:
        w_u8(w, m->body.error.code);
        w_uint(w, m->body.error.detail, 4);
        w_str(w, m->body.error.text, m->body.error.text_len);
        break;
    default: /* HELLO_REQ, INTERROGATE, TELEMETRY_REQ: empty */
        break;
    }
}

/* ---- payload reader --------------------------------------------------------------------- */
static void r_params(reader_t *r, fb_param_t *p, uint8_t *count)
{
    unsigned i;
    *count = r_u8(r);
    if (*count > FB_MAX_PARAMS) {
        r->ok = false;
        return;
    }
    for (i = 0; i < *count; i++) {
        p[i].id = r_u8(r);
        p[i].value = (int32_t)r_u32(r);
    }
}

static void r_str(reader_t *r, char *s, uint8_t *len, unsigned max)
{
    *len = r_u8(r);
    if (*len > max) {
        r->ok = false;
        return;
    }
    r_bytes(r, s, *len);
}

static void read_body(reader_t *r, fb_message_t *m)
{
    unsigned i;
    switch (m->header.type) {
    case FB_T_HELLO: {
        fb_hello_t *h = &m->body.hello;
        h->protocol_version = r_u8(r);
        h->capabilities = r_u32(r);
        h->max_window_samples = r_u16(r);
        h->sample_rate_hz = r_u16(r);
        h->auth_counter = r_u32(r);
        r_bytes(r, h->firmware_hash, 32);
        r_str(r, h->model, &h->model_len, FB_MAX_STR);
        r_str(r, h->serial, &h->serial_len, FB_MAX_STR);
        r_str(r, h->firmware_version, &h->firmware_version_len, FB_MAX_STR);
        break;
    }
    case FB_T_PROGRAM:
        r_params(r, m->body.program.params, &m->body.program.count);
        break;
    case FB_T_SET_STATE:
        m->body.set_state.command = r_u8(r);
        m->body.set_state.mode = r_u8(r);
        break;
    case FB_T_SET_BATTERY:
        m->body.set_battery.state = r_u8(r);
        break;
    case FB_T_RESET:
        m->body.reset.kind = r_u8(r);
        break;
    case FB_T_ACK:
        m->body.ack.acked_type = r_u8(r);
        break;
    case FB_T_NACK:
        m->body.nack.acked_type = r_u8(r);
        m->body.nack.reason = r_u8(r);
        m->body.nack.param_id = r_u8(r);
        m->body.nack.rule = r_u8(r);
        break;
    case FB_T_INTERROGATION: {
        fb_interrogation_t *q = &m->body.interrogation;
        q->state = r_u8(r);
        q->magnet = r_u8(r);
        q->active_mode = r_u8(r);
        q->battery = r_u8(r);
        q->time_us = r_u64(r);
        r_params(r, q->params, &q->count);
        break;
    }
    case FB_T_TICK:
    case FB_T_STREAM:
        /* the window is the whole payload */
        if (!fb_window_decode(r->p + r->pos, r->len - r->pos, &m->body.window)) {
            r->ok = false;
            return;
        }
        r->pos = r->len;
        break;
    case FB_T_EVENTS: {
        fb_events_t *e = &m->body.events;
        e->t0_us = r_u64(r);
        e->consumed = r_u16(r);
        e->flags = r_u8(r);
        e->count = r_u8(r);
        if (e->count > FB_MAX_EVENTS) {
            r->ok = false;
            return;
        }
        for (i = 0; i < e->count; i++) {
            fb_event_t *v = &e->events[i];
            v->t_us = r_u64(r);
            v->chamber = r_u8(r);
            v->kind = r_u8(r);
            v->flags = r_u8(r);
            v->amplitude_mv = r_u16(r);
            v->width_us = r_u16(r);
        }
        break;
    }
    case FB_T_TELEMETRY: {
        fb_telemetry_t *t = &m->body.telemetry;
        t->time_us = r_u64(r);
        t->battery_mv = r_u16(r);
        t->battery_state = r_u8(r);
        t->atrial_impedance_ohm = r_u16(r);
        t->ventricular_impedance_ohm = r_u16(r);
        t->ap_count = r_u32(r);
        t->as_count = r_u32(r);
        t->ar_count = r_u32(r);
        t->vp_count = r_u32(r);
        t->vs_count = r_u32(r);
        t->vr_count = r_u32(r);
        t->pvc_count = r_u32(r);
        t->frames_ok = r_u32(r);
        t->frames_bad = r_u32(r);
        t->nacks_sent = r_u32(r);
        t->auth_failures = r_u32(r);
        break;
    }
    case FB_T_ERROR:
        m->body.error.code = r_u8(r);
        m->body.error.detail = r_u32(r);
        r_str(r, m->body.error.text, &m->body.error.text_len, FB_MAX_ERROR_TEXT);
        break;
    default:
        break;
    }
}

/* ---- frames ----------------------------------------------------------------------------- */
void fb_message_init(fb_message_t *m, uint8_t type, uint16_t seq)
{
    memset(m, 0, sizeof *m);
    m->header.version = FB_PROTOCOL_VERSION;
    m->header.type = type;
    m->header.seq = seq;
}

void fb_compute_tag(const uint8_t key[FB_KEY_LEN], const uint8_t *data, size_t len,
                    uint8_t tag[FB_TAG_LEN])
{
    uint8_t mac[FB_SHA256_DIGEST_LEN];
    fb_hmac_sha256(key, FB_KEY_LEN, data, len, mac);
    memcpy(tag, mac, FB_TAG_LEN);
}

fb_status_t fb_encode(fb_encoder_t *e, const fb_message_t *msg, const uint8_t *key, uint8_t *out,
                      size_t out_cap, size_t *out_len)
{
    writer_t w;
    bool auth = (msg->header.flags & FB_FLAG_AUTH) != 0u;
    size_t n;
    uint32_t crc;
    if (msg->header.version != FB_PROTOCOL_VERSION || !type_known(msg->header.type) ||
        (msg->header.flags & ~FB_FLAG_AUTH) != 0u ||
        (auth && (key == NULL || !fb_type_requires_auth(msg->header.type))) || !body_valid(msg)) {
        return FB_ERR_ARG;
    }
    w.p = e->raw;
    w.len = 0;
    w.cap = FB_MAX_FRAME - FB_CRC_LEN;
    w.ok = true;
    w_u8(&w, msg->header.version);
    w_u8(&w, msg->header.type);
    w_u8(&w, msg->header.flags);
    w_uint(&w, msg->header.seq, 2);
    write_body(&w, msg);
    if (auth) {
        w_uint(&w, msg->auth.counter, 4);
        if (w.ok && w.cap - w.len >= FB_TAG_LEN) {
            fb_compute_tag(key, w.p, w.len, w.p + w.len);
            w.len += FB_TAG_LEN;
        } else {
            w.ok = false;
        }
    }
    if (!w.ok) {
        return FB_ERR_ARG;
    }
    crc = fb_crc32c(w.p, w.len);
    w.cap = FB_MAX_FRAME;
    w_uint(&w, crc, 4);
    n = fb_cobs_encode(w.p, w.len, out, out_cap);
    if (n == 0u || n >= out_cap) {
        return FB_ERR_ARG;
    }
    out[n] = 0;
    *out_len = n + 1u;
    return FB_OK;
}

fb_status_t fb_decode_raw(const uint8_t *raw, size_t len, const uint8_t *key, fb_message_t *out)
{
    reader_t r;
    size_t body_end;
    uint32_t crc;
    memset(&out->auth, 0, sizeof out->auth);
    if (len < FB_MIN_FRAME) {
        return FB_ERR_LENGTH;
    }
    if (len > FB_MAX_FRAME) {
        return FB_ERR_OVERSIZE;
    }
    out->header.version = raw[0];
    out->header.type = raw[1];
    out->header.flags = raw[2];
    out->header.seq = (uint16_t)(raw[3] | (raw[4] << 8));
    crc = (uint32_t)raw[len - 4u] | ((uint32_t)raw[len - 3u] << 8) |
          ((uint32_t)raw[len - 2u] << 16) | ((uint32_t)raw[len - 1u] << 24);
    if (crc != fb_crc32c(raw, len - FB_CRC_LEN)) {
        return FB_ERR_CRC;
    }
    if (out->header.version != FB_PROTOCOL_VERSION) {
        return FB_ERR_VERSION;
    }
    if (!type_known(out->header.type)) {
        return FB_ERR_TYPE;
    }
    if ((out->header.flags & ~FB_FLAG_AUTH) != 0u ||
        ((out->header.flags & FB_FLAG_AUTH) != 0u && !fb_type_requires_auth(out->header.type))) {
        return FB_ERR_FLAGS;
    }
    body_end = len - FB_CRC_LEN;
    if (out->header.flags & FB_FLAG_AUTH) {
        if (body_end < FB_HEADER_LEN + FB_AUTH_TRAILER_LEN) {
            return FB_ERR_PAYLOAD;
        }
        body_end -= FB_AUTH_TRAILER_LEN;
        out->auth.present = true;
        out->auth.counter = (uint32_t)raw[body_end] | ((uint32_t)raw[body_end + 1u] << 8) |
                            ((uint32_t)raw[body_end + 2u] << 16) |
                            ((uint32_t)raw[body_end + 3u] << 24);
        memcpy(out->auth.tag, raw + body_end + FB_COUNTER_LEN, FB_TAG_LEN);
    }
    r.p = raw;
    r.len = body_end;
    r.pos = FB_HEADER_LEN;
    r.ok = true;
    read_body(&r, out);
    if (!r.ok || r.pos != r.len || !body_valid(out)) {
        return FB_ERR_PAYLOAD;
    }
    if (out->auth.present && key != NULL) {
        uint8_t tag[FB_TAG_LEN];
        fb_compute_tag(key, raw, body_end + FB_COUNTER_LEN, tag);
        out->auth.verified = fb_ct_equal(tag, out->auth.tag, FB_TAG_LEN);
    }
    return FB_OK;
}

bool fb_status_header_valid(fb_status_t st)
{
    return st == FB_ERR_VERSION || st == FB_ERR_TYPE || st == FB_ERR_PAYLOAD || st == FB_ERR_FLAGS;
}

uint8_t fb_status_nack_reason(fb_status_t st)
{
    switch (st) {
    case FB_OK:
    case FB_NEED_MORE:
        return FB_NACK_NONE;
    case FB_ERR_VERSION:
        return FB_NACK_VERSION_MISMATCH;
    case FB_ERR_TYPE:
        return FB_NACK_UNKNOWN_MESSAGE;
    default:
        return FB_NACK_BAD_FRAME;
    }
}

/* ---- stream decoder --------------------------------------------------------------------- */
void fb_decoder_init(fb_decoder_t *d, const uint8_t *key)
{
    memset(d, 0, sizeof *d);
    if (key != NULL) {
        d->has_key = true;
        memcpy(d->key, key, FB_KEY_LEN);
    }
}

fb_status_t fb_decoder_feed(fb_decoder_t *d, uint8_t byte, fb_message_t *out)
{
    fb_status_t st;
    size_t n;
    d->stats.bytes++;
    if (byte != 0u) {
        if (d->overflow) {
            return FB_NEED_MORE;
        }
        if (d->len >= FB_MAX_ENCODED) {
            d->overflow = true;
            d->len = 0;
            d->stats.oversize++;
            d->stats.frames_bad++;
            return FB_ERR_OVERSIZE;
        }
        d->buf[d->len++] = byte;
        return FB_NEED_MORE;
    }
    if (d->overflow || d->len == 0u) {
        d->overflow = false;
        d->len = 0;
        return FB_NEED_MORE;
    }
    n = fb_cobs_decode(d->buf, d->len, d->buf);
    d->len = 0;
    if (n == (size_t)-1) {
        d->stats.cobs_errors++;
        d->stats.frames_bad++;
        return FB_ERR_COBS;
    }
    st = fb_decode_raw(d->buf, n, d->has_key ? d->key : NULL, out);
    if (st == FB_OK) {
        d->stats.frames_ok++;
    } else {
        d->stats.frames_bad++;
        if (st == FB_ERR_CRC) {
            d->stats.crc_errors++;
        }
    }
    return st;
}

size_t fb_decoder_feed_buf(fb_decoder_t *d, const uint8_t *data, size_t len, fb_message_t *out,
                           fb_status_t *status)
{
    size_t i;
    for (i = 0; i < len; i++) {
        fb_status_t st = fb_decoder_feed(d, data[i], out);
        if (st != FB_NEED_MORE) {
            *status = st;
            return i + 1u;
        }
    }
    *status = FB_NEED_MORE;
    return len;
}

/* ---- authentication --------------------------------------------------------------------- */
uint8_t fb_auth_check(fb_auth_state_t *st, const fb_message_t *msg)
{
    if (!msg->auth.present || !msg->auth.verified) {
        return FB_NACK_NOT_AUTHENTICATED;
    }
    if (msg->auth.counter <= st->last_counter) {
        return FB_NACK_BAD_COUNTER;
    }
    st->last_counter = msg->auth.counter;
    return FB_NACK_NONE;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool fb_key_from_hex(const char *hex, uint8_t key[FB_KEY_LEN])
{
    unsigned i;
    for (i = 0; i < FB_KEY_LEN; i++) {
        int hi = hex_value(hex[2u * i]);
        int lo;
        if (hi < 0) {
            return false;
        }
        lo = hex_value(hex[2u * i + 1u]);
        if (lo < 0) {
            return false;
        }
        key[i] = (uint8_t)((hi << 4) | lo);
    }
    return hex[2u * FB_KEY_LEN] == '\0';
}
