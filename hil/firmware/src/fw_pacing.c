/* fw_pacing.c - timing engine: escape, tracking, refractory, blanking, PVC, VSP, noise, ATR, PMT,
 * hysteresis, rate smoothing, rate adaptation. Rule IDs refer to docs/assumptions.md. */
#include "fw_pacing.h"
#include "fw_faults.h"

#include <string.h>

static const uint16_t ACTIVITY_THRESHOLD_MG[7] = {20, 40, 60, 80, 100, 120, 140}; /* */

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ------------------------------------------------------------------ marker output */

/* Markers of the current millisecond are buffered and filtered at its end: a sense
 * that does not inhibit (AR, VR, TN, a crosstalk VS) loses its marker to a pace on its channel in
 * the same millisecond, and on channel X the first marker of a millisecond wins. */
static void emit_marker(fw_pacer_t *pc, int64_t t, fw_chamber_t ch, fw_marker_kind_t kind,
                        uint8_t flags, bool soft)
{
    if (pc->step_n >= FW_STEP_MARKERS) {
        return;
    }
    fw_marker_t *m = &pc->step_buf[pc->step_n];
    memset(m, 0, sizeof(*m));
    uint64_t t_us = (uint64_t)t * 1000u;
    if (FW_FAULT_ENABLED(US_COUNTER_OVERFLOW)) {
        t_us = (uint64_t)(uint32_t)t_us; /* seeded: a 32-bit microsecond counter */
    }
    m->t_us = t_us;
    m->chamber = (uint8_t)ch;
    m->kind = (uint8_t)kind;
    if (kind == FW_MK_AP) {
        m->flags = flags;
        m->amplitude_mv = pc->p.a_amplitude_mv;
        m->width_us = pc->p.a_width_us;
        pc->paced_this_sample = true;
    } else if (kind == FW_MK_VP) {
        m->flags = flags;
        m->amplitude_mv = pc->p.v_amplitude_mv;
        m->width_us = pc->p.v_width_us;
        pc->paced_this_sample = true;
    }
    pc->step_soft[pc->step_n] = soft;
    pc->step_n++;
}

static void emit(fw_pacer_t *pc, int64_t t, fw_chamber_t ch, fw_marker_kind_t kind,
                 uint8_t flags)
{
    emit_marker(pc, t, ch, kind, flags, false);
}

/* A sense marker that has no timing effect (it loses to a pace in the same millisecond). */
static void emit_soft(fw_pacer_t *pc, int64_t t, fw_chamber_t ch, fw_marker_kind_t kind)
{
    emit_marker(pc, t, ch, kind, 0, true);
}

static void flush_markers(fw_pacer_t *pc)
{
    bool paced[2] = {false, false};
    for (uint32_t i = 0; i < pc->step_n; ++i) {
        const fw_marker_t *m = &pc->step_buf[i];
        if (m->kind == FW_MK_AP || m->kind == FW_MK_VP) {
            paced[m->chamber] = true;
        }
    }
    bool x_seen = false;
    for (uint32_t i = 0; i < pc->step_n; ++i) {
        const fw_marker_t *m = &pc->step_buf[i];
        if (m->chamber == FW_CH_X) {
            if (x_seen) {
                continue;
            }
            x_seen = true;
        } else if (pc->step_soft[i] && paced[m->chamber]) {
            continue;
        }
        pc->counts[m->kind]++;
        if (pc->sink != NULL) {
            pc->sink(pc->sink_ctx, m);
        }
    }
    pc->step_n = 0;
}

/* ------------------------------------------------------------------ mode helpers */

static bool is_single_atrial(const fw_mode_info_t *mi)
{
    return mi->senses_a ? (!mi->paces_v && !mi->senses_v) : (mi->paces_a && !mi->paces_v);
}

/* PVARP and PVAB apply in modes that sense A and pace V, judged on the programmed mode so
 * that they keep running during an ATR fallback. */
static bool uses_pvarp(const fw_pacer_t *pc)
{
    return pc->prog_mi.senses_a && pc->prog_mi.paces_v;
}

static bool hysteresis_mode(fw_mode_t base)
{
    return base == FW_MODE_AAI || base == FW_MODE_VVI || base == FW_MODE_DDD ||
           base == FW_MODE_VDD || base == FW_MODE_DDI;
}

static bool smoothing_mode(const fw_pacer_t *pc)
{
    fw_mode_t b = fw_mode_base(pc->mode);
    return pc->p.rate_smoothing_pct != 0u && !pc->magnet && pc->atr_state != FW_ATR_FALLBACK &&
           (b == FW_MODE_AAI || b == FW_MODE_VVI || b == FW_MODE_VDD || b == FW_MODE_DDD);
}

