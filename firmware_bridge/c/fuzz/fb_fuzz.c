/*
 * fb_fuzz.c - libFuzzer target for the C decoder.
 *
 * Input bytes go (1) through the stream decoder as a link would deliver them, (2) straight into
 * fb_decode_raw as a raw frame, (3) into the sample decoder. Every message the decoder accepts
 * must re-encode, and the re-encoding must decode to a message that encodes to the same bytes
 * (a canonical round trip); anything else aborts. Sanitizers catch memory and UB errors.
 *
 *   clang -fsanitize=fuzzer,address,undefined -I.. fb_fuzz.c ../fb_protocol.c ../fb_sha256.c
 */
#include <stdlib.h>
#include <string.h>

#include "fb_protocol.h"

static const uint8_t KEY[FB_KEY_LEN] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                        11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                        22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

static void check_round_trip(const fb_message_t *m)
{
    static fb_encoder_t enc;
    static fb_message_t again;
    static uint8_t wire1[FB_MAX_WIRE], wire2[FB_MAX_WIRE], raw[FB_MAX_WIRE];
    size_t n1 = 0, n2 = 0, r;
    if (m->auth.present && !m->auth.verified) {
        return; /* cannot re-sign without the sender's key */
    }
    if (fb_encode(&enc, m, m->auth.present ? KEY : NULL, wire1, sizeof wire1, &n1) != FB_OK) {
        abort(); /* every accepted message must be encodable */
    }
    r = fb_cobs_decode(wire1, n1 - 1u, raw);
    if (r == (size_t)-1) {
        abort();
    }
    memset(&again, 0xa5, sizeof again);
    if (fb_decode_raw(raw, r, KEY, &again) != FB_OK) {
        abort();
    }
    if (fb_encode(&enc, &again, again.auth.present ? KEY : NULL, wire2, sizeof wire2, &n2) !=
            FB_OK ||
        n1 != n2 || memcmp(wire1, wire2, n1) != 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fb_decoder_t dec;
    static fb_message_t msg;
    static int16_t samples[FB_MAX_WINDOW_SAMPLES];
    size_t pos = 0;
    fb_decoder_init(&dec, KEY);
    while (pos < size) {
        fb_status_t st;
        pos += fb_decoder_feed_buf(&dec, data + pos, size - pos, &msg, &st);
        if (st == FB_OK) {
            check_round_trip(&msg);
        }
    }
    if (dec.stats.frames_ok + dec.stats.frames_bad > dec.stats.bytes) {
        abort();
    }
    if (fb_decode_raw(data, size, KEY, &msg) == FB_OK) {
        check_round_trip(&msg);
    }
    if (size > 0u) {
        (void)fb_samples_decode(data + 1, size - 1u, samples, data[0] % (FB_MAX_WINDOW_SAMPLES + 1u));
    }
    return 0;
}
