/* fw_device.c - protocol handling, device states, parameter store, telemetry. */
#include "fw_device.h"

#include <string.h>

#include "fw_faults.h"
#include "fw_hal.h"

#ifndef FB_DEVICE_KEY_HEX
#define FB_DEVICE_KEY_HEX FB_DEV_KEY_HEX
#endif
#ifndef FW_SOURCE_SHA256
#define FW_SOURCE_SHA256 "0000000000000000000000000000000000000000000000000000000000000000"
#endif
#define FW_VERSION "1.0.0"
#define FW_MODEL "devicetwin-ref"

/* ------------------------------------------------------------------ output */

static void send(fw_device_t *d, const fb_message_t *m)
{
    size_t n = 0;
    if (fb_encode(&d->enc, m, NULL, d->wire, sizeof(d->wire), &n) == FB_OK) {
        hal_uart_write(d->wire, n);
    }
}

static void nack(fw_device_t *d, uint8_t type, uint16_t seq, uint8_t reason, uint8_t param,
                 uint8_t rule)
{
    fb_message_init(&d->tx, FB_T_NACK, seq);
    d->tx.body.nack.acked_type = type;
    d->tx.body.nack.reason = reason;
    d->tx.body.nack.param_id = param;
    d->tx.body.nack.rule = rule;
    d->nacks_sent++;
    send(d, &d->tx);
}

static void ack(fw_device_t *d, uint8_t type, uint16_t seq)
{
    fb_message_init(&d->tx, FB_T_ACK, seq);
    d->tx.body.ack.acked_type = type;
    send(d, &d->tx);
}

static void copy_str(char *dst, uint8_t *len, const char *src)
{
    size_t n = strlen(src);
    if (n > FB_MAX_STR) {
        n = FB_MAX_STR;
    }
    memcpy(dst, src, n);
    *len = (uint8_t)n;
}

void fw_device_send_error(fw_device_t *d, uint8_t code, uint32_t detail, const char *text)
{
    fb_message_init(&d->tx, FB_T_ERROR, d->dev_seq++);
    d->tx.body.error.code = code;
    d->tx.body.error.detail = detail;
    size_t n = strlen(text);
    if (n > FB_MAX_ERROR_TEXT) {
        n = FB_MAX_ERROR_TEXT;
    }
    memcpy(d->tx.body.error.text, text, n);
    d->tx.body.error.text_len = (uint8_t)n;
    send(d, &d->tx);
}

/* ------------------------------------------------------------------ markers */

static void marker_sink(void *ctx, const fw_marker_t *m)
{
    fw_device_t *d = (fw_device_t *)ctx;
    if (m->kind == FW_MK_AP || m->kind == FW_MK_VP) {
        fw_battery_pace(&d->battery, m->amplitude_mv, m->width_us,
                        hal_lead_impedance_ohm(m->kind == FW_MK_VP));
    }
    fb_events_t *ev = d->collect;
    if (ev == NULL) {
        return;
    }
    if (ev->count >= FB_MAX_EVENTS) {
        d->events_dropped++;
        return;
    }
    fb_event_t *e = &ev->events[ev->count++];
    e->t_us = m->t_us;
    e->chamber = m->chamber;
    e->kind = m->kind;
    e->flags = m->flags;
    e->amplitude_mv = m->amplitude_mv;
    e->width_us = m->width_us;
}

/* ------------------------------------------------------------------ state */

static fw_battery_level_t battery_level(const fw_device_t *d)
{
    return fw_battery_level(&d->battery, (uint64_t)d->pc.t_ms);
}

/* The programming that runs in the current state (temporary mode overlays the permanent one). */
static void running_params(const fw_device_t *d, fw_params_t *out)
{
    *out = d->prog;
    if (d->state == FW_STATE_TEMPORARY) {
        out->mode = d->temp_mode;
    }
}

