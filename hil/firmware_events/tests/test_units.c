/* test_units.c - the timer module, the programming rules and the line reader. */
#include <string.h>

#include "ev_config.h"
#include "ev_lines.h"
#include "ev_test.h"
#include "ev_timers.h"

/* A timer of 3 ms started in tick 10 runs in ticks 11 and 12 and is expired in tick 13 only. */
static void timer_window(void)
{
    ev_timers_t tm;
    ev_timers_init(&tm);
    ev_timer_start(&tm, EV_T_VRP, 3u); /* during tick 10 */
    CHECK(ev_timer_running(&tm, EV_T_VRP));
    ev_timers_tick(&tm); /* 11 */
    CHECK(ev_timer_running(&tm, EV_T_VRP) && !ev_timer_expired(&tm, EV_T_VRP));
    ev_timers_tick(&tm); /* 12 */
    CHECK(ev_timer_running(&tm, EV_T_VRP));
    ev_timers_tick(&tm); /* 13 */
    CHECK(!ev_timer_running(&tm, EV_T_VRP) && ev_timer_expired(&tm, EV_T_VRP));
    ev_timers_tick(&tm); /* 14 */
    CHECK(!ev_timer_expired(&tm, EV_T_VRP));
    /* restarting in the tick it expires hides the expiry (a sense before a timer, A-1) */
    ev_timer_start(&tm, EV_T_AV, 1u);
    ev_timers_tick(&tm);
    CHECK(ev_timer_expired(&tm, EV_T_AV));
    ev_timer_start(&tm, EV_T_AV, 5u);
    CHECK(!ev_timer_expired(&tm, EV_T_AV) && ev_timer_running(&tm, EV_T_AV));
    ev_timer_stop(&tm, EV_T_AV);
    CHECK(!ev_timer_running(&tm, EV_T_AV));
}

void test_timers(void)
{
    timer_window();
}

void test_config(void)
{
    ev_config_t c;
    ev_config_defaults(&c);
    CHECK(ev_config_check(&c) == NULL);
    CHECK_EQ(c.lri_ms, 1000);
    CHECK_EQ(c.uri_ms, 500);
    CHECK(ev_config_set(&c, "mode", "VVI") == NULL && c.mode == EV_MODE_VVI);
    CHECK(ev_config_set(&c, "mode", "AAI") != NULL);
    CHECK(ev_config_set(&c, "v-width-us", "5000") == NULL && c.v_width_us == 5000u);
    CHECK(ev_config_set(&c, "v-width-us", "70000") != NULL);
    CHECK(ev_config_set(&c, "uri-ms", "896") == NULL && c.uri_ms == 896u); /* 67 ppm */
    CHECK(ev_config_set(&c, "uri-ms", "-5") != NULL);
    CHECK(ev_config_set(&c, "uri-ms", "") != NULL);
    CHECK(ev_config_set(&c, "nope", "1") != NULL);
    CHECK(ev_config_set(&c, "pace-details", "off") == NULL && c.pace_details == 0u);
    CHECK(ev_config_check(&c) == NULL);

    ev_config_defaults(&c);
    c.uri_ms = 1200u; /* URL below LRL */
    CHECK(ev_config_check(&c) != NULL);
    ev_config_defaults(&c);
    c.av_ms = 900u; /* 1000 - 900 < PVAB 100 + 50 */
    CHECK(ev_config_check(&c) != NULL);
    c.mode = EV_MODE_VVI; /* the AV delay does not matter in VVI */
    CHECK(ev_config_check(&c) == NULL);
    ev_config_defaults(&c);
    c.vblank_ms = 150u; /* not below the AV delay */
    CHECK(ev_config_check(&c) != NULL);
    ev_config_defaults(&c);
    c.pvab_ms = 300u; /* outside PVARP */
    CHECK(ev_config_check(&c) != NULL);
    ev_config_defaults(&c);
    c.vsp_ms = 40u; /* window would end at the end of blanking */
    CHECK(ev_config_check(&c) != NULL);
    c.vsp_ms = 0u; /* off */
    CHECK(ev_config_check(&c) == NULL);

    char text[320];
    ev_config_defaults(&c);
    size_t n = ev_config_format(&c, text, sizeof(text));
    CHECK(n > 0u && strncmp(text, "DDD lri=1000ms uri=500ms av=150ms", 33) == 0);
}

