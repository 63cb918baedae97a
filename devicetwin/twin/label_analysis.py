"""What a surface ECG with beat labels can tell of a paced patient, with its uncertainty.

A labelled surface ECG (MIT-BIH record 102: ``/`` paced, ``N`` normal, ``f`` fusion, ``V``
PVC) shows when the ventricle was paced and when it beat on its own, not the device's timers.
From it:

- **the pacing interval**, from consecutive paced beats: the mean interval, with a Student-t
  95 % interval whose standard error is widened (or narrowed) for the lag-1 autocorrelation of
  successive intervals (an AR(1) variance factor (1 + r) / (1 - r) and as many fewer degrees of
  freedom). The intervals scatter far more than a pacemaker's timer (+-8 ms): the label sits on
  the wide paced QRS, whose fiducial point wanders (that alone gives r near -0.5), and a
  Holter tape's speed varies (that gives r > 0); the labels cannot tell these apart, so the
  scatter is reported (``interval_sd_ms``) and only the mean is used. The median with its
  distribution-free (order-statistic) interval is given beside it.
- **the programmed lower rate it implies**: the values of the PACEMAKER lower-rate grid whose
  interval lies within the specification's +-8 ms of the estimate's interval.
- **the intrinsic rate**, from consecutive normal (``N``) beats: median interval, order-statistic
  95 % interval.
- **fusion** and **pacing** fractions of all beats, with Wilson 95 % intervals.
- **the escape interval** from a sensed beat (``N`` or a PVC) to the next delivered pace (a
  paced or a fusion beat: a fusion beat is a pace too), which would show hysteresis when it is
  longer than the pacing interval; there are often few such pairs, and the order-statistic
  interval of a handful of them is their whole range.

What it cannot tell is listed in :data:`CANNOT_TELL`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from devicetwin.pacemaker import PARAMETERS
from devicetwin.twin.errors import TwinError
from devicetwin.twin.session import (
    BEAT_SYMBOLS,
    FUSION_SYMBOLS,
    PACED_SYMBOLS,
    PVC_SYMBOLS,
    BeatLabel,
)

#: The specification's tolerance on the lower-rate interval (PACEMAKER table: +-8 ms).
LRL_INTERVAL_TOLERANCE_MS = 8.0
#: Confidence level of every interval this module reports.
CONFIDENCE = 0.95
_MIN_PAIRS = 3

#: What a surface ECG with beat labels cannot tell (shown in the report beside the estimates).
CANNOT_TELL = (
    "the pacing mode beyond 'ventricular pacing inhibited by sensed beats' (no atrial labels: "
    "AV delay, PVARP, tracking and the upper rate are not observable)",
    "the output amplitude, pulse width, capture threshold and so the battery drain per pulse",
    "refractory periods and sensitivity (a sense is seen only through the pace it inhibits)",
    "whether a fusion beat is true fusion or pseudo-fusion (a pace falling on an intrinsic QRS)",
)


@dataclass(frozen=True, slots=True)
class Estimate:
    """A value with its 95 % interval, the number of observations and how it was made."""

    value: float
    low: float
    high: float
    unit: str
    n: int
    method: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"value": self.value, "low": self.low, "high": self.high, "unit": self.unit,
                "n": self.n, "method": self.method}

    def text(self, digits: int = 1) -> str:
        """``72.5 ppm (95 % CI 72.3-72.7, n = 2005)``."""
        return (f"{self.value:.{digits}f} {self.unit} (95 % CI {self.low:.{digits}f}-"
                f"{self.high:.{digits}f}, n = {self.n})")


@dataclass(frozen=True, slots=True)
class BeatLabelAnalysis:
    """Everything :func:`analyse_beat_labels` finds; None where the labels cannot tell."""

    counts: dict[str, int]
    pacing_interval_ms: Estimate | None
    pacing_interval_median_ms: Estimate | None
    paced_rate_ppm: Estimate | None
    interval_lag1_autocorrelation: float | None
    interval_sd_ms: float | None
    lower_rate_candidates_ppm: tuple[int, ...]
    implied_lower_rate_ppm: int | None
    intrinsic_interval_ms: Estimate | None
    intrinsic_rate_bpm: Estimate | None
    paced_fraction: Estimate | None
    fusion_fraction: Estimate | None
    escape_interval_ms: Estimate | None
    cannot_tell: tuple[str, ...] = field(default=CANNOT_TELL)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""
        def est(e: Estimate | None) -> dict[str, Any] | None:
            return None if e is None else e.to_dict()
        return {
            "counts": dict(self.counts),
            "pacing_interval_ms": est(self.pacing_interval_ms),
            "pacing_interval_median_ms": est(self.pacing_interval_median_ms),
            "paced_rate_ppm": est(self.paced_rate_ppm),
            "interval_lag1_autocorrelation": self.interval_lag1_autocorrelation,
            "interval_sd_ms": self.interval_sd_ms,
            "lower_rate_candidates_ppm": list(self.lower_rate_candidates_ppm),
            "implied_lower_rate_ppm": self.implied_lower_rate_ppm,
            "intrinsic_interval_ms": est(self.intrinsic_interval_ms),
            "intrinsic_rate_bpm": est(self.intrinsic_rate_bpm),
            "paced_fraction": est(self.paced_fraction),
            "fusion_fraction": est(self.fusion_fraction),
            "escape_interval_ms": est(self.escape_interval_ms),
            "cannot_tell": list(self.cannot_tell),
        }


def paced_runs(beats: Sequence[BeatLabel]) -> list[list[float]]:
    """Times (ms) of every run of two or more consecutive paced beats."""
    runs: list[list[float]] = []
    current: list[float] = []
    for b in beats:
        if b.symbol in PACED_SYMBOLS:
            current.append(b.t_us / 1000.0)
            continue
        if len(current) >= 2:
            runs.append(current)
        current = []
    if len(current) >= 2:
        runs.append(current)
    return runs


def mean_interval(intervals_by_run: Sequence[npt.ArrayLike]) -> tuple[Estimate, float,
                                                                       float | None] | None:
    """Mean of intervals (ms) pooled over runs, its 95 % interval corrected for the lag-1
    autocorrelation within runs, the intervals' standard deviation and that autocorrelation.
    None for fewer than three intervals."""
    runs = [a for a in (np.asarray(r, dtype=np.float64) for r in intervals_by_run) if len(a)]
    x = np.concatenate(runs) if runs else np.zeros(0)
    n = len(x)
    if n < _MIN_PAIRS:
        return None
    mean = float(x.mean())
    sd = float(x.std(ddof=1))
    lag1: float | None = None
    a = np.concatenate([r[:-1] - mean for r in runs if len(r) >= 2] or [np.zeros(0)])
    b = np.concatenate([r[1:] - mean for r in runs if len(r) >= 2] or [np.zeros(0)])
    if len(a) >= _MIN_PAIRS and sd > 0:
        lag1 = float(a @ b) / (len(a) * sd * sd)
    r = min(max(lag1 or 0.0, -0.9), 0.9)
    factor = (1.0 + r) / (1.0 - r)
    n_eff = max(2.0, n / factor)
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n_eff - 1)) * sd * math.sqrt(factor / n)
    est = Estimate(mean, mean - half, mean + half, "ms", n,
                   "mean of consecutive paced intervals, Student-t 95 % CI with an AR(1) "
                   "correction for their lag-1 autocorrelation")
    return est, sd, lag1


def median_interval(values: Sequence[float], what: str) -> Estimate | None:
    """The median with its distribution-free 95 % interval (order statistics of a binomial);
    None for fewer than three values."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = len(x)
    if n < _MIN_PAIRS:
        return None
    alpha = 1.0 - CONFIDENCE
    lo_rank = int(stats.binom.ppf(alpha / 2, n, 0.5))
    hi_rank = int(stats.binom.isf(alpha / 2, n, 0.5))
    lo = x[max(0, lo_rank - 1)] if lo_rank >= 1 else x[0]
    hi = x[min(n - 1, hi_rank)]
    return Estimate(float(np.median(x)), float(lo), float(hi), "ms", n,
                    f"median of {what}, order-statistic 95 % CI")


