/*
 * fw_params.h - programmable parameters of the reference firmware, their grids and the
 * cross-parameter rules (docs/assumptions.md A-18, shared/domain/pacing.md section 1).
 *
 * All quantities are integers with their unit in the name. A parameter set is stored with a
 * CRC-32; a corrupt store falls back to the power-on-reset settings.
 */
#ifndef FW_PARAMS_H
#define FW_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

/* Pacing modes. Values are the firmware's own; the link layer maps them. */
typedef enum {
    FW_MODE_OFF = 0,
    FW_MODE_AOO, FW_MODE_AAI, FW_MODE_VOO, FW_MODE_VVI, FW_MODE_AAT, FW_MODE_VVT,
    FW_MODE_DOO, FW_MODE_DDI, FW_MODE_VDD, FW_MODE_DDD,
    FW_MODE_AOOR, FW_MODE_AAIR, FW_MODE_VOOR, FW_MODE_VVIR, FW_MODE_DOOR, FW_MODE_DDIR,
    FW_MODE_VDDR, FW_MODE_DDDR,
    FW_MODE_OAO, FW_MODE_OVO, FW_MODE_ODO, FW_MODE_OOO,
    FW_MODE_COUNT
} fw_mode_t;

/* What a mode does, decoded once from its code letters. */
typedef struct {
    bool paces_a;
    bool paces_v;
    bool senses_a;
    bool senses_v;
    bool triggered;     /* AAT, VVT */
    bool tracking;      /* VDD, DDD (+R) */
    bool rate_adaptive; /* ...R */
    bool temporary_only; /* OAO, OVO, ODO, OOO */
} fw_mode_info_t;

const fw_mode_info_t *fw_mode_info(fw_mode_t mode);
/* The non-R base of a mode (DDDR -> DDD). */
fw_mode_t fw_mode_base(fw_mode_t mode);

/* Reasons a programming is rejected; the link layer maps them to the protocol's codes. */
typedef enum {
    FW_PARAM_OK = 0,
    FW_PARAM_OFF_GRID = 1,       /* one value is not on its parameter's grid */
    FW_PARAM_CROSS_RULE = 2,     /* an A-18 rule between parameters fails */
    FW_PARAM_BAD_MODE = 3,       /* unknown mode, or a temporary-only mode as permanent */
    FW_PARAM_UNKNOWN = 4,        /* no such parameter id */
    FW_PARAM_NOT_APPLICABLE = 5  /* changed from nominal in a mode it does not apply to */
} fw_param_status_t;

typedef struct {
    uint8_t mode;                    /* fw_mode_t */
    uint8_t lrl_ppm;
    uint8_t url_ppm;
    uint8_t msr_ppm;
    uint16_t fixed_av_delay_ms;
    uint8_t dynamic_av_delay;        /* 0 off, 1 on */
    uint8_t min_dynamic_av_delay_ms;
    int16_t sensed_av_offset_ms;     /* 0 = Off, else -10 .. -100 */
    uint16_t a_amplitude_mv;         /* 0 = Off */
    uint16_t v_amplitude_mv;
    uint16_t a_width_us;
    uint16_t v_width_us;
    uint16_t a_sensitivity_uv;
    uint16_t v_sensitivity_uv;
    uint16_t vrp_ms;
    uint16_t arp_ms;
    uint16_t pvarp_ms;
    uint16_t pvarp_extension_ms;     /* 0 = Off */
    uint8_t hysteresis_rate_ppm;     /* 0 = Off */
    uint8_t rate_smoothing_pct;      /* 0 = Off */
    uint16_t atr_duration_cycles;
    uint8_t atr_fallback_time_min;
    uint8_t ventricular_blanking_ms;
    uint8_t activity_threshold;      /* 0 V-Low .. 6 V-High */
    uint8_t reaction_time_s;
    uint8_t response_factor;
    uint8_t recovery_time_min;
    /* Settings of docs/assumptions.md with their defaults. */
    uint16_t pvab_ms;                /* A-5, 50-250 step 10, default 100 */
    uint16_t pace_blanking_ms;       /* A-5, default 100 */
    uint8_t safety_pacing;           /* A-7, default 1 */
    uint8_t vsp_window_ms;           /* A-7, default 110 */
    uint8_t noise_interval_ms;       /* A-11, default 100 */
    uint8_t noise_count;             /* A-11, default 3 */
    uint8_t pmt_termination;         /* A-14, default 1 */
    uint8_t pmt_cycles;              /* A-14, default 8 */
    uint16_t pmt_va_max_ms;          /* A-14, default 400 */
    uint16_t pmt_va_stability_ms;    /* A-14, default 32 */
    uint16_t pmt_pvarp_ms;           /* A-14, default 500 */
    uint8_t lower_rate_timing_atrial;/* 0 "ventricular" (default), 1 "atrial" */
    uint8_t atr_mode;                /* 0 off, 1 on (kept here: the struct has no padding) */
    uint8_t detection_dead_time_ms;  /* A-16, default 50 */
    uint8_t reserved_;
} fw_params_t;

