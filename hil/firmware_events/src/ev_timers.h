/*
 * ev_timers.h - the count-down timers the pacing logic reads and restarts, kept outside the logic
 * (as statechart or Simulink code generators and student designs keep them: the logic sees a
 * timer's "running" and "expired" signals and issues start/stop commands).
 *
 * Contract: ev_timers_tick() is called once per millisecond tick, before the logic's step. A timer
 * started during tick s with length L ms is running during ticks s+1 .. s+L-1 and reports expired
 * during tick s+L only (so a window of length L started at s covers [s, s+L), A-21). Lengths are
 * at least 1 ms (a 0 is treated as 1). Starting a running timer restarts it.
 */
#ifndef EV_TIMERS_H
#define EV_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    EV_T_ESCAPE = 0, /* DDD: VA interval (LRI - AV) to the A pace; VVI: LRI to the V pace */
    EV_T_AV,         /* AV delay after an A event, to the V pace */
    EV_T_URI,        /* upper-rate interval from the last V event */
    EV_T_VRP,        /* ventricular refractory period */
    EV_T_PVARP,      /* post-ventricular atrial refractory period */
    EV_T_PVAB,       /* post-ventricular atrial blanking */
    EV_T_ABLANK,     /* atrial blanking after an A pace */
    EV_T_VBLANK,     /* ventricular blanking after an A pace (crosstalk) */
    EV_T_VPBLANK,    /* ventricular blanking after a V pace */
    EV_T_VSP,        /* safety window after an A pace; its expiry is the safety pace's time */
    EV_T_COUNT
} ev_timer_id_t;

typedef struct {
    uint32_t remaining_ms[EV_T_COUNT];
    uint16_t running; /* bit per timer */
    uint16_t expired; /* bit per timer: expired in the current tick */
} ev_timers_t;

/* All timers stopped, nothing expired. */
void ev_timers_init(ev_timers_t *tm);
/* Advance every running timer by 1 ms; those reaching 0 stop and report expired for this tick.
 * The previous tick's expired signals are cleared first. */
void ev_timers_tick(ev_timers_t *tm);
/* Forget the current tick's expired signals (before a logic step that is not a tick). */
void ev_timers_clear_expired(ev_timers_t *tm);
void ev_timer_start(ev_timers_t *tm, ev_timer_id_t id, uint32_t length_ms);
void ev_timer_stop(ev_timers_t *tm, ev_timer_id_t id);
bool ev_timer_running(const ev_timers_t *tm, ev_timer_id_t id);
bool ev_timer_expired(const ev_timers_t *tm, ev_timer_id_t id);

#endif
