/*
 * fb_protocol.h - the devicetwin bench-to-device protocol, version 1 (docs/protocol.md).
 *
 * Framing (COBS, 0x00 delimiter), header, CRC-32C, HMAC-SHA256 authentication with a monotonic
 * counter, and every message as a fixed-size C struct with an encoder and a stream decoder.
 *
 * Portable C99: no dynamic allocation, no libc beyond string.h / stdint.h / stddef.h / stdbool.h,
 * so it links into a bare-metal image. Builds with -Wall -Wextra -Werror -std=c99 on gcc, clang
 * and arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb.
 *
 * RAM budget (checked at compile time in fb_protocol.c; sizes on 32- and 64-bit targets):
 *   fb_decoder_t  <= FB_RAM_DECODER_BYTES  (1100): receive buffer of one encoded frame
 *   fb_encoder_t  <= FB_RAM_ENCODER_BYTES  (1100): scratch for one raw frame
 *   fb_message_t  <= FB_RAM_MESSAGE_BYTES  (900):  one decoded message (a union of all bodies)
 *   stack         <= FB_RAM_STACK_BYTES    (768):  deepest call (HMAC over a frame)
 * A device needs one decoder, one encoder and two messages: under 4 KB in all.
 *
 * Typical device loop:
 *     static fb_decoder_t dec; static fb_encoder_t enc; static fb_message_t rx, tx;
 *     static fb_auth_state_t auth;  (auth.last_counter restored from storage)
 *     fb_decoder_init(&dec, device_key);
 *     for each received byte b:
 *         fb_status_t st = fb_decoder_feed(&dec, b, &rx);
 *         if (st == FB_NEED_MORE) continue;
 *         if (st == FB_OK) { if (fb_type_requires_auth(rx.header.type)) {
 *                               uint8_t why = fb_auth_check(&auth, &rx); if (why) NACK(why); }
 *                            ... handle, fill tx, fb_encode(&enc, &tx, NULL, out, cap, &n) ... }
 *         else if (st == FB_ERR_VERSION && rx.header.type == FB_T_HELLO_REQ) answer HELLO;
 *         else if (fb_status_header_valid(st)) NACK(fb_status_nack_reason(st)) with rx.header;
 */
#ifndef FB_PROTOCOL_H
#define FB_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- sizes ---------------------------------------------------------------------------- */
#define FB_PROTOCOL_VERSION 1u
#define FB_HEADER_LEN 5u
#define FB_CRC_LEN 4u
#define FB_TAG_LEN 16u
#define FB_COUNTER_LEN 4u
#define FB_AUTH_TRAILER_LEN 20u /* counter (4) + tag (16) */
#define FB_KEY_LEN 32u
#define FB_MIN_FRAME 9u      /* header + CRC */
#define FB_MAX_FRAME 1024u   /* raw: header + payload + trailer + CRC */
#define FB_MAX_ENCODED 1029u /* COBS-encoded, without the delimiter */
#define FB_MAX_WIRE 1030u    /* with the 0x00 delimiter: size an output buffer with this */
#define FB_MAX_WINDOW_SAMPLES 100u
#define FB_MAX_EVENTS 48u
#define FB_EVENT_WIRE_LEN 15u
#define FB_MAX_PARAMS 44u /* parameter ids 1..44 */
#define FB_MAX_STR 32u
#define FB_MAX_ERROR_TEXT 64u
#define FB_TELEMETRY_LEN 59u

#define FB_RAM_DECODER_BYTES 1100u
#define FB_RAM_ENCODER_BYTES 1100u
#define FB_RAM_MESSAGE_BYTES 900u
#define FB_RAM_STACK_BYTES 768u

/* Development key (bytes 0x00..0x1f): tests and emulated devices only. */
#define FB_DEV_KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

/* ---- header --------------------------------------------------------------------------- */
#define FB_FLAG_AUTH 0x01u

