/* test_main.c - runs every unit test; exit status 0 only when all checks pass. */
#include <stdbool.h>
#include <string.h>

#include "ev_pacer.h"
#include "ev_test.h"
#include "ev_timers.h"

int ev_test_failures = 0;
int ev_test_checks = 0;

static bool listed(const int64_t *list, int64_t t)
{
    for (; list != NULL && *list >= 0; ++list) {
        if (*list == t) {
            return true;
        }
    }
    return false;
}

int run_paces(const ev_config_t *cfg, int64_t end_ms, const int64_t *a_ms, const int64_t *v_ms,
              pace_t *out)
{
    ev_pacer_t p;
    ev_timers_t tm;
    int n = 0;
    ev_pacer_init(&p, &tm, cfg); /* tick 0 */
    for (int64_t k = 0; k <= end_ms; ++k) {
        ev_inputs_t in = {listed(a_ms, k), listed(v_ms, k)};
        if (k == 0) {
            ev_timers_clear_expired(&tm); /* senses at 0 follow the timing start */
        } else {
            ev_timers_tick(&tm);
        }
        ev_outputs_t o = ev_pacer_step(&p, &tm, in);
        if (o.a_pace && n < MAX_PACES) {
            out[n++] = (pace_t){k, 'A'};
        }
        if (o.v_pace && n < MAX_PACES) {
            out[n++] = (pace_t){k, 'V'};
        }
    }
    return n;
}

void expect_paces(const char *name, const pace_t *got, int n_got, const pace_t *want, int n_want)
{
    bool ok = n_got == n_want;
    for (int i = 0; ok && i < n_got; ++i) {
        ok = got[i].t_ms == want[i].t_ms && got[i].chamber == want[i].chamber;
    }
    ev_test_checks++;
    if (ok) {
        return;
    }
    ev_test_failures++;
    fprintf(stderr, "%s: paces differ\n  got     :", name);
    for (int i = 0; i < n_got; ++i) {
        fprintf(stderr, " %c%lld", got[i].chamber, (long long)got[i].t_ms);
    }
    fprintf(stderr, "\n  expected:");
    for (int i = 0; i < n_want; ++i) {
        fprintf(stderr, " %c%lld", want[i].chamber, (long long)want[i].t_ms);
    }
    fprintf(stderr, "\n");
}

int main(void)
{
    test_timers();
    test_config();
    test_pacer();
    test_lines();
    test_lockstep();
    test_realtime();
    printf("ev_tests: %d checks, %d failures\n", ev_test_checks, ev_test_failures);
    return ev_test_failures == 0 ? 0 : 1;
}
