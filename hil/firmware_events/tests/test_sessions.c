/*
 * test_sessions.c - the lock-step session (line protocol, virtual time, early stop, identity)
 * and the real-time session (byte mode) through the capturing test HAL. Expected answers are
 * worked out from docs/protocol.md section 7 and the nominal timing (VVI: VP every 1000 ms; DDD:
 * AP 850, VP 1000).
 */
#include <string.h>

#include "ev_lockstep.h"
#include "ev_realtime.h"
#include "ev_test.h"
#include "hal_test.h"

static ev_lockstep_t session;

static void start(ev_mode_t mode, int details)
{
    ev_config_t c;
    ev_config_defaults(&c);
    c.mode = mode;
    c.pace_details = (uint8_t)details;
    ev_lockstep_init(&session, &c);
    hal_test_clear();
}

/* Send lines; check the link output equals `want` exactly. */
static void exchange(const char *name, const char *send, const char *want)
{
    hal_test_clear();
    ev_lockstep_feed(&session, (const uint8_t *)send, strlen(send));
    ev_test_checks++;
    if (strcmp(hal_test_link, want) != 0) {
        ev_test_failures++;
        fprintf(stderr, "%s: sent\n%s  got\n%s  expected\n%s", name, send, hal_test_link, want);
    }
}

static void base_protocol(void)
{
    start(EV_MODE_VVI, 0);
    /* before any R: all paces up to the mark, the one exactly at it included */
    exchange("base_before_mark", "T 999999\n", ".\n");
    exchange("base_at_mark", "T 1000000\n", "P V 1000000\n.\n");
    exchange("base_no_stop", "T 3500000\n", "P V 2000000\nP V 3000000\n.\n");
    /* a sense before the mark at the pace's instant inhibits it (senses before timers) */
    exchange("base_sense_then_mark", "V 4000000\nT 4000000\n", ".\n");
    exchange("base_next", "T 5000000\n", "P V 5000000\n.\n");
    /* a sense sent after the mark, at the mark's time: handled after the pace (blanked) */
    exchange("base_late_sense", "V 5000000\nT 6000000\n", "P V 6000000\n.\n");
    /* a sub-millisecond sense is handled at the next tick (6500.5 ms -> 6501 ms) */
    exchange("base_sub_ms", "V 6500500\nT 7500999\n", ".\n");
    exchange("base_sub_ms_next", "T 7501000\n", "P V 7501000\n.\n");
}

static void reset_and_identity(void)
{
    start(EV_MODE_VVI, 1);
    exchange("advance", "T 2500000\n", "P V 1000000 3500 400\nP V 2000000 3500 400\n.\n");
    hal_test_clear();
    ev_lockstep_feed(&session, (const uint8_t *)"R\n", 2u);
    CHECK(strncmp(hal_test_link, "I name=devicetwin-ev version=1.0.0", 34) == 0);
    CHECK(strstr(hal_test_link, " caps=stop\n.\n") != NULL);
    CHECK(session.session && session.clock_us == 0u);
    /* the clock is back at 0: the first pace is 1000 ms after the R */
    exchange("after_reset", "T 1000000\n", "P V 1000000 3500 400\n.\n");
}

static void early_stop(void)
{
    start(EV_MODE_DDD, 0);
    ev_lockstep_feed(&session, (const uint8_t *)"R\n", 2u);
    /* a window of senses ahead, then one mark: the device stops at its AP (850 ms) and
     * discards the senses after it */
    exchange("stop_at_ap", "V 900000\nA 950000\nT 1500000\n", "P A 850000\n.\n");
    CHECK(session.clock_us == 850000u);
    CHECK_EQ(session.stats.discarded, 2);
    /* the bench rolled the heart back; without the V at 900 the VP comes at 1000 */
    exchange("stop_at_vp", "T 1500000\n", "P V 1000000\n.\n");
    exchange("to_mark", "T 1500000\n", ".\n");
    /* times before the clock are refused and counted */
    exchange("time_back", "A 1400000\nT 1400000\n", "");
    CHECK_EQ(session.stats.time_errors, 2);
    CHECK(strstr(hal_test_console, "time went back") != NULL);
    /* a bad line is ignored, counted, and quoted on the console */
    exchange("bad", "P V 5\n", "");
    CHECK_EQ(session.stats.bad_lines, 1);
    CHECK(strstr(hal_test_console, "'P V 5'") != NULL);
    exchange("still_fine", "T 1850000\n", "P A 1850000\n.\n");
}

