/*
 * test_pacing.c - timing rules with numbers derived by hand from docs/assumptions.md.
 * Detections are fed straight into the engine (fw_pacer_step) at whole milliseconds.
 * Nominal programming: LRL 60 (LRI 1000), URL 120 (URI 500), AV 150, PVARP 250, VRP 320,
 * ARP 250, PVAB 100, V blanking 40, pace blanking 100, VSP window 110.
 */
#include <string.h>

#include "fw_params.h"
#include "fw_test.h"

enum { A = FW_CH_A, V = FW_CH_V, X = FW_CH_X };
#define NONE_LIST ((const int64_t[]){-1})

static fw_pacer_t pc;
static recorder_t rec;

static void start(const fw_params_t *p, fw_state_t st)
{
    memset(&rec, 0, sizeof(rec));
    fw_pacer_init(&pc, p, st, FW_BATT_BOL, 0, rec_sink, &rec);
}

static void test_ddd_no_input(void)
{
    /* Timing starts as a V event at 0: VA = 1000 - 150 = 850, so AP 850, VP 1000, AP 1850 ... */
    fw_params_t p;
    fw_params_nominal(&p);
    start(&p, FW_STATE_PERMANENT);
    run_detections(&pc, 2001, NONE_LIST, NONE_LIST);
    const expect_t e[] = {{850, A, FW_MK_AP, 0}, {1000, V, FW_MK_VP, 0},
                          {1850, A, FW_MK_AP, 0}, {2000, V, FW_MK_VP, 0}};
    expect_markers("ddd_no_input", &rec, e, 4);
    CHECK_EQ(rec.m[0].amplitude_mv, 3500);
    CHECK_EQ(rec.m[0].width_us, 400);
}

static void test_vvi_escape_refractory(void)
{
    /* VVI: VS at 500 restarts the escape: VP 1500. V detection at 1700 is inside VRP
     * (1500 + 320 = 1820) and outside pace blanking (1600): VR, no effect; VP at 2500. */
    fw_params_t p;
    fw_params_nominal(&p);
    p.mode = FW_MODE_VVI;
    start(&p, FW_STATE_PERMANENT);
    run_detections(&pc, 2501, NONE_LIST, (const int64_t[]){500, 1550, 1700, -1});
    const expect_t e[] = {{500, V, FW_MK_VS, 0}, {1500, V, FW_MK_VP, 0},
                          {1700, V, FW_MK_VR, 0}, {2500, V, FW_MK_VP, 0}};
    expect_markers("vvi_escape_refractory", &rec, e, 4);
}

static void test_sense_at_pace_instant(void)
{
    /* a sense at the instant a pace is due inhibits it. VVI, VS exactly at 1000. */
    fw_params_t p;
    fw_params_nominal(&p);
    p.mode = FW_MODE_VVI;
    start(&p, FW_STATE_PERMANENT);
    run_detections(&pc, 2001, NONE_LIST, (const int64_t[]){1000, -1});
    const expect_t e[] = {{1000, V, FW_MK_VS, 0}, {2000, V, FW_MK_VP, 0}};
    expect_markers("sense_at_pace_instant", &rec, e, 2);
}

static void test_wenckebach_5_4(void)
{
    /* DDD nominal, P waves every 470 ms from 470 (A detections only). Derivation:
     *  AS 470 -> VP max(620, 0+500) = 620; PVARP to 870.
     *  AS 940 -> VP max(1090, 1120) = 1120 UR; AS 1410 -> 1620 UR; AS 1880 -> 2120 UR
     *  P 2350 < 2120+250 = 2370: AR (blocked).
     *  AS 2820 -> VP max(2970, 2620) = 2970; AS 3290 -> 3470 UR; AS 3760 -> 3970 UR;
     *  AS 4230 -> 4470 UR; P 4700 < 4720: AR; AS 5170 -> 5320. Five P waves, four VP: 5:4. */
    fw_params_t p;
    fw_params_nominal(&p);
    start(&p, FW_STATE_PERMANENT);
    int64_t as[16];
    for (int k = 0; k < 11; ++k) as[k] = 470 * (k + 1);
    as[11] = -1;
    run_detections(&pc, 5321, as, NONE_LIST);
    const uint8_t UR = FW_FL_UPPER_RATE;
    const expect_t e[] = {
        {470, A, FW_MK_AS, 0},   {620, V, FW_MK_VP, 0},   {940, A, FW_MK_AS, 0},
        {1120, V, FW_MK_VP, UR}, {1410, A, FW_MK_AS, 0},  {1620, V, FW_MK_VP, UR},
        {1880, A, FW_MK_AS, 0},  {2120, V, FW_MK_VP, UR}, {2350, A, FW_MK_AR, 0},
        {2820, A, FW_MK_AS, 0},  {2970, V, FW_MK_VP, 0},  {3290, A, FW_MK_AS, 0},
        {3470, V, FW_MK_VP, UR}, {3760, A, FW_MK_AS, 0},  {3970, V, FW_MK_VP, UR},
        {4230, A, FW_MK_AS, 0},  {4470, V, FW_MK_VP, UR}, {4700, A, FW_MK_AR, 0},
        {5170, A, FW_MK_AS, 0},  {5320, V, FW_MK_VP, 0},
    };
    expect_markers("wenckebach_5_4", &rec, e, (int)(sizeof(e) / sizeof(e[0])));
}

