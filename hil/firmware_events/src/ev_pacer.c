/* ev_pacer.c - the DDD/VVI state machine (contract in ev_pacer.h). */
#include "ev_pacer.h"

#include <string.h>

#include "ev_faults.h"

static bool is_ddd(const ev_pacer_t *p)
{
    return p->cfg.mode == EV_MODE_DDD;
}

/* The escape interval started at a V event: DDD the VA interval to the A pace, VVI the LRI. */
static uint32_t escape_ms(const ev_pacer_t *p)
{
    uint32_t len = is_ddd(p) ? p->cfg.lri_ms - p->cfg.av_ms : p->cfg.lri_ms;
    if (EV_FAULT_ENABLED(ESCAPE_5MS_SHORT)) {
        len -= 5u;
    }
    return len;
}

void ev_pacer_init(ev_pacer_t *p, ev_timers_t *tm, const ev_config_t *cfg)
{
    memset(p, 0, sizeof(*p));
    p->cfg = *cfg;
    p->av_state = EV_AV_IDLE;
    ev_timers_init(tm);
    ev_timer_start(tm, EV_T_ESCAPE, escape_ms(p));
}

/* A ventricular event (pace or non-refractory sense): the cycle's reference. */
static void v_event(ev_pacer_t *p, ev_timers_t *tm, bool paced, bool pvc)
{
    ev_timer_stop(tm, EV_T_AV);
    ev_timer_stop(tm, EV_T_VSP);
    p->av_state = EV_AV_IDLE;
    p->crosstalk = false;
    p->held_by_uri = false;
    if (!(EV_FAULT_ENABLED(ESCAPE_FROM_ATRIAL_EVENT) && is_ddd(p))) {
        ev_timer_start(tm, EV_T_ESCAPE, escape_ms(p));
    }
    ev_timer_start(tm, EV_T_URI, p->cfg.uri_ms);
    if (paced || !EV_FAULT_ENABLED(VRP_ONLY_AFTER_PACE)) {
        ev_timer_start(tm, EV_T_VRP, p->cfg.vrp_ms);
    }
    if (is_ddd(p) && !(EV_FAULT_ENABLED(NO_PVARP_AFTER_PVC) && pvc)) {
        ev_timer_start(tm, EV_T_PVARP,
                       p->cfg.pvarp_ms + (EV_FAULT_ENABLED(PVARP_OFF_BY_ONE) ? 1u : 0u));
        ev_timer_start(tm, EV_T_PVAB, p->cfg.pvab_ms);
    }
    if (paced) {
        ev_timer_start(tm, EV_T_VPBLANK, p->cfg.pace_blank_ms);
    }
    p->have_v = true;
    p->atrial_since_v = false;
}

static void v_pace(ev_pacer_t *p, ev_timers_t *tm, ev_outputs_t *out)
{
    out->v_pace = true;
    p->count.v_paced++;
    if (p->held_by_uri) {
        p->count.v_paced_upper_rate++;
    }
    if (p->crosstalk) {
        p->count.v_paced_safety++;
    }
    v_event(p, tm, true, false);
}

/* The AV delay (or the safety window) is over: pace now, or wait for last V + URI. */
static void v_pace_due(ev_pacer_t *p, ev_timers_t *tm, ev_outputs_t *out)
{
    if (ev_timer_running(tm, EV_T_URI) && !EV_FAULT_ENABLED(NO_UPPER_RATE_LIMIT)) {
        ev_timer_stop(tm, EV_T_AV);
        p->av_state = EV_AV_WAIT_URI;
        p->held_by_uri = true;
        return;
    }
    v_pace(p, tm, out);
}

static void a_event_escape(ev_pacer_t *p, ev_timers_t *tm)
{
    if (EV_FAULT_ENABLED(ESCAPE_FROM_ATRIAL_EVENT)) {
        ev_timer_start(tm, EV_T_ESCAPE, p->cfg.lri_ms); /* the defect: A-A timing */
    } else {
        ev_timer_stop(tm, EV_T_ESCAPE);
    }
}

