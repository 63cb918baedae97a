"""Pacing-pulse measurements from a digitizer capture across a resistive test load (pure NumPy).

A pulse is a run of samples whose magnitude reaches ``PulseSettings.threshold_v``. For each pulse
(either polarity; values are reported as magnitudes with the pulse's ``polarity``):

- the *leading edge* and *trailing edge* times are where ``|v|`` crosses ``width_fraction`` (50 %
  by default, as analyzers do) of the leading-edge amplitude, interpolated linearly between the
  two samples around the crossing; the *width* is their difference;
- the plateau (the samples between the edges less a guard of ``guard_fraction`` of them at each
  end) is fitted by a capacitor discharge ``V0 exp(-t / tau)`` (least squares on ``log |v|``; a
  straight line if a sample touches zero), and the fit is read at the two edge times: the
  *leading-edge* and *trailing-edge amplitudes*;
- the *mean amplitude* is the average of the samples between the edges; the *charge* into the
  load is ``mean * width / R`` and the *energy* ``(mean square - noise variance) * width / R``.

Every value comes as an :class:`Estimate` with an uncertainty: the half-width of an interval that
holds the true value (a bound, not a standard deviation). The formulas (``docs/measurements.md``):

- ``q = resolution_v`` (the digitizer's code step: range / 2^bits), ``dt`` the sample period,
  ``s`` the fit's residual standard deviation, ``se(t)`` the fit's standard error at ``t``;
- edge time: ``dt / 2``; width and intervals: ``dt`` (two edges), plus the time base error;
- an amplitude read from the fit at an edge: ``q/2 + 3 se + |slope| dt / 2``;
- mean: ``q/2 + 3 s / sqrt(n) + |slope| dt / 2``;
- charge: ``(W u_mean + mean u_W) / R + Q u_R / R``;
- energy: ``(2 mean u_mean W + ms u_W) / R + E u_R / R`` (``ms`` the mean square).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hil.instruments.interfaces import Waveform
from hil.measure.errors import BadSignalError, NoPulseError

FloatArray = npt.NDArray[np.float64]

_COVERAGE = 3.0  # standard errors in an uncertainty bound


@dataclass(frozen=True, slots=True)
class Estimate:
    """A measured value with its uncertainty (half-width of the interval holding the truth)."""

    value: float
    uncertainty: float
    unit: str

    def contains(self, truth: float) -> bool:
        """True when ``truth`` lies within ``value +- uncertainty``."""
        return abs(truth - self.value) <= self.uncertainty

    def __str__(self) -> str:
        return f"{self.value:.6g} +- {self.uncertainty:.2g} {self.unit}"


@dataclass(frozen=True, slots=True)
class PulseSettings:
    """How pulses are found and measured.

    Attributes
    ----------
    threshold_v : float
        Detection threshold on ``|v|``, V (below the smallest programmable amplitude, 0.5 V, and
        above the recharge tail).
    width_fraction : float
        Fraction of the leading-edge amplitude at which the edges (and so the width) are taken.
    load_ohm : float
        Test load, ohm.
    load_tolerance_ohm : float
        Uncertainty of the load, ohm (propagates into energy and charge).
    guard_fraction : float
        Fraction of the plateau's samples left out at each end of the droop fit.
    timebase_ppm : float
        Time base accuracy of the digitizer, ppm of the measured time.
    """

    threshold_v: float = 0.2
    width_fraction: float = 0.5
    load_ohm: float = 500.0
    load_tolerance_ohm: float = 0.0
    guard_fraction: float = 0.1
    timebase_ppm: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 < self.width_fraction < 1.0:
            raise BadSignalError(
                f"width_fraction {self.width_fraction!r} outside (0, 1)",
                name="width_fraction", value=self.width_fraction, expected="0 < f < 1",
            )
        if not self.threshold_v > 0.0:
            raise BadSignalError(
                f"threshold_v {self.threshold_v!r} must be positive",
                name="threshold_v", value=self.threshold_v, expected="> 0 V",
            )
        if not self.load_ohm > 0.0:
            raise BadSignalError(
                f"load_ohm {self.load_ohm!r} must be positive",
                name="load_ohm", value=self.load_ohm, expected="> 0 ohm",
            )


@dataclass(frozen=True, slots=True)
class Pulse:
    """One measured pacing pulse. Amplitudes are magnitudes; ``polarity`` is +1 or -1."""

    polarity: int
    t_lead_s: float
    t_trail_s: float
    edge_uncertainty_s: float
    leading_edge_v: Estimate
    trailing_edge_v: Estimate
    mean_v: Estimate
    width_ms: Estimate
    energy_uj: Estimate
    charge_uc: Estimate
    droop_tau_ms: float


@dataclass(frozen=True, slots=True)
class _Fit:
    """A plateau fit: value and slope at a time, and the standard error there."""

    log: bool
    a: float
    b: float
    x_mean: float
    sxx: float
    sigma: float
    n: int

    def value(self, x: float) -> float:
        y = self.a + self.b * x
        return math.exp(y) if self.log else y

    def slope(self, x: float) -> float:
        return self.b * self.value(x) if self.log else self.b

    def se(self, x: float) -> float:
        if self.n < 3:
            return self.sigma
        var = self.sigma**2 * (1.0 / self.n + (x - self.x_mean) ** 2 / self.sxx)
        se = math.sqrt(max(var, 0.0))
        return se * self.value(x) if self.log else se


def _fit(x: FloatArray, y: FloatArray) -> _Fit:
    """Least-squares exponential (on log y) or, if a sample is not positive, linear fit."""
    log = bool(np.all(y > 0.0))
    yy = np.log(y) if log else y
    n = int(x.shape[0])
    if n < 3:
        mean = float(np.mean(yy))
        return _Fit(log, mean, 0.0, float(np.mean(x)), 0.0, 0.0, n)
    xm = float(np.mean(x))
    dx = x - xm
    sxx = float(dx @ dx)
    b = float(dx @ (yy - np.mean(yy))) / sxx if sxx > 0 else 0.0
    a = float(np.mean(yy)) - b * xm
    resid = yy - (a + b * x)
    sigma = math.sqrt(float(resid @ resid) / (n - 2))
    return _Fit(log, a, b, xm, sxx, sigma, n)


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Half-open index ranges of the True runs."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(s), int(e)) for s, e in zip(edges[0::2], edges[1::2], strict=True)]


def _edges(sv: FloatArray, peak: int, thr: float) -> tuple[int, int] | None:
    """First and last sample ``>= thr`` around ``peak``; None when the pulse touches an end."""
    below_left = np.flatnonzero(sv[:peak] < thr)
    below_right = np.flatnonzero(sv[peak + 1:] < thr)
    if below_left.shape[0] == 0 or below_right.shape[0] == 0:
        return None
    return int(below_left[-1]) + 1, peak + int(below_right[0])


def _measure_one(wf: Waveform, start: int, stop: int, cfg: PulseSettings) -> Pulse | None:
    v = wf.volts
    dt = wf.dt_s
    peak = start + int(np.argmax(np.abs(v[start:stop])))
    polarity = 1 if v[peak] >= 0 else -1
    lo = max(0, start - (stop - start) - 2)
    hi = min(v.shape[0], stop + (stop - start) + 2)
    sv = polarity * v[lo:hi]
    p = peak - lo
    amp = float(sv[p])
    fit: _Fit | None = None
    i = j = 0
    t_lead = t_trail = 0.0
    for _ in range(3):  # amplitude -> edges at fraction -> plateau fit -> amplitude
        thr = cfg.width_fraction * amp
        found = _edges(sv, p, thr)
        if found is None:
            return None
        i, j = found
        t_lead = (i - 1) + (thr - sv[i - 1]) / (sv[i] - sv[i - 1])
        t_trail = j + (sv[j] - thr) / (sv[j] - sv[j + 1])
        count = j - i + 1
        guard = max(1, int(cfg.guard_fraction * count)) if count >= 5 else 0
        idx = np.arange(i + guard, j - guard + 1)
        fit = _fit((idx - t_lead) * dt, sv[idx])
        new_amp = fit.value(0.0)
        if abs(new_amp - amp) <= 1e-12 * max(1.0, abs(amp)):
            break
        amp = new_amp
    assert fit is not None
    width_s = (t_trail - t_lead) * dt
    t_lead_s = wf.t0_s + (lo + t_lead) * dt
    t_trail_s = wf.t0_s + (lo + t_trail) * dt
    q = wf.resolution_v
    u_edge = dt / 2 + abs(t_lead_s) * cfg.timebase_ppm * 1e-6
    u_w = dt + width_s * cfg.timebase_ppm * 1e-6

    def at(x: float) -> Estimate:
        u = q / 2 + _COVERAGE * fit.se(x) + abs(fit.slope(x)) * dt / 2
        return Estimate(fit.value(x), u, "V")

    samples = sv[i:j + 1]
    n = int(samples.shape[0])
    mean = float(np.mean(samples))
    resid_sigma = fit.sigma * (fit.value(width_s / 2) if fit.log else 1.0)
    u_mean = q / 2 + _COVERAGE * resid_sigma / math.sqrt(n) + abs(fit.slope(width_s / 2)) * dt / 2
    ms = max(float(np.mean(samples * samples)) - resid_sigma**2, 0.0)
    r = cfg.load_ohm
    u_r = cfg.load_tolerance_ohm
    charge = mean * width_s / r
    u_charge = (width_s * u_mean + mean * u_w) / r + charge * u_r / r
    energy = ms * width_s / r
    u_energy = (2 * mean * u_mean * width_s + ms * u_w) / r + energy * u_r / r
    tau_ms = -1e3 / fit.b if fit.log and fit.b < 0 else math.inf
    return Pulse(
        polarity=polarity,
        t_lead_s=t_lead_s,
        t_trail_s=t_trail_s,
        edge_uncertainty_s=u_edge,
        leading_edge_v=at(0.0),
        trailing_edge_v=at(width_s),
        mean_v=Estimate(mean, u_mean, "V"),
        width_ms=Estimate(width_s * 1e3, u_w * 1e3, "ms"),
        energy_uj=Estimate(energy * 1e6, u_energy * 1e6, "uJ"),
        charge_uc=Estimate(charge * 1e6, u_charge * 1e6, "uC"),
        droop_tau_ms=tau_ms,
    )


def find_pulses(wf: Waveform, settings: PulseSettings | None = None) -> list[Pulse]:
    """Every complete pulse in ``wf`` (pulses cut by the capture's ends are left out)."""
    cfg = settings or PulseSettings()
    if wf.dt_s <= 0 or not math.isfinite(wf.dt_s):
        raise BadSignalError(
            f"sample interval {wf.dt_s!r} s must be positive", name="dt_s", value=wf.dt_s,
            expected="> 0 s",
        )
    mask = np.abs(wf.volts) >= cfg.threshold_v
    pulses: list[Pulse] = []
    for start, stop in _runs(mask):
        pulse = _measure_one(wf, start, stop, cfg)
        if pulse is not None and (not pulses or pulse.t_lead_s > pulses[-1].t_trail_s):
            pulses.append(pulse)
    return pulses


def first_pulse(wf: Waveform, settings: PulseSettings | None = None) -> Pulse:
    """The first complete pulse; raises :class:`NoPulseError` when there is none."""
    pulses = find_pulses(wf, settings)
    if not pulses:
        raise NoPulseError(
            f"no pulse above {(settings or PulseSettings()).threshold_v} V in a "
            f"{wf.n_points}-point capture of channel {wf.channel}",
            name="pulses", value=0, expected=">= 1 pulse",
        )
    return pulses[0]


def _edge_u(pulses: Sequence[Pulse]) -> float:
    return max(p.edge_uncertainty_s for p in pulses)


def intervals_ms(pulses: Sequence[Pulse]) -> list[Estimate]:
    """Leading edge to leading edge of consecutive pulses, ms."""
    out = []
    for a, b in itertools.pairwise(pulses):
        u = (a.edge_uncertainty_s + b.edge_uncertainty_s) * 1e3
        out.append(Estimate((b.t_lead_s - a.t_lead_s) * 1e3, u, "ms"))
    return out


def mean_interval_ms(pulses: Sequence[Pulse]) -> Estimate:
    """Mean pulse interval, ms: (last lead - first lead) / (n - 1), needs two pulses."""
    if len(pulses) < 2:
        raise NoPulseError(
            f"an interval needs two pulses, the capture holds {len(pulses)}",
            name="pulses", value=len(pulses), expected=">= 2 pulses",
        )
    n = len(pulses) - 1
    span = pulses[-1].t_lead_s - pulses[0].t_lead_s
    u = 2 * _edge_u(pulses) / n
    return Estimate(span / n * 1e3, u * 1e3, "ms")


def rate_ppm(interval: Estimate) -> Estimate:
    """Rate from an interval: ``60000 / I`` ppm, uncertainty ``60000 u_I / I^2``."""
    i = interval.value
    return Estimate(60000.0 / i, 60000.0 * interval.uncertainty / (i * i), "ppm")


def av_intervals_ms(atrial: Sequence[Pulse], ventricular: Sequence[Pulse]) -> list[Estimate]:
    """For each atrial pulse, the interval to the first ventricular pulse after it (and before
    the next atrial pulse), ms. Both captures must share the trigger's time base."""
    out = []
    v_leads = np.array([p.t_lead_s for p in ventricular], dtype=np.float64)
    for k, a in enumerate(atrial):
        nxt = atrial[k + 1].t_lead_s if k + 1 < len(atrial) else math.inf
        idx = int(np.searchsorted(v_leads, a.t_lead_s, side="right"))
        if idx < len(ventricular) and v_leads[idx] < nxt:
            vp = ventricular[idx]
            u = (a.edge_uncertainty_s + vp.edge_uncertainty_s) * 1e3
            out.append(Estimate((vp.t_lead_s - a.t_lead_s) * 1e3, u, "ms"))
    return out