typedef enum {
    FB_T_HELLO_REQ = 0x01,
    FB_T_HELLO = 0x02,
    FB_T_PROGRAM = 0x10,
    FB_T_SET_STATE = 0x11,
    FB_T_SET_BATTERY = 0x12,
    FB_T_RESET = 0x13,
    FB_T_ACK = 0x20,
    FB_T_NACK = 0x21,
    FB_T_INTERROGATE = 0x30,
    FB_T_INTERROGATION = 0x31,
    FB_T_TICK = 0x40,
    FB_T_EVENTS = 0x41,
    FB_T_STREAM = 0x42,
    FB_T_TELEMETRY_REQ = 0x50,
    FB_T_TELEMETRY = 0x51,
    FB_T_ERROR = 0x60
} fb_type_t;

typedef enum {
    FB_NACK_NONE = 0,
    FB_NACK_BAD_FRAME = 1,
    FB_NACK_UNKNOWN_MESSAGE = 2,
    FB_NACK_VERSION_MISMATCH = 3,
    FB_NACK_NOT_AUTHENTICATED = 4,
    FB_NACK_BAD_COUNTER = 5,
    FB_NACK_PARAM_OUT_OF_RANGE = 6,
    FB_NACK_PARAM_NOT_APPLICABLE = 7,
    FB_NACK_CROSS_PARAM_RULE = 8,
    FB_NACK_BUSY = 9,
    FB_NACK_UNKNOWN_PARAMETER = 10
} fb_nack_reason_t;

/* Cross-parameter rules of assumptions A-18 (NACK rule field). */
typedef enum {
    FB_RULE_NONE = 0,
    FB_RULE_URL_GE_LRL = 1,
    FB_RULE_MSR_GE_LRL = 2,
    FB_RULE_HYSTERESIS_LT_LRL = 3,
    FB_RULE_TARP_LE_URI = 4,
    FB_RULE_VA_ROOM_AFTER_PVAB = 5,
    FB_RULE_VRP_LT_LRI = 6,
    FB_RULE_ARP_LT_LRI = 7,
    FB_RULE_PVARP_LT_LRI = 8,
    FB_RULE_VBLANK_LT_AVD = 9
} fb_rule_t;

/* ---- marker vocabulary (devicetwin.pacemaker.markers) ---------------------------------- */
typedef enum { FB_CH_A = 0, FB_CH_V = 1, FB_CH_X = 2 } fb_chamber_t;

typedef enum {
    FB_MK_AS = 1,
    FB_MK_AP = 2,
    FB_MK_AR = 3,
    FB_MK_AT = 4,
    FB_MK_VS = 5,
    FB_MK_VP = 6,
    FB_MK_VR = 7,
    FB_MK_PVC = 8,
    FB_MK_TN = 9,
    FB_MK_ATR_DUR = 10,
    FB_MK_ATR_FB = 11,
    FB_MK_ATR_END = 12,
    FB_MK_PVARP_EXT = 13
} fb_marker_kind_t;

#define FB_PF_TRIGGERED 0x01u
#define FB_PF_SAFETY 0x02u
#define FB_PF_HYSTERESIS 0x04u
#define FB_PF_SMOOTHING 0x08u
#define FB_PF_SENSOR 0x10u
#define FB_PF_UPPER_RATE 0x20u
#define FB_PF_NOISE 0x40u
#define FB_PF_MAGNET 0x80u

/* ---- modes and parameters ------------------------------------------------------------- */
typedef enum {
    FB_MODE_OFF = 0,
    FB_MODE_AOO = 1,
    FB_MODE_AAI = 2,
    FB_MODE_VOO = 3,
    FB_MODE_VVI = 4,
    FB_MODE_AAT = 5,
    FB_MODE_VVT = 6,
    FB_MODE_DOO = 7,
    FB_MODE_DDI = 8,
    FB_MODE_VDD = 9,
    FB_MODE_DDD = 10,
    FB_MODE_AOOR = 11,
    FB_MODE_AAIR = 12,
    FB_MODE_VOOR = 13,
    FB_MODE_VVIR = 14,
    FB_MODE_DOOR = 15,
    FB_MODE_DDIR = 16,
    FB_MODE_VDDR = 17,
    FB_MODE_DDDR = 18,
    FB_MODE_OAO = 19,
    FB_MODE_OVO = 20,
    FB_MODE_ODO = 21,
    FB_MODE_OOO = 22
} fb_mode_t;
#define FB_MODE_COUNT 23u