static void ddd_atrial_sense(ev_pacer_t *p, ev_timers_t *tm)
{
    if (ev_timer_running(tm, EV_T_PVAB) || ev_timer_running(tm, EV_T_ABLANK)) {
        p->count.a_blanked++;
        return;
    }
    p->atrial_since_v = true;
    if (p->av_state != EV_AV_IDLE || ev_timer_running(tm, EV_T_PVARP)) {
        p->count.a_refractory++;
        return;
    }
    p->count.a_sensed++;
    a_event_escape(p, tm);
    ev_timer_start(tm, EV_T_AV, p->cfg.av_ms);
    p->av_state = EV_AV_DELAY;
}

static void ddd_ventricular_sense(ev_pacer_t *p, ev_timers_t *tm)
{
    if (ev_timer_running(tm, EV_T_VPBLANK) || ev_timer_running(tm, EV_T_VBLANK)) {
        p->count.v_blanked++;
        return;
    }
    if (ev_timer_running(tm, EV_T_VRP)) {
        p->count.v_refractory++;
        return;
    }
    if (ev_timer_running(tm, EV_T_VSP) && !EV_FAULT_ENABLED(NO_SAFETY_PACING)) {
        p->count.v_crosstalk++;
        p->crosstalk = true; /* no inhibition, no timer: the safety pace is the V event */
        return;
    }
    bool pvc = p->have_v && !p->atrial_since_v;
    if (pvc) {
        p->count.v_pvc++;
    } else {
        p->count.v_sensed++;
    }
    v_event(p, tm, false, pvc);
}

static void ddd_atrial_pace(ev_pacer_t *p, ev_timers_t *tm, ev_outputs_t *out)
{
    out->a_pace = true;
    p->count.a_paced++;
    p->atrial_since_v = true;
    a_event_escape(p, tm);
    ev_timer_start(tm, EV_T_AV, p->cfg.av_ms);
    p->av_state = EV_AV_DELAY;
    ev_timer_start(tm, EV_T_ABLANK, p->cfg.pace_blank_ms);
    ev_timer_start(tm, EV_T_VBLANK, p->cfg.vblank_ms);
    if (p->cfg.vsp_ms != 0u) {
        ev_timer_start(tm, EV_T_VSP, p->cfg.vsp_ms);
    }
}

static ev_outputs_t ddd_step(ev_pacer_t *p, ev_timers_t *tm, ev_inputs_t in)
{
    ev_outputs_t out = {false, false};
    if (in.a_sense) {
        ddd_atrial_sense(p, tm);
    }
    if (in.v_sense) {
        ddd_ventricular_sense(p, tm);
    }
    if (p->av_state == EV_AV_IDLE && ev_timer_expired(tm, EV_T_ESCAPE)) {
        ddd_atrial_pace(p, tm, &out);
    }
    if (p->av_state == EV_AV_DELAY &&
        (ev_timer_expired(tm, EV_T_AV) || (p->crosstalk && ev_timer_expired(tm, EV_T_VSP)))) {
        v_pace_due(p, tm, &out);
    } else if (p->av_state == EV_AV_WAIT_URI && ev_timer_expired(tm, EV_T_URI)) {
        v_pace(p, tm, &out);
    }
    return out;
}

static ev_outputs_t vvi_step(ev_pacer_t *p, ev_timers_t *tm, ev_inputs_t in)
{
    ev_outputs_t out = {false, false};
    if (in.a_sense) {
        p->count.a_ignored++;
    }
    if (in.v_sense) {
        if (ev_timer_running(tm, EV_T_VPBLANK)) {
            p->count.v_blanked++;
        } else if (ev_timer_running(tm, EV_T_VRP)) {
            p->count.v_refractory++;
        } else {
            p->count.v_sensed++;
            v_event(p, tm, false, false);
        }
    }
    if (ev_timer_expired(tm, EV_T_ESCAPE)) {
        v_pace(p, tm, &out);
    }
    return out;
}

ev_outputs_t ev_pacer_step(ev_pacer_t *p, ev_timers_t *tm, ev_inputs_t in)
{
    return is_ddd(p) ? ddd_step(p, tm, in) : vvi_step(p, tm, in);
}