static void test_two_to_one(void)
{
    /* P-P 390 < TARP 400. AS 390 -> VP 540; P 780 < 540+250 = 790: AR; AS 1170 -> VP
     * max(1320, 1040) = 1320; P 1560 < 1570: AR; AS 1950 -> VP 2100: 2:1. */
    fw_params_t p;
    fw_params_nominal(&p);
    start(&p, FW_STATE_PERMANENT);
    run_detections(&pc, 2101, (const int64_t[]){390, 780, 1170, 1560, 1950, -1}, NONE_LIST);
    const expect_t e[] = {{390, A, FW_MK_AS, 0},  {540, V, FW_MK_VP, 0},  {780, A, FW_MK_AR, 0},
                          {1170, A, FW_MK_AS, 0}, {1320, V, FW_MK_VP, 0}, {1560, A, FW_MK_AR, 0},
                          {1950, A, FW_MK_AS, 0}, {2100, V, FW_MK_VP, 0}};
    expect_markers("two_to_one", &rec, e, 8);
}

static void test_safety_pacing(void)
{
    /* AP at 850; V detection at 910 is in [850+40, 850+110): VS, safety pace at
     * max(min(960, 1000), 0 + 500) = 960; next AP at 960 + 850 = 1810. A detection at 870 on the
     * V channel of the next cycle: 1810 + 30 = 1840 is inside V blanking: dropped. */
    fw_params_t p;
    fw_params_nominal(&p);
    start(&p, FW_STATE_PERMANENT);
    run_detections(&pc, 1961, NONE_LIST, (const int64_t[]){910, 1840, -1});
    const expect_t e[] = {{850, A, FW_MK_AP, 0},  {910, V, FW_MK_VS, 0},
                          {960, V, FW_MK_VP, FW_FL_SAFETY}, {1810, A, FW_MK_AP, 0},
                          {1960, V, FW_MK_VP, 0}};
    expect_markers("safety_pacing", &rec, e, 5);
}

static void test_pvc_extension(void)
{
    /* PVARP extension 150. AP 850, VP 1000; V at 1500 with no atrial event since: PVC and
     * PVARP_EXT (PVARP 400 to 1900). V at 2100: PVC again, but the previous V event extended, so
     * no extension (PVARP 2350). A at 2300: AR. V at 2800 (AR counts as an atrial event): VS.
     * V at 3400: PVC with extension (the previous event, VS at 2800, did not extend). */
    fw_params_t p;
    fw_params_nominal(&p);
    p.pvarp_extension_ms = 150;
    start(&p, FW_STATE_PERMANENT);
    run_detections(&pc, 3500, (const int64_t[]){2300, -1},
                   (const int64_t[]){1500, 2100, 2800, 3400, -1});
    const expect_t e[] = {{850, A, FW_MK_AP, 0},    {1000, V, FW_MK_VP, 0},
                          {1500, V, FW_MK_PVC, 0},  {1500, X, FW_MK_PVARP_EXT, 0},
                          {2100, V, FW_MK_PVC, 0},  {2300, A, FW_MK_AR, 0},
                          {2800, V, FW_MK_VS, 0},   {3400, V, FW_MK_PVC, 0},
                          {3400, X, FW_MK_PVARP_EXT, 0}};
    expect_markers("pvc_extension", &rec, e, 9);
}