typedef enum {
    FB_P_MODE = 1,
    FB_P_LOWER_RATE_PPM = 2,
    FB_P_UPPER_RATE_PPM = 3,
    FB_P_MAX_SENSOR_RATE_PPM = 4,
    FB_P_FIXED_AV_DELAY_MS = 5,
    FB_P_DYNAMIC_AV_DELAY = 6,
    FB_P_MIN_DYNAMIC_AV_DELAY_MS = 7,
    FB_P_SENSED_AV_OFFSET_MS = 8,
    FB_P_ATRIAL_AMPLITUDE_MV = 9,
    FB_P_VENTRICULAR_AMPLITUDE_MV = 10,
    FB_P_ATRIAL_PULSE_WIDTH_US = 11,
    FB_P_VENTRICULAR_PULSE_WIDTH_US = 12,
    FB_P_ATRIAL_SENSITIVITY_UV = 13,
    FB_P_VENTRICULAR_SENSITIVITY_UV = 14,
    FB_P_VRP_MS = 15,
    FB_P_ARP_MS = 16,
    FB_P_PVARP_MS = 17,
    FB_P_PVARP_EXTENSION_MS = 18,
    FB_P_HYSTERESIS_RATE_PPM = 19,
    FB_P_RATE_SMOOTHING_PCT = 20,
    FB_P_ATR_MODE = 21,
    FB_P_ATR_DURATION_CYCLES = 22,
    FB_P_ATR_FALLBACK_TIME_MIN = 23,
    FB_P_VENTRICULAR_BLANKING_MS = 24,
    FB_P_ACTIVITY_THRESHOLD = 25,
    FB_P_REACTION_TIME_S = 26,
    FB_P_RESPONSE_FACTOR = 27,
    FB_P_RECOVERY_TIME_MIN = 28,
    FB_P_LOWER_RATE_TIMING = 29,
    FB_P_PVAB_MS = 30,
    FB_P_PACE_BLANKING_MS = 31,
    FB_P_SAFETY_PACING = 32,
    FB_P_VSP_WINDOW_MS = 33,
    FB_P_NOISE_INTERVAL_MS = 34,
    FB_P_NOISE_COUNT = 35,
    FB_P_PMT_TERMINATION = 36,
    FB_P_PMT_CYCLES = 37,
    FB_P_PMT_VA_MAX_MS = 38,
    FB_P_PMT_VA_STABILITY_MS = 39,
    FB_P_PMT_PVARP_MS = 40,
    FB_P_DETECTION_DEAD_TIME_MS = 41
} fb_param_id_t;
#define FB_PARAM_DEFINED 41u /* ids 42..44 reserved */

/* ---- device state --------------------------------------------------------------------- */
typedef enum {
    FB_CMD_PERMANENT = 0,
    FB_CMD_TEMPORARY = 1,
    FB_CMD_PACE_NOW = 2,
    FB_CMD_MAGNET_ON = 3,
    FB_CMD_MAGNET_OFF = 4,
    FB_CMD_POWER_ON_RESET = 5
} fb_state_command_t;

typedef enum {
    FB_STATE_PERMANENT = 0,
    FB_STATE_TEMPORARY = 1,
    FB_STATE_PACE_NOW = 2,
    FB_STATE_POWER_ON_RESET = 3
} fb_state_t;

typedef enum { FB_BATT_BOL = 0, FB_BATT_ERN = 1, FB_BATT_ERT = 2 } fb_battery_t;
typedef enum { FB_RESET_SESSION = 0, FB_RESET_REBOOT = 1 } fb_reset_kind_t;