static void apply_state(fw_device_t *d)
{
    fw_params_t p;
    running_params(d, &p);
    fw_state_t st = (fw_state_t)d->state;
    if (d->magnet && st != FW_STATE_PACE_NOW && st != FW_STATE_POWER_ON_RESET) {
        st = FW_STATE_MAGNET;
    }
    fw_pacer_reprogram(&d->pc, &p, st, battery_level(d));
}

static void session_reset(fw_device_t *d)
{
    fw_params_t p;
    running_params(d, &p);
    fw_pacer_init(&d->pc, &p, FW_STATE_PERMANENT, FW_BATT_BOL, 0, marker_sink, d);
    d->streaming = false;
    d->ring_head = d->ring_tail = 0;
    apply_state(d);
}

static void boot(fw_device_t *d)
{
    bool ok = fw_store_read(&d->store, &d->prog);
    d->params_corrupt_at_boot = !ok;
    d->state = ok ? FW_STATE_PERMANENT : FW_STATE_POWER_ON_RESET;
    d->temp_mode = 0;
    d->magnet = false;
    d->events_dropped = 0;
    d->nacks_sent = 0;
    d->auth_failures = 0;
    d->stream_underruns = 0;
    memset(&d->dec.stats, 0, sizeof(d->dec.stats));
    fw_battery_set(&d->battery, FW_BATT_BOL, 0);
    session_reset(d);
    if (!ok) {
        fw_device_send_error(d, FB_ERR_CODE_PARAMS_CORRUPT, 0,
                             "stored parameters corrupt: power-on reset settings");
    }
}

void fw_device_init(fw_device_t *d)
{
    memset(d, 0, sizeof(*d));
    if (!fb_key_from_hex(FB_DEVICE_KEY_HEX, d->key)) {
        memset(d->key, 0, sizeof(d->key));
    }
    fb_decoder_init(&d->dec, d->key);
    fw_params_t nominal;
    fw_params_nominal(&nominal);
    fw_store_write(&d->store, &nominal);
    if (hal_corrupt_store_at_boot()) {
        /* a flipped bit in non-volatile memory: the stored CRC no longer matches */
        d->store.params.lrl_ppm ^= 0x40u;
    }
    boot(d);
}

/* ------------------------------------------------------------------ requests */

static uint8_t status_to_reason(fw_param_status_t st)
{
    switch (st) {
    case FW_PARAM_OK: return FB_NACK_NONE;
    case FW_PARAM_CROSS_RULE: return FB_NACK_CROSS_PARAM_RULE;
    case FW_PARAM_UNKNOWN: return FB_NACK_UNKNOWN_PARAMETER;
    case FW_PARAM_NOT_APPLICABLE: return FB_NACK_PARAM_NOT_APPLICABLE;
    default: return FB_NACK_PARAM_OUT_OF_RANGE;
    }
}

static void on_hello(fw_device_t *d, uint16_t seq)
{
    fb_message_init(&d->tx, FB_T_HELLO, seq);
    fb_hello_t *h = &d->tx.body.hello;
    h->protocol_version = FB_PROTOCOL_VERSION;
    h->capabilities = FB_CAP_TICK | FB_CAP_STREAM | FB_CAP_TELEMETRY | FB_CAP_EARLY_STOP |
                      FB_CAP_AUTH | FB_CAP_RATE_ADAPTIVE | FB_CAP_DUAL_CHAMBER;
    h->max_window_samples = FB_MAX_WINDOW_SAMPLES;
    h->sample_rate_hz = 1000;
    h->auth_counter = d->auth.last_counter;
    if (!fb_key_from_hex(FW_SOURCE_SHA256, h->firmware_hash)) {
        memset(h->firmware_hash, 0, sizeof(h->firmware_hash));
    }
    copy_str(h->model, &h->model_len, FW_MODEL);
    copy_str(h->serial, &h->serial_len, hal_target_name());
    char version[FB_MAX_STR];
    const char *fault = fw_fault_name();
    size_t n = strlen(FW_VERSION);
    memcpy(version, FW_VERSION, n);
    if (strcmp(fault, "none") != 0) {
        const char *sep = "+fault";
        size_t k = strlen(sep);
        memcpy(version + n, sep, k);
        n += k;
    }
    version[n] = '\0';
    copy_str(h->firmware_version, &h->firmware_version_len, version);
    send(d, &d->tx);
}

