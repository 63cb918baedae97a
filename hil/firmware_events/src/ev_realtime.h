/*
 * ev_realtime.h - the real-time session: the byte mode of docs/protocol.md section 7.1 on the
 * wall clock. Tick k runs at t0 + k ms of the HAL clock (t0: start-up or the last 'R'); tick 0
 * is the timing start itself.
 *
 * - bench to device: 'A' / 'V' at the moment of a sense; it is latched and handled at the first
 *   tick due at or after its receipt (within 1 ms; never at an overdue tick run late, so a
 *   device catching up does not date a sense back); 'R' restarts the timing now (power-on
 *   state, tick 0 at its receipt).
 * - device to bench: 'A' / 'V' at the tick in which it paces.
 * - Any other byte is ignored and counted. Ticks that run more than 1 ms after their time (the
 *   process was not scheduled) are counted as late; none is skipped.
 */
#ifndef EV_REALTIME_H
#define EV_REALTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ev_config.h"
#include "ev_pacer.h"
#include "ev_timers.h"

typedef struct {
    uint32_t bad_bytes;
    uint32_t late_ticks;
    uint32_t senses;
    uint32_t paces;
} ev_realtime_stats_t;

typedef struct {
    ev_config_t cfg;
    ev_timers_t timers;
    ev_pacer_t pacer;
    uint64_t t0_us;     /* HAL time of tick 0 */
    uint64_t next_tick; /* the next tick to run */
    bool a_latched; /* a sense byte waits for its tick */
    bool v_latched;
    uint64_t a_at_us; /* when it was received (HAL time) */
    uint64_t v_at_us;
    ev_realtime_stats_t stats;
} ev_realtime_t;

void ev_realtime_init(ev_realtime_t *s, const ev_config_t *cfg, uint64_t now_us);
/* Bytes received by now_us. */
void ev_realtime_feed(ev_realtime_t *s, const uint8_t *data, size_t len, uint64_t now_us);
/* Run every tick due by now_us (paces go out through hal_link_write); returns the microseconds
 * until the next tick is due. */
uint32_t ev_realtime_poll(ev_realtime_t *s, uint64_t now_us);
/* Serve the HAL link forever. */
void ev_realtime_run(const ev_config_t *cfg);

#endif
