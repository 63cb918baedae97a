/*
 * fw_device.h - the device: the bridge protocol (firmware_bridge/c) on top of the timing engine.
 *
 * Owns the permanent programming and its CRC-protected store, the device state, the battery
 * model, the authentication counter and the counters of telemetry. Bytes from the link go in with
 * fw_device_rx(); answers go out through hal_uart_write(). Lock-step time advances only with TICK
 * windows; real-time time advances with fw_device_realtime_ms() (a 1 kHz timer) once STREAM began.
 */
#ifndef FW_DEVICE_H
#define FW_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "fb_protocol.h"
#include "fw_pacing.h"
#include "fw_params.h"
#include "fw_telemetry.h"

#define FW_STREAM_RING 1024u /* samples buffered for real-time sessions (power of two) */
#define FW_EVENT_HEADROOM 8u /* stop a TICK early when fewer free event slots remain */

typedef struct {
    fb_decoder_t dec;
    fb_encoder_t enc;
    fb_message_t rx;
    fb_message_t tx;
    fb_auth_state_t auth;
    uint8_t key[FB_KEY_LEN];
    uint8_t wire[FB_MAX_WIRE];

    fw_param_store_t store;   /* emulated non-volatile memory */
    fw_params_t prog;         /* permanent programming */
    uint8_t state;            /* fw_state_t: PERMANENT, TEMPORARY, PACE_NOW, POWER_ON_RESET */
    uint8_t temp_mode;
    bool magnet;
    bool params_corrupt_at_boot;
    fw_battery_t battery;
    fw_pacer_t pc;

    fb_events_t *collect;     /* events body being filled, or NULL */
    uint32_t events_dropped;
    uint32_t nacks_sent;
    uint32_t auth_failures;
    uint32_t stream_underruns;
    uint16_t dev_seq;

    bool streaming;
    uint32_t ring_head, ring_tail;
    int16_t ring_a[FW_STREAM_RING];
    int16_t ring_v[FW_STREAM_RING];
    int16_t ring_act[FW_STREAM_RING];
} fw_device_t;

/* Power-up: load the store (POR settings and an ERROR frame if its CRC is bad), session time 0. */
void fw_device_init(fw_device_t *d);
/* Feed received link bytes; answers are written before this returns. */
void fw_device_rx(fw_device_t *d, const uint8_t *data, uint32_t len);
/* Real-time sessions: advance one millisecond of device time (call from the 1 kHz time base). */
void fw_device_realtime_ms(fw_device_t *d);
/* Send an unsolicited ERROR frame (used by fault handlers too). */
void fw_device_send_error(fw_device_t *d, uint8_t code, uint32_t detail, const char *text);

#endif
