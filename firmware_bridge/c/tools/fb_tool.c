/*
 * fb_tool.c - host test driver of the C codec, driven line by line from pytest.
 *
 * Commands on stdin (hex arguments, "-" for empty), one answer line each (frame: several):
 *   sha256 HEX | hmac KEYHEX HEX | crc HEX | cobsenc HEX | cobsdec HEX
 *   senc N S1 .. SN             -> hex of the sample coding
 *   sdec N HEX                  -> N samples, or ERR
 *   frame HEX                   -> one line per completed frame: "OK <ints> | <re-encoded hex>"
 *                                  or "ERR <status>", then "STATS ok bad crc cobs oversize bytes"
 *   auth LAST HEX               -> "<nack reason> <last counter after>"
 *   sizes                       -> sizeof decoder encoder message
 * The decoder uses the development key FB_DEV_KEY_HEX.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fb_protocol.h"
#include "fb_sha256.h"

#define LINE_MAX_LEN 20000

static uint8_t g_key[FB_KEY_LEN];

static size_t parse_hex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (strcmp(s, "-") == 0) {
        return 0;
    }
    while (s[0] && s[1] && n < cap) {
        unsigned v;
        if (sscanf(s, "%2x", &v) != 1) {
            break;
        }
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

static void print_hex(const uint8_t *p, size_t n)
{
    size_t i;
    if (n == 0u) {
        printf("-");
    }
    for (i = 0; i < n; i++) {
        printf("%02x", p[i]);
    }
}

static void ints_params(const fb_param_t *p, unsigned count)
{
    unsigned i;
    printf(" %u", count);
    for (i = 0; i < count; i++) {
        printf(" %u %ld", p[i].id, (long)p[i].value);
    }
}

static void ints_str(const char *s, unsigned len)
{
    unsigned i;
    printf(" %u", len);
    for (i = 0; i < len; i++) {
        printf(" %u", (unsigned)(unsigned char)s[i]);
    }
}

static void ints_samples(const int16_t *s, unsigned n)
{
    unsigned i;
    for (i = 0; i < n; i++) {
        printf(" %d", s[i]);
    }
}

/* The message as a flat list of integers in wire-layout order (see tests/firmware_bridge). */
static void print_ints(const fb_message_t *m)
{
    unsigned i;
    printf("%u %u %u %u", m->header.version, m->header.type, m->header.flags, m->header.seq);
    printf(" %d", m->auth.present ? 1 : 0);
    if (m->auth.present) {
        printf(" %d %lu", m->auth.verified ? 1 : 0, (unsigned long)m->auth.counter);
    }
    switch (m->header.type) {
    case FB_T_HELLO: {
        const fb_hello_t *h = &m->body.hello;
        printf(" %u %lu %u %u %lu", h->protocol_version, (unsigned long)h->capabilities,
               h->max_window_samples, h->sample_rate_hz, (unsigned long)h->auth_counter);
        for (i = 0; i < 32u; i++) {
            printf(" %u", h->firmware_hash[i]);
        }
        ints_str(h->model, h->model_len);
        ints_str(h->serial, h->serial_len);
        ints_str(h->firmware_version, h->firmware_version_len);
        break;
    }
    case FB_T_PROGRAM:
        ints_params(m->body.program.params, m->body.program.count);
        break;
    case FB_T_SET_STATE:
        printf(" %u %u", m->body.set_state.command, m->body.set_state.mode);
        break;
    case FB_T_SET_BATTERY:
        printf(" %u", m->body.set_battery.state);
        break;
    case FB_T_RESET:
        printf(" %u", m->body.reset.kind);
        break;
    case FB_T_ACK:
        printf(" %u", m->body.ack.acked_type);
        break;
    case FB_T_NACK:
        printf(" %u %u %u %u", m->body.nack.acked_type, m->body.nack.reason, m->body.nack.param_id,
               m->body.nack.rule);
        break;
    case FB_T_INTERROGATION: {
        const fb_interrogation_t *q = &m->body.interrogation;
        printf(" %u %u %u %u %llu", q->state, q->magnet, q->active_mode, q->battery,
               (unsigned long long)q->time_us);
        ints_params(q->params, q->count);
        break;
    }
    case FB_T_TICK:
    case FB_T_STREAM: {
        const fb_window_t *w = &m->body.window;
        printf(" %llu %u %u", (unsigned long long)w->t0_us, w->n_samples, w->flags);
        ints_samples(w->atrial_uv, w->n_samples);
        ints_samples(w->ventricular_uv, w->n_samples);
        ints_samples(w->activity_mg, w->n_samples);
        break;
    }
    case FB_T_EVENTS: {
        const fb_events_t *e = &m->body.events;
        printf(" %llu %u %u %u", (unsigned long long)e->t0_us, e->consumed, e->flags, e->count);
        for (i = 0; i < e->count; i++) {
            const fb_event_t *v = &e->events[i];
            printf(" %llu %u %u %u %u %u", (unsigned long long)v->t_us, v->chamber, v->kind,
                   v->flags, v->amplitude_mv, v->width_us);
        }
        break;
    }
    case FB_T_TELEMETRY: {
        const fb_telemetry_t *t = &m->body.telemetry;
        printf(" %llu %u %u %u %u", (unsigned long long)t->time_us, t->battery_mv,
               t->battery_state, t->atrial_impedance_ohm, t->ventricular_impedance_ohm);
        printf(" %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu", (unsigned long)t->ap_count,
               (unsigned long)t->as_count, (unsigned long)t->ar_count, (unsigned long)t->vp_count,
               (unsigned long)t->vs_count, (unsigned long)t->vr_count, (unsigned long)t->pvc_count,
               (unsigned long)t->frames_ok, (unsigned long)t->frames_bad,
               (unsigned long)t->nacks_sent, (unsigned long)t->auth_failures);
        break;
    }
    case FB_T_ERROR:
        printf(" %u %lu", m->body.error.code, (unsigned long)m->body.error.detail);
        ints_str(m->body.error.text, m->body.error.text_len);
        break;
    default:
        break;
    }
}