static bool atr_enabled(const fw_pacer_t *pc)
{
    return pc->p.atr_mode != 0u && pc->prog_mi.tracking && !pc->magnet;
}

static bool noisy(const fw_pacer_t *pc, bool atrial, int64_t t)
{
    uint8_t cnt = atrial ? pc->a_noise_cnt : pc->v_noise_cnt;
    int64_t last = atrial ? pc->a_last_det : pc->v_last_det;
    return cnt >= pc->p.noise_count && last != FW_T_NONE && t - last < pc->p.noise_interval_ms;
}

/* ------------------------------------------------------------------ intervals */

static uint32_t sensor_interval_ms(const fw_pacer_t *pc)
{
    return fw_interval_ms(pc->sensor_mppm / 1000u);
}

/* Escape interval and the flags a pace at it carries. */
static uint32_t escape_ms(const fw_pacer_t *pc, bool hyst, uint8_t *flags)
{
    uint32_t e = pc->lri_ms;
    *flags = 0;
    if (hyst && pc->hri_ms != 0u) {
        e = pc->hri_ms;
        *flags = FW_FL_HYSTERESIS;
    }
    if (pc->mi.rate_adaptive && !pc->magnet) {
        uint32_t si = sensor_interval_ms(pc);
        if (si < pc->lri_ms) {
            e = si;
            *flags = FW_FL_SENSOR;
        }
    }
    return e;
}

/* Rate smoothing of an escape measured from `last`, with RR = last - prev. */
static uint32_t smooth_escape(const fw_pacer_t *pc, int64_t last, int64_t prev, uint32_t count,
                              uint32_t esc, uint32_t max_ms, uint8_t *flags)
{
    if (!smoothing_mode(pc) || count < 2u) {
        return esc;
    }
    uint32_t rr = (uint32_t)(last - prev);
    uint32_t d = rr * pc->p.rate_smoothing_pct / 100u;
    if (esc > rr + d) {
        *flags = FW_FL_SMOOTHING;
        return rr + d;
    }
    if (esc + d < rr) {
        uint32_t lo = rr - d;
        if (lo > max_ms) {
            lo = max_ms;
        }
        if (lo != esc) {
            *flags = FW_FL_SMOOTHING;
        }
        return lo;
    }
    return esc;
}

/* Paced AV delay, dynamic when on. */
static uint32_t pav_ms(const fw_pacer_t *pc)
{
    uint32_t fixed = pc->p.fixed_av_delay_ms;
    if (!pc->p.dynamic_av_delay || pc->v_events < 2u) {
        return fixed;
    }
    uint32_t mn = pc->p.min_dynamic_av_delay_ms;
    int64_t vv = pc->last_v - pc->prev_v;
    if (vv >= (int64_t)pc->lri_ms) {
        return fixed;
    }
    if (vv <= (int64_t)pc->uri_ms) {
        return mn;
    }
    return mn + (uint32_t)(((uint64_t)(fixed - mn) * (uint64_t)(vv - (int64_t)pc->uri_ms)) /
                           (uint64_t)(pc->lri_ms - pc->uri_ms));
}

static uint32_t sav_ms(const fw_pacer_t *pc)
{
    int32_t s = (int32_t)pav_ms(pc) + pc->p.sensed_av_offset_ms;
    return s < 30 ? 30u : (uint32_t)s;
}

/* Bounds on a tracked, AV-delay or safety ventricular pace: not earlier than
 * last V + URI (flag UPPER_RATE) nor, with smoothing, last V + RR - x (flag SMOOTHING; the URI
 * wins ties). Neither applies before the first real ventricular event. */
static int64_t bound_vp(const fw_pacer_t *pc, int64_t due, uint8_t *flags, bool smoothing)
{
    if (pc->v_events == 0u) {
        return due;
    }
    int64_t upper = pc->last_v + pc->uri_ms;
    if (upper > due && !FW_FAULT_ENABLED(URL_NOT_ENFORCED)) {
        due = upper;
        *flags = FW_FL_UPPER_RATE;
    }
    if (smoothing && smoothing_mode(pc) && pc->v_events >= 2u) {
        uint32_t rr = (uint32_t)(pc->last_v - pc->prev_v);
        uint32_t x = rr * pc->p.rate_smoothing_pct / 100u;
        int64_t lo = pc->last_v + (int64_t)rr - (int64_t)x;
        if (lo > due) {
            due = lo;
            *flags = FW_FL_SMOOTHING;
        }
    }
    return due;
}

/* Fallback pacing interval during ATR: from the V-V at the switch, linearly to the
 * escape interval over the fallback time. */
