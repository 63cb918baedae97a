/*
 * fw_frontend.h - the sensing front end of docs/assumptions.md A-16, bit-exact integer arithmetic.
 *
 * y16[n] = 16*x[n] - sum(x[n-16..n-1])   (samples before the start count as 0)
 * detection at the first n with |y16[n]| >= 16*sensitivity_uv outside the 50 ms dead time.
 * The front end knows nothing of timing state: blanking and classification are the engine's job.
 */
#ifndef FW_FRONTEND_H
#define FW_FRONTEND_H

#include <stdbool.h>
#include <stdint.h>

#define FW_FE_TAPS 16u
#define FW_FE_DEAD_TIME_MS 50u /* default of detection_dead_time_ms */

typedef struct {
    int16_t hist[FW_FE_TAPS]; /* previous 16 samples, ring buffer */
    int32_t sum;              /* sum of hist */
    uint8_t pos;              /* next slot to overwrite (oldest sample) */
    uint32_t dead_left;       /* samples left before the next detection may be made */
    int32_t threshold;        /* 16 * sensitivity_uv */
    uint32_t dead_time_ms;    /* detection dead time, default 50 */
} fw_frontend_t;

void fw_frontend_init(fw_frontend_t *fe, uint32_t sensitivity_uv);
void fw_frontend_set_sensitivity(fw_frontend_t *fe, uint32_t sensitivity_uv);
/* The filter output for one sample; also advances the filter state. */
int32_t fw_frontend_filter(fw_frontend_t *fe, int16_t x_uv);
/* Feed one 1 kHz sample; true when it is a detection. */
bool fw_frontend_step(fw_frontend_t *fe, int16_t x_uv);

#endif
