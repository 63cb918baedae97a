/* fw_params.c - parameter grids, A-18 cross rules, nominal and POR settings, CRC store. */
#include "fw_params.h"
#include "fw_faults.h"

#include <stddef.h>
#include <string.h>

/* paces_a paces_v senses_a senses_v triggered tracking rate_adaptive temporary_only */
static const fw_mode_info_t MODE_INFO[FW_MODE_COUNT] = {
    [FW_MODE_OFF] = {false, false, false, false, false, false, false, false},
    [FW_MODE_AOO] = {true, false, false, false, false, false, false, false},
    [FW_MODE_AAI] = {true, false, true, false, false, false, false, false},
    [FW_MODE_VOO] = {false, true, false, false, false, false, false, false},
    [FW_MODE_VVI] = {false, true, false, true, false, false, false, false},
    [FW_MODE_AAT] = {true, false, true, false, true, false, false, false},
    [FW_MODE_VVT] = {false, true, false, true, true, false, false, false},
    [FW_MODE_DOO] = {true, true, false, false, false, false, false, false},
    [FW_MODE_DDI] = {true, true, true, true, false, false, false, false},
    [FW_MODE_VDD] = {false, true, true, true, false, true, false, false},
    [FW_MODE_DDD] = {true, true, true, true, false, true, false, false},
    [FW_MODE_AOOR] = {true, false, false, false, false, false, true, false},
    [FW_MODE_AAIR] = {true, false, true, false, false, false, true, false},
    [FW_MODE_VOOR] = {false, true, false, false, false, false, true, false},
    [FW_MODE_VVIR] = {false, true, false, true, false, false, true, false},
    [FW_MODE_DOOR] = {true, true, false, false, false, false, true, false},
    [FW_MODE_DDIR] = {true, true, true, true, false, false, true, false},
    [FW_MODE_VDDR] = {false, true, true, true, false, true, true, false},
    [FW_MODE_DDDR] = {true, true, true, true, false, true, true, false},
    [FW_MODE_OAO] = {false, false, true, false, false, false, false, true},
    [FW_MODE_OVO] = {false, false, false, true, false, false, false, true},
    [FW_MODE_ODO] = {false, false, true, true, false, false, false, true},
    [FW_MODE_OOO] = {false, false, false, false, false, false, false, true},
};

const fw_mode_info_t *fw_mode_info(fw_mode_t mode)
{
    if ((unsigned)mode >= (unsigned)FW_MODE_COUNT) {
        return &MODE_INFO[FW_MODE_OFF];
    }
    return &MODE_INFO[mode];
}

fw_mode_t fw_mode_base(fw_mode_t mode)
{
    if (mode >= FW_MODE_AOOR && mode <= FW_MODE_DDDR) {
        static const fw_mode_t BASE[] = {FW_MODE_AOO, FW_MODE_AAI, FW_MODE_VOO, FW_MODE_VVI,
                                         FW_MODE_DOO, FW_MODE_DDI, FW_MODE_VDD, FW_MODE_DDD};
        return BASE[mode - FW_MODE_AOOR];
    }
    return mode;
}

uint32_t fw_interval_ms(uint32_t ppm)
{
    if (ppm == 0u) {
        return 0u;
    }
    return (60000u + ppm / 2u) / ppm;
}