static uint32_t fallback_interval_ms(const fw_pacer_t *pc, int64_t t, uint32_t esc)
{
    uint32_t v0 = pc->atr_fb_vv0_ms;
    if (v0 >= esc) {
        return esc;
    }
    int64_t span = (int64_t)pc->p.atr_fallback_time_min * 60000;
    int64_t el = t - pc->atr_fb_start;
    if (el >= span) {
        return esc;
    }
    return v0 + (uint32_t)(((int64_t)(esc - v0) * el) / span);
}

/* ------------------------------------------------------------------ scheduling */

static void schedule_atrial_cycle(fw_pacer_t *pc, int64_t t)
{
    /* Single-chamber atrial timing: A-A = escape, smoothing on A-A. */
    uint8_t fl;
    uint32_t esc = escape_ms(pc, pc->hyst_now, &fl);
    uint32_t maxi = pc->hyst_now && pc->hri_ms ? pc->hri_ms : pc->lri_ms;
    esc = smooth_escape(pc, pc->last_a, pc->prev_a, pc->a_events, esc, maxi, &fl);
    pc->a_due = t + esc;
    pc->a_flags = fl;
}

static void schedule_after_v(fw_pacer_t *pc, int64_t t, fw_marker_kind_t kind, bool start)
{
    fw_mode_t base = fw_mode_base(pc->mode);
    bool hyst = false;
    if (pc->p.hysteresis_rate_ppm != 0u && !pc->magnet && hysteresis_mode(base)) {
        if (base == FW_MODE_VVI || base == FW_MODE_VDD) {
            hyst = kind != FW_MK_VP;
        } else if (base == FW_MODE_DDD || base == FW_MODE_DDI) {
            hyst = pc->last_a_was_as;
        }
        if (FW_FAULT_ENABLED(HYSTERESIS_NEVER_RELEASED)) {
            hyst = hyst || pc->hyst_now;
        }
    }
    pc->hyst_now = hyst;
    uint8_t fl;
    uint32_t esc = escape_ms(pc, hyst, &fl);
    uint32_t maxi = hyst && pc->hri_ms ? pc->hri_ms : pc->lri_ms;
    if (pc->atr_state == FW_ATR_FALLBACK) {
        esc = fallback_interval_ms(pc, t, esc);
        fl = 0;
    }
    if (pc->mi.paces_a && pc->mi.paces_v) {
        /* Dual-chamber pacing: VA = escape - PAV after each V event. */
        if (base == FW_MODE_DDD) {
            esc = smooth_escape(pc, pc->last_v, pc->prev_v, pc->v_events, esc, maxi, &fl);
        }
        if (!pc->p.lower_rate_timing_atrial || start || kind == FW_MK_PVC) {
            /* Atrial-based timing: the start and a PVC restart VA; other V events do not. */
            pc->a_due = t + (int64_t)esc - (int64_t)pav_ms(pc);
            pc->a_flags = fl;
            if (pc->p.lower_rate_timing_atrial && start) {
                pc->a_due = t + esc;
            }
        }
        if (base == FW_MODE_DDI) {
            uint8_t vf = fl;
            pc->v_due = bound_vp(pc, t + esc, &vf, false); /* DDI: last V + escape */
            pc->v_flags = vf;
        }
    } else if (pc->mi.paces_v) {
        esc = smooth_escape(pc, pc->last_v, pc->prev_v, pc->v_events, esc, maxi, &fl);
        pc->v_due = bound_vp(pc, t + esc, &fl, false); /* URI on every V pace */
        pc->v_flags = fl;
    }
}

/* ------------------------------------------------------------------ ATR */

static uint32_t atr_short_count(const fw_pacer_t *pc)
{
    uint32_t c = 0;
    for (uint32_t i = 0; i < pc->atr_n; ++i) {
        c += pc->atr_short[i];
    }
    return c;
}

static void set_mode(fw_pacer_t *pc, fw_mode_t mode)
{
    pc->mode = mode;
    pc->mi = *fw_mode_info(mode);
}

static void atr_on_atrial(fw_pacer_t *pc, int64_t t, int64_t interval)
{
    if (interval == FW_T_NONE) {
        return;
    }
    pc->atr_short[pc->atr_pos] = interval < (int64_t)pc->uri_ms ? 1u : 0u;
    pc->atr_pos = (uint8_t)((pc->atr_pos + 1u) % FW_ATR_WINDOW);
    if (pc->atr_n < FW_ATR_WINDOW) {
        pc->atr_n++;
    }
    uint32_t c = atr_short_count(pc);
    if (pc->atr_state == FW_ATR_OFF && c >= 8u) {
        pc->atr_state = FW_ATR_DURATION;
        pc->atr_vcount = 0;
        emit(pc, t, FW_CH_X, FW_MK_ATR_DUR, 0);
    } else if (pc->atr_state == FW_ATR_DURATION && c < 6u) {
        pc->atr_state = FW_ATR_OFF;
        emit(pc, t, FW_CH_X, FW_MK_ATR_END, 0);
    }
}

