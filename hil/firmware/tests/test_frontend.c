/* test_frontend.c - A-16 front end against hand-computed values and a naive second formula. */
#include <string.h>

#include "fw_frontend.h"
#include "fw_test.h"

/* y16[n] = 16 x[n] - sum(x[n-16..n-1]), written the slow obvious way. */
static int32_t naive_y16(const int16_t *x, int n)
{
    int32_t s = 0;
    for (int k = n - 16; k < n; ++k) {
        s += k >= 0 ? x[k] : 0;
    }
    return 16 * (int32_t)x[n] - s;
}

static void test_impulse(void)
{
    fw_frontend_t fe;
    fw_frontend_init(&fe, 750); /* threshold 16 * 750 = 12000 */
    int16_t x[40];
    memset(x, 0, sizeof(x));
    x[20] = 1000; /* y16[20] = 16000 >= 12000: detection; y16[21] = -1000 */
    int det = -1;
    for (int n = 0; n < 40; ++n) {
        if (fw_frontend_step(&fe, x[n]) && det < 0) {
            det = n;
        }
    }
    CHECK_EQ(det, 20);

    fw_frontend_init(&fe, 750);
    for (int n = 0; n < 22; ++n) {
        int32_t y = fw_frontend_filter(&fe, x[n]);
        if (n == 20) CHECK_EQ(y, 16000);
        if (n == 21) CHECK_EQ(y, -1000);
    }
    /* 749 uV impulse: 11984 < 12000, no detection; negative polarity -750 detects. */
    fw_frontend_init(&fe, 750);
    CHECK(!fw_frontend_step(&fe, 749));
    fw_frontend_init(&fe, 750);
    CHECK(fw_frontend_step(&fe, -750));
}

static void test_step_threshold_equal(void)
{
    /* DC step of 500 uV at n = 0: y16[0] = 8000 = 16 * 500, so sensitivity 500 detects (>=). */
    fw_frontend_t fe;
    fw_frontend_init(&fe, 500);
    CHECK(fw_frontend_step(&fe, 500));
    /* y16[n] = 8000 - 500 n while n < 16: below the threshold from n = 1 on. */
    fw_frontend_init(&fe, 500);
    (void)fw_frontend_filter(&fe, 500);
    CHECK_EQ(fw_frontend_filter(&fe, 500), 7500);
    CHECK_EQ(fw_frontend_filter(&fe, 500), 7000);
}

static void test_dead_time(void)
{
    /* Impulses at 10, 40 (inside the 50 ms dead time) and 60 (exactly 50 ms after 10). */
    fw_frontend_t fe;
    fw_frontend_init(&fe, 1000);
    int dets[4], nd = 0;
    for (int n = 0; n < 100; ++n) {
        int16_t v = (n == 10 || n == 40 || n == 60) ? 2000 : 0;
        if (fw_frontend_step(&fe, v) && nd < 4) {
            dets[nd++] = n;
        }
    }
    CHECK_EQ(nd, 2);
    CHECK_EQ(dets[0], 10);
    CHECK_EQ(dets[1], 60);
}

static void test_bit_exact_random(void)
{
    /* A deterministic pseudo-random signal over the full int16 range (LCG), both ways. */
    int16_t x[600];
    uint32_t s = 12345u;
    for (int n = 0; n < 600; ++n) {
        s = s * 1103515245u + 12345u;
        x[n] = (int16_t)((int32_t)(s >> 16) - 32768);
        if (n % 7 == 0) x[n] = 32767;
        if (n % 11 == 0) x[n] = -32767;
    }
    fw_frontend_t fe;
    fw_frontend_init(&fe, 10000);
    int mismatches = 0;
    for (int n = 0; n < 600; ++n) {
        if (fw_frontend_filter(&fe, x[n]) != naive_y16(x, n)) {
            mismatches++;
        }
    }
    CHECK_EQ(mismatches, 0);
    /* Saturated extremes: 16 * 32767 + 16 * 32767 = 1048544 fits int32. */
    fw_frontend_init(&fe, 10000);
    for (int n = 0; n < 16; ++n) (void)fw_frontend_filter(&fe, -32767);
    CHECK_EQ(fw_frontend_filter(&fe, 32767), 1048544);
}

void test_frontend(void)
{
    test_impulse();
    test_step_threshold_equal();
    test_dead_time();
    test_bit_exact_random();
}
