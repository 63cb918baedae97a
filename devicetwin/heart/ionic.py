"""The two phenomenological ionic models and their pinned parameter sets.

Mitchell-Schaeffer (MS, default): Mitchell & Schaeffer, Bull. Math. Biol. 65:767 (2003).
    dv/dt = h v^2 (1 - v) / tau_in - v / tau_out + I
    dh/dt = (1 - h) / tau_open  if v < v_gate  else  -h / tau_close
The published set (tau_in 0.3, tau_out 6, tau_open 120, tau_close 150 ms, v_gate 0.13) is the
ventricular one; the atrial and Purkinje sets only change tau_close (APD ~ tau_close *
ln(tau_out / (4 tau_in))) and tau_in (upstroke speed, hence conduction velocity).

Aliev-Panfilov (AP, selectable): Aliev & Panfilov, Chaos Solitons Fractals 7:293 (1996), with
their parameter set k = 8, a = 0.15, eps = 0.002, mu1 = 0.2, mu2 = 0.3 and one time unit =
12.9 ms (ventricle); the atrial set uses a shorter time unit (faster repolarisation).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


class IonicModel(enum.Enum):
    """The selectable cell models."""

    MITCHELL_SCHAEFFER = 0
    ALIEV_PANFILOV = 1


@dataclass(frozen=True)
class MSParams:
    """Mitchell-Schaeffer parameters (all in ms, v_gate dimensionless)."""

    tau_in_ms: float = 0.3
    tau_out_ms: float = 6.0
    tau_open_ms: float = 120.0
    tau_close_ms: float = 150.0
    v_gate: float = 0.13

    def apd_estimate_ms(self) -> float:
        """Mitchell & Schaeffer's closed-form APD: tau_close * ln(tau_out / (4 tau_in))."""
        return self.tau_close_ms * math.log(self.tau_out_ms / (4.0 * self.tau_in_ms))

    def myokit_mmt(self, stim_per_ms: float) -> str:
        """This cell as a Myokit model (``.mmt`` text) for a ``Simulation1d`` cable: the
        protocol's pace drives ``stim_per_ms`` (1/ms) into the paced cells. For cross-checks
        and benchmarks against Myokit, an independent implementation."""
        t_in, t_out, t_open, t_close = (
            self.tau_in_ms,
            self.tau_out_ms,
            self.tau_open_ms,
            self.tau_close_ms,
        )
        return f"""[[model]]
membrane.V = 0
membrane.h = 1

[engine]
time = 0 bind time
pace = 0 bind pace

[membrane]
i_diff = 0 bind diffusion_current
dot(V) = h * V^2 * (1 - V) / {t_in} - V / {t_out} + {stim_per_ms} * engine.pace - i_diff
    label membrane_potential
dot(h) = if(V < {self.v_gate}, (1 - h) / {t_open}, -h / {t_close})
"""

    def row(self, dt_ms: float) -> list[float]:
        """The kernel's 8 per-segment numbers for time step ``dt_ms``.

        With ``q = +-1/2`` (gate open / closing), the Rush-Larsen gate update
        ``h' = h_inf + (h - h_inf) exp(-dt / tau)`` is ``h' = h (em + q de) + (c0 + q c1)``.
        """
        e_open = math.exp(-dt_ms / self.tau_open_ms)
        e_close = math.exp(-dt_ms / self.tau_close_ms)
        return [
            dt_ms / self.tau_in_ms,
            1.0 - dt_ms / self.tau_out_ms,
            self.v_gate,
            0.5 * (e_open + e_close),
            e_open - e_close,
            0.5 * (1.0 - e_open),
            1.0 - e_open,
            0.0,
        ]


@dataclass(frozen=True)
class APParams:
    """Aliev-Panfilov parameters (dimensionless) and the length of one time unit in ms."""

    k: float = 8.0
    a: float = 0.15
    eps: float = 0.002
    mu1: float = 0.2
    mu2: float = 0.3
    time_unit_ms: float = 12.9

    def row(self, dt_ms: float) -> list[float]:
        """The kernel's 8 per-segment numbers (dt enters the kernel directly)."""
        del dt_ms
        return [self.k, self.a, self.eps, self.mu1, self.mu2, 1.0 / self.time_unit_ms, 0.0, 0.0]


# Pinned parameter sets per tissue kind.
MS_SETS: dict[str, MSParams] = {
    "atrium": MSParams(tau_in_ms=0.3, tau_close_ms=100.0),
    "conduction": MSParams(tau_in_ms=0.3, tau_close_ms=180.0),
    "ventricle": MSParams(tau_in_ms=0.3, tau_close_ms=150.0),
}
AP_SETS: dict[str, APParams] = {
    "atrium": APParams(time_unit_ms=8.0),
    "conduction": APParams(time_unit_ms=14.0),
    "ventricle": APParams(time_unit_ms=12.9),
}


def segment_table(model: IonicModel, kinds: list[str], dt_ms: float) -> npt.NDArray[np.float64]:
    """The (nseg, 8) parameter table for the tissue kinds of the segments, in order."""
    if model is IonicModel.MITCHELL_SCHAEFFER:
        rows = [MS_SETS[k].row(dt_ms) for k in kinds]
    else:
        rows = [AP_SETS[k].row(dt_ms) for k in kinds]
    return np.array(rows, dtype=np.float64)


def resting_state(model: IonicModel) -> tuple[float, float]:
    """(v, recovery) at rest: MS h = 1 (fully recovered), AP r = 0."""
    return (0.0, 1.0) if model is IonicModel.MITCHELL_SCHAEFFER else (0.0, 0.0)