static void atr_on_ventricular(fw_pacer_t *pc, int64_t t, int64_t vv)
{
    if (!atr_enabled(pc)) {
        return;
    }
    uint32_t c = atr_short_count(pc);
    if (pc->atr_state == FW_ATR_DURATION) {
        if (c >= 6u) {
            pc->atr_vcount++;
            if (pc->atr_vcount > pc->p.atr_duration_cycles &&
                !FW_FAULT_ENABLED(ATR_NEVER_FALLS_BACK)) {
                pc->atr_state = FW_ATR_FALLBACK;
                pc->atr_fb_start = t;
                pc->atr_fb_vv0_ms = vv > 0 ? (uint32_t)vv : pc->lri_ms;
                set_mode(pc, pc->prog_mi.rate_adaptive ? FW_MODE_VVIR : FW_MODE_VVI);
                pc->a_due = FW_T_NONE;
                emit(pc, t, FW_CH_X, FW_MK_ATR_FB, 0);
            }
        }
    } else if (pc->atr_state == FW_ATR_FALLBACK && c < 6u) {
        pc->atr_state = FW_ATR_OFF;
        set_mode(pc, pc->prog_mode);
        emit(pc, t, FW_CH_X, FW_MK_ATR_END, 0);
    }
}

/* ------------------------------------------------------------------ events */

static void v_event(fw_pacer_t *pc, int64_t t, fw_marker_kind_t kind, uint8_t flags,
                    bool tracked)
{
    emit(pc, t, FW_CH_V, kind, flags);
    int64_t vv = pc->v_events > 0u ? t - pc->last_v : 0;
    pc->prev_v = pc->last_v;
    pc->last_v = t;
    pc->v_events++;
    pc->vrp_end = t + pc->p.vrp_ms;
    if (kind == FW_MK_VP) {
        pc->v_pblank_end = t + pc->p.pace_blanking_ms;
        pc->last_vp = t;
    }
    atr_on_ventricular(pc, t, vv);
    if (uses_pvarp(pc)) {
        uint32_t pvarp = pc->p.pvarp_ms;
        if (FW_FAULT_ENABLED(PVARP_SHORT_20MS)) {
            pvarp -= 20u;
        }
        bool ext = false;
        if (kind == FW_MK_PVC && pc->p.pvarp_extension_ms != 0u && !pc->last_v_ext) {
            pvarp += pc->p.pvarp_extension_ms; /* */
            ext = true;
        } else if (kind == FW_MK_VP && pc->pmt_pending) {
            if (!pc->last_v_ext) { /* A-14, counted as an extension for A-6 */
                pvarp = pc->p.pmt_pvarp_ms;
                ext = true;
            }
            pc->pmt_pending = false;
            pc->pmt_n = 0;
        }
        if (ext) {
            emit(pc, t, FW_CH_X, FW_MK_PVARP_EXT, 0);
        }
        pc->last_v_ext = ext;
        pc->pvarp_end = t + pvarp;
        pc->pvab_end = t + pc->p.pvab_ms;
    }
    pc->av_running = false;
    pc->av_from_ap = false;
    pc->vsp_scheduled = false;
    pc->ap_time = FW_T_NONE;
    pc->v_due = FW_T_NONE;
    pc->atrial_since_v = false;
    pc->last_vp_tracked = tracked;
    schedule_after_v(pc, t, kind, false);
}

/* An atrial timing event in single-chamber atrial modes (AP or non-refractory AS). */
static void atrial_timing_event(fw_pacer_t *pc, int64_t t, bool sense)
{
    pc->prev_a = pc->last_a;
    pc->last_a = t;
    pc->a_events++;
    pc->arp_end = t + pc->p.arp_ms;
    fw_mode_t base = fw_mode_base(pc->mode);
    bool hyst = sense && pc->p.hysteresis_rate_ppm != 0u && !pc->magnet && base == FW_MODE_AAI;
    if (FW_FAULT_ENABLED(HYSTERESIS_NEVER_RELEASED) && pc->p.hysteresis_rate_ppm != 0u &&
        base == FW_MODE_AAI) {
        hyst = hyst || pc->hyst_now;
    }
    pc->hyst_now = hyst;
    if (pc->mi.paces_a) {
        schedule_atrial_cycle(pc, t);
    }
}

