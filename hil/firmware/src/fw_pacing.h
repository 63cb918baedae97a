/*
 * fw_pacing.h - the timing engine of docs/assumptions.md (A-1 .. ), tick based.
 *
 * Time advances one 1 kHz sample at a time: fw_pacer_sample() runs both front ends on the
 * sample, then the timing rules at that millisecond: senses first (atrial, then ventricular),
 * then timer expiries (atrial, then ventricular), as A-1's same-time ordering requires. Every
 * marker goes to the sink given at init, in the order it happened.
 */
#ifndef FW_PACING_H
#define FW_PACING_H

#include <stdbool.h>
#include <stdint.h>

#include "fw_frontend.h"
#include "fw_params.h"

/* Marker channels and kinds: the codes of docs/protocol.md section 3.9 (A-17 vocabulary). */
typedef enum { FW_CH_A = 0, FW_CH_V = 1, FW_CH_X = 2 } fw_chamber_t;
typedef enum {
    FW_MK_AS = 1, FW_MK_AP, FW_MK_AR, FW_MK_AT, FW_MK_VS, FW_MK_VP, FW_MK_VR, FW_MK_PVC,
    FW_MK_TN, FW_MK_ATR_DUR, FW_MK_ATR_FB, FW_MK_ATR_END, FW_MK_PVARP_EXT, FW_MK_COUNT
} fw_marker_kind_t;
/* Pace flags: the bit values of PaceFlag. */
enum {
    FW_FL_TRIGGERED = 1, FW_FL_SAFETY = 2, FW_FL_HYSTERESIS = 4, FW_FL_SMOOTHING = 8,
    FW_FL_SENSOR = 16, FW_FL_UPPER_RATE = 32, FW_FL_NOISE = 64, FW_FL_MAGNET = 128
};

typedef struct {
    uint64_t t_us;
    uint8_t chamber;      /* fw_chamber_t */
    uint8_t kind;         /* fw_marker_kind_t */
    uint8_t flags;        /* FW_FL_* */
    uint8_t reserved;
    uint16_t amplitude_mv; /* paces only */
    uint16_t width_us;     /* paces only */
} fw_marker_t;

typedef void (*fw_marker_sink_t)(void *ctx, const fw_marker_t *m);

/* Device states of A-15. */
typedef enum {
    FW_STATE_PERMANENT = 0, FW_STATE_TEMPORARY, FW_STATE_PACE_NOW, FW_STATE_MAGNET,
    FW_STATE_POWER_ON_RESET
} fw_state_t;

typedef enum { FW_BATT_BOL = 0, FW_BATT_ERN = 1, FW_BATT_ERT = 2 } fw_battery_level_t;

typedef enum { FW_ATR_OFF = 0, FW_ATR_DURATION = 1, FW_ATR_FALLBACK = 2 } fw_atr_state_t;

#define FW_T_NONE INT64_MIN
#define FW_ATR_WINDOW 10u
#define FW_PMT_MAX_CYCLES 16u
#define FW_STEP_MARKERS 16u

typedef struct {
    fw_params_t p;            /* effective parameters */
    fw_mode_t mode;           /* effective mode (programmed, magnet, or ATR fallback) */
    fw_mode_t prog_mode;      /* mode the timing was programmed with */
    fw_mode_info_t mi;        /* of mode */
    fw_mode_info_t prog_mi;   /* of prog_mode */
    bool magnet;
    uint32_t lri_ms, uri_ms, hri_ms;

    fw_frontend_t fe_a, fe_v;
    int64_t t_ms;             /* time of the next sample */
    fw_marker_sink_t sink;
    void *sink_ctx;
    bool paced_this_sample;

    int64_t a_due, v_due;
    uint8_t a_flags, v_flags;
    int64_t vrp_end, arp_end, pvarp_end, pvab_end, a_pblank_end, v_pblank_end, v_ablank_end;

    int64_t last_v, prev_v;   /* ventricular events (last_v starts at the session start) */
    uint32_t v_events;
    int64_t last_a, prev_a;   /* atrial timing events (AP, non-refractory AS) */
    uint32_t a_events;
    int64_t last_ap, last_vp;
    bool av_running, av_from_ap, vsp_scheduled;
    int64_t ap_time;
    bool atrial_since_v;
    bool last_a_was_as;
    bool hyst_now;            /* escape of the running cycle is the HRI */
    bool last_v_ext;
    bool last_vp_tracked;

    int64_t a_last_det, v_last_det;
    uint8_t a_noise_cnt, v_noise_cnt;

    int64_t atr_last_det;
    uint8_t atr_short[FW_ATR_WINDOW];
    uint8_t atr_n, atr_pos;
    uint8_t atr_state;        /* fw_atr_state_t */
    uint32_t atr_vcount;
    int64_t atr_fb_start;
    uint32_t atr_fb_vv0_ms;

    uint8_t pmt_n;
    uint16_t pmt_va[FW_PMT_MAX_CYCLES];
    bool pmt_pending;

    uint32_t sensor_mppm;     /* sensor rate in milli-ppm */
    uint32_t act_sum_mg;
    uint32_t act_n;

    fw_marker_t step_buf[16]; /* markers of the current millisecond (FW_STEP_MARKERS) */
    bool step_soft[16];
    uint32_t step_n;

    uint32_t counts[FW_MK_COUNT]; /* indexed by fw_marker_kind_t */
} fw_pacer_t;

/*
 * Start a timing session at time t_ms with the given (already checked) parameters and state.
 * The timing starts as if a ventricular event (an atrial one in single-chamber atrial modes) had
 * happened at t_ms, with no marker and no refractory period.
 */
void fw_pacer_init(fw_pacer_t *pc, const fw_params_t *p, fw_state_t state,
                   fw_battery_level_t battery, int64_t t_ms, fw_marker_sink_t sink, void *ctx);
/* Restart timing with new parameters at the current time; the front end filters keep their state. */
void fw_pacer_reprogram(fw_pacer_t *pc, const fw_params_t *p, fw_state_t state,
                        fw_battery_level_t battery);
/* Process one 1 kHz sample (A, V in microvolts; activity in milli-g). True when a pace was
 * delivered at this sample. */
bool fw_pacer_sample(fw_pacer_t *pc, int16_t a_uv, int16_t v_uv, int16_t activity_mg);
/* Timing rules at t = pc->t_ms for detections already made (for tests without a front end). */
bool fw_pacer_step(fw_pacer_t *pc, bool a_det, bool v_det, int16_t activity_mg);

/* Effective parameters for a device state; returns the effective mode. */
fw_mode_t fw_effective_params(const fw_params_t *prog, fw_state_t state,
                              fw_battery_level_t battery, fw_params_t *out, bool *magnet);

#endif
