"""A plain NumPy implementation of the tissue kernel, for tests to compare against.

It performs the same arithmetic as :class:`devicetwin.heart._kernel.Tissue` in the same order
(diagonal Laplacian and ionic update, then the CSR remainder, then stimuli), one step at a time.
It is slow by design: every step costs several NumPy calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]


@dataclass
class ReferenceTissue:
    """Same constructor arguments and state as the Cython ``Tissue`` (see its docstring)."""

    model: int
    dt_ms: float
    width: int
    gr: FloatArray
    gd: FloatArray
    seg_start: IndexArray
    seg_par: FloatArray
    rem_rows: IndexArray
    rem_ptr: IndexArray
    rem_idx: IndexArray
    rem_w: FloatArray
    lead: FloatArray
    v: FloatArray
    h: FloatArray
    step: int = 0

    def __post_init__(self) -> None:
        self.v = np.array(self.v, dtype=np.float64)
        self.h = np.array(self.h, dtype=np.float64)
        self.pad = self.width if self.width > 1 else 1
        n = self.v.shape[0]
        p = self.pad
        self.gr = self.gr * self.dt_ms
        self.gd = self.gd * self.dt_ms
        self.rem_w = self.rem_w * self.dt_ms
        self._gr_right = self.gr[p : p + n]
        self._gr_left = self.gr[p - 1 : p - 1 + n]
        self._gd_down = self.gd[p : p + n]
        self._gd_up = self.gd[p - self.width : p - self.width + n]
        self.stimuli: list[tuple[IndexArray, int, int, float]] = []

    def run(self, n_steps: int, steps_per_sample: int) -> FloatArray:
        """Advance ``n_steps`` steps; return the samples taken (rows x samples)."""
        samples: list[FloatArray] = []
        for _ in range(n_steps):
            if self.step % steps_per_sample == 0:
                samples.append(self.lead @ self.v)
            self._one_step()
        if not samples:
            return np.zeros((self.lead.shape[0], 0))
        return np.stack(samples, axis=1)

    def _one_step(self) -> None:
        n = self.v.shape[0]
        p = self.pad
        w = self.width
        vpad = np.zeros(n + 2 * p)
        vpad[p : p + n] = self.v
        vi = self.v
        right = vpad[p + 1 : p + 1 + n]
        left = vpad[p - 1 : p - 1 + n]
        lap = self._gr_right * (right - vi) + self._gr_left * (left - vi)
        vert = np.zeros(n)
        if w > 0:
            down = vpad[p + w : p + w + n]
            up = vpad[p - w : p - w + n]
            vert = self._gd_down * (down - vi) + self._gd_up * (up - vi)
        rem = np.zeros(self.rem_rows.shape[0])
        for k, r in enumerate(self.rem_rows):
            lo, hi = self.rem_ptr[k], self.rem_ptr[k + 1]
            idx = self.rem_idx[lo:hi]
            rem[k] = float(np.sum(self.rem_w[lo:hi] * (self.v[idx] - self.v[r])))
        vn = np.empty(n)
        hn = np.empty(n)
        dt = self.dt_ms
        for seg in range(self.seg_par.shape[0]):
            a, b = int(self.seg_start[seg]), int(self.seg_start[seg + 1])
            par = self.seg_par[seg]
            u = vi[a:b]
            g = self.h[a:b]
            if self.model == 0:
                big_a, big_b, vg, em, de, c0, c1 = par[:7]
                vn[a:b] = u * (big_b + g * u * (1.0 - u) * big_a) + (lap[a:b] + vert[a:b])
                q = np.copysign(0.5, vg - u)
                e = em + q * de
                hn[a:b] = g * e + (c0 + q * c1)
            else:
                k_, a_, eps, mu1, mu2 = par[:5]
                ts = dt * par[5]
                vn[a:b] = u + ts * (k_ * u * (u - a_) * (1.0 - u) - u * g) + (lap[a:b] + vert[a:b])
                hn[a:b] = g + ts * (eps + mu1 * g / (u + mu2)) * (-g - k_ * u * (u - a_ - 1.0))
        vn[self.rem_rows] += rem
        for cells, on, off, cur in self.stimuli:
            if on <= self.step < off:
                vn[cells] += dt * cur
        self.v = vn
        self.h = hn
        self.step += 1
