/* ev_realtime.c - real-time session in the byte mode (contract in ev_realtime.h). */
#include "ev_realtime.h"

#include <string.h>

#include "ev_hal.h"

void ev_realtime_init(ev_realtime_t *s, const ev_config_t *cfg, uint64_t now_us)
{
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    ev_pacer_init(&s->pacer, &s->timers, &s->cfg); /* tick 0 */
    s->t0_us = now_us;
    s->next_tick = 1u;
}

void ev_realtime_feed(ev_realtime_t *s, const uint8_t *data, size_t len, uint64_t now_us)
{
    for (size_t i = 0; i < len; ++i) {
        switch (data[i]) {
        case 'A':
            if (!s->a_latched) {
                s->a_latched = true;
                s->a_at_us = now_us;
            }
            s->stats.senses++;
            break;
        case 'V':
            if (!s->v_latched) {
                s->v_latched = true;
                s->v_at_us = now_us;
            }
            s->stats.senses++;
            break;
        case 'R':
            ev_pacer_init(&s->pacer, &s->timers, &s->cfg);
            s->t0_us = now_us;
            s->next_tick = 1u;
            s->a_latched = false;
            s->v_latched = false;
            break;
        default:
            s->stats.bad_bytes++;
            break;
        }
    }
}

uint32_t ev_realtime_poll(ev_realtime_t *s, uint64_t now_us)
{
    for (;;) {
        uint64_t due = s->t0_us + s->next_tick * 1000u;
        if (now_us < due) {
            return (uint32_t)(due - now_us);
        }
        if (now_us - due > 1000u) {
            s->stats.late_ticks++;
        }
        /* a sense belongs to the first tick at or after its receipt, never to an overdue tick
         * run late in a catch-up */
        ev_inputs_t in = {s->a_latched && due >= s->a_at_us, s->v_latched && due >= s->v_at_us};
        s->a_latched = s->a_latched && !in.a_sense;
        s->v_latched = s->v_latched && !in.v_sense;
        ev_timers_tick(&s->timers);
        ev_outputs_t out = ev_pacer_step(&s->pacer, &s->timers, in);
        uint8_t bytes[2];
        size_t n = 0u;
        if (out.a_pace) {
            bytes[n++] = (uint8_t)'A';
        }
        if (out.v_pace) {
            bytes[n++] = (uint8_t)'V';
        }
        if (n > 0u) {
            s->stats.paces += (uint32_t)n;
            hal_link_write(bytes, n);
        }
        s->next_tick++;
    }
}

void ev_realtime_run(const ev_config_t *cfg)
{
    static ev_realtime_t session;
    uint8_t buf[64];
    ev_realtime_init(&session, cfg, hal_now_us());
    for (;;) {
        size_t n = hal_link_read(buf, sizeof(buf));
        if (n > 0u) {
            ev_realtime_feed(&session, buf, n, hal_now_us());
        }
        uint32_t wait_us = ev_realtime_poll(&session, hal_now_us());
        hal_wait_us(wait_us);
    }
}
