"""A trial's summary: each endpoint per arm and each paired arm difference, with bootstrap
confidence intervals, over all patients and per stratum; and the comparison with a published
result.

Intervals are percentile bootstrap intervals (:func:`scipy.stats.bootstrap`, resampling
patients; a difference resamples patients with both arms together, ``paired=True``). The
percentile method is used rather than BCa because pacing endpoints pile up at 0 and 100 %, where
BCa's acceleration estimate breaks down. A column whose values are all equal has the degenerate
interval [v, v]; fewer than two patients, none. Patients with no value for an endpoint (NaN:
no beats of that kind) are left out of that endpoint.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from devicetwin.pacemaker.parameters import interval_ms
from devicetwin.pacemaker.programming import Programming
from hil.trials.spec import Comparison, TrialSpec

FloatArray = npt.NDArray[np.float64]
#: The stratum that holds every patient.
ALL = "all"


@dataclass(frozen=True)
class Estimate:
    """A statistic of one endpoint, with its confidence interval (NaN when there is none)."""

    endpoint: str
    stratum: str
    arm: str
    n: int
    value: float
    low: float
    high: float
    baseline: str | None = None  # set for a difference: ``arm`` minus ``baseline``


@dataclass(frozen=True)
class ArmTiming:
    """The upper-rate arithmetic of an arm's programming (docs: pacing brief section 2).

    ``tarp_ms`` = sensed AV delay + PVARP; 2:1 block starts at ``60000 / tarp_ms`` bpm (the
    lower that is, the sooner a rising sinus rate loses 1:1 tracking); Wenckebach spans the
    upper rate to it when the upper-rate interval is longer than the TARP.
    """

    arm: str
    mode: str
    av_delay_ms: int
    sensed_av_delay_ms: int
    pvarp_ms: int
    upper_rate_ppm: int
    tarp_ms: int | None
    two_to_one_bpm: float | None
    wenckebach: bool | None


@dataclass(frozen=True)
class ComparisonResult:
    """The trial's values against a published result."""

    comparison: Comparison
    trial: Mapping[str, Estimate]
    direction_reproduced: bool | None
    within_bounds: bool
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Direction reproduced (where the publication gives one) and every bound met."""
        return self.within_bounds and self.direction_reproduced is not False


@dataclass(frozen=True)
class TrialSummary:
    """Everything the report and ``summary.json`` show."""

    trial: str
    statistic: str
    confidence: float
    patients: int
    arms: tuple[str, ...]
    baseline: str
    strata: dict[str, list[str]]
    endpoint_statistics: dict[str, str]
    estimates: tuple[Estimate, ...]
    differences: tuple[Estimate, ...]
    timing: tuple[ArmTiming, ...]
    comparisons: tuple[ComparisonResult, ...]

    def estimate(self, endpoint: str, arm: str, stratum: str = ALL) -> Estimate:
        """The estimate of ``endpoint`` in ``arm`` over ``stratum``."""
        return next(e for e in self.estimates
                    if (e.endpoint, e.arm, e.stratum) == (endpoint, arm, stratum))

    def difference(self, endpoint: str, arm: str, stratum: str = ALL) -> Estimate:
        """``arm`` minus the baseline, paired, for ``endpoint`` over ``stratum``."""
        return next(e for e in self.differences
                    if (e.endpoint, e.arm, e.stratum) == (endpoint, arm, stratum))

    @property
    def passed(self) -> bool:
        """Every comparison with a published result holds (True when there is none)."""
        return all(c.passed for c in self.comparisons)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "trial": self.trial, "statistic": self.statistic, "confidence": self.confidence,
            "patients": self.patients, "arms": list(self.arms), "baseline": self.baseline,
            "strata": self.strata, "endpoint_statistics": self.endpoint_statistics,
            "passed": self.passed,
            "estimates": [_clean(asdict(e)) for e in self.estimates],
            "differences": [_clean(asdict(e)) for e in self.differences],
            "timing": [asdict(t) for t in self.timing],
            "comparisons": [{
                "endpoint": c.comparison.endpoint, "statistic": c.comparison.statistic,
                "source": c.comparison.source, "published": dict(c.comparison.published),
                "trial": {a: _clean(asdict(e)) for a, e in c.trial.items()},
                "expect_min": dict(c.comparison.expect_min),
                "expect_max": dict(c.comparison.expect_max),
                "direction_reproduced": c.direction_reproduced,
                "within_bounds": c.within_bounds, "failures": list(c.failures),
                "passed": c.passed} for c in self.comparisons],
        }


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}


_STATISTICS: dict[str, Callable[..., Any]] = {"median": np.median, "mean": np.mean}


def statistic_of(name: str) -> Callable[..., Any]:
    """The NumPy function of a statistic name (``median``, ``mean``)."""
    return _STATISTICS[name]


def bootstrap_interval(values: FloatArray, statistic: str, confidence: float, resamples: int,
                       seed: int) -> tuple[float, float, float]:
    """(statistic, low, high) of one sample, percentile bootstrap."""
    fn = statistic_of(statistic)
    x = values[~np.isnan(values)]
    if x.size == 0:
        return (math.nan, math.nan, math.nan)
    point = float(fn(x))
    if x.size < 2:
        return (point, math.nan, math.nan)
    if np.ptp(x) == 0:
        return (point, point, point)
    res = stats.bootstrap((x,), fn, vectorized=True, n_resamples=resamples,
                          confidence_level=confidence, method="percentile",
                          random_state=np.random.default_rng(seed))
    return (point, float(res.confidence_interval.low), float(res.confidence_interval.high))


def paired_difference(arm: FloatArray, base: FloatArray, statistic: str, confidence: float,
                      resamples: int, seed: int) -> tuple[float, float, float, int]:
    """(statistic(arm) - statistic(base), low, high, n) over patients with both values."""
    fn = statistic_of(statistic)
    both = ~(np.isnan(arm) | np.isnan(base))
    a, b = arm[both], base[both]
    n = int(a.size)
    if n == 0:
        return (math.nan, math.nan, math.nan, 0)
    point = float(fn(a) - fn(b))
    if n < 2:
        return (point, math.nan, math.nan, n)
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        return (point, point, point, n)

    def diff(x: FloatArray, y: FloatArray, axis: int = -1) -> Any:
        return fn(x, axis=axis) - fn(y, axis=axis)

    res = stats.bootstrap((a, b), diff, paired=True, vectorized=True, n_resamples=resamples,
                          confidence_level=confidence, method="percentile",
                          random_state=np.random.default_rng(seed))
    return (point, float(res.confidence_interval.low), float(res.confidence_interval.high), n)


def arm_timing(name: str, programming: Programming) -> ArmTiming:
    """The upper-rate arithmetic of one arm (see :class:`ArmTiming`)."""
    av = programming.fixed_av_delay_ms
    sav = av + (programming.sensed_av_offset_ms or 0)
    tarp = sav + programming.pvarp_ms if programming.mode.tracking else None
    return ArmTiming(
        arm=name, mode=programming.mode.value, av_delay_ms=av, sensed_av_delay_ms=sav,
        pvarp_ms=programming.pvarp_ms, upper_rate_ppm=programming.upper_rate_ppm,
        tarp_ms=tarp, two_to_one_bpm=None if tarp is None else 60000.0 / tarp,
        wenckebach=None if tarp is None else interval_ms(programming.upper_rate_ppm) > tarp)


def summarize(spec: TrialSpec, columns: Mapping[str, Sequence[Any]],
              patient_columns: Mapping[str, Sequence[Any]]) -> TrialSummary:
    """The summary of a finished trial.

    Parameters
    ----------
    columns:
        The results: ``patient_id``, ``arm`` and one column per endpoint.
    patient_columns:
        The population: ``patient_id`` and every stratum column.
    """
    arms = tuple(a.name for a in spec.arms)
    ids = sorted(set(int(i) for i in patient_columns["patient_id"]))
    row_of = {pid: k for k, pid in enumerate(ids)}
    # endpoint -> arm -> values by patient (NaN where missing)
    grid: dict[str, dict[str, FloatArray]] = {
        e: {a: np.full(len(ids), np.nan) for a in arms} for e in spec.endpoints}
    for k, (pid, arm) in enumerate(zip(columns["patient_id"], columns["arm"], strict=True)):
        if arm in arms and int(pid) in row_of:
            for e in spec.endpoints:
                v = columns[e][k]
                grid[e][arm][row_of[int(pid)]] = np.nan if v is None else float(v)
    by_patient = {int(p): k for k, p in enumerate(patient_columns["patient_id"])}
    strata: dict[str, FloatArray] = {ALL: np.ones(len(ids), dtype=bool)}
    levels: dict[str, list[str]] = {}
    for col in spec.strata:
        values = [str(patient_columns[col][by_patient[p]]) for p in ids]
        levels[col] = sorted(set(values))
        for level in levels[col]:
            strata[f"{col}={level}"] = np.asarray([v == level for v in values])
    estimates: list[Estimate] = []
    differences: list[Estimate] = []
    seed = spec.seed
    for e in spec.endpoints:
        for sname, mask in strata.items():
            for arm in arms:
                seed += 1
                v, lo, hi = bootstrap_interval(grid[e][arm][mask], spec.statistic_for(e),
                                               spec.confidence, spec.bootstrap_resamples, seed)
                n = int(np.count_nonzero(~np.isnan(grid[e][arm][mask])))
                estimates.append(Estimate(e, sname, arm, n, v, lo, hi))
                if arm != spec.baseline:
                    seed += 1
                    d, dlo, dhi, dn = paired_difference(
                        grid[e][arm][mask], grid[e][spec.baseline][mask], spec.statistic_for(e),
                        spec.confidence, spec.bootstrap_resamples, seed)
                    differences.append(Estimate(e, sname, arm, dn, d, dlo, dhi, spec.baseline))
    comparisons = []
    for c in spec.comparisons:
        found: dict[str, Estimate] = {}
        for arm in arms:
            seed += 1
            v, lo, hi = bootstrap_interval(grid[c.endpoint][arm] if c.endpoint in grid
                                           else _column(columns, c.endpoint, arm, row_of),
                                           c.statistic, spec.confidence,
                                           spec.bootstrap_resamples, seed)
            found[arm] = Estimate(c.endpoint, ALL, arm, len(ids), v, lo, hi)
        comparisons.append(compare(c, found))
    return TrialSummary(
        trial=spec.name, statistic=spec.statistic, confidence=spec.confidence,
        patients=len(ids), arms=arms, baseline=spec.baseline, strata=levels,
        endpoint_statistics={e: spec.statistic_for(e) for e in spec.endpoints},
        estimates=tuple(estimates), differences=tuple(differences),
        timing=tuple(arm_timing(a.name, a.programming()) for a in spec.arms),
        comparisons=tuple(comparisons))


def _column(columns: Mapping[str, Sequence[Any]], endpoint: str, arm: str,
            row_of: Mapping[int, int]) -> FloatArray:
    out = np.full(len(row_of), np.nan)
    for k, (pid, a) in enumerate(zip(columns["patient_id"], columns["arm"], strict=True)):
        if a == arm and int(pid) in row_of:
            v = columns[endpoint][k]
            out[row_of[int(pid)]] = np.nan if v is None else float(v)
    return out


def compare(c: Comparison, trial: Mapping[str, Estimate]) -> ComparisonResult:
    """The trial's values against the published ones: the bounds, and the direction of every
    pair of arms the publication gives values for (the trial's order must match)."""
    failures: list[str] = []
    for arm, low in c.expect_min.items():
        if not trial[arm].value >= low:
            failures.append(f"{arm}: {c.statistic} {trial[arm].value:.3g} below {low:g}")
    for arm, high in c.expect_max.items():
        if not trial[arm].value <= high:
            failures.append(f"{arm}: {c.statistic} {trial[arm].value:.3g} above {high:g}")
    direction: bool | None = None
    names = [a for a in c.published if a in trial]
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            pub = np.sign(c.published[a] - c.published[b])
            got = np.sign(trial[a].value - trial[b].value)
            if pub == 0:
                continue
            ok = bool(pub == got)
            direction = ok if direction is None else direction and ok
            if not ok:
                failures.append(f"{a} vs {b}: published {c.published[a]:g} vs "
                                f"{c.published[b]:g}, trial {trial[a].value:.3g} vs "
                                f"{trial[b].value:.3g}")
    within = not any("below" in f or "above" in f for f in failures)
    return ComparisonResult(c, dict(trial), direction, within, tuple(failures))