static void atrial_pace(fw_pacer_t *pc, int64_t t)
{
    uint8_t flags = pc->a_flags;
    if (pc->magnet) {
        flags |= FW_FL_MAGNET;
    }
    if (noisy(pc, true, t)) {
        flags |= FW_FL_NOISE;
    }
    pc->a_due = FW_T_NONE;
    emit(pc, t, FW_CH_A, FW_MK_AP, flags);
    pc->last_ap = t;
    pc->a_pblank_end = t + pc->p.pace_blanking_ms;
    pc->atrial_since_v = true;
    pc->last_a_was_as = false;
    if (pc->mi.paces_v) {
        fw_mode_t base = fw_mode_base(pc->mode);
        pc->v_ablank_end = t + pc->p.ventricular_blanking_ms;
        int64_t due = t + pav_ms(pc);
        uint8_t fl = 0;
        due = bound_vp(pc, due, &fl, true);
        if (base == FW_MODE_DDI && pc->v_due == due) {
            fl = pc->v_flags; /* DDI: the VP at last V + escape carries that escape's flags */
        }
        pc->v_due = due;
        pc->v_flags = fl;
        pc->av_running = true;
        pc->av_from_ap = true;
        pc->vsp_scheduled = false;
        pc->ap_time = t;
        if (pc->p.lower_rate_timing_atrial) {
            uint8_t af;
            pc->a_due = t + escape_ms(pc, false, &af);
            pc->a_flags = af;
        }
    } else {
        atrial_timing_event(pc, t, false);
    }
}

static void ventricular_pace(fw_pacer_t *pc, int64_t t)
{
    uint8_t flags = pc->v_flags;
    if (pc->magnet) {
        flags |= FW_FL_MAGNET;
    }
    if (noisy(pc, false, t)) {
        flags |= FW_FL_NOISE;
    }
    bool tracked = pc->av_running && !pc->av_from_ap && (flags & FW_FL_SAFETY) == 0u;
    v_event(pc, t, FW_MK_VP, flags, tracked);
}

/* A noise-criterion update; true when this detection is noise (TN). */
static bool noise_update(fw_pacer_t *pc, bool atrial, int64_t t)
{
    int64_t *last = atrial ? &pc->a_last_det : &pc->v_last_det;
    uint8_t *cnt = atrial ? &pc->a_noise_cnt : &pc->v_noise_cnt;
    if (*last != FW_T_NONE && t - *last < (int64_t)pc->p.noise_interval_ms) {
        if (*cnt < 255u) {
            (*cnt)++;
        }
    } else {
        *cnt = 0;
    }
    *last = t;
    if (FW_FAULT_ENABLED(NOISE_NOT_REVERTED)) {
        return false;
    }
    return *cnt >= pc->p.noise_count;
}

static void pmt_on_as(fw_pacer_t *pc, int64_t t)
{
    if (!pc->p.pmt_termination || FW_FAULT_ENABLED(PMT_NOT_TERMINATED)) {
        return;
    }
    int64_t va = t - pc->last_v;
    if (!pc->last_vp_tracked || va >= (int64_t)pc->p.pmt_va_max_ms) {
        pc->pmt_n = 0;
        return;
    }
    uint32_t need = pc->p.pmt_cycles;
    if (need > FW_PMT_MAX_CYCLES) {
        need = FW_PMT_MAX_CYCLES;
    }
    if (pc->pmt_n >= need) {
        memmove(&pc->pmt_va[0], &pc->pmt_va[1], (need - 1u) * sizeof(pc->pmt_va[0]));
        pc->pmt_n = (uint8_t)(need - 1u);
    }
    pc->pmt_va[pc->pmt_n++] = (uint16_t)va;
    if (pc->pmt_n >= need) {
        uint16_t mn = pc->pmt_va[0], mx = pc->pmt_va[0];
        for (uint32_t i = 1; i < need; ++i) {
            mn = pc->pmt_va[i] < mn ? pc->pmt_va[i] : mn;
            mx = pc->pmt_va[i] > mx ? pc->pmt_va[i] : mx;
        }
        if ((uint32_t)(mx - mn) <= pc->p.pmt_va_stability_ms) {
            pc->pmt_pending = true; /* armed: the next VP of any kind extends PVARP */
            pc->pmt_n = 0;
        }
    }
}

