/* fw_frontend.c - A-16 baseline-removal filter and threshold detector. */
#include "fw_frontend.h"

#include <string.h>

void fw_frontend_init(fw_frontend_t *fe, uint32_t sensitivity_uv)
{
    memset(fe, 0, sizeof(*fe));
    fw_frontend_set_sensitivity(fe, sensitivity_uv);
    fe->dead_time_ms = FW_FE_DEAD_TIME_MS;
}

void fw_frontend_set_sensitivity(fw_frontend_t *fe, uint32_t sensitivity_uv)
{
    fe->threshold = (int32_t)(16u * sensitivity_uv);
}

int32_t fw_frontend_filter(fw_frontend_t *fe, int16_t x_uv)
{
    int32_t y = 16 * (int32_t)x_uv - fe->sum;
    fe->sum += (int32_t)x_uv - (int32_t)fe->hist[fe->pos];
    fe->hist[fe->pos] = x_uv;
    fe->pos = (uint8_t)((fe->pos + 1u) & (FW_FE_TAPS - 1u));
    return y;
}

bool fw_frontend_step(fw_frontend_t *fe, int16_t x_uv)
{
    int32_t y = fw_frontend_filter(fe, x_uv);
    if (fe->dead_left != 0u) {
        fe->dead_left--;
        return false;
    }
    int32_t mag = y < 0 ? -y : y;
    if (mag >= fe->threshold) {
        /* This sample is n; n+1 .. n+dead-1 are dead, n+dead may detect again. */
        fe->dead_left = fe->dead_time_ms > 0u ? fe->dead_time_ms - 1u : 0u;
        return true;
    }
    return false;
}