static void pending_queue_overflow(void)
{
    start(EV_MODE_VVI, 0);
    char line[32];
    for (int i = 0; i < (int)EV_MAX_PENDING + 3; ++i) {
        int n = snprintf(line, sizeof(line), "A %d\n", 100000 + i);
        ev_lockstep_feed(&session, (const uint8_t *)line, (size_t)n);
    }
    CHECK_EQ(session.stats.overflows, 3);
    exchange("after_overflow", "T 1000000\n", "P V 1000000\n.\n");
}

/* Byte mode: tick k at t0 + k ms; a sense byte is handled at the next tick. */
static void realtime_bytes(void)
{
    static ev_realtime_t rt;
    ev_config_t c;
    ev_config_defaults(&c);
    c.mode = EV_MODE_VVI;
    hal_test_clear();
    ev_realtime_init(&rt, &c, 5000u); /* t0 = 5 ms of HAL time */
    CHECK_EQ(ev_realtime_poll(&rt, 5000u), 1000); /* tick 1 due in 1 ms */
    CHECK_EQ(ev_realtime_poll(&rt, 1004999u), 1);
    CHECK_EQ(hal_test_link_len, 0);
    (void)ev_realtime_poll(&rt, 1005000u); /* tick 1000: VP */
    CHECK(strcmp(hal_test_link, "V") == 0);
    /* a sense byte at 1500.4 ms of device time, handled at tick 1501: next VP at 2501 */
    (void)ev_realtime_poll(&rt, 1505400u);
    ev_realtime_feed(&rt, (const uint8_t *)"Vx", 2u, 1505400u);
    CHECK_EQ(rt.stats.bad_bytes, 1);
    hal_test_clear();
    (void)ev_realtime_poll(&rt, 2505999u);
    CHECK_EQ(hal_test_link_len, 0);
    (void)ev_realtime_poll(&rt, 2506000u);
    CHECK(strcmp(hal_test_link, "V") == 0);
    /* R restarts the timing at its receipt */
    ev_realtime_feed(&rt, (const uint8_t *)"R", 1u, 3000000u);
    hal_test_clear();
    (void)ev_realtime_poll(&rt, 3999999u);
    CHECK_EQ(hal_test_link_len, 0);
    (void)ev_realtime_poll(&rt, 4000000u);
    CHECK(strcmp(hal_test_link, "V") == 0);
    /* a tick run more than 1 ms after its time is counted late, and still run */
    ev_realtime_init(&rt, &c, 0u);
    (void)ev_realtime_poll(&rt, 1000u);
    CHECK_EQ(rt.stats.late_ticks, 0);
    CHECK_EQ(ev_realtime_poll(&rt, 3500u), 500); /* tick 2 (1.5 ms late), tick 3 (0.5 ms) */
    CHECK_EQ(rt.stats.late_ticks, 1);
    /* catching up: a sense read at 10.5 ms while ticks 1..10 are overdue belongs to tick 11,
     * so the escape restarts there: VP at 1011 ms */
    ev_realtime_init(&rt, &c, 0u);
    ev_realtime_feed(&rt, (const uint8_t *)"V", 1u, 10500u);
    (void)ev_realtime_poll(&rt, 10500u);
    CHECK(rt.v_latched);
    (void)ev_realtime_poll(&rt, 11000u);
    CHECK(!rt.v_latched);
    hal_test_clear();
    (void)ev_realtime_poll(&rt, 1010999u);
    CHECK_EQ(hal_test_link_len, 0);
    (void)ev_realtime_poll(&rt, 1011000u);
    CHECK(strcmp(hal_test_link, "V") == 0);
}

void test_lockstep(void)
{
    base_protocol();
    reset_and_identity();
    early_stop();
    pending_queue_overflow();
}

void test_realtime(void)
{
    realtime_bytes();
}