static void atrial_detection(fw_pacer_t *pc, int64_t t)
{
    if (!pc->prog_mi.senses_a || pc->magnet) {
        return;
    }
    if ((t < pc->a_pblank_end || t < pc->pvab_end) && !FW_FAULT_ENABLED(BLANKED_SENSES_COUNTED)) {
        return; /* blanked: no marker */
    }
    if (noise_update(pc, true, t)) {
        emit_soft(pc, t, FW_CH_A, FW_MK_TN);
        return;
    }
    pc->atrial_since_v = true;
    int64_t interval = pc->atr_last_det != FW_T_NONE ? t - pc->atr_last_det : FW_T_NONE;
    pc->atr_last_det = t;
    if (atr_enabled(pc)) {
        atr_on_atrial(pc, t, interval);
    }
    bool single = is_single_atrial(&pc->prog_mi);
    bool refractory = (single && t < pc->arp_end) || (uses_pvarp(pc) && t < pc->pvarp_end) ||
                      pc->av_running;
    if (refractory) {
        emit_soft(pc, t, FW_CH_A, FW_MK_AR);
        return;
    }
    fw_marker_kind_t kind = FW_MK_AS;
    if (pc->atr_state != FW_ATR_OFF && interval != FW_T_NONE && interval < (int64_t)pc->uri_ms) {
        kind = FW_MK_AT;
    }
    if (single) {
        if (pc->mi.triggered) {
            bool allowed = pc->last_ap == FW_T_NONE || t - pc->last_ap >= (int64_t)pc->uri_ms;
            if (allowed || FW_FAULT_ENABLED(TRIGGER_ABOVE_URL)) {
                emit(pc, t, FW_CH_A, FW_MK_AP, FW_FL_TRIGGERED); /* */
                pc->last_ap = t;
                pc->a_pblank_end = t + pc->p.pace_blanking_ms;
                atrial_timing_event(pc, t, false);
                return;
            }
        }
        emit(pc, t, FW_CH_A, kind, 0);
        if (FW_FAULT_ENABLED(LRL_NOT_RESET_BY_SENSE) && pc->a_due != FW_T_NONE) {
            pc->arp_end = t + pc->p.arp_ms;
            return;
        }
        atrial_timing_event(pc, t, true);
        return;
    }
    emit(pc, t, FW_CH_A, kind, 0);
    if (pc->atr_state == FW_ATR_FALLBACK) {
        return; /* atrial detection continues, no tracking */
    }
    pc->last_a_was_as = true;
    fw_mode_t base = fw_mode_base(pc->mode);
    if (pc->mi.paces_a) {
        pc->a_due = FW_T_NONE; /* the sense inhibits the atrial pace */
        if (pc->p.lower_rate_timing_atrial) {
            uint8_t af;
            bool hyst = pc->p.hysteresis_rate_ppm != 0u && hysteresis_mode(base);
            pc->hyst_now = hyst;
            pc->a_due = t + escape_ms(pc, hyst, &af);
            pc->a_flags = af;
        }
    }
    if (pc->mi.tracking && pc->mi.paces_v) {
        int64_t start = FW_FAULT_ENABLED(SAV_FROM_WRONG_EVENT) ? pc->last_v : t;
        int64_t due = start + sav_ms(pc);
        uint8_t fl = 0;
        due = bound_vp(pc, due, &fl, true);
        if (base == FW_MODE_VDD && pc->v_due != FW_T_NONE && pc->v_due <= due) {
            /* VDD: the ventricular escape still bounds the cycle. */
        } else {
            pc->v_due = due;
            pc->v_flags = fl;
        }
        pc->av_running = true;
        pc->av_from_ap = false;
        pmt_on_as(pc, t);
    }
}

static void ventricular_detection(fw_pacer_t *pc, int64_t t)
{
    if (!pc->prog_mi.senses_v || pc->magnet) {
        return;
    }
    if ((t < pc->v_pblank_end || t < pc->v_ablank_end) &&
        !FW_FAULT_ENABLED(BLANKED_SENSES_COUNTED)) {
        return;
    }
    if (noise_update(pc, false, t)) {
        emit_soft(pc, t, FW_CH_V, FW_MK_TN);
        return;
    }
    if (t < pc->vrp_end && !FW_FAULT_ENABLED(REFRACTORY_SENSE_INHIBITS)) {
        emit_soft(pc, t, FW_CH_V, FW_MK_VR);
        return;
    }
    if (pc->mi.paces_a && pc->mi.paces_v && pc->p.safety_pacing && pc->av_from_ap &&
        pc->av_running && pc->ap_time != FW_T_NONE &&
        t >= pc->ap_time + pc->p.ventricular_blanking_ms &&
        t < pc->ap_time + pc->p.vsp_window_ms && !FW_FAULT_ENABLED(NO_SAFETY_PACING)) {
        /* possible crosstalk: VS marker, no inhibition, safety pace. */
        emit_soft(pc, t, FW_CH_V, FW_MK_VS);
        if (!pc->vsp_scheduled) {
            int64_t due = min64(pc->ap_time + pc->p.vsp_window_ms, pc->ap_time + pav_ms(pc));
            uint8_t ignored = 0;
            due = bound_vp(pc, due, &ignored, false);
            pc->v_due = due;
            pc->v_flags = FW_FL_SAFETY;
            pc->vsp_scheduled = true;
        }
        return;
    }
    fw_marker_kind_t kind = FW_MK_VS;
    if (pc->prog_mi.senses_a && !pc->atrial_since_v && pc->v_events > 0u &&
        !FW_FAULT_ENABLED(PVC_NOT_RECOGNISED)) {
        kind = FW_MK_PVC;
    }
    if (pc->mi.triggered) {
        bool allowed = pc->last_vp == FW_T_NONE || t - pc->last_vp >= (int64_t)pc->uri_ms;
        if (allowed || FW_FAULT_ENABLED(TRIGGER_ABOVE_URL)) {
            v_event(pc, t, FW_MK_VP, FW_FL_TRIGGERED, false); /* */
            return;
        }
    }
    if (FW_FAULT_ENABLED(LRL_NOT_RESET_BY_SENSE) && !pc->mi.paces_a && pc->v_due != FW_T_NONE) {
        emit(pc, t, FW_CH_V, kind, 0);
        pc->vrp_end = t + pc->p.vrp_ms;
        return;
    }
    v_event(pc, t, kind, 0, false);
}