static void on_program(fw_device_t *d, uint16_t seq)
{
    const fb_program_t *pr = &d->rx.body.program;
    if (d->state == FW_STATE_PACE_NOW) {
        nack(d, FB_T_PROGRAM, seq, FB_NACK_BUSY, 0, 0);
        return;
    }
    fw_params_t next = d->prog;
    for (uint32_t i = 0; i < pr->count; ++i) {
        fw_param_status_t st = fw_params_set(&next, pr->params[i].id, pr->params[i].value);
        if (st != FW_PARAM_OK && !FW_FAULT_ENABLED(PROGRAM_NO_RANGE_CHECK)) {
            nack(d, FB_T_PROGRAM, seq, status_to_reason(st), pr->params[i].id, 0);
            return;
        }
    }
    uint8_t bad = 0, rule = 0;
    fw_param_status_t st = fw_params_check(&next, &bad, &rule);
    if (st == FW_PARAM_OK && next.mode < FW_MODE_COUNT &&
        fw_mode_info((fw_mode_t)next.mode)->temporary_only &&
        !FW_FAULT_ENABLED(PROGRAM_NO_RANGE_CHECK)) {
        st = FW_PARAM_BAD_MODE; /* OAO, OVO, ODO, OOO are temporary-only */
        bad = FW_F_MODE;
    }
    if (st != FW_PARAM_OK) {
        nack(d, FB_T_PROGRAM, seq, status_to_reason(st), bad, rule);
        return;
    }
    if (next.mode >= FW_MODE_COUNT) {
        next.mode = FW_MODE_OFF; /* only reachable in the no-range-check fault variant */
    }
    d->prog = next;
    fw_store_write(&d->store, &d->prog);
    d->state = FW_STATE_PERMANENT;
    apply_state(d);
    ack(d, FB_T_PROGRAM, seq);
}

static void on_set_state(fw_device_t *d, uint16_t seq)
{
    const fb_set_state_t *s = &d->rx.body.set_state;
    switch (s->command) {
    case FB_CMD_PERMANENT:
        d->state = FW_STATE_PERMANENT;
        break;
    case FB_CMD_TEMPORARY: {
        fw_params_t p = d->prog;
        p.mode = s->mode;
        fw_params_t nominal;
        fw_params_nominal(&nominal);
        for (uint8_t id = FW_F_LRL; id <= (uint8_t)FW_F_LAST; ++id) {
            int32_t v = 0;
            if (!fw_param_applies(id, (fw_mode_t)p.mode) && fw_params_get(&nominal, id, &v)) {
                (void)fw_params_set(&p, id, v); /* unused by the temporary mode */
            }
        }
        uint8_t bad = 0, rule = 0;
        fw_param_status_t st = fw_params_check(&p, &bad, &rule);
        if (st != FW_PARAM_OK) {
            nack(d, FB_T_SET_STATE, seq, status_to_reason(st), bad, rule);
            return;
        }
        d->state = FW_STATE_TEMPORARY;
        d->temp_mode = s->mode;
        break;
    }
    case FB_CMD_PACE_NOW:
        d->state = FW_STATE_PACE_NOW;
        break;
    case FB_CMD_MAGNET_ON:
        d->magnet = true;
        break;
    case FB_CMD_MAGNET_OFF:
        d->magnet = false;
        break;
    case FB_CMD_POWER_ON_RESET:
        d->state = FW_STATE_POWER_ON_RESET;
        break;
    default:
        nack(d, FB_T_SET_STATE, seq, FB_NACK_PARAM_OUT_OF_RANGE, 0, 0);
        return;
    }
    apply_state(d);
    ack(d, FB_T_SET_STATE, seq);
}