void fw_params_nominal(fw_params_t *p)
{
    memset(p, 0, sizeof(*p));
    p->mode = FW_MODE_DDD;
    p->lrl_ppm = 60;
    p->url_ppm = 120;
    p->msr_ppm = 120;
    p->fixed_av_delay_ms = 150;
    p->dynamic_av_delay = 0;
    p->min_dynamic_av_delay_ms = 50;
    p->sensed_av_offset_ms = 0;
    p->a_amplitude_mv = 3500;
    p->v_amplitude_mv = 3500;
    p->a_width_us = 400;
    p->v_width_us = 400;
    p->a_sensitivity_uv = 750;
    p->v_sensitivity_uv = 2500;
    p->vrp_ms = 320;
    p->arp_ms = 250;
    p->pvarp_ms = 250;
    p->pvarp_extension_ms = 0;
    p->hysteresis_rate_ppm = 0;
    p->rate_smoothing_pct = 0;
    p->atr_mode = 0;
    p->atr_duration_cycles = 20;
    p->atr_fallback_time_min = 1;
    p->ventricular_blanking_ms = 40;
    p->activity_threshold = 3; /* Med */
    p->reaction_time_s = 30;
    p->response_factor = 8;
    p->recovery_time_min = 5;
    p->pvab_ms = 100;
    p->pace_blanking_ms = 100;
    p->safety_pacing = 1;
    p->vsp_window_ms = 110;
    p->noise_interval_ms = 100;
    p->noise_count = 3;
    p->pmt_termination = 1;
    p->pmt_cycles = 8;
    p->pmt_va_max_ms = 400;
    p->pmt_va_stability_ms = 32;
    p->pmt_pvarp_ms = 500;
    p->lower_rate_timing_atrial = 0;
    p->detection_dead_time_ms = 50;
}

void fw_params_power_on_reset(fw_params_t *p, bool pace_now)
{
    fw_params_nominal(p);
    p->mode = FW_MODE_VVI;
    p->lrl_ppm = 65;
    p->v_amplitude_mv = 5000;
    p->vrp_ms = 320;
    p->v_sensitivity_uv = 1500;
    p->v_width_us = pace_now ? 1000 : 500;
}

static bool in_steps(uint32_t v, uint32_t lo, uint32_t hi, uint32_t step)
{
    return v >= lo && v <= hi && (v - lo) % step == 0u;
}

static bool lrl_on_grid(uint32_t v)
{
    return in_steps(v, 30, 50, 5) || in_steps(v, 50, 90, 1) || in_steps(v, 90, 175, 5);
}

static bool amplitude_on_grid(uint32_t v)
{
    return v == 0u || in_steps(v, 500, 3200, 100) || in_steps(v, 3500, 7000, 500) ||
           v == 1250u || v == 3750u;
}

static bool width_on_grid(uint32_t v)
{
    return v == 50u || in_steps(v, 100, 1900, 100);
}

static bool sensitivity_on_grid(uint32_t v)
{
    return v == 250u || v == 500u || v == 750u || in_steps(v, 1000, 10000, 500);
}

static bool smoothing_on_grid(uint32_t v)
{
    return v == 0u || v == 25u || (v <= 21u && v % 3u == 0u);
}

static bool atr_duration_on_grid(uint32_t v)
{
    return v == 10u || in_steps(v, 20, 80, 20) || in_steps(v, 100, 2000, 100);
}

#define BAD(field, status) BAD_RULE(field, status, FW_RULE_NONE)
#define BAD_RULE(field, status, r)                                                             \
    do {                                                                                       \
        if (bad_field != NULL) {                                                               \
            *bad_field = (uint8_t)(field);                                                     \
        }                                                                                      \
        if (rule != NULL) {                                                                    \
            *rule = (uint8_t)(r);                                                              \
        }                                                                                      \
        return (status);                                                                       \
    } while (0)

