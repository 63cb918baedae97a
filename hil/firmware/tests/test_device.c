/* test_device.c - the protocol layer in-process: corrupt store fallback, TICK early stop,
 * authentication, counters. Frames are built with firmware_bridge/c's encoder. */
#include <string.h>

#include "fb_protocol.h"
#include "fw_device.h"
#include "fw_test.h"
#include "hal_test.h"

static fw_device_t dev;
static fb_encoder_t enc;
static fb_message_t msg, out;
static uint8_t wire[FB_MAX_WIRE];
static uint8_t key[FB_KEY_LEN];
static uint32_t counter;

static void feed(const fb_message_t *m, bool auth)
{
    fb_message_t copy = *m;
    if (auth) {
        copy.header.flags |= FB_FLAG_AUTH;
        copy.auth.counter = ++counter;
    }
    size_t n = 0;
    CHECK_EQ(fb_encode(&enc, &copy, auth ? key : NULL, wire, sizeof(wire), &n), FB_OK);
    hal_test_tx_len = 0;
    fw_device_rx(&dev, wire, (uint32_t)n);
}

/* Decode the frames the device wrote; returns how many, the last one in `out`. */
static int replies(uint8_t *types, int cap)
{
    fb_decoder_t d;
    fb_decoder_init(&d, NULL);
    int n = 0;
    for (size_t i = 0; i < hal_test_tx_len; ++i) {
        fb_status_t st = fb_decoder_feed(&d, hal_test_tx[i], &out);
        if (st == FB_OK && n < cap) {
            types[n++] = out.header.type;
        }
    }
    return n;
}

static void test_corrupt_store_falls_back_to_por(void)
{
    uint8_t types[4];
    fw_device_init(&dev);
    CHECK_EQ(dev.state, FW_STATE_PERMANENT);
    CHECK_EQ(dev.pc.mode, FW_MODE_DDD);
    ((uint8_t *)&dev.store.params)[3] ^= 0x40u; /* one bit of the stored MSR */
    fb_message_init(&msg, FB_T_RESET, 7);
    msg.body.reset.kind = FB_RESET_REBOOT;
    feed(&msg, true);
    int n = replies(types, 4);
    CHECK_EQ(n, 2);
    CHECK_EQ(types[0], FB_T_ACK);
    CHECK_EQ(types[1], FB_T_ERROR);
    CHECK_EQ(out.body.error.code, FB_ERR_CODE_PARAMS_CORRUPT);
    CHECK_EQ(dev.state, FW_STATE_POWER_ON_RESET);
    CHECK_EQ(dev.pc.mode, FW_MODE_VVI);
    CHECK_EQ(dev.pc.lri_ms, 923);
    CHECK_EQ(dev.pc.p.v_amplitude_mv, 5000);
}

static void test_tick_early_stop(void)
{
    uint8_t types[4];
    fw_device_init(&dev);
    /* Quiet windows of 100 samples: nominal DDD paces A at 850 ms. */
    for (int w = 0; w < 8; ++w) {
        fb_message_init(&msg, FB_T_TICK, (uint16_t)(100 + w));
        msg.body.window.t0_us = (uint64_t)w * 100000u;
        msg.body.window.n_samples = 100;
        msg.body.window.flags = FB_WINDOW_EARLY_STOP;
        feed(&msg, false);
        CHECK_EQ(replies(types, 4), 1);
        CHECK_EQ(out.body.events.consumed, 100);
        CHECK_EQ(out.body.events.count, 0);
    }
    fb_message_init(&msg, FB_T_TICK, 200);
    msg.body.window.t0_us = 800000u;
    msg.body.window.n_samples = 100;
    msg.body.window.flags = FB_WINDOW_EARLY_STOP;
    feed(&msg, false);
    CHECK_EQ(replies(types, 4), 1);
    CHECK_EQ(types[0], FB_T_EVENTS);
    CHECK_EQ(out.body.events.consumed, 51); /* samples 800..850: stops right after the AP */
    CHECK_EQ(out.body.events.flags, FB_EVENTS_STOPPED_AT_PACE);
    CHECK_EQ(out.body.events.count, 1);
    CHECK_EQ(out.body.events.events[0].t_us, 850000u);
    CHECK_EQ(out.body.events.events[0].kind, FB_MK_AP);
    /* A window that does not start at the device's time is refused. */
    msg.body.window.t0_us = 800000u;
    feed(&msg, false);
    CHECK_EQ(replies(types, 4), 1);
    CHECK_EQ(types[0], FB_T_NACK);
    CHECK_EQ(out.body.nack.reason, FB_NACK_BUSY);
}

static void test_program_rejections(void)
{
    uint8_t types[4];
    fw_device_init(&dev);
    fb_message_init(&msg, FB_T_PROGRAM, 1);
    msg.body.program.count = 1;
    msg.body.program.params[0].id = FB_P_LOWER_RATE_PPM;
    msg.body.program.params[0].value = 1000000; /* does not even fit the field */
    feed(&msg, true);
    CHECK_EQ(replies(types, 4), 1);
    CHECK_EQ(out.body.nack.reason, FB_NACK_PARAM_OUT_OF_RANGE);
    CHECK_EQ(out.body.nack.param_id, FB_P_LOWER_RATE_PPM);
    /* Without authentication: refused and counted, programming unchanged. */
    msg.body.program.params[0].value = 70;
    feed(&msg, false);
    CHECK_EQ(replies(types, 4), 1);
    CHECK_EQ(out.body.nack.reason, FB_NACK_NOT_AUTHENTICATED);
    CHECK_EQ(dev.auth_failures, 1);
    CHECK_EQ(dev.prog.lrl_ppm, 60);
    /* Authenticated and valid: accepted, stored with a good CRC. */
    feed(&msg, true);
    CHECK_EQ(replies(types, 4), 1);
    CHECK_EQ(types[0], FB_T_ACK);
    CHECK_EQ(dev.prog.lrl_ppm, 70);
    fw_params_t back;
    CHECK(fw_store_read(&dev.store, &back));
    CHECK_EQ(back.lrl_ppm, 70);
    CHECK_EQ(dev.nacks_sent, 2);
}

void test_device(void)
{
    CHECK(fb_key_from_hex(FB_DEV_KEY_HEX, key));
    counter = 0;
    test_corrupt_store_falls_back_to_por();
    test_tick_early_stop();
    test_program_rejections();
}
