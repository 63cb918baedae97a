/*
 * fw_telemetry.h - battery model with beginning-of-life / replacement indicators (A-15 magnet rates
 * depend on it), and the energy drawn by paces.
 *
 * The cell voltage starts at the state's nominal (BOL 2800 mV, ERN 2600 mV, ERT 2450 mV) and drops
 * 1 mV for every joule delivered by paces (E = V^2 * w / R into the lead impedance) plus a static
 * drain of 1 mV per hour of session time. The state follows the voltage: ERN below 2650 mV, ERT
 * below 2500 mV.
 */
#ifndef FW_TELEMETRY_H
#define FW_TELEMETRY_H

#include <stdint.h>

#include "fw_pacing.h"

#define FW_BATT_BOL_MV 2800u
#define FW_BATT_ERN_MV 2600u
#define FW_BATT_ERT_MV 2450u
#define FW_BATT_ERN_BELOW_MV 2650u
#define FW_BATT_ERT_BELOW_MV 2500u

typedef struct {
    uint16_t start_mv;      /* voltage when the state was last set */
    uint64_t energy_pj;     /* pace energy drawn since then, picojoules */
    uint64_t start_ms;      /* session time the state was set */
} fw_battery_t;

void fw_battery_set(fw_battery_t *b, fw_battery_level_t level, uint64_t now_ms);
/* Account one pace of amplitude_mv for width_us into impedance_ohm. */
void fw_battery_pace(fw_battery_t *b, uint32_t amplitude_mv, uint32_t width_us,
                     uint32_t impedance_ohm);
uint16_t fw_battery_mv(const fw_battery_t *b, uint64_t now_ms);
fw_battery_level_t fw_battery_level(const fw_battery_t *b, uint64_t now_ms);

#endif