/* No padding bytes, so the CRC over the struct is well defined (60 bytes). */
typedef char fw_params_size_check_[(sizeof(fw_params_t) == 60u) ? 1 : -1];

/* Nominal programming of the specification (DDD, 60/120 ppm, AV 150 ms, ...). */
void fw_params_nominal(fw_params_t *p);
/* Power-on reset / Pace-Now settings: VVI 65 ppm, 5.0 V, VRP 320 ms, V sens 1.5 mV. */
void fw_params_power_on_reset(fw_params_t *p, bool pace_now);

/*
 * Range and cross-parameter check. On failure *bad_field (if not NULL) is set to the
 * protocol id of the offending parameter and *rule (if not NULL) to the A-18 rule number.
 */
fw_param_status_t fw_params_check(const fw_params_t *p, uint8_t *bad_field, uint8_t *rule);

/* Does parameter `id` apply to `mode`? */
bool fw_param_applies(uint8_t id, fw_mode_t mode);

/* interval_ms(ppm) = floor((60000 + ppm / 2) / ppm) . */
uint32_t fw_interval_ms(uint32_t ppm);

/* CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320) over a byte buffer. */
uint32_t fw_crc32(const void *data, uint32_t len);

/* Parameter store: the parameters plus their CRC, as kept in (emulated) non-volatile memory. */
typedef struct {
    fw_params_t params;
    uint32_t crc;
} fw_param_store_t;

void fw_store_write(fw_param_store_t *s, const fw_params_t *p);
/* Returns true and copies the parameters when the CRC matches; otherwise loads POR settings. */
bool fw_store_read(const fw_param_store_t *s, fw_params_t *out);

/* Field ids used in NACK details (fw_params_check's *bad_field): the protocol's parameter ids
 * (docs/protocol.md section 5), so no mapping table is needed. */
enum {
    FW_F_MODE = 1, FW_F_LRL, FW_F_URL, FW_F_MSR, FW_F_FIXED_AV, FW_F_DYN_AV, FW_F_MIN_DYN_AV,
    FW_F_SAV_OFFSET, FW_F_A_AMP, FW_F_V_AMP, FW_F_A_WIDTH, FW_F_V_WIDTH, FW_F_A_SENS,
    FW_F_V_SENS, FW_F_VRP, FW_F_ARP, FW_F_PVARP, FW_F_PVARP_EXT, FW_F_HYST, FW_F_SMOOTH,
    FW_F_ATR_MODE, FW_F_ATR_DUR, FW_F_ATR_FB_TIME, FW_F_VBLANK, FW_F_ACT_THR, FW_F_REACTION,
    FW_F_RESPONSE, FW_F_RECOVERY, FW_F_LR_TIMING, FW_F_PVAB, FW_F_PACE_BLANK, FW_F_SAFETY,
    FW_F_VSP_WINDOW, FW_F_NOISE_INT, FW_F_NOISE_COUNT, FW_F_PMT, FW_F_PMT_CYCLES,
    FW_F_PMT_VA_MAX, FW_F_PMT_STAB, FW_F_PMT_PVARP, FW_F_DEAD_TIME, FW_F_LAST = FW_F_DEAD_TIME
};

/* Cross-parameter rule numbers of A-18 (docs/protocol.md section 3.6). */
enum {
    FW_RULE_NONE = 0, FW_RULE_URL_GE_LRL = 1, FW_RULE_MSR_GE_LRL = 2, FW_RULE_HYST_LT_LRL = 3,
    FW_RULE_TARP_LE_URI = 4, FW_RULE_VA_ROOM = 5, FW_RULE_VRP_LT_LRI = 6, FW_RULE_ARP_LT_LRI = 7,
    FW_RULE_PVARP_LT_LRI = 8, FW_RULE_VBLANK_LT_AVD = 9
};

/* Read / write one parameter by its protocol id. Returns false for an unknown id. A value that
 * does not fit the field's type is reported as off grid by fw_params_set. */
bool fw_params_get(const fw_params_t *p, uint8_t id, int32_t *value);
fw_param_status_t fw_params_set(fw_params_t *p, uint8_t id, int32_t value);

#endif