static void test_pvarp_extension_effect(void)
{
    /* After the PVC at 1500 with extension 150, an atrial detection at 1850 (inside 1500 + 400)
     * is AR; without the extension it would be AS (1500 + 250 = 1750). */
    fw_params_t p;
    fw_params_nominal(&p);
    p.pvarp_extension_ms = 150;
    start(&p, FW_STATE_PERMANENT);
    run_detections(&pc, 1900, (const int64_t[]){1850, -1}, (const int64_t[]){1500, -1});
    CHECK_EQ(rec.n, 5);
    CHECK_EQ(rec.m[4].kind, FW_MK_AR);
    p.pvarp_extension_ms = 0;
    start(&p, FW_STATE_PERMANENT);
    run_detections(&pc, 1900, (const int64_t[]){1850, -1}, (const int64_t[]){1500, -1});
    CHECK_EQ(rec.n, 4);
    CHECK_EQ(rec.m[3].kind, FW_MK_AS);
}

static void test_noise_reversion(void)
{
    /* VVI, V detections every 60 ms from 200 to 1160. 200: VS (VRP to 520); 260, 320: VR (1st
     * and 2nd short interval); 380: 3rd short interval: noisy, TN, and so on to 1160. The
     * escape started at 200 gives VP 1200 flagged NOISE (last detection 40 ms before). The next
     * VP at 2200 is clean (noise ended at 1260). */
    fw_params_t p;
    fw_params_nominal(&p);
    p.mode = FW_MODE_VVI;
    start(&p, FW_STATE_PERMANENT);
    int64_t v[32];
    int nv = 0;
    for (int64_t t = 200; t <= 1160; t += 60) v[nv++] = t;
    v[nv] = -1;
    run_detections(&pc, 2201, NONE_LIST, v);
    expect_t e[32];
    int ne = 0;
    e[ne++] = (expect_t){200, V, FW_MK_VS, 0};
    e[ne++] = (expect_t){260, V, FW_MK_VR, 0};
    e[ne++] = (expect_t){320, V, FW_MK_VR, 0};
    for (int64_t t = 380; t <= 1160; t += 60) e[ne++] = (expect_t){t, V, FW_MK_TN, 0};
    e[ne++] = (expect_t){1200, V, FW_MK_VP, FW_FL_NOISE};
    e[ne++] = (expect_t){2200, V, FW_MK_VP, 0};
    expect_markers("noise_reversion", &rec, e, ne);
}

static void test_hysteresis(void)
{
    /* VVI with hysteresis 50 ppm (HRI 1200): VS at 300 -> VP at 1500 flagged HYSTERESIS; after
     * a pace the escape is LRI again: VP 2500. */
    fw_params_t p;
    fw_params_nominal(&p);
    p.mode = FW_MODE_VVI;
    p.hysteresis_rate_ppm = 50;
    start(&p, FW_STATE_PERMANENT);
    run_detections(&pc, 2501, NONE_LIST, (const int64_t[]){300, -1});
    const expect_t e[] = {{300, V, FW_MK_VS, 0}, {1500, V, FW_MK_VP, FW_FL_HYSTERESIS},
                          {2500, V, FW_MK_VP, 0}};
    expect_markers("hysteresis", &rec, e, 3);
}

static void test_vvt_trigger(void)
{
    /* VVT: V at 300 triggers VP at 300; V at 700 is 400 ms after that pace (< URI 500) and past
     * VRP (620): VS, no trigger, escape restarts: VP at 1700. */
    fw_params_t p;
    fw_params_nominal(&p);
    p.mode = FW_MODE_VVT;
    start(&p, FW_STATE_PERMANENT);
    run_detections(&pc, 1701, NONE_LIST, (const int64_t[]){300, 700, -1});
    const expect_t e[] = {{300, V, FW_MK_VP, FW_FL_TRIGGERED}, {700, V, FW_MK_VS, 0},
                          {1700, V, FW_MK_VP, 0}};
    expect_markers("vvt_trigger", &rec, e, 3);
}

static void test_aai(void)
{
    /* AAI: AS 400 -> AP 1400; A at 1450 blanked (pace blanking to 1500); A at 1600 in ARP
     * (1400 + 250 = 1650): AR; AP at 2400. V detections are not sensed in AAI. */
    fw_params_t p;
    fw_params_nominal(&p);
    p.mode = FW_MODE_AAI;
    start(&p, FW_STATE_PERMANENT);
    run_detections(&pc, 2401, (const int64_t[]){400, 1450, 1600, -1},
                   (const int64_t[]){900, -1});
    const expect_t e[] = {{400, A, FW_MK_AS, 0}, {1400, A, FW_MK_AP, 0},
                          {1600, A, FW_MK_AR, 0}, {2400, A, FW_MK_AP, 0}};
    expect_markers("aai", &rec, e, 4);
}