fw_param_status_t fw_params_check(const fw_params_t *p, uint8_t *bad_field, uint8_t *rule)
{
    if (rule != NULL) {
        *rule = FW_RULE_NONE;
    }
    if (FW_FAULT_ENABLED(PROGRAM_NO_RANGE_CHECK)) {
        /* Seeded fault: accept anything (A-18 broken). */
        return FW_PARAM_OK;
    }
    if (p->mode >= FW_MODE_COUNT) {
        BAD(FW_F_MODE, FW_PARAM_BAD_MODE);
    }
    /* Grids (shared/domain/pacing.md section 1, and the A-n settings). */
    if (!lrl_on_grid(p->lrl_ppm)) BAD(FW_F_LRL, FW_PARAM_OFF_GRID);
    if (!in_steps(p->url_ppm, 50, 175, 5)) BAD(FW_F_URL, FW_PARAM_OFF_GRID);
    if (!in_steps(p->msr_ppm, 50, 175, 5)) BAD(FW_F_MSR, FW_PARAM_OFF_GRID);
    if (!in_steps(p->fixed_av_delay_ms, 70, 300, 10)) BAD(FW_F_FIXED_AV, FW_PARAM_OFF_GRID);
    if (p->dynamic_av_delay > 1u) BAD(FW_F_DYN_AV, FW_PARAM_OFF_GRID);
    if (!in_steps(p->min_dynamic_av_delay_ms, 30, 100, 10)) BAD(FW_F_MIN_DYN_AV, FW_PARAM_OFF_GRID);
    if (!(p->sensed_av_offset_ms == 0 ||
          (p->sensed_av_offset_ms <= -10 && p->sensed_av_offset_ms >= -100 &&
           p->sensed_av_offset_ms % 10 == 0))) {
        BAD(FW_F_SAV_OFFSET, FW_PARAM_OFF_GRID);
    }
    if (!amplitude_on_grid(p->a_amplitude_mv)) BAD(FW_F_A_AMP, FW_PARAM_OFF_GRID);
    if (!amplitude_on_grid(p->v_amplitude_mv)) BAD(FW_F_V_AMP, FW_PARAM_OFF_GRID);
    if (!width_on_grid(p->a_width_us)) BAD(FW_F_A_WIDTH, FW_PARAM_OFF_GRID);
    if (!width_on_grid(p->v_width_us)) BAD(FW_F_V_WIDTH, FW_PARAM_OFF_GRID);
    if (!sensitivity_on_grid(p->a_sensitivity_uv)) BAD(FW_F_A_SENS, FW_PARAM_OFF_GRID);
    if (!sensitivity_on_grid(p->v_sensitivity_uv)) BAD(FW_F_V_SENS, FW_PARAM_OFF_GRID);
    if (!in_steps(p->vrp_ms, 150, 500, 10)) BAD(FW_F_VRP, FW_PARAM_OFF_GRID);
    if (!in_steps(p->arp_ms, 150, 500, 10)) BAD(FW_F_ARP, FW_PARAM_OFF_GRID);
    if (!in_steps(p->pvarp_ms, 150, 500, 10)) BAD(FW_F_PVARP, FW_PARAM_OFF_GRID);
    if (!(p->pvarp_extension_ms == 0u || in_steps(p->pvarp_extension_ms, 50, 400, 50))) {
        BAD(FW_F_PVARP_EXT, FW_PARAM_OFF_GRID);
    }
    if (!(p->hysteresis_rate_ppm == 0u || lrl_on_grid(p->hysteresis_rate_ppm))) {
        BAD(FW_F_HYST, FW_PARAM_OFF_GRID);
    }
    if (!smoothing_on_grid(p->rate_smoothing_pct)) BAD(FW_F_SMOOTH, FW_PARAM_OFF_GRID);
    if (p->atr_mode > 1u) BAD(FW_F_ATR_MODE, FW_PARAM_OFF_GRID);
    if (!atr_duration_on_grid(p->atr_duration_cycles)) BAD(FW_F_ATR_DUR, FW_PARAM_OFF_GRID);
    if (!in_steps(p->atr_fallback_time_min, 1, 5, 1)) BAD(FW_F_ATR_FB_TIME, FW_PARAM_OFF_GRID);
    if (!in_steps(p->ventricular_blanking_ms, 30, 60, 10)) BAD(FW_F_VBLANK, FW_PARAM_OFF_GRID);
    if (p->activity_threshold > 6u) BAD(FW_F_ACT_THR, FW_PARAM_OFF_GRID);
    if (!in_steps(p->reaction_time_s, 10, 50, 10)) BAD(FW_F_REACTION, FW_PARAM_OFF_GRID);
    if (!in_steps(p->response_factor, 1, 16, 1)) BAD(FW_F_RESPONSE, FW_PARAM_OFF_GRID);
    if (!in_steps(p->recovery_time_min, 2, 16, 1)) BAD(FW_F_RECOVERY, FW_PARAM_OFF_GRID);
    if (!in_steps(p->pvab_ms, 50, 250, 10)) BAD(FW_F_PVAB, FW_PARAM_OFF_GRID);
    if (!in_steps(p->pace_blanking_ms, 50, 250, 10)) BAD(FW_F_PACE_BLANK, FW_PARAM_OFF_GRID);
    if (p->safety_pacing > 1u) BAD(FW_F_SAFETY, FW_PARAM_OFF_GRID);
    if (!in_steps(p->vsp_window_ms, 60, 150, 10)) BAD(FW_F_VSP_WINDOW, FW_PARAM_OFF_GRID);
    if (!in_steps(p->noise_interval_ms, 50, 250, 10)) BAD(FW_F_NOISE_INT, FW_PARAM_OFF_GRID);
    if (!in_steps(p->noise_count, 1, 10, 1)) BAD(FW_F_NOISE_COUNT, FW_PARAM_OFF_GRID);
    if (p->pmt_termination > 1u) BAD(FW_F_PMT, FW_PARAM_OFF_GRID);
    if (!in_steps(p->pmt_cycles, 4, 16, 1)) BAD(FW_F_PMT_CYCLES, FW_PARAM_OFF_GRID);
    if (!in_steps(p->pmt_va_max_ms, 200, 600, 10)) BAD(FW_F_PMT_VA_MAX, FW_PARAM_OFF_GRID);
    if (!in_steps(p->pmt_va_stability_ms, 8, 64, 1)) BAD(FW_F_PMT_STAB, FW_PARAM_OFF_GRID);
    if (!in_steps(p->pmt_pvarp_ms, 150, 500, 10)) BAD(FW_F_PMT_PVARP, FW_PARAM_OFF_GRID);
    if (p->lower_rate_timing_atrial > 1u) BAD(FW_F_LR_TIMING, FW_PARAM_OFF_GRID);
    if (!in_steps(p->detection_dead_time_ms, 20, 100, 10)) BAD(FW_F_DEAD_TIME, FW_PARAM_OFF_GRID);

    /* Applicability: a parameter that does not apply to the mode keeps its nominal. */
    if (!FW_FAULT_ENABLED(PROGRAM_NO_RANGE_CHECK)) {
        fw_params_t nominal;
        fw_params_nominal(&nominal);
        for (uint8_t id = FW_F_LRL; id <= (uint8_t)FW_F_LAST; ++id) {
            int32_t v = 0, n = 0;
            (void)fw_params_get(p, id, &v);
            (void)fw_params_get(&nominal, id, &n);
            if (v != n && !fw_param_applies(id, (fw_mode_t)p->mode)) {
                BAD(id, FW_PARAM_NOT_APPLICABLE);
            }
        }
    }

    /* Cross-parameter rules. */
    const fw_mode_info_t *mi = fw_mode_info((fw_mode_t)p->mode);
    fw_mode_t base = fw_mode_base((fw_mode_t)p->mode);
    uint32_t lri = fw_interval_ms(p->lrl_ppm);
    uint32_t uri = fw_interval_ms(p->url_ppm);
    if (p->url_ppm < p->lrl_ppm) BAD_RULE(FW_F_URL, FW_PARAM_CROSS_RULE, FW_RULE_URL_GE_LRL);
    if (mi->rate_adaptive && p->msr_ppm < p->lrl_ppm) BAD_RULE(FW_F_MSR, FW_PARAM_CROSS_RULE, FW_RULE_MSR_GE_LRL);
    if (p->hysteresis_rate_ppm != 0u && p->hysteresis_rate_ppm >= p->lrl_ppm) {
        BAD_RULE(FW_F_HYST, FW_PARAM_CROSS_RULE, FW_RULE_HYST_LT_LRL);
    }
    if (mi->tracking && (uint32_t)p->fixed_av_delay_ms + p->pvarp_ms > uri) {
        BAD_RULE(FW_F_FIXED_AV, FW_PARAM_CROSS_RULE, FW_RULE_TARP_LE_URI);
    }
    if (mi->paces_a && mi->paces_v &&
        (lri < p->fixed_av_delay_ms || lri - p->fixed_av_delay_ms < (uint32_t)p->pvab_ms + 50u)) {
        BAD_RULE(FW_F_LRL, FW_PARAM_CROSS_RULE, FW_RULE_VA_ROOM);
    }
    if (mi->senses_v && p->vrp_ms >= lri) BAD_RULE(FW_F_VRP, FW_PARAM_CROSS_RULE, FW_RULE_VRP_LT_LRI);
    if ((base == FW_MODE_AOO || base == FW_MODE_AAI || base == FW_MODE_AAT) && p->arp_ms >= lri) {
        BAD_RULE(FW_F_ARP, FW_PARAM_CROSS_RULE, FW_RULE_ARP_LT_LRI);
    }
    if (mi->senses_a && mi->paces_v && p->pvarp_ms >= lri) BAD_RULE(FW_F_PVARP, FW_PARAM_CROSS_RULE, FW_RULE_PVARP_LT_LRI);
    if (mi->paces_a && mi->paces_v) {
        if (p->ventricular_blanking_ms >= p->fixed_av_delay_ms) {
            BAD_RULE(FW_F_VBLANK, FW_PARAM_CROSS_RULE, FW_RULE_VBLANK_LT_AVD);
        }
        if (p->dynamic_av_delay && p->ventricular_blanking_ms >= p->min_dynamic_av_delay_ms) {
            BAD_RULE(FW_F_VBLANK, FW_PARAM_CROSS_RULE, FW_RULE_VBLANK_LT_AVD);
        }
    }
    return FW_PARAM_OK;
}

