/* fw_test.h - a tiny test harness for the firmware's C unit tests (run under ASan + UBSan). */
#ifndef FW_TEST_H
#define FW_TEST_H

#include <stdint.h>
#include <stdio.h>

#include "fw_pacing.h"

extern int fw_test_failures;
extern int fw_test_checks;

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        fw_test_checks++;                                                                      \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);          \
            fw_test_failures++;                                                                \
        }                                                                                      \
    } while (0)

#define CHECK_EQ(a, b)                                                                         \
    do {                                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                                    \
        fw_test_checks++;                                                                      \
        if (a_ != b_) {                                                                        \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, expected %s == %lld\n",      \
                    __FILE__, __LINE__, #a, a_, #b, b_);                                       \
            fw_test_failures++;                                                                \
        }                                                                                      \
    } while (0)

/* One expected marker: time in ms, channel, kind, pace flags. */
typedef struct {
    int64_t t_ms;
    uint8_t ch;
    uint8_t kind;
    uint8_t flags;
} expect_t;

#define MAX_REC 1024
typedef struct {
    fw_marker_t m[MAX_REC];
    int n;
} recorder_t;

void rec_sink(void *ctx, const fw_marker_t *m);
/* Run the engine from its current time up to (excluding) end_ms with detections at the given
 * times (arrays terminated by -1). */
void run_detections(fw_pacer_t *pc, int64_t end_ms, const int64_t *a_ms, const int64_t *v_ms);
/* Compare recorded markers with the expected list; prints both on mismatch. */
void expect_markers(const char *name, const recorder_t *r, const expect_t *e, int n);

void test_frontend(void);
void test_params(void);
void test_pacing(void);
void test_device(void);

#endif
