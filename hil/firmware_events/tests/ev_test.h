/* ev_test.h - a tiny harness for the device's C unit tests (run under ASan + UBSan). */
#ifndef EV_TEST_H
#define EV_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ev_config.h"

extern int ev_test_failures;
extern int ev_test_checks;

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        ev_test_checks++;                                                                      \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);          \
            ev_test_failures++;                                                                \
        }                                                                                      \
    } while (0)

#define CHECK_EQ(a, b)                                                                         \
    do {                                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                                    \
        ev_test_checks++;                                                                      \
        if (a_ != b_) {                                                                        \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, expected %s == %lld\n",      \
                    __FILE__, __LINE__, #a, a_, #b, b_);                                       \
            ev_test_failures++;                                                                \
        }                                                                                      \
    } while (0)

/* One pace: its time in ms and chamber ('A' or 'V'). */
typedef struct {
    int64_t t_ms;
    char chamber;
} pace_t;

#define MAX_PACES 64
/* Run the logic from its timing start (tick 0) through end_ms with senses at the given times
 * in ms (lists end with -1); record the paces. Returns how many. */
int run_paces(const ev_config_t *cfg, int64_t end_ms, const int64_t *a_ms, const int64_t *v_ms,
              pace_t *out);
/* Compare recorded paces with the expected ones; print both on a mismatch, under `name`. */
void expect_paces(const char *name, const pace_t *got, int n_got, const pace_t *want, int n_want);

void test_timers(void);
void test_config(void);
void test_pacer(void);
void test_lines(void);
void test_lockstep(void);
void test_realtime(void);

#endif