/* ------------------------------------------------------------------ rate adaptation */

static void activity_sample(fw_pacer_t *pc, int64_t t, int16_t a_mg)
{
    int32_t a = a_mg < 0 ? -(int32_t)a_mg : (int32_t)a_mg;
    pc->act_sum_mg += (uint32_t)a;
    pc->act_n++;
    if ((t + 1) % 1000 != 0) {
        return;
    }
    uint32_t m = pc->act_sum_mg / pc->act_n;
    pc->act_sum_mg = 0;
    pc->act_n = 0;
    uint32_t lrl = pc->p.lrl_ppm, msr = pc->p.msr_ppm;
    uint32_t thr = ACTIVITY_THRESHOLD_MG[pc->p.activity_threshold > 6u ? 6u
                                                                        : pc->p.activity_threshold];
    uint32_t target = lrl;
    if (m > thr) {
        target = lrl + pc->p.response_factor * (m - thr) / 4u;
        if (target > msr) {
            target = msr;
        }
    }
    uint32_t goal = target * 1000u;
    uint32_t span = msr > lrl ? (msr - lrl) * 1000u : 0u;
    if (pc->sensor_mppm < goal) {
        uint32_t up = span / pc->p.reaction_time_s;
        pc->sensor_mppm = pc->sensor_mppm + up < goal ? pc->sensor_mppm + up : goal;
    } else if (pc->sensor_mppm > goal) {
        uint32_t down = span / (pc->p.recovery_time_min * 60u);
        pc->sensor_mppm = pc->sensor_mppm > goal + down ? pc->sensor_mppm - down : goal;
    }
}

/* ------------------------------------------------------------------ public API */

fw_mode_t fw_effective_params(const fw_params_t *prog, fw_state_t state,
                              fw_battery_level_t battery, fw_params_t *out, bool *magnet)
{
    *out = *prog;
    *magnet = false;
    if (state == FW_STATE_PACE_NOW || state == FW_STATE_POWER_ON_RESET) {
        fw_params_power_on_reset(out, state == FW_STATE_PACE_NOW);
    } else if (state == FW_STATE_MAGNET) {
        fw_mode_t base = fw_mode_base((fw_mode_t)prog->mode);
        fw_mode_t m = FW_MODE_OOO;
        if (base == FW_MODE_DDD || base == FW_MODE_DDI || base == FW_MODE_DOO) {
            m = FW_MODE_DOO;
        } else if (base == FW_MODE_VDD || base == FW_MODE_VVI || base == FW_MODE_VVT ||
                   base == FW_MODE_VOO) {
            m = FW_MODE_VOO;
        } else if (base == FW_MODE_AAI || base == FW_MODE_AAT || base == FW_MODE_AOO) {
            m = FW_MODE_AOO;
        }
        out->mode = (uint8_t)m;
        out->lrl_ppm = battery == FW_BATT_BOL ? 100 : (battery == FW_BATT_ERN ? 90 : 85);
        out->hysteresis_rate_ppm = 0;
        out->rate_smoothing_pct = 0;
        out->atr_mode = 0;
        *magnet = true;
    }
    return (fw_mode_t)out->mode;
}