#define M(m) (1u << (m))
#define ALL_MODES 0xFFFFFFFFu
#define DUAL_AV (M(FW_MODE_DOO) | M(FW_MODE_DDI) | M(FW_MODE_VDD) | M(FW_MODE_DDD))
#define TRACK (M(FW_MODE_VDD) | M(FW_MODE_DDD))
#define A_PACE (M(FW_MODE_AOO) | M(FW_MODE_AAI) | M(FW_MODE_AAT) | M(FW_MODE_DOO) | \
                M(FW_MODE_DDI) | M(FW_MODE_DDD))
#define V_PACE (M(FW_MODE_VOO) | M(FW_MODE_VVI) | M(FW_MODE_VVT) | M(FW_MODE_DOO) | \
                M(FW_MODE_DDI) | M(FW_MODE_VDD) | M(FW_MODE_DDD))
#define A_SENSE (M(FW_MODE_AAI) | M(FW_MODE_AAT) | M(FW_MODE_DDI) | M(FW_MODE_VDD) | \
                 M(FW_MODE_DDD) | M(FW_MODE_OAO) | M(FW_MODE_ODO))
#define V_SENSE (M(FW_MODE_VVI) | M(FW_MODE_VVT) | M(FW_MODE_DDI) | M(FW_MODE_VDD) | \
                 M(FW_MODE_DDD) | M(FW_MODE_OVO) | M(FW_MODE_ODO))
