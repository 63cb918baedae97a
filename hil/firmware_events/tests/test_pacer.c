/*
 * test_pacer.c - the state machine against timing worked out by hand from docs/assumptions.md,
 * with the nominal programming: LRI 1000 ms, URI 500 ms, AV 150 ms, VRP 320 ms,
 * PVARP 250 ms, PVAB 100 ms, post-atrial-pace ventricular blanking 40 ms, post-pace blanking
 * 100 ms, safety window 110 ms. Times are ms from the timing start.
 */
#include "ev_pacer.h"
#include "ev_test.h"

#define NONE ((const int64_t[]){-1})
#define TIMES(...) ((const int64_t[]){__VA_ARGS__, -1})
#define RUN(cfg, end, a, v)                                                                    \
    pace_t got[MAX_PACES];                                                                     \
    int n = run_paces(&(cfg), (end), (a), (v), got)
#define EXPECT(name, ...)                                                                      \
    do {                                                                                       \
        const pace_t want[] = {__VA_ARGS__};                                                   \
        expect_paces((name), got, n, want, (int)(sizeof(want) / sizeof(want[0])));            \
    } while (0)

static ev_config_t nominal(ev_mode_t mode)
{
    ev_config_t c;
    ev_config_defaults(&c);
    c.mode = mode;
    return c;
}

/* VVI, no senses: the escape runs from the timing start, V pace every LRI. */
static void vvi_escape_at_lri(void)
{
    ev_config_t c = nominal(EV_MODE_VVI);
    RUN(c, 3000, NONE, NONE);
    EXPECT("vvi_escape_at_lri", {1000, 'V'}, {2000, 'V'}, {3000, 'V'});
}

/* VVI: a sense at 1500 restarts the escape: VP 1500 + 1000 = 2500, then 3500. */
static void vvi_sense_restarts_escape(void)
{
    ev_config_t c = nominal(EV_MODE_VVI);
    RUN(c, 3600, NONE, TIMES(1500));
    EXPECT("vvi_sense_restarts_escape", {1000, 'V'}, {2500, 'V'}, {3500, 'V'});
}

/* VVI: VRP [1000, 1320) after the pace at 1000: a sense at 1319 is refractory (VP stays at
 * 2000); VRP [2000, 2320): a sense at exactly 2320 is outside it (half-open, A-21) and
 * inhibits: next VP 2320 + 1000 = 3320. */
static void vvi_vrp_half_open(void)
{
    ev_config_t c = nominal(EV_MODE_VVI);
    RUN(c, 3400, NONE, TIMES(1319, 2320));
    EXPECT("vvi_vrp_half_open", {1000, 'V'}, {2000, 'V'}, {3320, 'V'});
}

/* VVI: VRP also follows a sensed V event: a sense at 500, a T wave at 700 (inside
 * [500, 820)) is refractory, so VP at 500 + 1000 = 1500. */
static void vvi_vrp_after_sense(void)
{
    ev_config_t c = nominal(EV_MODE_VVI);
    RUN(c, 1800, NONE, TIMES(500, 700));
    EXPECT("vvi_vrp_after_sense", {1500, 'V'});
}

/* VVI: a sense at the instant the pace is due inhibits it: no VP at 1000, VP at 2000. */
static void vvi_sense_at_pace_instant(void)
{
    ev_config_t c = nominal(EV_MODE_VVI);
    RUN(c, 2000, NONE, TIMES(1000));
    EXPECT("vvi_sense_at_pace_instant", {2000, 'V'});
}

/* DDD, no senses: AP at LRI - AV = 850, VP at 850 + 150 = 1000; again from the VP. */
static void ddd_escape(void)
{
    ev_config_t c = nominal(EV_MODE_DDD);
    RUN(c, 2050, NONE, NONE);
    EXPECT("ddd_escape", {850, 'A'}, {1000, 'V'}, {1850, 'A'}, {2000, 'V'});
}

/* DDD tracking: P waves every 800 ms at 800, 1600, 2400; each AS starts the AV delay: VP at
 * AS + 150 (URI from the previous VP is over; PVARP after VP 950 ends at 1200 < 1600). */
static void ddd_tracking_at_av_delay(void)
{
    ev_config_t c = nominal(EV_MODE_DDD);
    RUN(c, 2600, TIMES(800, 1600, 2400), NONE);
    EXPECT("ddd_tracking_at_av_delay", {950, 'V'}, {1750, 'V'}, {2550, 'V'});
}

/* DDD, conducted beat: AS 800, VS 900 (AV conduction 100 ms < AV delay): no VP; ventricular-
 * based timing restarts VA at the VS: AP at 900 + 850 = 1750, VP 1900. */
static void ddd_conducted_sense_restarts_va(void)
{
    ev_config_t c = nominal(EV_MODE_DDD);
    RUN(c, 1950, TIMES(800), TIMES(900));
    EXPECT("ddd_conducted_sense_restarts_va", {1750, 'A'}, {1900, 'V'});
}

/* DDD upper rate: P waves at 300, 700, 1100, 1500.
 * AS 300: no V event yet (the timing start gives no URI bound): VP 450.
 * AS 700: PVARP after VP 450 is [450, 700): 700 is outside, tracked; VP at
 *   max(700 + 150, 450 + 500) = 950, held back by the URI.
 * AS 1100: in PVARP [950, 1200): refractory, not tracked.
 * AS 1500: VP at max(1650, 950 + 500) = 1650. */
static void ddd_upper_rate_limit(void)
{
    ev_config_t c = nominal(EV_MODE_DDD);
    RUN(c, 1700, TIMES(300, 700, 1100, 1500), NONE);
    EXPECT("ddd_upper_rate_limit", {450, 'V'}, {950, 'V'}, {1650, 'V'});
}