static void cmd_frame(const uint8_t *wire, size_t n)
{
    static fb_decoder_t dec;
    static fb_encoder_t enc;
    static fb_message_t msg;
    static uint8_t out[FB_MAX_WIRE];
    size_t pos = 0;
    fb_decoder_init(&dec, g_key);
    while (pos < n) {
        fb_status_t st;
        pos += fb_decoder_feed_buf(&dec, wire + pos, n - pos, &msg, &st);
        if (st == FB_NEED_MORE) {
            break;
        }
        if (st != FB_OK) {
            printf("ERR %d\n", (int)st);
            continue;
        }
        printf("OK ");
        print_ints(&msg);
        printf(" | ");
        if (msg.auth.present && !msg.auth.verified) {
            printf("-");
        } else {
            size_t len = 0;
            fb_status_t est = fb_encode(&enc, &msg, msg.auth.present ? g_key : NULL, out,
                                        sizeof out, &len);
            if (est == FB_OK) {
                print_hex(out, len);
            } else {
                printf("ENCERR %d", (int)est);
            }
        }
        printf("\n");
    }
    printf("STATS %lu %lu %lu %lu %lu %lu\n", (unsigned long)dec.stats.frames_ok,
           (unsigned long)dec.stats.frames_bad, (unsigned long)dec.stats.crc_errors,
           (unsigned long)dec.stats.cobs_errors, (unsigned long)dec.stats.oversize,
           (unsigned long)dec.stats.bytes);
}