void fw_pacer_reprogram(fw_pacer_t *pc, const fw_params_t *p, fw_state_t state,
                        fw_battery_level_t battery)
{
    fw_params_t eff;
    bool magnet;
    fw_mode_t mode = fw_effective_params(p, state, battery, &eff, &magnet);
    int64_t t = pc->t_ms;
    pc->p = eff;
    pc->magnet = magnet;
    pc->prog_mode = mode;
    pc->prog_mi = *fw_mode_info(mode);
    set_mode(pc, mode);
    pc->lri_ms = fw_interval_ms(eff.lrl_ppm);
    pc->uri_ms = fw_interval_ms(eff.url_ppm);
    pc->hri_ms = eff.hysteresis_rate_ppm ? fw_interval_ms(eff.hysteresis_rate_ppm) : 0u;
    if (magnet && pc->lri_ms < pc->uri_ms) {
        pc->uri_ms = pc->lri_ms; /* URI becomes min(URI, magnet interval) */
    }
    fw_frontend_set_sensitivity(&pc->fe_a, eff.a_sensitivity_uv);
    fw_frontend_set_sensitivity(&pc->fe_v, eff.v_sensitivity_uv);
    pc->fe_a.dead_time_ms = eff.detection_dead_time_ms;
    pc->fe_v.dead_time_ms = eff.detection_dead_time_ms;

    pc->a_due = pc->v_due = FW_T_NONE;
    pc->a_flags = pc->v_flags = 0;
    pc->vrp_end = pc->arp_end = pc->pvarp_end = pc->pvab_end = FW_T_NONE;
    pc->a_pblank_end = pc->v_pblank_end = pc->v_ablank_end = FW_T_NONE;
    pc->last_v = pc->prev_v = t;
    pc->v_events = 0;
    pc->last_a = pc->prev_a = t;
    pc->a_events = 0;
    pc->last_ap = pc->last_vp = FW_T_NONE;
    pc->av_running = pc->av_from_ap = pc->vsp_scheduled = false;
    pc->ap_time = FW_T_NONE;
    pc->atrial_since_v = true;
    pc->last_a_was_as = false;
    pc->hyst_now = false;
    pc->last_v_ext = false;
    pc->last_vp_tracked = false;
    pc->a_last_det = pc->v_last_det = FW_T_NONE;
    pc->a_noise_cnt = pc->v_noise_cnt = 0;
    pc->atr_last_det = FW_T_NONE;
    memset(pc->atr_short, 0, sizeof(pc->atr_short));
    pc->atr_n = pc->atr_pos = 0;
    pc->atr_state = FW_ATR_OFF;
    pc->atr_vcount = 0;
    pc->atr_fb_start = FW_T_NONE;
    pc->atr_fb_vv0_ms = 0;
    pc->pmt_n = 0;
    pc->pmt_pending = false;
    pc->step_n = 0;
    pc->sensor_mppm = (uint32_t)eff.lrl_ppm * 1000u;

    /* Start as if an event of the timing chamber happened now. */
    if (is_single_atrial(&pc->mi)) {
        if (pc->mi.paces_a) {
            schedule_atrial_cycle(pc, t);
        }
    } else {
        schedule_after_v(pc, t, FW_MK_VP, true);
    }
}

void fw_pacer_init(fw_pacer_t *pc, const fw_params_t *p, fw_state_t state,
                   fw_battery_level_t battery, int64_t t_ms, fw_marker_sink_t sink, void *ctx)
{
    memset(pc, 0, sizeof(*pc));
    fw_frontend_init(&pc->fe_a, p->a_sensitivity_uv);
    fw_frontend_init(&pc->fe_v, p->v_sensitivity_uv);
    pc->t_ms = t_ms;
    pc->sink = sink;
    pc->sink_ctx = ctx;
    pc->act_sum_mg = 0;
    pc->act_n = 0;
    fw_pacer_reprogram(pc, p, state, battery);
}

bool fw_pacer_step(fw_pacer_t *pc, bool a_det, bool v_det, int16_t activity_mg)
{
    int64_t t = pc->t_ms;
    pc->paced_this_sample = false;
    if (a_det) {
        atrial_detection(pc, t);
    }
    if (v_det) {
        ventricular_detection(pc, t);
    }
    if (pc->a_due != FW_T_NONE && pc->a_due <= t) {
        atrial_pace(pc, t);
    }
    if (pc->v_due != FW_T_NONE && pc->v_due <= t) {
        ventricular_pace(pc, t);
    }
    flush_markers(pc);
    activity_sample(pc, t, activity_mg);
    pc->t_ms = t + 1;
    return pc->paced_this_sample;
}

bool fw_pacer_sample(fw_pacer_t *pc, int16_t a_uv, int16_t v_uv, int16_t activity_mg)
{
    bool a_det = fw_frontend_step(&pc->fe_a, a_uv);
    bool v_det = fw_frontend_step(&pc->fe_v, v_uv);
    return fw_pacer_step(pc, a_det, v_det, activity_mg);
}
