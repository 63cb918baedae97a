/* test_params.c - A-1 interval rounding, grids, A-18 rules with their numbers, CRC store. */
#include <string.h>

#include "fw_params.h"
#include "fw_test.h"

static void test_interval(void)
{
    /* A-1 examples: 60 -> 1000, 120 -> 500, 175 -> 343 (342.857), 65 -> 923 (923.08). */
    CHECK_EQ(fw_interval_ms(60), 1000);
    CHECK_EQ(fw_interval_ms(120), 500);
    CHECK_EQ(fw_interval_ms(175), 343);
    CHECK_EQ(fw_interval_ms(65), 923);
    /* 80 ppm: 750 exactly; 70 ppm: 857.14 -> 857; 90 ppm: 666.67 -> 667 (half up). */
    CHECK_EQ(fw_interval_ms(80), 750);
    CHECK_EQ(fw_interval_ms(70), 857);
    CHECK_EQ(fw_interval_ms(90), 667);
}

static void expect_status(const fw_params_t *p, fw_param_status_t st, uint8_t field, uint8_t rule)
{
    uint8_t f = 0, r = 0;
    CHECK_EQ(fw_params_check(p, &f, &r), st);
    if (st != FW_PARAM_OK) {
        CHECK_EQ(f, field);
        CHECK_EQ(r, rule);
    }
}

static void test_grids(void)
{
    fw_params_t p;
    fw_params_nominal(&p);
    expect_status(&p, FW_PARAM_OK, 0, 0);

    fw_params_t q = p;
    q.lrl_ppm = 33; /* 30-50 in steps of 5 */
    expect_status(&q, FW_PARAM_OFF_GRID, FW_F_LRL, 0);
    q.lrl_ppm = 51; /* 50-90 in steps of 1 */
    expect_status(&q, FW_PARAM_OK, 0, 0);
    q.lrl_ppm = 92; /* 90-175 in steps of 5 */
    expect_status(&q, FW_PARAM_OFF_GRID, FW_F_LRL, 0);

    q = p;
    q.v_amplitude_mv = 3300; /* 0.5-3.2 V step 0.1, 3.5-7.0 V step 0.5 */
    expect_status(&q, FW_PARAM_OFF_GRID, FW_F_V_AMP, 0);
    q.v_amplitude_mv = 3750; /* unregulated value */
    expect_status(&q, FW_PARAM_OK, 0, 0);

    q = p;
    q.a_sensitivity_uv = 1250; /* 0.25, 0.5, 0.75, 1.0-10 step 0.5 */
    expect_status(&q, FW_PARAM_OFF_GRID, FW_F_A_SENS, 0);
    q = p;
    q.rate_smoothing_pct = 24;
    expect_status(&q, FW_PARAM_OFF_GRID, FW_F_SMOOTH, 0);
    q.rate_smoothing_pct = 25;
    expect_status(&q, FW_PARAM_OK, 0, 0);
    q = p;
    q.atr_duration_cycles = 30; /* 10, 20-80 step 20, 100-2000 step 100 */
    expect_status(&q, FW_PARAM_OFF_GRID, FW_F_ATR_DUR, 0);
    q = p;
    q.sensed_av_offset_ms = -15;
    expect_status(&q, FW_PARAM_OFF_GRID, FW_F_SAV_OFFSET, 0);
    q = p;
    q.mode = 23;
    expect_status(&q, FW_PARAM_BAD_MODE, FW_F_MODE, 0);
}