static void on_interrogate(fw_device_t *d, uint16_t seq)
{
    fb_message_init(&d->tx, FB_T_INTERROGATION, seq);
    fb_interrogation_t *it = &d->tx.body.interrogation;
    static const uint8_t STATE_CODE[] = {FB_STATE_PERMANENT, FB_STATE_TEMPORARY,
                                         FB_STATE_PACE_NOW, FB_STATE_PERMANENT,
                                         FB_STATE_POWER_ON_RESET};
    it->state = STATE_CODE[d->state];
    it->magnet = d->magnet ? 1u : 0u;
    it->active_mode = (uint8_t)d->pc.mode;
    it->battery = (uint8_t)battery_level(d);
    it->time_us = (uint64_t)d->pc.t_ms * 1000u;
    it->count = 0;
    for (uint8_t id = 1; id <= (uint8_t)FW_F_LAST; ++id) {
        int32_t v = 0;
        if (fw_params_get(&d->prog, id, &v)) {
            it->params[it->count].id = id;
            it->params[it->count].value = v;
            it->count++;
        }
    }
    send(d, &d->tx);
}

static void on_telemetry(fw_device_t *d, uint16_t seq)
{
#if defined(FW_TEST_CRASH) && FW_TEST_CRASH
    /* Test-only build: crash here to exercise the fault handler and crash detection. */
    __builtin_trap();
#endif
    fb_message_init(&d->tx, FB_T_TELEMETRY, seq);
    fb_telemetry_t *t = &d->tx.body.telemetry;
    const uint32_t *c = d->pc.counts;
    t->time_us = (uint64_t)d->pc.t_ms * 1000u;
    t->battery_mv = fw_battery_mv(&d->battery, (uint64_t)d->pc.t_ms);
    t->battery_state = (uint8_t)battery_level(d);
    t->atrial_impedance_ohm = (uint16_t)(hal_lead_impedance_ohm(0) / 50u * 50u);
    t->ventricular_impedance_ohm = (uint16_t)(hal_lead_impedance_ohm(1) / 50u * 50u);
    t->ap_count = c[FW_MK_AP];
    t->as_count = c[FW_MK_AS] + c[FW_MK_AT];
    t->ar_count = c[FW_MK_AR];
    t->vp_count = c[FW_MK_VP];
    t->vs_count = c[FW_MK_VS];
    t->vr_count = c[FW_MK_VR];
    t->pvc_count = c[FW_MK_PVC];
    t->frames_ok = d->dec.stats.frames_ok;
    t->frames_bad = d->dec.stats.frames_bad;
    t->nacks_sent = d->nacks_sent;
    t->auth_failures = d->auth_failures;
    send(d, &d->tx);
}

static void on_tick(fw_device_t *d, uint16_t seq)
{
    const fb_window_t *w = &d->rx.body.window;
    uint64_t now_us = (uint64_t)d->pc.t_ms * 1000u;
    if (d->streaming || w->t0_us != now_us) {
        /* Lock-step windows must continue exactly where the device's time is. */
        nack(d, FB_T_TICK, seq, FB_NACK_BUSY, 0, 0);
        return;
    }
    fb_message_init(&d->tx, FB_T_EVENTS, seq);
    fb_events_t *ev = &d->tx.body.events;
    ev->t0_us = w->t0_us;
    d->collect = ev;
    uint16_t k = 0;
    while (k < w->n_samples) {
        bool paced = fw_pacer_sample(&d->pc, w->atrial_uv[k], w->ventricular_uv[k],
                                     w->activity_mg[k]);
        k++;
        if (paced && (w->flags & FB_WINDOW_EARLY_STOP) != 0u) {
            ev->flags |= FB_EVENTS_STOPPED_AT_PACE;
            break;
        }
        if (ev->count + FW_EVENT_HEADROOM > FB_MAX_EVENTS) {
            break;
        }
    }
    d->collect = NULL;
    ev->consumed = k;
    send(d, &d->tx);
}

