"""The event-level heart's kernel: timers, a conduction table and the AV node, in C.

One :class:`Kernel` is one patient. Its state is a fixed set of timers (integer microseconds,
``NEVER`` when idle): the clocks of the automatic sites, the explicit ectopic beats, the AV
node's one impulse in flight, one pending wave arrival per target site and one pending sense per
chamber. :meth:`Kernel.run` handles the earliest timer again and again, in time order, until it
handles a sense (which it returns) or reaches its limit. The wrapper (``heart.py``) documents
the model; the AV node here follows ``devicetwin.heart.model.Heart`` line for line.
"""

from libc.math cimport exp, log, rint
from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport malloc, realloc, free

import numpy as np
cimport numpy as cnp

cnp.import_array()

cdef extern from *:
    """
    #define FH_NEVER (((int64_t)1) << 62)
    #define FH_RESTED (((int64_t)1) << 40)
    """
    int64_t NEVER "FH_NEVER"
    int64_t RESTED "FH_RESTED"

# sources (rows of the conduction table), in devicetwin.fastheart.timing.SOURCES order
cdef enum:
    S_SINUS = 0
    S_PAC = 1
    S_FLUTTER = 2
    S_AF1 = 3
    S_RETRO = 8
    S_RA_PACE = 9
    S_ANTE = 10
    S_ESCAPE = 11
    S_RV_PACE = 12
    S_PVC = 13
    N_SOURCES = 14
# targets (columns), in TARGETS order
cdef enum:
    T_SINUS = 0
    T_PAC = 1
    T_FLUTTER = 2
    T_AF1 = 3
    T_AV_ENTRY = 8
    T_RA = 9
    T_HIS = 10
    T_ESCAPE = 11
    T_PMJ = 12
    T_RV = 13
    T_PVC = 14
    N_TARGETS = 15
# timers
cdef enum:
    K_SINUS = 0
    K_ESCAPE = 1
    K_PAC = 2
    K_PVC = 3
    K_FOCUS = 4          # flutter (4) and af_1..af_5 (5..9), like the sources 2..7
    K_PAC_LIST = 10
    K_PVC_LIST = 11
    K_AV_EXIT = 12
    K_ARRIVAL = 13       # 13 .. 27: one per target
    K_SENSE_A = 28
    K_SENSE_V = 29
    N_TIMERS = 30
    N_GRID = 43              # couplings of the restitution curves
    N_TISSUES = 3            # atrium, His-Purkinje, ventricle
    N_CYCLES = 10            # previous cycles of the refractory shortening
# origins (devicetwin.heart.events.Origin, in ORIGINS order)
cdef enum:
    O_SINUS = 0
    O_ECTOPIC = 1
    O_PACED = 2
    O_RETROGRADE = 3
    O_ESCAPE = 4
    O_CONDUCTED = 5

#: Origin codes of the activation records, by name (the wrapper maps them to Origin).
ORIGINS = ("sinus", "ectopic", "paced", "retrograde", "escape", "conducted")

cdef inline int64_t _steps(double ms) noexcept nogil:
    """Milliseconds to whole 200 us steps (the cell heart's time step), in microseconds."""
    return <int64_t>rint(ms * 5.0) * 200