/* DDD, retrograde P at VP + 200 = 1200: inside PVARP [1000, 1250), refractory: the next cycle
 * is the escape: AP 1850, VP 2000. */
static void ddd_pvarp_rejects_retrograde_p(void)
{
    ev_config_t c = nominal(EV_MODE_DDD);
    RUN(c, 2050, TIMES(1200), NONE);
    EXPECT("ddd_pvarp_rejects_retrograde_p", {850, 'A'}, {1000, 'V'}, {1850, 'A'}, {2000, 'V'});
}

/* DDD, retrograde P at VP + 260 = 1260, after PVARP: tracked, VP at max(1410, 1000 + 500) =
 * 1500 (the start of a pacemaker-mediated tachycardia, held to the URL). */
static void ddd_late_retrograde_p_tracked(void)
{
    ev_config_t c = nominal(EV_MODE_DDD);
    RUN(c, 1550, TIMES(1260), NONE);
    EXPECT("ddd_late_retrograde_p_tracked", {850, 'A'}, {1000, 'V'}, {1500, 'V'});
}

/* DDD PVC: VP 1000, then VS 1400 with no atrial event since: a PVC. It starts PVARP
 * [1400, 1650) (A-5: every V event), so its retrograde P at 1600 is refractory: AP at
 * 1400 + 850 = 2250, VP 2400. */
static void ddd_pvc_starts_pvarp(void)
{
    ev_config_t c = nominal(EV_MODE_DDD);
    RUN(c, 2450, TIMES(1600), TIMES(1400));
    EXPECT("ddd_pvc_starts_pvarp", {850, 'A'}, {1000, 'V'}, {2250, 'A'}, {2400, 'V'});
}

/* DDD safety pacing: AP 850; a V detection at 910 is in the window [890, 960): it does
 * not inhibit; the safety pace comes at min(850 + 110, 850 + 150) = 960; VA from it: AP 1810,
 * VP 1960. */
static void ddd_safety_pacing(void)
{
    ev_config_t c = nominal(EV_MODE_DDD);
    RUN(c, 2000, NONE, TIMES(910));
    EXPECT("ddd_safety_pacing", {850, 'A'}, {960, 'V'}, {1810, 'A'}, {1960, 'V'});
}

/* DDD: a V detection at 880 is inside the ventricular blanking [850, 890) after the AP: dropped,
 * VP at 1000 as usual. */
static void ddd_crosstalk_blanked(void)
{
    ev_config_t c = nominal(EV_MODE_DDD);
    RUN(c, 1050, NONE, TIMES(880));
    EXPECT("ddd_crosstalk_blanked", {850, 'A'}, {1000, 'V'});
}

/* DDD: a V sense at 960 = AP + 110 is just after the safety window (half-open): a conducted
 * beat, it inhibits the VP; AP at 960 + 850 = 1810. */
static void ddd_safety_window_half_open(void)
{
    ev_config_t c = nominal(EV_MODE_DDD);
    RUN(c, 1850, NONE, TIMES(960));
    EXPECT("ddd_safety_window_half_open", {850, 'A'}, {1810, 'A'});
}

/* DDD: an atrial sense at 850, the instant the AP is due, inhibits it and is tracked:
 * VP at 1000. */
static void ddd_sense_at_pace_instant(void)
{
    ev_config_t c = nominal(EV_MODE_DDD);
    RUN(c, 1050, TIMES(850), NONE);
    EXPECT("ddd_sense_at_pace_instant", {1000, 'V'});
}

/* Off-grid programming: URL 67 ppm (URI 896 ms), AV 200 ms, LRI 1200 ms. P waves at 500 and
 * 1100: VP 700; AS 1100 (PVARP [700, 950) over) held to 700 + 896 = 1596 (> 1300). */
static void ddd_off_grid_upper_rate(void)
{
    ev_config_t c = nominal(EV_MODE_DDD);
    c.lri_ms = 1200u;
    c.uri_ms = 896u;
    c.av_ms = 200u;
    RUN(c, 1650, TIMES(500, 1100), NONE);
    EXPECT("ddd_off_grid_upper_rate", {700, 'V'}, {1596, 'V'});
}

/* Counters classify what happened: the upper-rate case has one AR and one held VP. */
static void ddd_counters(void)
{
    ev_config_t c = nominal(EV_MODE_DDD);
    ev_pacer_t p;
    ev_timers_t tm;
    ev_pacer_init(&p, &tm, &c);
    for (int64_t k = 1; k <= 1700; ++k) {
        ev_timers_tick(&tm);
        ev_inputs_t in = {k == 300 || k == 700 || k == 1100 || k == 1500, false};
        (void)ev_pacer_step(&p, &tm, in);
    }
    CHECK_EQ(p.count.a_sensed, 3);
    CHECK_EQ(p.count.a_refractory, 1);
    CHECK_EQ(p.count.v_paced, 3);
    CHECK_EQ(p.count.v_paced_upper_rate, 1);
    CHECK_EQ(p.count.a_paced, 0);
}

void test_pacer(void)
{
    vvi_escape_at_lri();
    vvi_sense_restarts_escape();
    vvi_vrp_half_open();
    vvi_vrp_after_sense();
    vvi_sense_at_pace_instant();
    ddd_escape();
    ddd_tracking_at_av_delay();
    ddd_conducted_sense_restarts_va();
    ddd_upper_rate_limit();
    ddd_pvarp_rejects_retrograde_p();
    ddd_late_retrograde_p_tracked();
    ddd_pvc_starts_pvarp();
    ddd_safety_pacing();
    ddd_crosstalk_blanked();
    ddd_safety_window_half_open();
    ddd_sense_at_pace_instant();
    ddd_off_grid_upper_rate();
    ddd_counters();
}