static void on_stream(fw_device_t *d)
{
    const fb_window_t *w = &d->rx.body.window;
    d->streaming = true;
    for (uint16_t k = 0; k < w->n_samples; ++k) {
        if (d->ring_head - d->ring_tail >= FW_STREAM_RING) {
            d->stream_underruns++; /* overflow: drop the oldest */
            d->ring_tail++;
        }
        uint32_t i = d->ring_head & (FW_STREAM_RING - 1u);
        d->ring_a[i] = w->atrial_uv[k];
        d->ring_v[i] = w->ventricular_uv[k];
        d->ring_act[i] = w->activity_mg[k];
        d->ring_head++;
    }
}

void fw_device_realtime_ms(fw_device_t *d)
{
    if (!d->streaming) {
        return;
    }
    int16_t a = 0, v = 0, act = 0;
    if (d->ring_head != d->ring_tail) {
        uint32_t i = d->ring_tail & (FW_STREAM_RING - 1u);
        a = d->ring_a[i];
        v = d->ring_v[i];
        act = d->ring_act[i];
        d->ring_tail++;
    } else {
        d->stream_underruns++;
    }
    fb_message_init(&d->tx, FB_T_EVENTS, d->dev_seq);
    fb_events_t *ev = &d->tx.body.events;
    d->collect = ev;
    (void)fw_pacer_sample(&d->pc, a, v, act);
    d->collect = NULL;
    if (ev->count != 0u) {
        ev->t0_us = (uint64_t)d->pc.t_ms * 1000u;
        ev->flags = FB_EVENTS_STREAMED;
        d->dev_seq++;
        send(d, &d->tx);
    }
}

static void on_message(fw_device_t *d)
{
    uint8_t type = d->rx.header.type;
    uint16_t seq = d->rx.header.seq;
    if (fb_type_requires_auth(type)) {
        uint8_t why = fb_auth_check(&d->auth, &d->rx);
        if (why != FB_NACK_NONE) {
            d->auth_failures++;
            nack(d, type, seq, why, 0, 0);
            return;
        }
    }
    switch (type) {
    case FB_T_HELLO_REQ: on_hello(d, seq); break;
    case FB_T_PROGRAM: on_program(d, seq); break;
    case FB_T_SET_STATE: on_set_state(d, seq); break;
    case FB_T_SET_BATTERY:
        fw_battery_set(&d->battery, (fw_battery_level_t)d->rx.body.set_battery.state,
                       (uint64_t)d->pc.t_ms);
        if (d->magnet) {
            apply_state(d);
        }
        ack(d, type, seq);
        break;
    case FB_T_RESET:
        ack(d, type, seq);
        if (d->rx.body.reset.kind == FB_RESET_REBOOT) {
            boot(d);
        } else {
            session_reset(d);
        }
        break;
    case FB_T_INTERROGATE: on_interrogate(d, seq); break;
    case FB_T_TICK: on_tick(d, seq); break;
    case FB_T_STREAM: on_stream(d); break;
    case FB_T_TELEMETRY_REQ: on_telemetry(d, seq); break;
    default: nack(d, type, seq, FB_NACK_UNKNOWN_MESSAGE, 0, 0); break;
    }
}

void fw_device_rx(fw_device_t *d, const uint8_t *data, uint32_t len)
{
    size_t pos = 0;
    while (pos < len) {
        fb_status_t st = FB_NEED_MORE;
        pos += fb_decoder_feed_buf(&d->dec, data + pos, len - pos, &d->rx, &st);
        if (st == FB_NEED_MORE) {
            continue;
        }
        if (st == FB_OK) {
            on_message(d);
        } else if (st == FB_ERR_VERSION && d->rx.header.type == FB_T_HELLO_REQ) {
            on_hello(d, d->rx.header.seq);
        } else if (fb_status_header_valid(st)) {
            nack(d, d->rx.header.type, d->rx.header.seq, fb_status_nack_reason(st), 0, 0);
        }
    }
}