static void test_magnet_and_por(void)
{
    /* Magnet at BOL on DDD: DOO at 100 ppm (600 ms): AP 450, VP 600, both flagged MAGNET;
     * detections are ignored. */
    fw_params_t p;
    fw_params_nominal(&p);
    start(&p, FW_STATE_MAGNET);
    run_detections(&pc, 601, (const int64_t[]){200, -1}, (const int64_t[]){300, -1});
    const expect_t e[] = {{450, A, FW_MK_AP, FW_FL_MAGNET}, {600, V, FW_MK_VP, FW_FL_MAGNET}};
    expect_markers("magnet", &rec, e, 2);
    /* Magnet at ERT: 85 ppm -> 706 ms (705.88 rounded). */
    memset(&rec, 0, sizeof(rec));
    fw_pacer_init(&pc, &p, FW_STATE_MAGNET, FW_BATT_ERT, 0, rec_sink, &rec);
    run_detections(&pc, 707, NONE_LIST, NONE_LIST);
    CHECK_EQ(rec.n, 2);
    CHECK_EQ(rec.m[1].t_us, 706000u);

    /* Power-on reset: VVI 65 ppm (923 ms), 5.0 V, 0.5 ms. */
    start(&p, FW_STATE_POWER_ON_RESET);
    run_detections(&pc, 924, NONE_LIST, NONE_LIST);
    const expect_t e2[] = {{923, V, FW_MK_VP, 0}};
    expect_markers("por", &rec, e2, 1);
    CHECK_EQ(rec.m[0].amplitude_mv, 5000);
    CHECK_EQ(rec.m[0].width_us, 500);
    start(&p, FW_STATE_PACE_NOW);
    run_detections(&pc, 924, NONE_LIST, NONE_LIST);
    CHECK_EQ(rec.m[0].width_us, 1000);
}

static void test_blanking_after_vp(void)
{
    /* DDD: after VP at 1000, PVAB to 1100: an atrial detection at 1050 is dropped (no marker);
     * at 1150 it is AR (PVARP to 1250); at 1300 AS -> VP max(1450, 1500) = 1500 UR. */
    fw_params_t p;
    fw_params_nominal(&p);
    start(&p, FW_STATE_PERMANENT);
    run_detections(&pc, 1501, (const int64_t[]){1050, 1150, 1300, -1}, NONE_LIST);
    const expect_t e[] = {{850, A, FW_MK_AP, 0},  {1000, V, FW_MK_VP, 0},
                          {1150, A, FW_MK_AR, 0}, {1300, A, FW_MK_AS, 0},
                          {1500, V, FW_MK_VP, FW_FL_UPPER_RATE}};
    expect_markers("blanking_after_vp", &rec, e, 5);
}

static void test_dynamic_av(void)
{
    /* Dynamic AV (fixed 150, min 50): VV between the last two V events 750 ms (between URI 500
     * and LRI 1000): AVD = 50 + floor(100 * 250 / 500) = 100. VS at 750 after the start event is
     * the first real V event, so it needs a second: VS at 750 and 1500 (VV 750), then AP at
     * 1500 + 1000 - 100 = 2400 and VP at 2500. */
    fw_params_t p;
    fw_params_nominal(&p);
    p.dynamic_av_delay = 1;
    p.min_dynamic_av_delay_ms = 50;
    start(&p, FW_STATE_PERMANENT);
    run_detections(&pc, 2501, (const int64_t[]){600, 1350, -1},
                   (const int64_t[]){750, 1500, -1});
    const expect_t e[] = {{600, A, FW_MK_AS, 0},  {750, V, FW_MK_VS, 0},
                          {1350, A, FW_MK_AS, 0}, {1500, V, FW_MK_VS, 0},
                          {2400, A, FW_MK_AP, 0}, {2500, V, FW_MK_VP, 0}};
    expect_markers("dynamic_av", &rec, e, 6);
}

static void test_smoothing(void)
{
    /* VVI, smoothing 9 %: VS at 500 and 1100 (RR 600): the next pace may come no later than
     * 1100 + 600 + 54 = 1754 (instead of 2100), flagged SMOOTHING; then RR = 654: next at most
     * 1754 + 654 + 58 = 2466. */
    fw_params_t p;
    fw_params_nominal(&p);
    p.mode = FW_MODE_VVI;
    p.rate_smoothing_pct = 9;
    start(&p, FW_STATE_PERMANENT);
    run_detections(&pc, 2467, NONE_LIST, (const int64_t[]){500, 1100, -1});
    const expect_t e[] = {{500, V, FW_MK_VS, 0}, {1100, V, FW_MK_VS, 0},
                          {1754, V, FW_MK_VP, FW_FL_SMOOTHING},
                          {2466, V, FW_MK_VP, FW_FL_SMOOTHING}};
    expect_markers("smoothing", &rec, e, 4);
}