int main(void)
{
    static char line[LINE_MAX_LEN];
    static uint8_t a[LINE_MAX_LEN / 2], b[LINE_MAX_LEN / 2], c[LINE_MAX_LEN];
    if (!fb_key_from_hex(FB_DEV_KEY_HEX, g_key)) {
        return 2;
    }
    while (fgets(line, sizeof line, stdin) != NULL) {
        char *cmd = strtok(line, " \n");
        char *arg1 = strtok(NULL, " \n");
        char *arg2;
        size_t n, m;
        if (cmd == NULL) {
            continue;
        }
        if (strcmp(cmd, "sizes") == 0) {
            printf("%zu %zu %zu\n", sizeof(fb_decoder_t), sizeof(fb_encoder_t),
                   sizeof(fb_message_t));
        } else if (arg1 == NULL) {
            printf("ERR usage\n");
        } else if (strcmp(cmd, "sha256") == 0) {
            n = parse_hex(arg1, a, sizeof a);
            fb_sha256(a, n, c);
            print_hex(c, 32);
            printf("\n");
        } else if (strcmp(cmd, "hmac") == 0) {
            arg2 = strtok(NULL, " \n");
            n = parse_hex(arg1, a, sizeof a);
            m = parse_hex(arg2 ? arg2 : "-", b, sizeof b);
            fb_hmac_sha256(a, n, b, m, c);
            print_hex(c, 32);
            printf("\n");
        } else if (strcmp(cmd, "crc") == 0) {
            n = parse_hex(arg1, a, sizeof a);
            printf("%08lx\n", (unsigned long)fb_crc32c(a, n));
        } else if (strcmp(cmd, "cobsenc") == 0) {
            n = parse_hex(arg1, a, sizeof a);
            m = fb_cobs_encode(a, n, c, sizeof c);
            print_hex(c, m);
            printf("\n");
        } else if (strcmp(cmd, "cobsdec") == 0) {
            n = parse_hex(arg1, a, sizeof a);
            m = fb_cobs_decode(a, n, a);
            if (m == (size_t)-1) {
                printf("ERR\n");
            } else {
                print_hex(a, m);
                printf("\n");
            }
        } else if (strcmp(cmd, "senc") == 0) {
            int16_t s[FB_MAX_WINDOW_SAMPLES];
            unsigned k, cnt = (unsigned)strtoul(arg1, NULL, 10);
            if (cnt > FB_MAX_WINDOW_SAMPLES) {
                printf("ERR\n");
                continue;
            }
            for (k = 0; k < cnt; k++) {
                char *t = strtok(NULL, " \n");
                s[k] = (int16_t)(t ? strtol(t, NULL, 10) : 0);
            }
            m = fb_samples_encode(s, cnt, c, sizeof c);
            print_hex(c, m);
            printf("\n");
        } else if (strcmp(cmd, "sdec") == 0) {
            int16_t s[FB_MAX_WINDOW_SAMPLES];
            unsigned k, cnt = (unsigned)strtoul(arg1, NULL, 10);
            arg2 = strtok(NULL, " \n");
            n = parse_hex(arg2 ? arg2 : "-", a, sizeof a);
            if (cnt > FB_MAX_WINDOW_SAMPLES) {
                printf("ERR\n");
                continue;
            }
            m = fb_samples_decode(a, n, s, cnt);
            if (m == 0u) {
                printf("ERR\n");
                continue;
            }
            printf("%zu", m);
            for (k = 0; k < cnt; k++) {
                printf(" %d", s[k]);
            }
            printf("\n");
        } else if (strcmp(cmd, "frame") == 0) {
            n = parse_hex(arg1, a, sizeof a);
            cmd_frame(a, n);
        } else if (strcmp(cmd, "auth") == 0) {
            static fb_message_t msg;
            fb_auth_state_t st;
            fb_status_t ds;
            st.last_counter = (uint32_t)strtoul(arg1, NULL, 10);
            arg2 = strtok(NULL, " \n");
            n = parse_hex(arg2 ? arg2 : "-", a, sizeof a);
            if (n > 0u && a[n - 1u] == 0u) {
                n--;
            }
            m = fb_cobs_decode(a, n, a);
            if (m == (size_t)-1) {
                printf("ERR cobs\n");
                continue;
            }
            ds = fb_decode_raw(a, m, g_key, &msg);
            if (ds != FB_OK) {
                printf("ERR %d\n", (int)ds);
                continue;
            }
            {
                unsigned why = fb_auth_check(&st, &msg);
                printf("%u %lu\n", why, (unsigned long)st.last_counter);
            }
        } else {
            printf("ERR unknown\n");
        }
        fflush(stdout);
    }
    return 0;
}