typedef enum {
    FB_ERR_CODE_INTERNAL = 1,
    FB_ERR_CODE_HARDFAULT = 2,
    FB_ERR_CODE_WATCHDOG = 3,
    FB_ERR_CODE_PARAMS_CORRUPT = 4,
    FB_ERR_CODE_RX_OVERFLOW = 5
} fb_error_code_t;

#define FB_CAP_TICK 0x01u
#define FB_CAP_STREAM 0x02u
#define FB_CAP_TELEMETRY 0x04u
#define FB_CAP_EARLY_STOP 0x08u
#define FB_CAP_AUTH 0x10u
#define FB_CAP_RATE_ADAPTIVE 0x20u
#define FB_CAP_DUAL_CHAMBER 0x40u

#define FB_WINDOW_EARLY_STOP 0x01u    /* TICK/STREAM flags */
#define FB_EVENTS_STOPPED_AT_PACE 0x01u /* EVENTS flags */
#define FB_EVENTS_STREAMED 0x02u

/* ---- message bodies ------------------------------------------------------------------- */
typedef struct {
    uint8_t version;
    uint8_t type;
    uint8_t flags;
    uint16_t seq;
} fb_header_t;

typedef struct {
    bool present;  /* the frame carried an auth trailer */
    bool verified; /* decoder only: the tag matched under the decoder's key */
    uint32_t counter;
    uint8_t tag[FB_TAG_LEN];
} fb_auth_t;

typedef struct {
    uint8_t id;
    int32_t value;
} fb_param_t;

typedef struct {
    uint8_t protocol_version;
    uint32_t capabilities;
    uint16_t max_window_samples;
    uint16_t sample_rate_hz;
    uint32_t auth_counter;
    uint8_t firmware_hash[32];
    uint8_t model_len;
    uint8_t serial_len;
    uint8_t firmware_version_len;
    char model[FB_MAX_STR];            /* not NUL-terminated: use the _len fields */
    char serial[FB_MAX_STR];
    char firmware_version[FB_MAX_STR];
} fb_hello_t;

typedef struct {
    uint8_t count; /* 1..FB_MAX_PARAMS, ids distinct, 1..44 */
    fb_param_t params[FB_MAX_PARAMS];
} fb_program_t;

typedef struct {
    uint8_t command; /* fb_state_command_t */
    uint8_t mode;    /* fb_mode_t, TEMPORARY only, else 0 */
} fb_set_state_t;

typedef struct { uint8_t state; } fb_set_battery_t; /* fb_battery_t */
typedef struct { uint8_t kind; } fb_reset_t;        /* fb_reset_kind_t */
typedef struct { uint8_t acked_type; } fb_ack_t;

typedef struct {
    uint8_t acked_type;
    uint8_t reason;   /* fb_nack_reason_t */
    uint8_t param_id; /* 0 = none */
    uint8_t rule;     /* fb_rule_t, 0 = none */
} fb_nack_t;

typedef struct {
    uint8_t state;       /* fb_state_t */
    uint8_t magnet;      /* 0/1 */
    uint8_t active_mode; /* fb_mode_t */
    uint8_t battery;     /* fb_battery_t */
    uint64_t time_us;
    uint8_t count; /* 0..FB_MAX_PARAMS */
    fb_param_t params[FB_MAX_PARAMS];
} fb_interrogation_t;

/* TICK and STREAM: a window of samples, sample k at t0_us + 1000 * k. */
typedef struct {
    uint64_t t0_us;
    uint16_t n_samples; /* 1..FB_MAX_WINDOW_SAMPLES */
    uint8_t flags;      /* FB_WINDOW_EARLY_STOP */
    int16_t atrial_uv[FB_MAX_WINDOW_SAMPLES];
    int16_t ventricular_uv[FB_MAX_WINDOW_SAMPLES];
    int16_t activity_mg[FB_MAX_WINDOW_SAMPLES];
} fb_window_t;

