/*
 * ev_pacer.h - the pacing logic: a synchronous state machine stepped once per 1 ms tick, in the
 * style of code generated from a statechart (SCCharts, UPPAAL, Simulink Stateflow) or written by
 * a student team. Its inputs are the senses of the tick, its outputs the paces of the tick; its
 * timers live in ev_timers_t, which the caller ticks before each step.
 *
 * Modes DDD and VVI, following docs/assumptions.md: ventricular-based lower-rate timing,
 * tracking held to the upper rate, a fixed AV delay for paced and sensed atrial events
 * VRP, PVARP, PVAB and post-pace blanking, PVC recognition (A-6, no PVARP
 * extension), ventricular safety pacing, same-time ordering and half-open windows
 * . Not implemented: hysteresis, rate smoothing, noise reversion, rate adaptation, ATR, PMT
 * termination, dynamic AV delay, sensed AV offset (docs/firmware_events.md).
 *
 * Contract of one step at tick k (time k ms), after ev_timers_tick():
 *  1. the atrial sense of the tick, then the ventricular sense (A-21 same-time detections);
 *  2. then timer expiries, the atrial action before the ventricular one: a sense at the
 *     instant a pace is due inhibits it, because the sense restarts or stops that timer first.
 * A step with no tick before it (a sense that arrives after its tick already ran) must be
 * preceded by ev_timers_clear_expired(); it handles the senses only and never paces.
 */
#ifndef EV_PACER_H
#define EV_PACER_H

#include <stdbool.h>
#include <stdint.h>

#include "ev_config.h"
#include "ev_timers.h"

typedef struct {
    bool a_sense;
    bool v_sense;
} ev_inputs_t;

typedef struct {
    bool a_pace;
    bool v_pace;
} ev_outputs_t;

typedef enum {
    EV_AV_IDLE = 0, /* waiting for an atrial event (the escape timer runs) */
    EV_AV_DELAY,    /* AV delay running after an A sense or pace */
    EV_AV_WAIT_URI  /* AV delay (or safety window) over, V pace held back to last V + URI */
} ev_av_state_t;

/* How the device classified its inputs and what it delivered (console and tests). */
typedef struct {
    uint32_t a_sensed;     /* AS: non-refractory, started an AV delay */
    uint32_t a_refractory; /* AR: in PVARP or during the AV delay */
    uint32_t a_blanked;    /* dropped in PVAB or atrial post-pace blanking */
    uint32_t a_ignored;    /* atrial senses in VVI */
    uint32_t a_paced;
    uint32_t v_sensed;     /* VS */
    uint32_t v_pvc;        /* PVC: VS with no atrial event since the last V event */
    uint32_t v_refractory; /* VR: in VRP */
    uint32_t v_blanked;    /* dropped in post-pace or post-atrial-pace blanking */
    uint32_t v_crosstalk;  /* in the safety window: a safety pace follows */
    uint32_t v_paced;
    uint32_t v_paced_safety;
    uint32_t v_paced_upper_rate; /* held back to last V + URI */
} ev_counters_t;

typedef struct {
    ev_config_t cfg;
    ev_av_state_t av_state;
    bool atrial_since_v; /* an atrial event (AP, AS or AR) since the last V event */
    bool have_v;         /* a V event since the timing start (A-21: needed for a PVC) */
    bool crosstalk;      /* a V sense fell in the safety window: safety pace at its end */
    bool held_by_uri;    /* the pending V pace waits for the URI */
    ev_counters_t count;
} ev_pacer_t;

/* Timing start (power-on, session reset): every timer cleared, then the first escape interval
 * starts now as if a V event happened: DDD paces A at LRI - AV, VVI paces V at LRI. The
 * programming must have passed ev_config_check. */
void ev_pacer_init(ev_pacer_t *p, ev_timers_t *tm, const ev_config_t *cfg);

/* One synchronous step: the tick's senses in, the tick's paces out. */
ev_outputs_t ev_pacer_step(ev_pacer_t *p, ev_timers_t *tm, ev_inputs_t in);

#endif