def proportion(k: int, n: int, what: str) -> Estimate | None:
    """``k / n`` with its Wilson 95 % interval; None when ``n`` is 0."""
    if n == 0:
        return None
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return Estimate(k / n, float(ci.low), float(ci.high), "fraction", n,
                    f"{what}, Wilson 95 % CI")


def as_rate(interval: Estimate, unit: str) -> Estimate:
    """An interval estimate in ms as a rate per minute (the interval's ends swap)."""
    return Estimate(60000.0 / interval.value, 60000.0 / interval.high, 60000.0 / interval.low,
                    unit, interval.n, interval.method + ", as 60000 / interval")


def lower_rate_candidates(interval: Estimate) -> tuple[int, ...]:
    """Lower-rate grid values whose interval lies within +-8 ms of the estimate's interval."""
    lo = interval.low - LRL_INTERVAL_TOLERANCE_MS
    hi = interval.high + LRL_INTERVAL_TOLERANCE_MS
    return tuple(int(v) for v in PARAMETERS["lower_rate_ppm"].values
                 if lo <= 60000.0 / float(v) <= hi)


def _pairs(beats: Sequence[BeatLabel], first: Sequence[str],
           second: Sequence[str]) -> list[float]:
    return [(b.t_us - a.t_us) / 1000.0 for a, b in itertools.pairwise(beats)
            if a.symbol in first and b.symbol in second]


