"""The pacing pulse as a scope sees it across the test load (the emulated analog device's model).

A pacemaker output is a capacitor discharged into the lead through a coupling capacitor. Across
a resistive load ``R`` (500 ohm) with coupling capacitor ``C`` (10 uF) the pulse is:

- leading edge: a linear ramp over ``edge_us`` (5 us) to ``V0`` = the programmed amplitude
  (times ``1 + N(0, amplitude_noise)``);
- droop during the pulse: ``V(t) = V0 exp(-t / tau)``, ``tau = R C`` (5 ms), so a 0.4 ms pulse
  ends at 92.3 % of ``V0``;
- trailing edge: a linear ramp over ``edge_us`` from ``V(w)`` to ``-(V0 - V(w))`` (the charge the
  coupling capacitor took during the pulse);
- recharge phase: the opposite-polarity tail ``-(V0 - V(w)) exp(-t / tau_r)``,
  ``tau_r = (R + R_recharge) C`` (5 ms with ``R_recharge = 0``), cut after 8 ``tau_r``;
- width ``w`` = the programmed width plus ``N(0, width_jitter_us)``;
- the baseline carries white noise of ``baseline_noise_v`` (1 mV rms).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PulseModel:
    """Parameters of the output stage and the measurement path (units in the names)."""

    load_ohm: float = 500.0
    coupling_uf: float = 10.0
    recharge_ohm: float = 0.0
    edge_us: float = 5.0
    amplitude_noise: float = 0.01
    width_jitter_us: float = 2.0
    baseline_noise_v: float = 0.001

    @property
    def tau_s(self) -> float:
        """Droop time constant R C, s."""
        return self.load_ohm * self.coupling_uf * 1e-6

    @property
    def recharge_tau_s(self) -> float:
        """Recharge time constant (R + R_recharge) C, s."""
        return (self.load_ohm + self.recharge_ohm) * self.coupling_uf * 1e-6

    def duration_s(self, width_s: float) -> float:
        """How long a pulse of ``width_s`` (with its recharge tail) is non-zero, s."""
        return width_s + 2 * self.edge_us * 1e-6 + 8 * self.recharge_tau_s


@dataclass(frozen=True, slots=True)
class Pulse:
    """One pulse on one scope channel: start time s (record time), leading amplitude V, width s."""

    t_s: float
    channel: int
    amplitude_v: float
    width_s: float


def add_pulse(out: FloatArray, t0_s: float, dt_s: float, pulse: Pulse, model: PulseModel) -> None:
    """Add ``pulse`` to the samples ``out`` (sample i at ``t0_s + i dt_s``), in place."""
    n = out.shape[0]
    start = pulse.t_s - t0_s
    i0 = max(0, math.floor(start / dt_s))
    i1 = min(n, math.ceil((start + model.duration_s(pulse.width_s)) / dt_s) + 1)
    if i1 <= i0:
        return
    tau = t0_s + dt_s * np.arange(i0, i1, dtype=np.float64) - pulse.t_s
    edge = model.edge_us * 1e-6
    w = pulse.width_s
    v0 = pulse.amplitude_v
    vw = v0 * math.exp(-w / model.tau_s)
    vr = v0 - vw
    y = np.zeros_like(tau)
    m = (tau >= 0) & (tau < edge)
    y[m] = v0 * tau[m] / edge
    m = (tau >= edge) & (tau < w)
    y[m] = v0 * np.exp(-tau[m] / model.tau_s)
    m = (tau >= w) & (tau < w + edge)
    y[m] = vw - (vw + vr) * (tau[m] - w) / edge
    m = tau >= w + edge
    y[m] = -vr * np.exp(-(tau[m] - w - edge) / model.recharge_tau_s)
    out[i0:i1] += y