typedef struct {
    uint64_t t_us;
    uint8_t chamber; /* fb_chamber_t */
    uint8_t kind;    /* fb_marker_kind_t */
    uint8_t flags;   /* FB_PF_* */
    uint16_t amplitude_mv; /* paces only, else 0 */
    uint16_t width_us;     /* paces only, else 0 */
} fb_event_t;

typedef struct {
    uint64_t t0_us;
    uint16_t consumed;
    uint8_t flags; /* FB_EVENTS_* */
    uint8_t count; /* 0..FB_MAX_EVENTS */
    fb_event_t events[FB_MAX_EVENTS];
} fb_events_t;

typedef struct {
    uint64_t time_us;
    uint16_t battery_mv;
    uint8_t battery_state; /* fb_battery_t */
    uint16_t atrial_impedance_ohm;
    uint16_t ventricular_impedance_ohm;
    uint32_t ap_count, as_count, ar_count, vp_count, vs_count, vr_count, pvc_count;
    uint32_t frames_ok, frames_bad, nacks_sent, auth_failures;
} fb_telemetry_t;

typedef struct {
    uint8_t code; /* fb_error_code_t */
    uint32_t detail;
    uint8_t text_len; /* 0..FB_MAX_ERROR_TEXT */
    char text[FB_MAX_ERROR_TEXT];
} fb_error_t;

typedef struct {
    fb_header_t header;
    fb_auth_t auth;
    union {
        fb_hello_t hello;
        fb_program_t program;
        fb_set_state_t set_state;
        fb_set_battery_t set_battery;
        fb_reset_t reset;
        fb_ack_t ack;
        fb_nack_t nack;
        fb_interrogation_t interrogation;
        fb_window_t window; /* TICK and STREAM */
        fb_events_t events;
        fb_telemetry_t telemetry;
        fb_error_t error;
    } body;
} fb_message_t;

/* ---- status --------------------------------------------------------------------------- */
typedef enum {
    FB_OK = 0,
    FB_NEED_MORE = 1,     /* decoder: no complete frame yet */
    FB_ERR_COBS = -1,     /* bad COBS code */
    FB_ERR_LENGTH = -2,   /* raw frame shorter than FB_MIN_FRAME */
    FB_ERR_OVERSIZE = -3, /* more than FB_MAX_ENCODED bytes before a delimiter */
    FB_ERR_CRC = -4,
    FB_ERR_VERSION = -5, /* header valid, version != 1 */
    FB_ERR_TYPE = -6,    /* header valid, unknown type */
    FB_ERR_PAYLOAD = -7, /* header valid, payload length/content wrong */
    FB_ERR_FLAGS = -8,   /* header valid, reserved flag bits or trailer where not allowed */
    FB_ERR_ARG = -9      /* encoder: invalid message, missing key, or output too small */
} fb_status_t;

/* True when out->header holds a CRC-checked header (version/type/payload/flags errors). */
bool fb_status_header_valid(fb_status_t st);
/* The NACK reason a device sends for a decoder error (BAD_FRAME, UNKNOWN_MESSAGE, ...). */
uint8_t fb_status_nack_reason(fb_status_t st);

/* ---- stream decoder ------------------------------------------------------------------- */
typedef struct {
    uint32_t frames_ok;
    uint32_t frames_bad; /* cobs + length + crc + version + type + payload + flags + oversize */
    uint32_t crc_errors;
    uint32_t cobs_errors;
    uint32_t oversize;
    uint32_t bytes;
} fb_stats_t;

typedef struct {
    uint8_t buf[FB_MAX_ENCODED];
    uint16_t len;
    bool overflow; /* dropping bytes until the next delimiter */
    bool has_key;
    uint8_t key[FB_KEY_LEN];
    fb_stats_t stats;
} fb_decoder_t;

/* key: FB_KEY_LEN bytes, or NULL (auth.verified is then always false). */
void fb_decoder_init(fb_decoder_t *d, const uint8_t *key);
/* Feed one byte. Returns FB_NEED_MORE, or at a delimiter FB_OK (out filled) or an error. */
fb_status_t fb_decoder_feed(fb_decoder_t *d, uint8_t byte, fb_message_t *out);
/* Feed up to len bytes, stopping after the first completed frame (OK or error): returns the
 * number of bytes used and sets *status (FB_NEED_MORE when all bytes were used without one). */