#define R_ONLY 0u /* marker: applies only to rate-adaptive modes */

/* The modes (by their non-R base) each parameter applies to. */
static uint32_t applies_mask(uint8_t id)
{
    switch (id) {
    case FW_F_MSR: case FW_F_ACT_THR: case FW_F_REACTION: case FW_F_RESPONSE:
    case FW_F_RECOVERY:
        return R_ONLY;
    case FW_F_FIXED_AV: return DUAL_AV;
    case FW_F_DYN_AV: case FW_F_MIN_DYN_AV: case FW_F_PVARP_EXT: case FW_F_ATR_MODE:
    case FW_F_ATR_DUR: case FW_F_ATR_FB_TIME:
        return TRACK;
    case FW_F_SAV_OFFSET: return M(FW_MODE_DDD);
    case FW_F_A_AMP: case FW_F_A_WIDTH: return A_PACE;
    case FW_F_V_AMP: case FW_F_V_WIDTH: return V_PACE;
    case FW_F_A_SENS: return A_SENSE;
    case FW_F_V_SENS: case FW_F_VRP: return V_SENSE;
    case FW_F_ARP: return M(FW_MODE_AOO) | M(FW_MODE_AAI) | M(FW_MODE_AAT);
    case FW_F_PVARP: return M(FW_MODE_DDI) | TRACK;
    case FW_F_HYST: return M(FW_MODE_AAI) | M(FW_MODE_VVI) | M(FW_MODE_DDI) | TRACK;
    case FW_F_SMOOTH: return M(FW_MODE_AAI) | M(FW_MODE_VVI) | TRACK;
    case FW_F_VBLANK: return M(FW_MODE_DOO) | M(FW_MODE_DDI) | M(FW_MODE_DDD);
    default: return ALL_MODES; /* mode, rates, and the A-n settings */
    }
}

