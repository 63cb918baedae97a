/*
 * fb_peer.c - a minimal C device speaking protocol v1 on stdin/stdout (host only).
 *
 * It answers every request the way a device must (HELLO, ACK/NACK with authentication and the
 * decoder's error classes, INTERROGATION, TELEMETRY) and answers TICK with an EVENTS frame that
 * consumes the whole window and reports no events: an echo peer for link round-trip benchmarks
 * and for testing the Python client against the C codec. It is also the smallest example of the
 * device loop described in fb_protocol.h. Run it with a pty master as stdin and stdout.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fb_protocol.h"

static fb_decoder_t g_dec;
static fb_encoder_t g_enc;
static fb_message_t g_rx, g_tx;
static fb_auth_state_t g_auth;
static fb_param_t g_params[FB_MAX_PARAMS];
static uint8_t g_nparams;
static uint32_t g_nacks, g_auth_failures;
static uint64_t g_time_us;
static uint8_t g_out[FB_MAX_WIRE];

static void send_tx(void)
{
    size_t len = 0, off = 0;
    if (fb_encode(&g_enc, &g_tx, NULL, g_out, sizeof g_out, &len) != FB_OK) {
        return;
    }
    while (off < len) {
        ssize_t w = write(1, g_out + off, len - off);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        off += (size_t)w;
    }
}

static void nack(uint8_t type, uint16_t seq, uint8_t reason)
{
    fb_message_init(&g_tx, FB_T_NACK, seq);
    g_tx.body.nack.acked_type = type;
    g_tx.body.nack.reason = reason;
    g_nacks++;
    send_tx();
}

static void hello(uint16_t seq)
{
    static const char model[] = "fb_peer";
    static const char version[] = "1.0";
    fb_hello_t *h;
    fb_message_init(&g_tx, FB_T_HELLO, seq);
    h = &g_tx.body.hello;
    h->protocol_version = FB_PROTOCOL_VERSION;
    h->capabilities = FB_CAP_TICK | FB_CAP_STREAM | FB_CAP_TELEMETRY | FB_CAP_AUTH;
    h->max_window_samples = FB_MAX_WINDOW_SAMPLES;
    h->sample_rate_hz = 1000;
    h->auth_counter = g_auth.last_counter;
    h->model_len = (uint8_t)(sizeof model - 1u);
    memcpy(h->model, model, h->model_len);
    h->firmware_version_len = (uint8_t)(sizeof version - 1u);
    memcpy(h->firmware_version, version, h->firmware_version_len);
    send_tx();
}

static void store_params(const fb_program_t *p)
{
    unsigned i, j;
    for (i = 0; i < p->count; i++) {
        for (j = 0; j < g_nparams; j++) {
            if (g_params[j].id == p->params[i].id) {
                break;
            }
        }
        if (j == g_nparams) {
            g_nparams++;
        }
        g_params[j] = p->params[i];
    }
}

static void handle(void)
{
    uint8_t type = g_rx.header.type;
    uint16_t seq = g_rx.header.seq;
    if (fb_type_requires_auth(type)) {
        uint8_t why = fb_auth_check(&g_auth, &g_rx);
        if (why != FB_NACK_NONE) {
            g_auth_failures++;
            nack(type, seq, why);
            return;
        }
        if (type == FB_T_PROGRAM) {
            store_params(&g_rx.body.program);
        } else if (type == FB_T_RESET) {
            g_time_us = 0;
        }
        fb_message_init(&g_tx, FB_T_ACK, seq);
        g_tx.body.ack.acked_type = type;
        send_tx();
        return;
    }
    switch (type) {
    case FB_T_HELLO_REQ:
        hello(seq);
        break;
    case FB_T_TICK:
        fb_message_init(&g_tx, FB_T_EVENTS, seq);
        g_tx.body.events.t0_us = g_rx.body.window.t0_us;
        g_tx.body.events.consumed = g_rx.body.window.n_samples;
        g_time_us = g_rx.body.window.t0_us + 1000u * g_rx.body.window.n_samples;
        send_tx();
        break;
    case FB_T_STREAM:
        g_time_us = g_rx.body.window.t0_us + 1000u * g_rx.body.window.n_samples;
        break;
    case FB_T_INTERROGATE:
        fb_message_init(&g_tx, FB_T_INTERROGATION, seq);
        g_tx.body.interrogation.time_us = g_time_us;
        g_tx.body.interrogation.active_mode = FB_MODE_OFF;
        g_tx.body.interrogation.count = g_nparams;
        memcpy(g_tx.body.interrogation.params, g_params, sizeof g_params);
        send_tx();
        break;
    case FB_T_TELEMETRY_REQ:
        fb_message_init(&g_tx, FB_T_TELEMETRY, seq);
        g_tx.body.telemetry.time_us = g_time_us;
        g_tx.body.telemetry.battery_mv = 2800;
        g_tx.body.telemetry.frames_ok = g_dec.stats.frames_ok;
        g_tx.body.telemetry.frames_bad = g_dec.stats.frames_bad;
        g_tx.body.telemetry.nacks_sent = g_nacks;
        g_tx.body.telemetry.auth_failures = g_auth_failures;
        send_tx();
        break;
    default:
        nack(type, seq, FB_NACK_UNKNOWN_MESSAGE);
        break;
    }
}

int main(void)
{
    static uint8_t buf[4096];
    uint8_t key[FB_KEY_LEN];
#ifdef FB_DEVICE_KEY_HEX
    const char *key_hex = FB_DEVICE_KEY_HEX;
#else
    const char *key_hex = FB_DEV_KEY_HEX;
#endif
    if (!fb_key_from_hex(key_hex, key)) {
        return 2;
    }
    fb_decoder_init(&g_dec, key);
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        size_t pos = 0;
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return 0;
        }
        while (pos < (size_t)n) {
            fb_status_t st;
            pos += fb_decoder_feed_buf(&g_dec, buf + pos, (size_t)n - pos, &g_rx, &st);
            if (st == FB_OK) {
                handle();
            } else if (st == FB_ERR_VERSION && g_rx.header.type == FB_T_HELLO_REQ) {
                hello(g_rx.header.seq);
            } else if (fb_status_header_valid(st)) {
                nack(g_rx.header.type, g_rx.header.seq, fb_status_nack_reason(st));
            }
        }
    }
}
