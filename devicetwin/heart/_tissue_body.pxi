"""Tissue kernel: explicit Euler for the membrane potential, Rush-Larsen for the MS gate.

The gate's switch ``v < v_gate`` is written ``0.5 + 0.5 * copysign(1, v_gate - v)`` (1 below the
gate, 0 above; 1 exactly at it), which compiles to a select rather than a branch.

The graph Laplacian is stored as two fixed-offset diagonals (neighbour ``i+1`` with conductance
``gr[i]`` and neighbour ``i+width`` with ``gd[i]``, both symmetric) plus a CSR remainder holding
every other edge. The diagonal part is one branch-free loop per tissue segment (scalar ionic
parameters per segment), which the compiler vectorises; the remainder and the stimuli are added
after it (operator splitting, the same order as :mod:`devicetwin.heart.reference`).

Arrays carrying the potential are padded by ``pad`` cells on both sides so neighbour loads
never leave the buffer; the conductances into padding are zero.
"""

from types import MemberDescriptorType

import numpy as np

cimport cython
cimport numpy as cnp
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.object cimport PyTypeObject
from libc.math cimport copysign

cdef extern from *:
    """
    #if defined(__SSE2__)
    #include <xmmintrin.h>
    /* flush denormals to zero while the kernel runs: a membrane potential decaying towards
       rest through a long pause would otherwise slow every operation a hundredfold */
    static inline unsigned int devicetwin_ftz_on(void) {
        unsigned int csr = _mm_getcsr();
        _mm_setcsr(csr | 0x8040u);
        return csr;
    }
    static inline void devicetwin_ftz_off(unsigned int csr) { _mm_setcsr(csr); }
    #else
    static inline unsigned int devicetwin_ftz_on(void) { return 0u; }
    static inline void devicetwin_ftz_off(unsigned int csr) { (void)csr; }
    #endif
    """
    unsigned int devicetwin_ftz_on() noexcept nogil
    void devicetwin_ftz_off(unsigned int csr) noexcept nogil

cnp.import_array()

cdef extern from "Python.h":
    object PyType_GenericAlloc(PyTypeObject* type, Py_ssize_t nitems)
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member

cdef extern from "structmember.h":
    int PyMember_SetOne(char* addr, PyMemberDef* m, object v) except -1

MODEL_MS = 0
MODEL_AP = 1


cdef inline void _ms_segment(const double* vo, double* vn, double* h, const double* gr,
                             const double* gd, Py_ssize_t w, Py_ssize_t i0, Py_ssize_t i1,
                             const double* par) noexcept nogil:
    # vo, vn, gr, gd point at cell 0 (past the padding); conductances are pre-multiplied by dt.
    # par = [A = dt/tau_in, B = 1 - dt/tau_out, v_gate, em, de, c0, c1]; see ionic.MSParams.row.
    cdef Py_ssize_t i
    cdef double vi, hi, lap, q, e
    cdef double A = par[0], B = par[1], vg = par[2], em = par[3], de = par[4]
    cdef double c0 = par[5], c1 = par[6]
    cdef const double* vup = vo - w
    cdef const double* vdn = vo + w
    cdef const double* gup = gd - w
    if w > 0:
        for i in range(i0, i1):
            vi = vo[i]
            hi = h[i]
            lap = (gr[i] * (vo[i + 1] - vi) + gr[i - 1] * (vo[i - 1] - vi)
                   + (gd[i] * (vdn[i] - vi) + gup[i] * (vup[i] - vi)))
            vn[i] = vi * (B + hi * vi * (1.0 - vi) * A) + lap
            q = copysign(0.5, vg - vi)
            e = em + q * de
            h[i] = hi * e + (c0 + q * c1)
        return
    for i in range(i0, i1):
        vi = vo[i]
        hi = h[i]
        lap = gr[i] * (vo[i + 1] - vi) + gr[i - 1] * (vo[i - 1] - vi)
        vn[i] = vi * (B + hi * vi * (1.0 - vi) * A) + lap
        q = copysign(0.5, vg - vi)
        e = em + q * de
        h[i] = hi * e + (c0 + q * c1)