def analyse_beat_labels(beats: Sequence[BeatLabel]) -> BeatLabelAnalysis:
    """Paced rate, implied lower rate, intrinsic rate, fusion and pacing fractions of a
    labelled recording (non-beat annotations must already be left out)."""
    for b in beats:
        if b.symbol not in BEAT_SYMBOLS:
            raise TwinError(f"{b.symbol!r} is not a beat label", name="symbol", value=b.symbol,
                            expected=f"one of {BEAT_SYMBOLS}")
    counts: dict[str, int] = {}
    for b in beats:
        counts[b.symbol] = counts.get(b.symbol, 0) + 1
    total = len(beats)
    runs = paced_runs(beats)
    fitted = mean_interval([np.diff(np.asarray(r)) for r in runs])
    interval = fitted[0] if fitted else None
    paced_pairs = _pairs(beats, PACED_SYMBOLS, PACED_SYMBOLS)
    intrinsic = median_interval(_pairs(beats, ("N",), ("N",)), "consecutive normal intervals")
    n_paced = sum(counts.get(s, 0) for s in PACED_SYMBOLS)
    n_fusion = sum(counts.get(s, 0) for s in FUSION_SYMBOLS)
    return BeatLabelAnalysis(
        counts=counts,
        pacing_interval_ms=interval,
        pacing_interval_median_ms=median_interval(paced_pairs, "consecutive paced intervals"),
        paced_rate_ppm=None if interval is None else as_rate(interval, "ppm"),
        interval_lag1_autocorrelation=None if fitted is None else fitted[2],
        interval_sd_ms=None if fitted is None else fitted[1],
        lower_rate_candidates_ppm=() if interval is None else lower_rate_candidates(interval),
        implied_lower_rate_ppm=None if interval is None else _nearest_lrl(interval.value),
        intrinsic_interval_ms=intrinsic,
        intrinsic_rate_bpm=None if intrinsic is None else as_rate(intrinsic, "bpm"),
        paced_fraction=proportion(n_paced, total, "paced beats of all beats"),
        fusion_fraction=proportion(n_fusion, total, "fusion beats of all beats"),
        escape_interval_ms=median_interval(
            _pairs(beats, ("N", *PVC_SYMBOLS), (*PACED_SYMBOLS, *FUSION_SYMBOLS)),
            "intervals from a sensed beat (N or PVC) to the next pace (paced or fusion beat)"),
    )


def _nearest_lrl(interval_ms: float) -> int:
    grid = PARAMETERS["lower_rate_ppm"].values
    return int(min(grid, key=lambda v: abs(60000.0 / float(v) - interval_ms)))