/* Feed a string; return the kind of the last completed line (0: none) and the count. */
static int feed(ev_line_reader_t *r, const char *s, ev_line_t *last)
{
    int completed = 0;
    for (; *s != '\0'; ++s) {
        if (ev_line_feed(r, (uint8_t)*s, last)) {
            completed++;
        }
    }
    return completed;
}

static void parse_ok(const char *line, ev_line_kind_t kind, uint64_t t_us)
{
    uint64_t t = 12345u;
    ev_line_kind_t k = ev_line_parse(line, strlen(line), &t);
    CHECK_EQ(k, kind);
    if (kind != EV_LINE_RESET && k == kind) {
        CHECK(t == t_us);
    }
}

static void parse_bad(const char *line)
{
    uint64_t t;
    ev_line_kind_t k = ev_line_parse(line, strlen(line), &t);
    if (k != EV_LINE_BAD) {
        fprintf(stderr, "line '%s' was accepted\n", line);
    }
    CHECK_EQ(k, EV_LINE_BAD);
}

void test_lines(void)
{
    parse_ok("A 0", EV_LINE_SENSE_A, 0u);
    parse_ok("V 1500", EV_LINE_SENSE_V, 1500u);
    parse_ok("T 18446744073709551615", EV_LINE_TIME, UINT64_MAX);
    parse_ok("R", EV_LINE_RESET, 0u);
    const char *bad[] = {"T 18446744073709551616", "T 99999999999999999999", "A 01", "A -5",
                         "A", "A ", "A  5", "A 5 ", " A 5", "a 5", "X 5", "P A 5", ".", "R 0",
                         "T 1e3", "T 5\t", "RR", "I name=x version=1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        parse_bad(bad[i]);
    }

    ev_line_reader_t r;
    ev_line_t line;
    ev_line_reader_init(&r);
    CHECK_EQ(feed(&r, "A 5\r\n\n\nT 7\n", &line), 2);
    CHECK_EQ(line.kind, EV_LINE_TIME);
    CHECK(line.t_us == 7u);
    CHECK_EQ(r.bad_lines, 0);

    /* 64 bytes pass, 65 are rejected once; the rest of that line is dropped */
    char ok64[80], long65[80];
    memset(ok64, '0', sizeof(ok64));
    memcpy(ok64, "T ", 2);
    ok64[2] = '1';
    ok64[64] = '\0'; /* "T 1000...": 64 bytes but 62 digits: in the grammar only up to 20 */
    CHECK_EQ(feed(&r, ok64, &line), 0);
    CHECK_EQ(feed(&r, "\n", &line), 1);
    CHECK_EQ(line.kind, EV_LINE_BAD); /* too many digits, not too long */
    CHECK_EQ(r.bad_lines, 1);
    memset(long65, 'x', sizeof(long65));
    long65[65] = '\0';
    CHECK_EQ(feed(&r, long65, &line), 1);
    CHECK_EQ(line.kind, EV_LINE_BAD);
    CHECK_EQ(feed(&r, "yyyy\nV 9\n", &line), 1);
    CHECK_EQ(line.kind, EV_LINE_SENSE_V);
    CHECK_EQ(r.bad_lines, 2);

    char out[200];
    size_t n = ev_format_pace(out, sizeof(out), 'V', 1000000u, true, 3500u, 400u);
    CHECK(n == 21u && memcmp(out, "P V 1000000 3500 400\n", n) == 0);
    n = ev_format_pace(out, sizeof(out), 'A', 0u, false, 1u, 1u);
    CHECK(n == 6u && memcmp(out, "P A 0\n", n) == 0);
    n = ev_format_identity(out, sizeof(out), "dev", "1", "", "stop");
    CHECK(n == 31u && memcmp(out, "I name=dev version=1 caps=stop\n", n) == 0);
    CHECK_EQ(ev_format_identity(out, 10u, "dev", "1", "", ""), 0);
}