bool fw_param_applies(uint8_t id, fw_mode_t mode)
{
    uint32_t mask = applies_mask(id);
    if (mask == R_ONLY) {
        return fw_mode_info(mode)->rate_adaptive;
    }
    return (mask & M(fw_mode_base(mode))) != 0u;
}

uint32_t fw_crc32(const void *data, uint32_t len)
{
    const uint8_t *b = (const uint8_t *)data;
    uint32_t crc = 0xFFFFFFFFu;
    for (uint32_t i = 0; i < len; ++i) {
        crc ^= b[i];
        for (int k = 0; k < 8; ++k) {
            uint32_t mask = (uint32_t)(-(int32_t)(crc & 1u));
            crc = (crc >> 1) ^ (0xEDB88320u & mask);
        }
    }
    return ~crc;
}

void fw_store_write(fw_param_store_t *s, const fw_params_t *p)
{
    s->params = *p;
    s->crc = fw_crc32(&s->params, (uint32_t)sizeof(s->params));
}

bool fw_store_read(const fw_param_store_t *s, fw_params_t *out)
{
    bool ok = fw_crc32(&s->params, (uint32_t)sizeof(s->params)) == s->crc;
    if (FW_FAULT_ENABLED(STORE_CRC_IGNORED)) {
        ok = true;
    }
    if (ok) {
        *out = s->params;
    } else {
        fw_params_power_on_reset(out, false);
    }
    return ok;
}

/* One row per protocol id: offset and type of the field. */
typedef enum { T_U8, T_U16, T_I16 } ftype_t;
typedef struct {
    uint8_t offset;
    uint8_t type;
} field_t;