static void test_start_is_not_a_v_event(void)
{
    /* the timing start gives no URI bound: AS at 100 -> VP at 100 + 150 = 250. The next
     * AS at 500 (PVARP [250, 500) just over) would give 650 but is held to 250 + 500 = 750 (UR).
     * The first V detection of a session is never a PVC. */
    fw_params_t p;
    fw_params_nominal(&p);
    start(&p, FW_STATE_PERMANENT);
    run_detections(&pc, 901, (const int64_t[]){100, 500, -1}, NONE_LIST);
    const expect_t e[] = {{100, A, FW_MK_AS, 0}, {250, V, FW_MK_VP, 0}, {500, A, FW_MK_AS, 0},
                          {750, V, FW_MK_VP, FW_FL_UPPER_RATE}};
    expect_markers("start_is_not_a_v_event", &rec, e, 4);
    p.mode = FW_MODE_VVI;
    start(&p, FW_STATE_PERMANENT);
    run_detections(&pc, 400, NONE_LIST, (const int64_t[]){300, -1});
    CHECK_EQ(rec.n, 1);
    CHECK_EQ(rec.m[0].kind, FW_MK_VS);
}

static void test_atrial_based_timing(void)
{
    /* lower_rate_timing atrial: first AP at start + escape = 1000, VP 1150; an AS at
     * 1700 restarts the atrial escape (AP 2700) and tracks (VP 1850); a conducted VS does not
     * move the atrial timer. */
    fw_params_t p;
    fw_params_nominal(&p);
    p.lower_rate_timing_atrial = 1;
    start(&p, FW_STATE_PERMANENT);
    run_detections(&pc, 2701, (const int64_t[]){1700, -1}, (const int64_t[]){1800, -1});
    const expect_t e[] = {{1000, A, FW_MK_AP, 0}, {1150, V, FW_MK_VP, 0},
                          {1700, A, FW_MK_AS, 0}, {1800, V, FW_MK_VS, 0},
                          {2700, A, FW_MK_AP, 0}};
    expect_markers("atrial_based_timing", &rec, e, 5);
}

static void test_pace_wins_the_millisecond(void)
{
    /* VVI with noise every 50 ms from 200 to 1200; VS 200 starts the escape, the pace
     * at 1200 coincides with a noise detection: the TN marker is dropped, the VP (NOISE) stays. */
    fw_params_t p;
    fw_params_nominal(&p);
    p.mode = FW_MODE_VVI;
    start(&p, FW_STATE_PERMANENT);
    int64_t v[32];
    int nv = 0;
    for (int64_t t = 200; t <= 1200; t += 50) v[nv++] = t;
    v[nv] = -1;
    run_detections(&pc, 1201, NONE_LIST, v);
    CHECK_EQ(rec.n, 1 + 2 + 17 + 1);
    CHECK_EQ(rec.m[rec.n - 1].kind, FW_MK_VP);
    CHECK_EQ(rec.m[rec.n - 1].flags, FW_FL_NOISE);
    CHECK_EQ(rec.m[rec.n - 2].t_us, 1150000u);
}

static void test_long_session_times(void)
{
    /* VOO at 60 ppm for 4296 s: the pace at 4295 s is at 4,295,000,000 us (below 2^32 us =
     * 4,294,967,296 + 32,704 us) and the one at 4296 s above it; both exact (u64 times). */
    fw_params_t p;
    fw_params_nominal(&p);
    p.mode = FW_MODE_VOO;
    start(&p, FW_STATE_PERMANENT);
    uint64_t last = 0;
    int64_t end = 4296001;
    while (pc.t_ms < end) {
        (void)fw_pacer_step(&pc, false, false, 0);
        if (rec.n > 0) {
            last = rec.m[rec.n - 1].t_us;
            rec.n = 0;
        }
    }
    CHECK_EQ(last, 4296000000ull);
}

void test_pacing(void)
{
    test_long_session_times();
    test_start_is_not_a_v_event();
    test_atrial_based_timing();
    test_pace_wins_the_millisecond();
    test_ddd_no_input();
    test_vvi_escape_refractory();
    test_sense_at_pace_instant();
    test_wenckebach_5_4();
    test_two_to_one();
    test_safety_pacing();
    test_pvc_extension();
    test_pvarp_extension_effect();
    test_noise_reversion();
    test_hysteresis();
    test_vvt_trigger();
    test_aai();
    test_magnet_and_por();
    test_blanking_after_vp();
    test_dynamic_av();
    test_smoothing();
}
