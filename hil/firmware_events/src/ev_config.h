/*
 * ev_config.h - the device's programming: a small struct compiled in (EV_CONFIG_DEFAULTS) or set
 * at start-up (host: command-line flags through ev_config_set). The device is not programmable
 * over the wire. Values may lie off the PACEMAKER grid (a 5 ms pulse, a URL of 67 ppm); only the
 * rules the timing logic needs are enforced (ev_config_check).
 *
 * Every interval is in whole milliseconds (the logic ticks at 1 kHz, docs/assumptions.md A-1).
 */
#ifndef EV_CONFIG_H
#define EV_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef enum { EV_MODE_VVI = 0, EV_MODE_DDD = 1 } ev_mode_t;

typedef struct {
    ev_mode_t mode;
    uint32_t lri_ms;        /* lower-rate interval (escape), A-2 */
    uint32_t uri_ms;        /* upper-rate interval, A-3 */
    uint32_t av_ms;         /* AV delay, paced and sensed alike (DDD), A-4 */
    uint32_t vrp_ms;        /* ventricular refractory period after every V event, A-5 */
    uint32_t pvarp_ms;      /* post-ventricular atrial refractory period (DDD), A-5 */
    uint32_t arp_ms;        /* atrial refractory period: no effect in DDD/VVI, reported */
    uint32_t pvab_ms;       /* post-ventricular atrial blanking (DDD), inside PVARP, A-5 */
    uint32_t vblank_ms;     /* ventricular blanking after an atrial pace (DDD), A-5 */
    uint32_t pace_blank_ms; /* same-chamber blanking after a pace, A-5 */
    uint32_t vsp_ms;        /* safety window after an atrial pace, 0 = no safety pacing, A-7 */
    uint16_t a_amplitude_mv;
    uint16_t v_amplitude_mv;
    uint16_t a_width_us;
    uint16_t v_width_us;
    uint8_t pace_details;   /* 1: pace lines carry amplitude and width (docs/protocol.md 7) */
} ev_config_t;

/* The nominal programming of docs/assumptions.md A-19 (DDD 60/120 ppm, AV 150 ms, ...). */
void ev_config_defaults(ev_config_t *cfg);

/* Set one field from its flag name without the leading "--" ("lri-ms", "mode", ...) and its
 * text value. Returns NULL on success, else a static message naming what is expected. */
const char *ev_config_set(ev_config_t *cfg, const char *name, const char *value);

/* Check the rules the timing logic needs; NULL if the programming is usable, else a static
 * message naming the rule. */
const char *ev_config_check(const ev_config_t *cfg);

/* One line describing the programming ("DDD lri=1000ms ..."), NUL-terminated; returns its
 * length (truncated to cap - 1). */
size_t ev_config_format(const ev_config_t *cfg, char *out, size_t cap);

/* The flag names ev_config_set accepts, for a usage message (NULL-terminated array). */
extern const char *const ev_config_flag_names[];

#endif
