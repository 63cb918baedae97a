/*
 * ev_lockstep.h - the lock-step session: the line protocol of docs/protocol.md section 7 with
 * virtual time. The device's time moves only with the bench's "T <t_us>" marks: it runs its 1 ms
 * ticks k with k * 1000 <= t_us and answers the paces of those ticks, then ".".
 *
 * - The timing start (power-on, R) is tick 0: the first escape interval starts at time 0.
 * - A sense "A|V <t_us>" is queued and handled at the first tick at or after it (tick
 *   ceil(t_us / 1000)), before that tick's timers (senses at t are handled before timers
 *   expiring at t). Several senses of one chamber in one tick count as one. A sense at exactly the
 *   device's clock whose tick already ran (sent after the "T" for that time, or at time 0 right
 *   after the timing start) is handled at once, after everything the device did in that tick.
 * - "R" returns the device to its power-on state with its clock at 0, answers the identity line
 *   and ".", and turns the capabilities on for the session (before any R, time zero is the first
 *   line and the device behaves as a base-protocol device).
 * - Early stop (after R): on "T t" the device stops after the first tick that paced, at t_p <= t,
 *   answers that tick's paces and "."; its clock is t_p, and the senses it was sent with times
 *   after t_p are discarded.
 * - Bad lines, times that go back (before the clock or an earlier bench time) and senses that
 *   overflow the queue are ignored and counted; the console says why.
 */
#ifndef EV_LOCKSTEP_H
#define EV_LOCKSTEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ev_config.h"
#include "ev_lines.h"
#include "ev_pacer.h"
#include "ev_timers.h"

#define EV_MAX_PENDING 64u /* senses held between two T marks (the protocol guarantees 32) */
#define EV_OUT_CAP 512u

typedef struct {
    uint64_t t_us;
    char chamber; /* 'A' or 'V' */
} ev_pending_t;

typedef struct {
    uint32_t lines;       /* good lines handled */
    uint32_t bad_lines;   /* not in the grammar or too long */
    uint32_t time_errors; /* a time before the clock or before an earlier bench time */
    uint32_t overflows;   /* senses dropped: queue full */
    uint32_t discarded;   /* senses discarded by early stops */
} ev_lockstep_stats_t;

typedef struct {
    ev_config_t cfg;
    ev_timers_t timers;
    ev_pacer_t pacer;
    ev_line_reader_t reader;
    int64_t last_tick_ms;   /* the last tick run; tick 0 is the timing start itself */
    uint64_t clock_us;      /* the last mark answered, or the early-stop pace */
    uint64_t last_bench_us; /* the latest bench time since the clock was set */
    bool session;           /* an R began this session: capabilities on */
    ev_pending_t pending[EV_MAX_PENDING];
    size_t n_pending;
    ev_lockstep_stats_t stats;
    uint8_t out[EV_OUT_CAP];
    size_t out_len;
} ev_lockstep_t;

/* Power-on state: timing started at time 0, no session (base protocol until an R). */
void ev_lockstep_init(ev_lockstep_t *s, const ev_config_t *cfg);
/* Handle received bytes; answers go out through hal_link_write. */
void ev_lockstep_feed(ev_lockstep_t *s, const uint8_t *data, size_t len);
/* Serve the HAL link forever. */
void ev_lockstep_run(const ev_config_t *cfg);

#endif