#define FIELD(member, t) {(uint8_t)offsetof(fw_params_t, member), (uint8_t)(t)}
static const field_t FIELDS[FW_F_LAST + 1] = {
    [FW_F_MODE] = FIELD(mode, T_U8),
    [FW_F_LRL] = FIELD(lrl_ppm, T_U8),
    [FW_F_URL] = FIELD(url_ppm, T_U8),
    [FW_F_MSR] = FIELD(msr_ppm, T_U8),
    [FW_F_FIXED_AV] = FIELD(fixed_av_delay_ms, T_U16),
    [FW_F_DYN_AV] = FIELD(dynamic_av_delay, T_U8),
    [FW_F_MIN_DYN_AV] = FIELD(min_dynamic_av_delay_ms, T_U8),
    [FW_F_SAV_OFFSET] = FIELD(sensed_av_offset_ms, T_I16),
    [FW_F_A_AMP] = FIELD(a_amplitude_mv, T_U16),
    [FW_F_V_AMP] = FIELD(v_amplitude_mv, T_U16),
    [FW_F_A_WIDTH] = FIELD(a_width_us, T_U16),
    [FW_F_V_WIDTH] = FIELD(v_width_us, T_U16),
    [FW_F_A_SENS] = FIELD(a_sensitivity_uv, T_U16),
    [FW_F_V_SENS] = FIELD(v_sensitivity_uv, T_U16),
    [FW_F_VRP] = FIELD(vrp_ms, T_U16),
    [FW_F_ARP] = FIELD(arp_ms, T_U16),
    [FW_F_PVARP] = FIELD(pvarp_ms, T_U16),
    [FW_F_PVARP_EXT] = FIELD(pvarp_extension_ms, T_U16),
    [FW_F_HYST] = FIELD(hysteresis_rate_ppm, T_U8),
    [FW_F_SMOOTH] = FIELD(rate_smoothing_pct, T_U8),
    [FW_F_ATR_MODE] = FIELD(atr_mode, T_U8),
    [FW_F_ATR_DUR] = FIELD(atr_duration_cycles, T_U16),
    [FW_F_ATR_FB_TIME] = FIELD(atr_fallback_time_min, T_U8),
    [FW_F_VBLANK] = FIELD(ventricular_blanking_ms, T_U8),
    [FW_F_ACT_THR] = FIELD(activity_threshold, T_U8),
    [FW_F_REACTION] = FIELD(reaction_time_s, T_U8),
    [FW_F_RESPONSE] = FIELD(response_factor, T_U8),
    [FW_F_RECOVERY] = FIELD(recovery_time_min, T_U8),
    [FW_F_LR_TIMING] = FIELD(lower_rate_timing_atrial, T_U8),
    [FW_F_PVAB] = FIELD(pvab_ms, T_U16),
    [FW_F_PACE_BLANK] = FIELD(pace_blanking_ms, T_U16),
    [FW_F_SAFETY] = FIELD(safety_pacing, T_U8),
    [FW_F_VSP_WINDOW] = FIELD(vsp_window_ms, T_U8),
    [FW_F_NOISE_INT] = FIELD(noise_interval_ms, T_U8),
    [FW_F_NOISE_COUNT] = FIELD(noise_count, T_U8),
    [FW_F_PMT] = FIELD(pmt_termination, T_U8),
    [FW_F_PMT_CYCLES] = FIELD(pmt_cycles, T_U8),
    [FW_F_PMT_VA_MAX] = FIELD(pmt_va_max_ms, T_U16),
    [FW_F_PMT_STAB] = FIELD(pmt_va_stability_ms, T_U16),
    [FW_F_PMT_PVARP] = FIELD(pmt_pvarp_ms, T_U16),
    [FW_F_DEAD_TIME] = FIELD(detection_dead_time_ms, T_U8),
};

bool fw_params_get(const fw_params_t *p, uint8_t id, int32_t *value)
{
    if (id < 1u || id > (uint8_t)FW_F_LAST) {
        return false;
    }
    const uint8_t *base = (const uint8_t *)p + FIELDS[id].offset;
    switch ((ftype_t)FIELDS[id].type) {
    case T_U8: *value = *base; break;
    case T_U16: { uint16_t v; memcpy(&v, base, 2); *value = v; break; }
    default: { int16_t v; memcpy(&v, base, 2); *value = v; break; }
    }
    return true;
}

fw_param_status_t fw_params_set(fw_params_t *p, uint8_t id, int32_t value)
{
    if (id < 1u || id > (uint8_t)FW_F_LAST) {
        return FW_PARAM_UNKNOWN;
    }
    uint8_t *base = (uint8_t *)p + FIELDS[id].offset;
    switch ((ftype_t)FIELDS[id].type) {
    case T_U8:
        if (value < 0 || value > 255) return FW_PARAM_OFF_GRID;
        *base = (uint8_t)value;
        break;
    case T_U16: {
        if (value < 0 || value > 65535) return FW_PARAM_OFF_GRID;
        uint16_t v = (uint16_t)value;
        memcpy(base, &v, 2);
        break;
    }
    default: {
        if (value < -32768 || value > 32767) return FW_PARAM_OFF_GRID;
        int16_t v = (int16_t)value;
        memcpy(base, &v, 2);
        break;
    }
    }
    return FW_PARAM_OK;
}
