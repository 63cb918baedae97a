/* test_main.c - runs every firmware unit test; exit status 0 only when all checks pass. */
#include <stdio.h>
#include <string.h>

#include "fw_test.h"

int fw_test_failures = 0;
int fw_test_checks = 0;

static const char *KIND[] = {"?", "AS", "AP", "AR", "AT", "VS", "VP", "VR", "PVC", "TN",
                             "ATR_DUR", "ATR_FB", "ATR_END", "PVARP_EXT"};
static const char CH[] = {'A', 'V', 'X'};

void rec_sink(void *ctx, const fw_marker_t *m)
{
    recorder_t *r = (recorder_t *)ctx;
    if (r->n < MAX_REC) {
        r->m[r->n++] = *m;
    }
}

static int contains(const int64_t *list, int64_t t)
{
    for (; list != NULL && *list >= 0; ++list) {
        if (*list == t) {
            return 1;
        }
    }
    return 0;
}

void run_detections(fw_pacer_t *pc, int64_t end_ms, const int64_t *a_ms, const int64_t *v_ms)
{
    while (pc->t_ms < end_ms) {
        int64_t t = pc->t_ms;
        (void)fw_pacer_step(pc, contains(a_ms, t) != 0, contains(v_ms, t) != 0, 0);
    }
}

void expect_markers(const char *name, const recorder_t *r, const expect_t *e, int n)
{
    int ok = r->n == n;
    for (int i = 0; ok && i < n; ++i) {
        const fw_marker_t *m = &r->m[i];
        ok = m->t_us == (uint64_t)e[i].t_ms * 1000u && m->chamber == e[i].ch &&
             m->kind == e[i].kind && m->flags == e[i].flags;
    }
    fw_test_checks++;
    if (!ok) {
        fw_test_failures++;
        fprintf(stderr, "%s: markers differ\n  got     :", name);
        for (int i = 0; i < r->n; ++i) {
            fprintf(stderr, " %llu%c%s/%u", (unsigned long long)(r->m[i].t_us / 1000u),
                    CH[r->m[i].chamber], KIND[r->m[i].kind], r->m[i].flags);
        }
        fprintf(stderr, "\n  expected:");
        for (int i = 0; i < n; ++i) {
            fprintf(stderr, " %lld%c%s/%u", (long long)e[i].t_ms, CH[e[i].ch], KIND[e[i].kind],
                    e[i].flags);
        }
        fprintf(stderr, "\n");
    }
}

int main(void)
{
    test_frontend();
    test_params();
    test_pacing();
    test_device();
    printf("fw_tests: %d checks, %d failures\n", fw_test_checks, fw_test_failures);
    return fw_test_failures == 0 ? 0 : 1;
}