cdef inline void _ap_segment(const double* vo, double* vn, double* r, const double* gr,
                             const double* gd, Py_ssize_t w, Py_ssize_t i0, Py_ssize_t i1,
                             double dt, const double* par) noexcept nogil:
    # par = [k, a, eps, mu1, mu2, 1/time_unit_ms]; conductances pre-multiplied by dt.
    cdef Py_ssize_t i
    cdef double u, ri, lap
    cdef double k = par[0], a = par[1], eps = par[2], mu1 = par[3], mu2 = par[4]
    cdef double ts = dt * par[5]
    for i in range(i0, i1):
        u = vo[i]
        ri = r[i]
        lap = gr[i] * (vo[i + 1] - u) + gr[i - 1] * (vo[i - 1] - u)
        if w > 0:
            lap = lap + (gd[i] * (vo[i + w] - u) + gd[i - w] * (vo[i - w] - u))
        vn[i] = u + ts * (k * u * (u - a) * (1.0 - u) - u * ri) + lap
        r[i] = ri + ts * (eps + mu1 * ri / (u + mu2)) * (-ri - k * u * (u - a - 1.0))


cdef inline double _dot(const double* a, const double* b, Py_ssize_t n) noexcept nogil:
    # four independent partial sums: a strict left-to-right sum is latency bound
    cdef double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    cdef Py_ssize_t c, m = n - n % 4
    for c in range(0, m, 4):
        s0 = s0 + a[c] * b[c]
        s1 = s1 + a[c + 1] * b[c + 1]
        s2 = s2 + a[c + 2] * b[c + 2]
        s3 = s3 + a[c + 3] * b[c + 3]
    for c in range(m, n):
        s0 = s0 + a[c] * b[c]
    return (s0 + s1) + (s2 + s3)


