/* ev_timers.c - count-down timers ticked at 1 kHz (see ev_timers.h for the contract). */
#include "ev_timers.h"

#include <string.h>

#define BIT(id) ((uint16_t)(1u << (unsigned)(id)))

void ev_timers_init(ev_timers_t *tm)
{
    memset(tm, 0, sizeof(*tm));
}

void ev_timers_tick(ev_timers_t *tm)
{
    tm->expired = 0u;
    for (int id = 0; id < (int)EV_T_COUNT; ++id) {
        if ((tm->running & BIT(id)) == 0u) {
            continue;
        }
        tm->remaining_ms[id] -= 1u;
        if (tm->remaining_ms[id] == 0u) {
            tm->running = (uint16_t)(tm->running & ~BIT(id));
            tm->expired = (uint16_t)(tm->expired | BIT(id));
        }
    }
}

void ev_timers_clear_expired(ev_timers_t *tm)
{
    tm->expired = 0u;
}

void ev_timer_start(ev_timers_t *tm, ev_timer_id_t id, uint32_t length_ms)
{
    tm->remaining_ms[id] = length_ms == 0u ? 1u : length_ms;
    tm->running = (uint16_t)(tm->running | BIT(id));
    tm->expired = (uint16_t)(tm->expired & ~BIT(id));
}

void ev_timer_stop(ev_timers_t *tm, ev_timer_id_t id)
{
    tm->running = (uint16_t)(tm->running & ~BIT(id));
    tm->expired = (uint16_t)(tm->expired & ~BIT(id));
}

bool ev_timer_running(const ev_timers_t *tm, ev_timer_id_t id)
{
    return (tm->running & BIT(id)) != 0u;
}

bool ev_timer_expired(const ev_timers_t *tm, ev_timer_id_t id)
{
    return (tm->expired & BIT(id)) != 0u;
}
