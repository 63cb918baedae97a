/* fw_telemetry.c - battery voltage from pace energy and time. */
#include "fw_telemetry.h"

void fw_battery_set(fw_battery_t *b, fw_battery_level_t level, uint64_t now_ms)
{
    b->start_mv = level == FW_BATT_BOL ? FW_BATT_BOL_MV
                  : level == FW_BATT_ERN ? FW_BATT_ERN_MV : FW_BATT_ERT_MV;
    b->energy_pj = 0;
    b->start_ms = now_ms;
}

void fw_battery_pace(fw_battery_t *b, uint32_t amplitude_mv, uint32_t width_us,
                     uint32_t impedance_ohm)
{
    if (impedance_ohm == 0u) {
        return;
    }
    /* mV^2 * us / ohm = 1e-12 J = 1 pJ */
    b->energy_pj += (uint64_t)amplitude_mv * amplitude_mv * width_us / impedance_ohm;
}

uint16_t fw_battery_mv(const fw_battery_t *b, uint64_t now_ms)
{
    uint64_t drop = b->energy_pj / 1000000000000ull;          /* 1 mV per joule */
    drop += (now_ms > b->start_ms ? now_ms - b->start_ms : 0u) / 3600000u; /* 1 mV per hour */
    return drop >= b->start_mv ? 0u : (uint16_t)(b->start_mv - drop);
}

fw_battery_level_t fw_battery_level(const fw_battery_t *b, uint64_t now_ms)
{
    uint16_t mv = fw_battery_mv(b, now_ms);
    if (mv < FW_BATT_ERT_BELOW_MV) {
        return FW_BATT_ERT;
    }
    return mv < FW_BATT_ERN_BELOW_MV ? FW_BATT_ERN : FW_BATT_BOL;
}