cdef class Tissue:
    """State and kernel of one excitable graph.

    Parameters
    ----------
    model:
        0 for Mitchell-Schaeffer, 1 for Aliev-Panfilov.
    dt_ms:
        Time step in milliseconds.
    width:
        Offset of the second diagonal (0: only the ``i+1`` diagonal).
    gr, gd:
        Padded conductances (1/ms; stored multiplied by ``dt_ms``), length ``n + 2*pad``; ``gr[pad+i]`` couples cells i and i+1,
        ``gd[pad+i]`` couples cells i and i+width.
    seg_start:
        Segment boundaries (``nseg + 1`` cell indices, increasing from 0 to n).
    seg_par:
        Per-segment ionic parameters, shape (nseg, 8), already converted for ``dt_ms``.
    rem_rows, rem_ptr, rem_idx, rem_w:
        CSR remainder: for row ``rem_rows[k]``, neighbours ``rem_idx[rem_ptr[k]:rem_ptr[k+1]]``
        with conductances ``rem_w``.
    sentinels:
        Cells whose upward crossings of ``threshold`` stop :meth:`run`.
    lead:
        Lead-field matrix (rows x n): one sample row is ``lead @ v``.
    v0, h0:
        Initial state (n each).
    """

    def __init__(self, int model, double dt_ms, Py_ssize_t width,
                 const double[::1] gr, const double[::1] gd,
                 const Py_ssize_t[::1] seg_start, const double[:, ::1] seg_par,
                 const Py_ssize_t[::1] rem_rows, const Py_ssize_t[::1] rem_ptr,
                 const Py_ssize_t[::1] rem_idx, const double[::1] rem_w,
                 const Py_ssize_t[::1] sentinels, const double[:, ::1] lead,
                 const double[::1] v0, const double[::1] h0, double threshold=0.5):
        cdef Py_ssize_t n = v0.shape[0]
        cdef Py_ssize_t pad = width if width > 1 else 1
        if model not in (0, 1):
            raise ValueError(f"model {model!r} is not 0 (MS) or 1 (AP)")
        if gr.shape[0] != n + 2 * pad or gd.shape[0] != n + 2 * pad:
            raise ValueError("gr and gd must have n + 2*pad entries")
        if h0.shape[0] != n or lead.shape[1] != n:
            raise ValueError("h0 and the lead field must have n cells")
        if seg_start.shape[0] != seg_par.shape[0] + 1 or seg_start[0] != 0 or seg_start[seg_start.shape[0] - 1] != n:
            raise ValueError("seg_start must run from 0 to n with one entry per segment + 1")
        if seg_par.shape[1] != 8:
            raise ValueError("seg_par must have 8 columns")
        if rem_ptr.shape[0] != rem_rows.shape[0] + 1 or rem_idx.shape[0] != rem_w.shape[0]:
            raise ValueError("inconsistent CSR remainder")
        if not dt_ms > 0:
            raise ValueError(f"dt_ms {dt_ms!r} must be positive")
        self.n = n
        self.pad = pad
        self.width = width
        self.model = model
        self.dt_ms = dt_ms
        self.step = 0
        self.threshold = threshold
        self._cur = 0
        self._va = np.zeros(n + 2 * pad)
        self._vb = np.zeros(n + 2 * pad)
        self._va[pad:pad + n] = v0
        self._h = np.array(h0, dtype=np.float64)
        self._gr = np.asarray(gr) * dt_ms
        self._gd = np.asarray(gd) * dt_ms
        self._seg_start = seg_start
        self._seg_par = seg_par
        self._rem_rows = rem_rows
        self._rem_ptr = rem_ptr
        self._rem_idx = rem_idx
        self._rem_w = np.asarray(rem_w) * dt_ms
        self._rem_cur = np.zeros(rem_rows.shape[0])
        self._sent_cells = sentinels
        self._cross_sent = np.zeros(sentinels.shape[0] + 1, dtype=np.intp)
        self._cross_step = np.zeros(sentinels.shape[0] + 1, dtype=np.int64)
        self.n_crossings = 0
        self._lead = lead
        self.set_stimuli(np.zeros(1, dtype=np.intp), np.zeros(0, dtype=np.intp),
                         np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                         np.zeros(0))

    def set_stimuli(self, Py_ssize_t[::1] ptr, Py_ssize_t[::1] cells, long long[::1] on,
                    long long[::1] off, double[::1] cur):
        """Install the stimuli: stimulus j adds ``cur[j]`` (1/ms) to the cells
        ``cells[ptr[j]:ptr[j+1]]`` for the absolute steps ``on[j] <= step < off[j]``."""
        cdef Py_ssize_t j
        if ptr.shape[0] != on.shape[0] + 1 or off.shape[0] != on.shape[0] or cur.shape[0] != on.shape[0]:
            raise ValueError("inconsistent stimulus table")
        for j in range(cells.shape[0]):
            if cells[j] < 0 or cells[j] >= self.n:
                raise ValueError(f"stimulus cell {cells[j]} outside 0..{self.n - 1}")
        self._stim_ptr = ptr
        self._stim_cells = cells
        self._stim_on = on
        self._stim_off = off
        self._stim_cur = cur
        self._n_stim = on.shape[0]

    @property
    def v(self):
        """A copy of the membrane potential (dimensionless, 0 rest, 1 peak)."""
        buf = self._va if self._cur == 0 else self._vb
        return np.asarray(buf)[self.pad:self.pad + self.n].copy()

    @property
    def h(self):
        """A copy of the recovery variable (MS gate h or AP recovery r)."""
        return np.asarray(self._h).copy()

    def crossings(self):
        """(sentinel index, step) pairs of the crossings found by the last :meth:`run` (with
        ``stop_on_crossing`` off, only the first ``len(sentinels) + 1`` are kept)."""
        return [(self._cross_sent[k], self._cross_step[k]) for k in range(self.n_crossings)]

    def get_state(self):
        """The full dynamic state: (v, h, step)."""
        return (self.v, self.h, int(self.step))

    def set_state(self, v, h, long long step):
        """Restore a state made by :meth:`get_state`."""
        cdef double[::1] vv = np.ascontiguousarray(v, dtype=np.float64)
        cdef double[::1] hh = np.ascontiguousarray(h, dtype=np.float64)
        if vv.shape[0] != self.n or hh.shape[0] != self.n:
            raise ValueError("state arrays must have n cells")
        self._cur = 0
        self._va[self.pad:self.pad + self.n] = vv
        self._h[:] = hh
        self.step = step

    def set_cells(self, Py_ssize_t[::1] cells, double v, double h):
        """Set the state of some cells (used to build initial conditions)."""
        cdef double[::1] buf = self._va if self._cur == 0 else self._vb
        cdef Py_ssize_t j
        for j in range(cells.shape[0]):
            buf[self.pad + cells[j]] = v
            self._h[cells[j]] = h

    def run(self, long long n_steps, double[:, ::1] out, long long out_step0,
            long long steps_per_sample, bint stop_on_crossing=True):
        """Advance up to ``n_steps`` steps; return the number of steps done.

        Before every step whose absolute index ``s`` is a multiple of ``steps_per_sample`` the
        lead-field sample ``lead @ v`` is written to ``out[:, (s - out_step0) //
        steps_per_sample]``. With ``stop_on_crossing`` the run stops after the first step in
        which a sentinel crossed the threshold upward (see :meth:`crossings`).
        """
        cdef Py_ssize_t done
        cdef unsigned int csr
        if n_steps < 0 or steps_per_sample <= 0:
            raise ValueError("n_steps must be >= 0 and steps_per_sample > 0")
        if out.shape[0] != self._lead.shape[0]:
            raise ValueError("out must have one row per lead-field row")
        if out_step0 > self.step:
            raise ValueError("out_step0 must not be after the current step")
        if (self.step + n_steps - out_step0 + steps_per_sample - 1) // steps_per_sample > out.shape[1]:
            raise ValueError("out has too few columns for n_steps")
        self._stop = stop_on_crossing
        with nogil:
            csr = devicetwin_ftz_on()
            done = self._run(n_steps, out, out_step0, steps_per_sample)
            devicetwin_ftz_off(csr)
        return done

    cdef Py_ssize_t _run(self, long long n_steps, double[:, ::1] out, long long out_step0,
                         long long steps_per_sample) noexcept nogil:
        cdef long long s, end = self.step + n_steps
        cdef Py_ssize_t n = self.n, pad = self.pad, w = self.width
        cdef Py_ssize_t seg, j, k, c, r, col, nrow = self._lead.shape[0]
        cdef double dt = self.dt_ms, acc, vold, thr = self.threshold
        cdef double* vo
        cdef double* vn
        cdef const double* gr = &self._gr[0]
        cdef const double* gd = &self._gd[0]
        cdef double* h = &self._h[0]
        cdef long long start = self.step
        cdef long long to_sample = (steps_per_sample - start % steps_per_sample) % steps_per_sample
        cdef Py_ssize_t nseg = self._seg_par.shape[0], nrem = self._rem_rows.shape[0]
        cdef Py_ssize_t nsent = self._sent_cells.shape[0]
        cdef double* va = &self._va[0]
        cdef double* vb = &self._vb[0]
        cdef Py_ssize_t ncross = 0, cap = self._cross_sent.shape[0]
        s = self.step
        while s < end:
            if self._cur == 0:
                vo = va
                vn = vb
            else:
                vo = vb
                vn = va
            if to_sample == 0:
                to_sample = steps_per_sample
                col = <Py_ssize_t>((s - out_step0) // steps_per_sample)
                for r in range(nrow):
                    out[r, col] = _dot(&self._lead[r, 0], vo + pad, n)
            to_sample -= 1
            # the CSR remainder, from the old potential
            for k in range(nrem):
                r = self._rem_rows[k]
                acc = 0.0
                for j in range(self._rem_ptr[k], self._rem_ptr[k + 1]):
                    acc = acc + self._rem_w[j] * (vo[pad + self._rem_idx[j]] - vo[pad + r])
                self._rem_cur[k] = acc
            for seg in range(nseg):
                if self.model == 0:
                    _ms_segment(vo + pad, vn + pad, h, gr + pad, gd + pad, w,
                                self._seg_start[seg], self._seg_start[seg + 1],
                                &self._seg_par[seg, 0])
                else:
                    _ap_segment(vo + pad, vn + pad, h, gr + pad, gd + pad, w,
                                self._seg_start[seg], self._seg_start[seg + 1], dt,
                                &self._seg_par[seg, 0])
            for k in range(nrem):
                vn[pad + self._rem_rows[k]] += self._rem_cur[k]
            for j in range(self._n_stim):
                if self._stim_on[j] <= s < self._stim_off[j]:
                    for k in range(self._stim_ptr[j], self._stim_ptr[j + 1]):
                        vn[pad + self._stim_cells[k]] += dt * self._stim_cur[j]
            self._cur = 1 - self._cur
            s += 1
            # upward threshold crossings of the sentinels
            for k in range(nsent):
                c = self._sent_cells[k] + pad
                vold = vo[c]
                if vold < thr <= vn[c] and ncross < cap:
                    self._cross_sent[ncross] = k
                    self._cross_step[ncross] = s
                    ncross = ncross + 1
            if ncross > 0 and self._stop:
                break
        self.step = s
        self.n_crossings = ncross
        return <Py_ssize_t>(s - start)


cdef extern from *:
    """
    static int devicetwin_cpu_avx2_fma(void) {
    #if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    #else
        return 0;
    #endif
    }
    """
    int devicetwin_cpu_avx2_fma() noexcept nogil


def cpu_has_avx2_fma():
    """Whether this CPU can run the AVX2 + FMA build of the kernel."""
    return bool(devicetwin_cpu_avx2_fma())




#: FastWindow runs windows of up to this many kernel steps without releasing the GIL.
cdef long long _HOLD_GIL_STEPS = 50

#: The fields of the output record, in the order FastWindow fills them.
OUTPUT_FIELDS = ("t0_us", "samples_mv", "egm_sites", "ecg_leads", "activity_milli_g", "events")


cdef class FastWindow:
    """The common case of ``Heart.advance``, compiled: a window with no pace and no action due.

    The owner (``Heart``) opens the gate with :meth:`gate` after every call that changes its
    state: ``until_step`` is the step of its first pending action (a window must end at or
    before it), and ``act_block`` the activity samples of the block in force, starting at sample
    ``act_first``. While the gate is open, :meth:`advance` runs the kernel over the window,
    writes the lead rows into fresh columns of a preallocated arena and returns the output
    record; it returns None, having changed nothing, when the window is not such a case.

    When sentinels cross threshold inside the window the kernel stops after that step and
    ``on_crossings(owner, events)`` handles them (appending ground truth to ``events``) and
    opens the gate again for the state now; if the rest of the window is still inside the gate
    the kernel goes on, otherwise the rest is handed over to the general path,
    ``resume(owner, step0, duration_us, arena, col0, events)``, which writes from the tissue's
    step on into the columns from ``col0`` and returns the window's activity and all its events.
    ``on_crossings`` and ``resume`` are plain functions (the owner's unbound methods); the owner
    is held by the weak reference ``owner_ref``, so that it and its FastWindow form no
    reference cycle.

    The record is built the way its dataclass ``__init__`` would (``object.__new__``, then each
    field set), its class must be a slotted dataclass with the fields ``OUTPUT_FIELDS``.

    Arena columns are never written twice: a full arena is replaced by a new one (the old one
    lives as long as some output's views into it), so every output stays valid for ever.
    """

    def __init__(self, Tissue tissue, object output_type, object owner_ref, object on_crossings,
                 object resume, tuple egm_names, tuple ecg_names, long long dt_us,
                 long long sample_us, Py_ssize_t capacity=4096):
        if dt_us <= 0 or sample_us <= 0 or sample_us % dt_us:
            raise ValueError(f"sample_us {sample_us!r} must be a positive multiple of dt_us {dt_us!r}")
        if len(egm_names) + len(ecg_names) != tissue._lead.shape[0]:
            raise ValueError("one name per lead-field row")
        if capacity <= 0:
            raise ValueError(f"capacity {capacity!r} must be positive")
        if not isinstance(output_type, type) or output_type.__new__ is not object.__new__:
            raise ValueError(f"output_type {output_type!r} must be a class built by object.__new__")
        for k, name in enumerate(OUTPUT_FIELDS):
            slot = output_type.__dict__.get(name)
            if type(slot) is not MemberDescriptorType:
                raise ValueError(f"output_type {output_type!r} must have a slot {name!r}")
            self._field[k] = (<PyMemberDescrObject*>slot).d_member
        self.tissue = tissue
        self.output_type = output_type
        self.owner_ref = owner_ref
        self.on_crossings = on_crossings
        self.resume = resume
        self.egm_names = egm_names
        self.ecg_names = ecg_names
        self.dt_us = dt_us
        self.sample_us = sample_us
        self.sps = sample_us // dt_us
        self.capacity = capacity
        self._new_arena()
        self.until_step = -1
        self.act_block = None
        self.act_first = 0
        self.act_n = 0

    def _new_arena(self):
        self.arena = np.empty((self.tissue._lead.shape[0], self.capacity))
        self._arena = self.arena
        self.cursor = 0

    def gate(self, long long until_step, object act_block, long long act_first):
        """Open the gate up to ``until_step`` (negative: closed) with the activity block
        ``act_block`` (int16, read-only; None: closed) whose first sample is ``act_first``."""
        if act_block is not None and act_block is not self.act_block:
            if not isinstance(act_block, np.ndarray) or act_block.dtype != np.int16 \
                    or act_block.ndim != 1 or not act_block.flags.c_contiguous:
                raise ValueError("act_block must be a contiguous 1-D int16 array")
            self.act_n = act_block.shape[0]
        elif act_block is None:
            self.act_n = 0
        self.act_block = act_block
        self.act_first = act_first
        self.until_step = until_step

    cdef object _view(self, object base, void* data, Py_ssize_t n, int typenum, bint writeable):
        cdef cnp.npy_intp dim = n
        cdef cnp.ndarray a = cnp.PyArray_SimpleNewFromData(1, &dim, typenum, data)
        cnp.set_array_base(a, base)
        if not writeable:
            cnp.PyArray_CLEARFLAGS(a, cnp.NPY_ARRAY_WRITEABLE)
        return a

    def advance(self, object duration_us):
        """The output of a window of ``duration_us`` with no paces, or None if the window is
        not a fast case (nothing is changed then)."""
        return self._advance(duration_us)

    cdef object _advance(self, object duration_us):
        cdef Tissue t = self.tissue
        cdef int overflow = 0
        cdef long long d, n, n_steps, step0, end, i, out_step0
        cdef Py_ssize_t col0
        cdef cnp.ndarray act
        cdef object events = None
        if type(duration_us) is not int:
            return None
        d = PyLong_AsLongLongAndOverflow(duration_us, &overflow)
        if overflow or d <= 0 or d % self.sample_us:
            return None
        n = d // self.sample_us
        step0 = t.step
        n_steps = n * self.sps
        end = step0 + n_steps
        if n > self.capacity or end > self.until_step:
            return None
        i = step0 // self.sps - self.act_first
        if i < 0 or i + n > self.act_n:
            return None
        # the window's activity block: a crossing may move the gate to another block
        act = self.act_block
        if self.cursor + n > self.capacity:
            self._new_arena()
        col0 = self.cursor
        self.cursor += n
        out_step0 = step0 - col0 * self.sps
        t._stop = True
        while True:
            self._run_kernel(end - t.step, out_step0)
            if not t.n_crossings:
                break
            if events is None:
                events = []
            self.on_crossings(self._owner(), events)
            if t.step >= end:
                break
            if end > self.until_step:
                activity, events = self.resume(self._owner(), step0, d, self.arena, col0, events)
                return self._record(step0, col0, n, activity, events)
        activity = self._view(act, <char*>cnp.PyArray_DATA(act) + i * sizeof(cnp.int16_t), n,
                              cnp.NPY_INT16, False)
        return self._record(step0, col0, n, activity, [] if events is None else events)

    cdef void _run_kernel(self, long long n_steps, long long out_step0):
        cdef unsigned int csr
        if n_steps <= _HOLD_GIL_STEPS:
            # too short (~12 us of work per simulated ms) to be worth releasing the GIL
            csr = devicetwin_ftz_on()
            self.tissue._run(n_steps, self._arena, out_step0, self.sps)
            devicetwin_ftz_off(csr)
        else:
            with nogil:
                csr = devicetwin_ftz_on()
                self.tissue._run(n_steps, self._arena, out_step0, self.sps)
                devicetwin_ftz_off(csr)

    cdef object _owner(self):
        owner = self.owner_ref()
        if owner is None:
            raise ReferenceError("the heart of this FastWindow is gone")
        return owner

    cdef object _record(self, long long step0, Py_ssize_t col0, Py_ssize_t n, object activity,
                        object events):
        # the window's columns of the arena, channels x samples
        cdef cnp.npy_intp dims[2]
        cdef cnp.npy_intp strides[2]
        dims[0] = self._arena.shape[0]
        dims[1] = n
        strides[0] = self.capacity * sizeof(double)
        strides[1] = sizeof(double)
        samples = cnp.PyArray_New(cnp.ndarray, 2, dims, cnp.NPY_FLOAT64, strides,
                                  # the arena's data + col0, not &_arena[0, col0]: an empty
                                  # window (no channel, or col0 at a full arena's end) points
                                  # at no element, which indexing would refuse
                                  <double*>cnp.PyArray_DATA(<cnp.ndarray>self.arena) + col0,
                                  0, cnp.NPY_ARRAY_WRITEABLE, <object>NULL)
        cnp.set_array_base(samples, self.arena)
        # what the record's generated (frozen) __init__ does, object.__new__ then
        # object.__setattr__ per field, without looking up the slots' descriptors every time
        out = PyType_GenericAlloc(<PyTypeObject*>self.output_type, 0)
        PyMember_SetOne(<char*><void*>out, self._field[0], step0 * self.dt_us)
        PyMember_SetOne(<char*><void*>out, self._field[1], samples)
        PyMember_SetOne(<char*><void*>out, self._field[2], self.egm_names)
        PyMember_SetOne(<char*><void*>out, self._field[3], self.ecg_names)
        PyMember_SetOne(<char*><void*>out, self._field[4], activity)
        PyMember_SetOne(<char*><void*>out, self._field[5], events)
        return out


@cython.binding(True)  # bound as the method Heart.advance
def heart_advance(self, duration_us, paces=()):
    """Simulate ``duration_us`` (a whole number of samples) with the given paces.

    Every pace must start inside ``[now_us, now_us + duration_us)``.

    The arrays of the output are never written by a later call: they are fresh arrays, or
    (in the common case) views into columns of a preallocated buffer that no other output
    shares; ``activity_milli_g`` is a read-only view.
    """
    # ``Heart.advance``, compiled so that the common case (no pace, no action due, no artefact
    # or noise in the window: FastWindow) costs no Python frame; the rest is
    # ``Heart._advance_general``
    cdef FastWindow fast
    if not paces:
        fast = self._fast
        out = fast._advance(duration_us)
        if out is not None:
            return out
    return self._advance_general(duration_us, paces)
