/* ev_lockstep.c - lock-step session over the line protocol (contract in ev_lockstep.h). */
#include "ev_lockstep.h"

#include <stdio.h>
#include <string.h>

#include "ev_hal.h"
#include "ev_version.h"

static void flush(ev_lockstep_t *s)
{
    if (s->out_len > 0u) {
        hal_link_write(s->out, s->out_len);
        s->out_len = 0u;
    }
}

/* Append one formatted line (at most EV_LINE_MAX * 3 bytes) to the answer. */
static void emit(ev_lockstep_t *s, const char *line, size_t n)
{
    if (s->out_len + n > EV_OUT_CAP) {
        flush(s);
    }
    memcpy(s->out + s->out_len, line, n);
    s->out_len += n;
}

static void emit_pace(ev_lockstep_t *s, char chamber, uint64_t t_us)
{
    char line[EV_LINE_MAX];
    bool atrial = chamber == 'A';
    size_t n = ev_format_pace(line, sizeof(line), chamber, t_us, s->cfg.pace_details != 0u,
                              atrial ? s->cfg.a_amplitude_mv : s->cfg.v_amplitude_mv,
                              atrial ? s->cfg.a_width_us : s->cfg.v_width_us);
    emit(s, line, n);
}

static void emit_end(ev_lockstep_t *s)
{
    char line[2];
    emit(s, line, ev_format_end(line, sizeof(line)));
    flush(s);
}

/* Console note quoting a line, non-printable bytes as \xNN. */
static void note(const char *what, const char *text, uint64_t clock_us)
{
    char msg[EV_LINE_MAX * 4u + 96u];
    size_t n = (size_t)snprintf(msg, sizeof(msg), "%s (clock %llu us): '", what,
                                (unsigned long long)clock_us);
    for (const unsigned char *c = (const unsigned char *)text; *c != 0u; ++c) {
        if (*c >= 0x20u && *c < 0x7fu && *c != '\'' && *c != '\\') {
            msg[n++] = (char)*c;
        } else {
            n += (size_t)snprintf(msg + n, sizeof(msg) - n, "\\x%02x", (unsigned)*c);
        }
    }
    (void)snprintf(msg + n, sizeof(msg) - n, "'\n");
    hal_console(msg);
}

static void timing_start(ev_lockstep_t *s)
{
    ev_pacer_init(&s->pacer, &s->timers, &s->cfg); /* this is tick 0 */
    s->last_tick_ms = 0;
    s->clock_us = 0u;
    s->last_bench_us = 0u;
    s->n_pending = 0u;
}

void ev_lockstep_init(ev_lockstep_t *s, const ev_config_t *cfg)
{
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    ev_line_reader_init(&s->reader);
    timing_start(s);
}

/* One 1 ms tick: the queued senses up to its time, then the timers, then the logic. */
static ev_outputs_t run_tick(ev_lockstep_t *s, int64_t k)
{
    uint64_t k_us = (uint64_t)k * 1000u;
    ev_inputs_t in = {false, false};
    size_t used = 0u;
    while (used < s->n_pending && s->pending[used].t_us <= k_us) {
        if (s->pending[used].chamber == 'A') {
            in.a_sense = true;
        } else {
            in.v_sense = true;
        }
        used++;
    }
    if (used > 0u) {
        memmove(s->pending, s->pending + used, (s->n_pending - used) * sizeof(s->pending[0]));
        s->n_pending -= used;
    }
    ev_timers_tick(&s->timers);
    return ev_pacer_step(&s->pacer, &s->timers, in);
}

static void on_time(ev_lockstep_t *s, uint64_t t_us)
{
    int64_t target = (int64_t)(t_us / 1000u);
    while (s->last_tick_ms < target) {
        int64_t k = s->last_tick_ms + 1;
        ev_outputs_t out = run_tick(s, k);
        s->last_tick_ms = k;
        uint64_t k_us = (uint64_t)k * 1000u;
        if (out.a_pace) {
            emit_pace(s, 'A', k_us);
        }
        if (out.v_pace) {
            emit_pace(s, 'V', k_us);
        }
        if ((out.a_pace || out.v_pace) && s->session) {
            /* early stop: the clock is the pace; later senses will be sent again */
            s->stats.discarded += (uint32_t)s->n_pending;
            s->n_pending = 0u;
            s->clock_us = k_us;
            s->last_bench_us = k_us;
            emit_end(s);
            return;
        }
    }
    s->clock_us = t_us;
    s->last_bench_us = t_us;
    emit_end(s);
}

static void on_sense(ev_lockstep_t *s, char chamber, uint64_t t_us, const char *text)
{
    uint64_t tick = t_us / 1000u + (t_us % 1000u != 0u ? 1u : 0u);
    if ((int64_t)tick <= s->last_tick_ms) {
        /* at the clock, after its tick ran: handled now, after that tick's paces */
        ev_inputs_t in = {chamber == 'A', chamber == 'V'};
        ev_timers_clear_expired(&s->timers);
        (void)ev_pacer_step(&s->pacer, &s->timers, in); /* no expiry: never paces */
        return;
    }
    if (s->n_pending == EV_MAX_PENDING) {
        s->stats.overflows++;
        note("sense dropped, queue full", text, s->clock_us);
        return;
    }
    s->pending[s->n_pending].t_us = t_us;
    s->pending[s->n_pending].chamber = chamber;
    s->n_pending++;
}

static void on_reset(ev_lockstep_t *s)
{
    char line[EV_LINE_MAX * 3u];
    timing_start(s);
    s->session = true;
    size_t n = ev_format_identity(line, sizeof(line), EV_DEVICE_NAME, EV_DEVICE_VERSION,
                                  EV_SOURCE_SHA256, EV_DEVICE_CAPS);
    emit(s, line, n);
    emit_end(s);
}

static void on_line(ev_lockstep_t *s, const ev_line_t *line)
{
    if (line->kind == EV_LINE_BAD) {
        s->stats.bad_lines++;
        note("bad line ignored", line->text, s->clock_us);
        return;
    }
    if (line->kind == EV_LINE_RESET) {
        s->stats.lines++;
        on_reset(s);
        return;
    }
    if (line->t_us < s->clock_us || line->t_us < s->last_bench_us) {
        s->stats.time_errors++;
        note("time went back, line ignored", line->text, s->clock_us);
        return;
    }
    s->stats.lines++;
    s->last_bench_us = line->t_us;
    if (line->kind == EV_LINE_TIME) {
        on_time(s, line->t_us);
    } else {
        on_sense(s, line->kind == EV_LINE_SENSE_A ? 'A' : 'V', line->t_us, line->text);
    }
}

void ev_lockstep_feed(ev_lockstep_t *s, const uint8_t *data, size_t len)
{
    ev_line_t line;
    for (size_t i = 0; i < len; ++i) {
        if (ev_line_feed(&s->reader, data[i], &line)) {
            on_line(s, &line);
        }
    }
}

void ev_lockstep_run(const ev_config_t *cfg)
{
    static ev_lockstep_t session;
    uint8_t buf[256];
    ev_lockstep_init(&session, cfg);
    for (;;) {
        size_t n = hal_link_read(buf, sizeof(buf));
        if (n > 0u) {
            ev_lockstep_feed(&session, buf, n);
        } else {
            hal_wait_us(100000u);
        }
    }
}