static void test_cross_rules(void)
{
    fw_params_t p, q;
    fw_params_nominal(&p);

    q = p;
    q.url_ppm = 50; /* rule 1: URL >= LRL (60) */
    expect_status(&q, FW_PARAM_CROSS_RULE, FW_F_URL, FW_RULE_URL_GE_LRL);

    q = p;
    q.mode = FW_MODE_DDDR;
    q.msr_ppm = 55; /* rule 2 in R modes only */
    expect_status(&q, FW_PARAM_CROSS_RULE, FW_F_MSR, FW_RULE_MSR_GE_LRL);
    q.mode = FW_MODE_DDD; /* MSR applies to R modes only, so off-nominal it is refused */
    expect_status(&q, FW_PARAM_NOT_APPLICABLE, FW_F_MSR, 0);

    q = p;
    q.mode = FW_MODE_VVI;
    q.pvarp_ms = 300; /* PVARP applies to DDI, VDD, DDD (+R) */
    expect_status(&q, FW_PARAM_NOT_APPLICABLE, FW_F_PVARP, 0);
    q.mode = FW_MODE_DDI;
    expect_status(&q, FW_PARAM_OK, 0, 0);
    q = p;
    q.mode = FW_MODE_OOO;
    expect_status(&q, FW_PARAM_OK, 0, 0);
    q.a_sensitivity_uv = 1000;
    expect_status(&q, FW_PARAM_NOT_APPLICABLE, FW_F_A_SENS, 0);

    q = p;
    q.hysteresis_rate_ppm = 60; /* rule 3: hysteresis rate < LRL */
    expect_status(&q, FW_PARAM_CROSS_RULE, FW_F_HYST, FW_RULE_HYST_LT_LRL);
    q.hysteresis_rate_ppm = 50;
    expect_status(&q, FW_PARAM_OK, 0, 0);

    q = p;
    q.pvarp_ms = 360; /* rule 4: 150 + 360 = 510 > URI 500 */
    expect_status(&q, FW_PARAM_CROSS_RULE, FW_F_FIXED_AV, FW_RULE_TARP_LE_URI);
    q.pvarp_ms = 350; /* 500 <= 500 */
    expect_status(&q, FW_PARAM_OK, 0, 0);

    q = p;
    q.mode = FW_MODE_DOO;
    q.lrl_ppm = 175; /* rule 5: LRI 343 - 150 = 193 < PVAB 100 + 50 ? no: 193 >= 150 */
    q.url_ppm = 175;
    expect_status(&q, FW_PARAM_OK, 0, 0);
    q.fixed_av_delay_ms = 200; /* 343 - 200 = 143 < 150 */
    expect_status(&q, FW_PARAM_CROSS_RULE, FW_F_LRL, FW_RULE_VA_ROOM);

    q = p;
    q.mode = FW_MODE_VVI;
    q.lrl_ppm = 175;
    q.url_ppm = 175;
    q.vrp_ms = 350; /* rule 6: VRP 350 >= LRI 343 */
    expect_status(&q, FW_PARAM_CROSS_RULE, FW_F_VRP, FW_RULE_VRP_LT_LRI);

    q = p;
    q.mode = FW_MODE_AAI;
    q.lrl_ppm = 175;
    q.url_ppm = 175;
    q.arp_ms = 400; /* rule 7 */
    expect_status(&q, FW_PARAM_CROSS_RULE, FW_F_ARP, FW_RULE_ARP_LT_LRI);

    q = p;
    q.ventricular_blanking_ms = 60;
    q.fixed_av_delay_ms = 70;
    expect_status(&q, FW_PARAM_OK, 0, 0);
    q.dynamic_av_delay = 1;
    q.min_dynamic_av_delay_ms = 60; /* rule 9: blanking 60 >= min dynamic AVD 60 */
    expect_status(&q, FW_PARAM_CROSS_RULE, FW_F_VBLANK, FW_RULE_VBLANK_LT_AVD);
}

static void test_crc_store(void)
{
    /* CRC-32 (IEEE) check value of "123456789". */
    CHECK_EQ(fw_crc32("123456789", 9), 0xCBF43926u);

    fw_params_t p, out;
    fw_params_nominal(&p);
    p.lrl_ppm = 70;
    fw_param_store_t store;
    memset(&store, 0, sizeof(store));
    fw_store_write(&store, &p);
    CHECK(fw_store_read(&store, &out));
    CHECK_EQ(out.lrl_ppm, 70);
    CHECK_EQ(out.mode, FW_MODE_DDD);

    /* One flipped bit: fall back to power-on reset settings. */
    ((uint8_t *)&store.params)[5] ^= 0x10u;
    CHECK(!fw_store_read(&store, &out));
    CHECK_EQ(out.mode, FW_MODE_VVI);
    CHECK_EQ(out.lrl_ppm, 65);
    CHECK_EQ(out.v_amplitude_mv, 5000);
    CHECK_EQ(out.v_width_us, 500);
    CHECK_EQ(out.vrp_ms, 320);
    CHECK_EQ(out.v_sensitivity_uv, 1500);
    expect_status(&out, FW_PARAM_OK, 0, 0);
}

static void test_get_set(void)
{
    fw_params_t p;
    fw_params_nominal(&p);
    int32_t v = 0;
    CHECK(fw_params_get(&p, FW_F_SAV_OFFSET, &v));
    CHECK_EQ(v, 0);
    CHECK_EQ(fw_params_set(&p, FW_F_SAV_OFFSET, -50), FW_PARAM_OK);
    CHECK_EQ(p.sensed_av_offset_ms, -50);
    CHECK_EQ(fw_params_set(&p, FW_F_LRL, 300), FW_PARAM_OFF_GRID); /* does not fit u8 */
    CHECK_EQ(fw_params_set(&p, 42, 1), FW_PARAM_UNKNOWN);
    CHECK_EQ(fw_params_set(&p, 0, 1), FW_PARAM_UNKNOWN);
    CHECK(fw_params_get(&p, FW_F_DEAD_TIME, &v));
    CHECK_EQ(v, 50);
}

void test_params(void)
{
    test_interval();
    test_grids();
    test_cross_rules();
    test_crc_store();
    test_get_set();
}