size_t fb_decoder_feed_buf(fb_decoder_t *d, const uint8_t *data, size_t len, fb_message_t *out,
                           fb_status_t *status);

/* Decode one COBS-decoded raw frame (header .. CRC). key may be NULL. */
fb_status_t fb_decode_raw(const uint8_t *raw, size_t len, const uint8_t *key, fb_message_t *out);

/* ---- encoder -------------------------------------------------------------------------- */
typedef struct {
    uint8_t raw[FB_MAX_FRAME];
} fb_encoder_t;

/* Set header (version 1, type, seq, flags 0), clear auth and body. */
void fb_message_init(fb_message_t *m, uint8_t type, uint16_t seq);

/* Encode msg into out as COBS bytes followed by the 0x00 delimiter (at most FB_MAX_WIRE).
 * When msg->header.flags has FB_FLAG_AUTH, key (FB_KEY_LEN bytes) must be given: the trailer
 * carries msg->auth.counter and the tag computed here. Returns FB_ERR_ARG for an invalid message
 * (out-of-table codes, counts, strings, sample windows) or a too small out_cap. */
fb_status_t fb_encode(fb_encoder_t *e, const fb_message_t *msg, const uint8_t *key, uint8_t *out,
                      size_t out_cap, size_t *out_len);

/* ---- authentication ------------------------------------------------------------------- */
typedef struct {
    uint32_t last_counter; /* last accepted counter; persist it */
} fb_auth_state_t;

bool fb_type_requires_auth(uint8_t type);
/* For an authenticated type: FB_NACK_NONE when accepted (last_counter advances), else
 * FB_NACK_NOT_AUTHENTICATED (no trailer or tag wrong) or FB_NACK_BAD_COUNTER (replay). */
uint8_t fb_auth_check(fb_auth_state_t *st, const fb_message_t *msg);
/* tag = HMAC-SHA256(key, data)[0:16] */
void fb_compute_tag(const uint8_t key[FB_KEY_LEN], const uint8_t *data, size_t len,
                    uint8_t tag[FB_TAG_LEN]);
/* Parse 64 hex digits into a key; false on bad input. */
bool fb_key_from_hex(const char *hex, uint8_t key[FB_KEY_LEN]);

/* ---- building blocks ------------------------------------------------------------------ */
uint32_t fb_crc32c_update(uint32_t crc, const uint8_t *data, size_t len); /* start at 0 */
uint32_t fb_crc32c(const uint8_t *data, size_t len);
/* COBS encode len bytes (no delimiter written); returns the encoded length or 0 if cap is short. */
size_t fb_cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t cap);
/* COBS decode (no delimiter in input); in and out may be the same buffer. Returns the decoded
 * length, or (size_t)-1 on a bad code (zero byte, or a code running past the end). */
size_t fb_cobs_decode(const uint8_t *in, size_t len, uint8_t *out);

/* Sample coding of one channel (section 3.8): returns bytes written, or 0 if cap is short. */
size_t fb_samples_encode(const int16_t *samples, size_t n, uint8_t *out, size_t cap);
/* Decode exactly n samples from in[0..len); returns bytes used, or 0 on a non-canonical or bad
 * stream. */
size_t fb_samples_decode(const uint8_t *in, size_t len, int16_t *samples, size_t n);
/* Decode a whole TICK/STREAM payload of exactly len bytes (t0, n, flags, three channels) into
 * *win; false when it is truncated, has a sample count outside 1..FB_MAX_WINDOW_SAMPLES, a
 * reserved flag bit, a non-canonical channel or bytes after the third channel. */
bool fb_window_decode(const uint8_t *payload, size_t len, fb_window_t *win);

#ifdef __cplusplus
}
#endif

#endif /* FB_PROTOCOL_H */