cdef inline uint64_t _mix(uint64_t z) noexcept nogil:
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef class Kernel:
    """One patient's event-level heart (see the module docstring and ``heart.py``).

    Built by ``devicetwin.fastheart.heart.FastHeart`` from a Condition; the arguments are that
    condition's numbers (times in microseconds unless named otherwise).
    """

    cdef int64_t due[N_TIMERS]
    cdef int64_t d[N_SOURCES][N_TARGETS]
    cdef int64_t erp_target[N_TARGETS]
    cdef int64_t erp_source[N_SOURCES]
    cdef int64_t prop[N_SOURCES][N_TARGETS]
    cdef int64_t coup[N_SOURCES][N_GRID]
    cdef int64_t extra[N_SOURCES][N_TARGETS][N_GRID]
    cdef int src_site[N_SOURCES]
    cdef int64_t last_arr[N_TARGETS]
    cdef int64_t prev_arr[N_TARGETS]
    cdef int64_t last_spread[N_TARGETS]   # last activation by a wave that spread beyond it
    cdef bint pend_spread[N_TARGETS]
    cdef int tissue[N_TARGETS]
    cdef int64_t cyc[N_TISSUES][N_CYCLES]
    cdef int64_t shift[N_TISSUES][N_CYCLES]
    cdef int pend_src[N_TARGETS]
    cdef int64_t pend_from[N_TARGETS]
    cdef int64_t last_fire[N_SOURCES]
    cdef public int64_t now
    cdef public int64_t sense_t
    cdef uint64_t seed
    # condition
    cdef double sinus_bpm, jitter, pause_p, pause_ms, max_bpm
    cdef int rhythm
    cdef double flutter_ms, af_ms
    cdef int av_mode
    cdef double node_ms, decrement_ms, recovery_ms, av_erp_ms, conceal
    cdef double block_period_s, block_fraction, his_block_p, escape_bpm
    cdef bint retrograde
    cdef double va_ms, va_erp_ms, pac_rate, pvc_rate
    cdef double tau_s, rise_per_min, max_factor
    cdef double rheo[2]
    cdef double chron[2]
    cdef int64_t sense_offset_a, sense_offset_v_bundle, sense_offset_v_muscle
    cdef object pac_list, pvc_list   # the arrays behind pac_times, pvc_times after a change
    cdef const int64_t[::1] pac_times
    cdef const int64_t[::1] pvc_times
    cdef const double[::1] prof_ts
    cdef const double[::1] prof_load
    cdef Py_ssize_t pac_i, pvc_i, n_prof
    cdef int64_t t0_ex, t0_block, t0_thr   # when the exercise, block and threshold began
    # dynamic state
    cdef double tone
    cdef int64_t tone_t
    cdef int inflight           # 0 none, 1 antegrade, 2 retrograde
    cdef int64_t inflight_exit
    cdef int64_t av_last_exit    # -NEVER: never exited
    cdef bint av_exited
    cdef int64_t av_last_ante_exit, av_last_retro_entry, retro_exit_t, ante_exit_t
    cdef int his_origin
    cdef int64_t his_t
    cdef int64_t last_event[2]
    cdef int64_t lockout[2]
    cdef int64_t pace_t[2]       # onset of the pace whose wave is pending at the lead, per site
    cdef int sense_src_v
    # output: activation records
    cdef int64_t *out_t
    cdef signed char *out_rec  # 4 bytes per record: chamber, origin, captured (-1/0/1), site
    cdef Py_ssize_t n_out, cap_out
    cdef public long long n_senses
    cdef object draw
    cdef bint use_draw
    cdef public object arrival_log   # None, or a list that gets (t_us, target index, source)
    cdef object draw_error

    def __cinit__(self):
        self.cap_out = 1024
        self.out_t = <int64_t *> malloc(self.cap_out * sizeof(int64_t))
        self.out_rec = <signed char *> malloc(self.cap_out * 4)
        if self.out_t == NULL or self.out_rec == NULL:
            raise MemoryError()
        self.n_out = 0

    def __dealloc__(self):
        free(self.out_t)
        free(self.out_rec)

    def __init__(self, const int64_t[:, ::1] table, const int64_t[::1] erp_target,
                 const int64_t[::1] erp_source, const int64_t[:, ::1] propagation,
                 const int64_t[:, ::1] coupling, const int64_t[:, :, ::1] extra,
                 const int64_t[::1] target_tissue, const int64_t[:, ::1] cycles,
                 const int64_t[:, ::1] shifts, const int64_t[::1] sense_offsets,
                 unsigned long long seed, dict p,
                 const int64_t[::1] pac_times, const int64_t[::1] pvc_times,
                 const double[::1] profile_t_s, const double[::1] profile_load,
                 draw=None):
        cdef int i, j, g
        if table.shape[0] != N_SOURCES or table.shape[1] != N_TARGETS:
            raise ValueError(f"conduction table of shape {N_SOURCES} x {N_TARGETS} expected")
        if (coupling.shape[0] != N_SOURCES or coupling.shape[1] != N_GRID
                or extra.shape[0] != N_SOURCES or extra.shape[1] != N_TARGETS
                or extra.shape[2] != N_GRID):
            raise ValueError(f"restitution curves of {N_GRID} couplings expected")
        for i in range(N_SOURCES):
            for j in range(N_TARGETS):
                self.d[i][j] = table[i, j]
                self.prop[i][j] = propagation[i, j] if propagation[i, j] >= 0 else NEVER
                for g in range(N_GRID):
                    self.extra[i][j][g] = extra[i, j, g] if extra[i, j, g] > 0 else 0
            for g in range(N_GRID):
                self.coup[i][g] = coupling[i, g]
            self.erp_source[i] = erp_source[i]
            self.last_fire[i] = -NEVER
        if (cycles.shape[0] != N_TISSUES or cycles.shape[1] != N_CYCLES
                or shifts.shape[0] != N_TISSUES or shifts.shape[1] != N_CYCLES):
            raise ValueError(f"refractory shortening of {N_TISSUES} x {N_CYCLES} expected")
        for i in range(N_TISSUES):
            for g in range(N_CYCLES):
                self.cyc[i][g] = cycles[i, g]
                self.shift[i][g] = shifts[i, g]
        for j in range(N_TARGETS):
            self.erp_target[j] = erp_target[j]
            self.tissue[j] = target_tissue[j]
            self.last_arr[j] = -NEVER
            self.prev_arr[j] = -NEVER
            self.last_spread[j] = -NEVER
            self.pend_spread[j] = False
            self.pend_src[j] = -1
            self.pend_from[j] = 0
        own = (T_SINUS, T_PAC, 2, 3, 4, 5, 6, 7, T_AV_ENTRY, T_RA, T_HIS, T_ESCAPE, T_RV, T_PVC)
        for i in range(N_SOURCES):
            self.src_site[i] = own[i]
        self.sense_offset_a = sense_offsets[0]
        self.sense_offset_v_bundle = sense_offsets[1]
        self.sense_offset_v_muscle = sense_offsets[2]
        self.seed = seed
        self.draw = draw
        self.use_draw = draw is not None
        self.draw_error = None
        self.arrival_log = None
        self._set_parameters(p)
        self.t0_ex = 0
        self.t0_block = 0
        self.t0_thr = 0
        self.pac_times = pac_times
        self.pvc_times = pvc_times
        self.prof_ts = profile_t_s
        self.prof_load = profile_load
        self.n_prof = profile_t_s.shape[0]
        self.pac_i = 0
        self.pvc_i = 0
        self.tone = 0.0
        self.tone_t = 0
        self.inflight = 0
        self.inflight_exit = NEVER
        self.av_exited = False
        self.av_last_exit = 0
        self.av_last_ante_exit = -NEVER
        self.av_last_retro_entry = -NEVER
        self.retro_exit_t = -NEVER
        self.ante_exit_t = -NEVER
        self.his_origin = O_CONDUCTED
        self.his_t = -NEVER
        self.last_event[0] = -NEVER
        self.last_event[1] = -NEVER
        self.lockout[0] = 150000
        self.lockout[1] = 200000
        self.pace_t[0] = -NEVER
        self.pace_t[1] = -NEVER
        self.sense_src_v = -1
        self.now = 0
        self.sense_t = -1
        self.n_senses = 0
        for i in range(N_TIMERS):
            self.due[i] = NEVER
        # the clocks start as the cell heart's do (Heart._start_condition)
        self.due[K_SINUS] = 1000
        self.due[K_ESCAPE] = <int64_t>(60000.0 / self.escape_bpm) * 1000
        if self.rhythm == 1:
            self.due[K_FOCUS] = 1000
        elif self.rhythm == 2:
            for i in range(5):
                self.due[K_FOCUS + 1 + i] = (1 + 37 * i) * 1000
        if self.pac_rate > 0:
            self.due[K_PAC] = self._ectopic_interval(4, self.pac_rate, 0)
        if self.pvc_rate > 0:
            self.due[K_PVC] = self._ectopic_interval(5, self.pvc_rate, 0)
        if self.pac_times.shape[0]:
            self.due[K_PAC_LIST] = self.pac_times[0]
        if self.pvc_times.shape[0]:
            self.due[K_PVC_LIST] = self.pvc_times[0]

    cdef int _set_parameters(self, dict p) except -1:
        """The condition's numbers (see ``heart._kernel_parameters``)."""
        self.sinus_bpm = p["sinus_rate_bpm"]
        self.jitter = p["sinus_jitter"]
        self.pause_p = p["sinus_pause_probability"]
        self.pause_ms = p["sinus_pause_ms"]
        self.max_bpm = max(p["max_sinus_rate_bpm"], p["sinus_rate_bpm"])
        self.rhythm = p["rhythm"]
        self.flutter_ms = p["flutter_cycle_ms"]
        self.af_ms = p["af_mean_cycle_ms"]
        self.av_mode = p["av_mode"]
        self.node_ms = p["node_ms"]
        self.decrement_ms = p["av_decrement_ms"]
        self.recovery_ms = p["av_recovery_ms"]
        self.av_erp_ms = p["av_erp_ms"]
        self.conceal = p["av_concealment_fraction"]
        self.block_period_s = p["block_period_s"]
        self.block_fraction = p["block_fraction"]
        self.his_block_p = p["his_block_probability"]
        self.escape_bpm = p["escape_rate_bpm"]
        self.retrograde = p["retrograde"]
        self.va_ms = p["va_conduction_ms"]
        self.va_erp_ms = p["va_erp_ms"]
        self.pac_rate = p["pac_rate_per_min"]
        self.pvc_rate = p["pvc_rate_per_min"]
        self.tau_s = p["exercise_time_constant_s"]
        self.rise_per_min = p["threshold_rise_per_min"]
        self.max_factor = p["threshold_max_factor"]
        self.rheo[0] = p["rheobase_ra_v"]
        self.rheo[1] = p["rheobase_rv_v"]
        self.chron[0] = p["chronaxie_ra_ms"]
        self.chron[1] = p["chronaxie_rv_ms"]
        return 0

    def change(self, int64_t t, dict p, bint exercise, bint block, bint threshold, bint rhythm,
               bint pac_rate, bint pvc_rate, pac_times, pvc_times,
               const double[::1] profile_t_s, const double[::1] profile_load):
        """The condition changes at ``t`` (the heart run to just before it): new numbers; the
        features whose parameters changed restart from ``t`` as the cell heart's do
        (``Heart._start_condition``): the exercise profile, the intermittent-block phase and
        the threshold rise count from ``t``, a new atrial rhythm's drivers start, a changed
        ectopic rate draws its next beat from ``t``, explicit ectopic times (given: not None)
        count from ``t``. The sinus and escape clocks run on."""
        cdef int i
        if self.next_due() < t:
            raise ValueError(f"condition change at {t} us: the heart has events before it "
                             f"(from {self.next_due()} us); run it there first")
        self._set_parameters(p)
        self.prof_ts = profile_t_s
        self.prof_load = profile_load
        self.n_prof = profile_t_s.shape[0]
        if exercise:
            self.t0_ex = t
        if block:
            self.t0_block = t
        if threshold:
            self.t0_thr = t
        if rhythm:
            self.due[K_FOCUS] = t + 1000 if self.rhythm == 1 else NEVER
            for i in range(5):
                self.due[K_FOCUS + 1 + i] = t + (1 + 37 * i) * 1000 if self.rhythm == 2 else NEVER
        if pac_rate:
            self.due[K_PAC] = self._ectopic_interval(4, self.pac_rate, t) if self.pac_rate > 0 else NEVER
        if pvc_rate:
            self.due[K_PVC] = self._ectopic_interval(5, self.pvc_rate, t) if self.pvc_rate > 0 else NEVER
        if pac_times is not None:
            self.pac_list = np.asarray(pac_times, dtype=np.int64) + t
            self.pac_times = self.pac_list
            self.pac_i = 0
            self.due[K_PAC_LIST] = self.pac_times[0] if self.pac_times.shape[0] else NEVER
        if pvc_times is not None:
            self.pvc_list = np.asarray(pvc_times, dtype=np.int64) + t
            self.pvc_times = self.pvc_list
            self.pvc_i = 0
            self.due[K_PVC_LIST] = self.pvc_times[0] if self.pvc_times.shape[0] else NEVER

    # ------------------------------------------------------------------ helpers

    cdef double _py_draw(self, uint64_t stream, int64_t t, uint64_t k) noexcept:
        try:
            return float(self.draw(stream, t // 200, k))
        except BaseException as err:
            if self.draw_error is None:
                self.draw_error = err
            return 0.5

    cdef inline double _uniform(self, uint64_t stream, int64_t t, uint64_t k) noexcept nogil:
        """A uniform draw in [0, 1) keyed by (seed, stream, time, k): chunking-invariant."""
        if self.use_draw:
            with gil:
                return self._py_draw(stream, t, k)
        cdef uint64_t z = _mix(self.seed * 0x9E3779B97F4A7C15ULL + stream)
        z = _mix(z ^ (<uint64_t>t * 0xD1B54A32D192ED03ULL))
        z = _mix(z + k * 0x8CB92BA72F3D8DD7ULL)
        return (z >> 11) * (1.0 / 9007199254740992.0)

    cdef int64_t _ectopic_interval(self, uint64_t stream, double rate, int64_t t) noexcept nogil:
        cdef double u = self._uniform(stream, t, 0)
        cdef double mean_ms = 60000.0 / rate
        if u < 1e-12:
            u = 1e-12
        cdef double interval = -mean_ms * log(u)
        if interval < 300.0:
            interval = 300.0
        return t + _steps(interval)

    cdef double _workload(self, int64_t t) noexcept nogil:
        cdef Py_ssize_t n = self.n_prof, i
        cdef double ts = (t - self.t0_ex) / 1e6, f
        if n == 0:
            return 0.0
        if ts <= self.prof_ts[0]:
            return self.prof_load[0]
        if ts >= self.prof_ts[n - 1]:
            return self.prof_load[n - 1]
        for i in range(1, n):
            if ts < self.prof_ts[i]:
                f = (ts - self.prof_ts[i - 1]) / (self.prof_ts[i] - self.prof_ts[i - 1])
                return self.prof_load[i - 1] + f * (self.prof_load[i] - self.prof_load[i - 1])
        return self.prof_load[n - 1]

    cdef double _update_tone(self, int64_t t) noexcept nogil:
        cdef double dt_s = (t - self.tone_t) / 1e6
        self.tone = self.tone + (self._workload(t) - self.tone) * (1.0 - exp(-dt_s / self.tau_s))
        self.tone_t = t
        return self.tone

    cdef inline double _rate(self) noexcept nogil:
        return self.sinus_bpm + (self.max_bpm - self.sinus_bpm) * self.tone

    cdef int _record(self, int64_t t, int chamber, int origin, int captured, int site) except -1:
        cdef Py_ssize_t n = self.n_out
        cdef int64_t *nt
        cdef signed char *nr
        if n == self.cap_out:
            nt = <int64_t *> realloc(self.out_t, 2 * self.cap_out * sizeof(int64_t))
            if nt == NULL:
                raise MemoryError()
            self.out_t = nt
            nr = <signed char *> realloc(self.out_rec, 2 * self.cap_out * 4)
            if nr == NULL:
                raise MemoryError()
            self.out_rec = nr
            self.cap_out *= 2
        self.out_t[n] = t
        self.out_rec[4 * n] = chamber
        self.out_rec[4 * n + 1] = origin
        self.out_rec[4 * n + 2] = captured
        self.out_rec[4 * n + 3] = site
        self.n_out = n + 1
        return 0

    cdef int _chamber(self, int chamber, int origin, int64_t t) except -1:
        if t - self.last_event[chamber] < self.lockout[chamber]:
            return 0
        self.last_event[chamber] = t
        self._record(t, chamber, origin, -1, -1)
        return 0

    cdef void _set_v_sense(self, int target_src) noexcept nogil:
        """The ventricular sense follows the pending arrival at the RV lead."""
        cdef int64_t arr = self.due[K_ARRIVAL + T_RV]
        cdef int src = self.pend_src[T_RV]
        if arr >= NEVER or src == S_RV_PACE:
            self.due[K_SENSE_V] = NEVER
            return
        if src == S_ANTE or src == S_ESCAPE:
            self.due[K_SENSE_V] = arr + self.sense_offset_v_bundle
        else:
            self.due[K_SENSE_V] = arr + self.sense_offset_v_muscle
        if self.due[K_SENSE_V] < self.now:
            self.due[K_SENSE_V] = self.now

    cdef int64_t _extra(self, int src, int j, int64_t c) noexcept nogil:
        """The restitution of the conduction from ``src`` to ``j`` at coupling ``c`` (us): the
        measured curve, linear between its couplings, fading to 0 over 400 ms after the last."""
        cdef int g
        cdef int64_t lo, hi, tail
        cdef double f
        if c >= self.coup[src][N_GRID - 1]:
            tail = c - self.coup[src][N_GRID - 1]
            if tail >= 400000:
                return 0
            f = self.extra[src][j][N_GRID - 1] * (400000 - tail) / 400000.0
            return <int64_t>rint(f / 200.0) * 200
        if c <= self.coup[src][0]:
            return self.extra[src][j][0]
        for g in range(1, N_GRID):
            hi = self.coup[src][g]
            if c < hi:
                lo = self.coup[src][g - 1]
                f = self.extra[src][j][g - 1] + (self.extra[src][j][g] - self.extra[src][j][g - 1]) * <double>(c - lo) / (hi - lo)
                return <int64_t>rint(f / 200.0) * 200
        return 0

    cdef int64_t _shift(self, int j) noexcept nogil:
        """How much sooner than after rest the tissue at ``j`` recovers, after its last cycle
        (the refractory period's shortening after short cycles), us."""
        cdef int64_t cycle, lo, hi
        cdef int k = self.tissue[j], g
        cdef double f
        if self.prev_arr[j] == -NEVER:
            return 0
        cycle = self.last_arr[j] - self.prev_arr[j]
        if cycle <= self.cyc[k][0]:
            return self.shift[k][0]
        for g in range(1, N_CYCLES):
            hi = self.cyc[k][g]
            if cycle < hi:
                lo = self.cyc[k][g - 1]
                f = self.shift[k][g - 1] + (self.shift[k][g] - self.shift[k][g - 1]) * <double>(cycle - lo) / (hi - lo)
                return <int64_t>f
        return self.shift[k][N_CYCLES - 1]

    cdef bint _stimulate(self, int src, int64_t t) noexcept nogil:
        """A wave starts at ``src`` at ``t``: schedule its arrivals. False if the source's own
        cells were refractory (or about to be reached by another wave) and nothing started.

        The coupling of the way to a target is how long before ``t`` the tissue on it was last
        activated, reckoned from the target's last activation less the conduction time to it
        (in the S1-S2 measurement, exactly the coupling). Below the coupling measured to reach
        the target (``prop``) the wave dies on the way; above it, it conducts more slowly the
        shorter the coupling (``extra``). A wave that dies near its origin leaves the tissue
        beyond it as it was, so the next wave finds it recovered (how a fast driver conducts
        2:1 into the atria).
        """
        cdef int own = self.src_site[src]
        cdef int64_t c, c_src, c_way, at_own, arr, dj, sh
        cdef int j, n = 0
        cdef bint spread
        c = t + self.d[src][own] - self.last_arr[own] + self._shift(own)
        if c < self.erp_source[src]:
            return False
        # the tissue next to the source: as the last wave that left it found it
        c_src = t + self.d[src][own] - self.last_spread[own] + self._shift(own)
        if c_src > RESTED:
            c_src = RESTED
        at_own = t + self.d[src][own] + self._extra(src, own, c)
        if self.due[K_ARRIVAL + own] <= at_own:
            return False
        for j in range(N_TARGETS):
            dj = self.d[src][j]
            if dj < 0:
                continue
            sh = self._shift(j)
            c = t + dj - self.last_arr[j] + sh
            if c > RESTED:
                c = RESTED
            c_way = c
            if j != own:
                # the way from the source to the target: it blocks where it is least
                # recovered, and slows in proportion to its mean recovery (both ends')
                c_way = (c + c_src) // 2
                if c_src < c:
                    c = c_src
            if c < self.prop[src][j]:
                continue
            arr = t + dj + self._extra(src, j, c_way)
            if self.due[K_ARRIVAL + j] <= arr:
                continue  # an earlier wave gets there first
            if arr - self.last_arr[j] + sh < self.erp_target[j]:
                continue  # refractory there
            self.due[K_ARRIVAL + j] = arr
            self.pend_src[j] = src
            self.pend_from[j] = t
            n += 1
        spread = n > 1
        for j in range(N_TARGETS):
            if self.pend_src[j] == src and self.pend_from[j] == t:
                self.pend_spread[j] = spread
        if self.pend_src[T_RV] == src and self.pend_from[T_RV] == t:
            self._set_v_sense(src)
        return True

    # ------------------------------------------------------------------ AV node

    cdef bint _av_block_now(self, int64_t t) noexcept nogil:
        cdef double t_s, phase
        if self.av_mode == 1:
            return True
        if self.av_mode == 2:
            t_s = (t - self.t0_block) / 1e6
            phase = (t_s - self.block_period_s * <int64_t>(t_s / self.block_period_s))
            phase /= self.block_period_s
            return phase >= 1.0 - self.block_fraction
        return False

    cdef inline double _av_erp(self) noexcept nogil:
        return self.av_erp_ms * (1.0 - 0.45 * self.tone)

    cdef void _av_antegrade(self, int64_t t) noexcept nogil:
        cdef double erp, delay, r_ms
        cdef int64_t ex
        if self.inflight != 0:
            if self.inflight == 2:  # collision inside the node
                self.inflight = 0
                self.due[K_AV_EXIT] = NEVER
                self.av_last_exit = t
                self.av_exited = True
            return
        if self._av_block_now(t):
            return
        erp = self._av_erp()
        delay = self.node_ms * (1.0 - 0.4 * self.tone)
        if self.av_exited:
            r_ms = (t - self.av_last_exit) / 1000.0
            if r_ms < erp:
                if r_ms >= self.conceal * erp:
                    self.av_last_exit = t  # concealed conduction
                return
            delay += self.decrement_ms * (1.0 - 0.5 * self.tone) * exp(-(r_ms - erp) / self.recovery_ms)
        ex = t + _steps(delay)
        if ex < t + 200:
            ex = t + 200
        self.inflight = 1
        self.inflight_exit = ex
        self.due[K_AV_EXIT] = ex

    cdef void _av_retrograde(self, int64_t t, int64_t from_us) noexcept nogil:
        cdef int64_t ex
        if not self.retrograde:
            return
        if self.inflight != 0:
            if self.inflight == 1:
                self.inflight = 0
                self.due[K_AV_EXIT] = NEVER
                self.av_last_exit = t
                self.av_exited = True
            return
        if t < self.av_last_ante_exit + <int64_t>(self._av_erp() * 1000.0):
            return
        if t < self.av_last_retro_entry + <int64_t>(self.va_erp_ms * 1000.0):
            return
        self.av_last_retro_entry = t
        ex = (<int64_t>rint((from_us + self.va_ms * 1000.0) / 200.0)
              - self.d[S_RETRO][T_RA] // 200) * 200
        if ex < t + 200:
            ex = t + 200
        self.inflight = 2
        self.inflight_exit = ex
        self.due[K_AV_EXIT] = ex

    cdef void _av_exit(self, int64_t t) noexcept nogil:
        cdef int kind = self.inflight
        self.inflight = 0
        self.due[K_AV_EXIT] = NEVER
        self.av_last_exit = t
        self.av_exited = True
        if kind == 1:
            self.av_last_ante_exit = t
            if self.his_block_p > 0 and self._uniform(9, t, 0) < self.his_block_p:
                return  # infranodal (Mobitz II) block
            self.ante_exit_t = t
            self._stimulate(S_ANTE, t)
        elif kind == 2:
            self.retro_exit_t = t
            self._stimulate(S_RETRO, t)

    # ------------------------------------------------------------------ clocks

    cdef void _fire(self, int k, int64_t t) noexcept nogil:
        cdef double cycle, u0, u1, rate
        cdef int focus
        if k == K_SINUS:
            self.last_fire[S_SINUS] = t
            self._stimulate(S_SINUS, t)
            self._update_tone(t)
            rate = self._rate()
            u0 = self._uniform(1, t, 0)
            u1 = self._uniform(1, t, 1)
            cycle = 60000.0 / rate * (1.0 + self.jitter * (2.0 * u0 - 1.0))
            if u1 < self.pause_p:
                cycle += self.pause_ms
            self.due[K_SINUS] = t + max(<int64_t>200, _steps(cycle))
        elif k == K_ESCAPE:
            self.last_fire[S_ESCAPE] = t
            self._stimulate(S_ESCAPE, t)
            u0 = self._uniform(2, t, 0)
            cycle = 60000.0 / self.escape_bpm * (1.0 + 0.03 * (2.0 * u0 - 1.0))
            self.due[K_ESCAPE] = t + max(<int64_t>200, _steps(cycle))
        elif k == K_PAC:
            self.last_fire[S_PAC] = t
            self._stimulate(S_PAC, t)
            self.due[K_PAC] = self._ectopic_interval(4, self.pac_rate, t)
        elif k == K_PVC:
            self.last_fire[S_PVC] = t
            self._stimulate(S_PVC, t)
            self.due[K_PVC] = self._ectopic_interval(5, self.pvc_rate, t)
        elif k == K_PAC_LIST:
            self.last_fire[S_PAC] = t
            self._stimulate(S_PAC, t)
            self.pac_i = self.pac_i + 1
            self.due[k] = self.pac_times[self.pac_i] if self.pac_i < self.pac_times.shape[0] else NEVER
        elif k == K_PVC_LIST:
            self.last_fire[S_PVC] = t
            self._stimulate(S_PVC, t)
            self.pvc_i = self.pvc_i + 1
            self.due[k] = self.pvc_times[self.pvc_i] if self.pvc_i < self.pvc_times.shape[0] else NEVER
        else:  # flutter / fibrillation drivers
            focus = k - K_FOCUS  # 0 flutter, 1..5 af
            self.last_fire[S_FLUTTER + focus] = t
            self._stimulate(S_FLUTTER + focus, t)
            if focus == 0:
                cycle = self.flutter_ms
            else:
                cycle = self.af_ms * (0.6 + 0.8 * self._uniform(20 + focus - 1, t, 0))
            self.due[k] = t + max(<int64_t>200, _steps(cycle))

    # ------------------------------------------------------------------ arrivals

    cdef int _arrive(self, int j, int64_t t) except -1:
        cdef int src = self.pend_src[j]
        cdef int64_t from_us = self.pend_from[j]
        cdef int site
        self.due[K_ARRIVAL + j] = NEVER
        self.pend_src[j] = -1
        self.prev_arr[j] = self.last_arr[j]
        self.last_arr[j] = t
        if self.pend_spread[j]:
            self.last_spread[j] = t
        if self.arrival_log is not None:
            self.arrival_log.append((t, j, src))
        if j == T_SINUS:
            if t - self.last_fire[S_SINUS] > 10000:
                self.due[K_SINUS] = t + _steps(60000.0 / self._rate())
            self._chamber(0, O_SINUS, t)
        elif j == T_AV_ENTRY:
            self._chamber(0, O_RETROGRADE if t - self.retro_exit_t <= 10000 else O_SINUS, t)
            self._av_antegrade(t)
        elif j == T_RA or j == T_RV:
            site = 0 if j == T_RA else 1
            if src == (S_RA_PACE if site == 0 else S_RV_PACE):
                # the pace captured: its record carries its onset
                self._record(from_us, site, O_PACED, 1, site)
                if t - self.last_event[site] >= self.lockout[site]:
                    self.last_event[site] = t
            else:
                self._chamber(site, O_ECTOPIC, t)
                from_us = t
                if site == 0:
                    self.due[K_SENSE_A] = t + self.sense_offset_a
            if site == 1:
                self._av_retrograde(t, from_us)
        elif j == T_HIS:
            if t - self.ante_exit_t <= 10000:
                self.his_origin = O_CONDUCTED
                self.his_t = t
        elif j == T_ESCAPE:
            if t - self.last_fire[S_ESCAPE] <= 10000:
                self.his_origin = O_ESCAPE
                self.his_t = t
            else:
                self.due[K_ESCAPE] = t + <int64_t>(60000.0 / self.escape_bpm * 5.0) * 200
        elif j == T_PMJ:
            self._chamber(1, self.his_origin if t - self.his_t <= 150000 else O_CONDUCTED, t)
        elif j == T_PVC:
            self._chamber(1, O_ECTOPIC, t)
        else:  # an atrial focus' cells (pac, flutter, af)
            self._chamber(0, O_ECTOPIC, t)
        return 0

    # ------------------------------------------------------------------ public

    cpdef int run(self, int64_t limit) except -2:
        """Handle every timer due at or before ``limit`` in time order, stopping after a sense.

        Returns the sensed chamber (0 atrial, 1 ventricular; its time in ``sense_t``) or -1
        when ``limit`` was reached (``now`` is then ``limit``).
        """
        cdef int k, kmin
        cdef int64_t tmin
        while True:
            kmin = -1
            tmin = NEVER
            for k in range(N_TIMERS):
                if self.due[k] < tmin:
                    tmin = self.due[k]
                    kmin = k
            if kmin < 0 or tmin > limit:
                if limit > self.now:
                    self.now = limit
                return -1
            self.now = tmin
            if kmin >= K_ARRIVAL and kmin < K_SENSE_A:
                self._arrive(kmin - K_ARRIVAL, tmin)
            elif kmin == K_SENSE_A or kmin == K_SENSE_V:
                self.due[kmin] = NEVER
                self.sense_t = tmin
                self.n_senses += 1
                return kmin - K_SENSE_A
            elif kmin == K_AV_EXIT:
                self._av_exit(tmin)
            else:
                self._fire(kmin, tmin)
            if self.use_draw and self.draw_error is not None:
                err, self.draw_error = self.draw_error, None
                raise err

    cpdef int64_t next_due(self):
        """When the next timer is due (us; 2**62 when none is)."""
        cdef int k
        cdef int64_t tmin = NEVER
        for k in range(N_TIMERS):
            if self.due[k] < tmin:
                tmin = self.due[k]
        return tmin

    cpdef double threshold_factor(self, int64_t t):
        """The capture threshold's factor at ``t`` (threshold rise, capped)."""
        cdef double f = 1.0 + self.rise_per_min * (t - self.t0_thr) / 6e7
        return f if f < self.max_factor else self.max_factor

    cpdef bint pace(self, int64_t t, int site, double amplitude_v, int64_t width_us) except -1:
        """A pace at ``t`` (not before ``now``) at site 0 (RA) or 1 (RV); returns whether its
        pulse reached threshold (Weiss/Lapicque times the threshold factor). A pulse below
        threshold, or one that finds the lead's cells refractory, is recorded not captured."""
        cdef double thr
        cdef int src = S_RA_PACE if site == 0 else S_RV_PACE
        cdef int lead = T_RA if site == 0 else T_RV
        cdef int64_t other, ton
        if t < self.now:
            raise ValueError(f"pace at {t} us before the heart's time {self.now} us")
        if self.next_due() < t:
            raise ValueError(f"pace at {t} us: the heart has events before it "
                             f"(from {self.next_due()} us); run it to the pace first")
        thr = self.rheo[site] * (1.0 + self.chron[site] * 1000.0 / width_us)
        thr *= self.threshold_factor(t)
        if amplitude_v < thr:
            self._record(t, site, O_PACED, 0, site)
            return False
        other = self.due[K_ARRIVAL + lead]
        # the capture current starts at the cell heart's next step
        ton = ((t + 199) // 200) * 200
        if self.last_arr[lead] >= ton:
            other = ton  # the lead's cells activated in the pace's own step: its capture
        if self._stimulate(src, ton):
            if self.pend_src[lead] != src:
                # another wave reaches the lead's cells first: the cell heart counts that
                # crossing, inside the capture window, as the pace's capture (fusion)
                self._record(t, site, O_PACED, 1, site)
            elif site == 1:
                self._set_v_sense(src)
            return True
        # the lead's cells were refractory, or another wave reaches them within the window
        self._record(t, site, O_PACED, 1 if other <= t + 15000 else 0, site)
        return True

    def records(self):
        """The activation records so far as arrays: times (us), chamber, origin, captured
        (-1 none, 0, 1), site (-1 none, 0 RA, 1 RV)."""
        cdef Py_ssize_t n = self.n_out, i
        t = np.empty(n, dtype=np.int64)
        rec = np.empty((n, 4), dtype=np.int8)
        cdef int64_t[::1] tv = t
        cdef signed char[:, ::1] rv = rec
        for i in range(n):
            tv[i] = self.out_t[i]
            rv[i, 0] = self.out_rec[4 * i]
            rv[i, 1] = self.out_rec[4 * i + 1]
            rv[i, 2] = self.out_rec[4 * i + 2]
            rv[i, 3] = self.out_rec[4 * i + 3]
        return t, rec
