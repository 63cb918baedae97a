"""Calibrate a twin from a session recorded under ONE programming (an interrogation, a Holter with
device markers, a bench run at the patient's current programming).

Such a session does not show everything the calibration protocol
(:mod:`devicetwin.twin.calibration_protocol`) shows: under an AV delay shorter than the
patient's conduction time every beat is paced and the conduction time never shows; without
ventricular paces, retrograde conduction after a pace never shows. So the calibration here
compares only what a single programming can show, simulates exactly that programming on the fast
heart, and says afterwards which parameters the data informed and which stayed at their prior.

**Summaries** (:func:`session_summary_names`, read off the device's marker channel of the whole
session with the protocol's own helpers in :mod:`devicetwin.twin.calibration_summaries`):

- the intrinsic statistics (:func:`~devicetwin.twin.calibration_summaries.intrinsic_summaries`):
  median AS-AS cycle and its robust coefficient of variation, median AS to VS and its IQR, the
  share of sensed P waves conducted, premature atrial beats and PVC markers per minute;
- atrial event (sensed or paced) to VS, median and share conducted
  (:func:`~devicetwin.twin.calibration_summaries.pacing_summaries`): AV conduction after atrial
  paces, where the atrium is paced;
- the retrograde statistics after ventricular paces
  (:func:`~devicetwin.twin.calibration_summaries.retrograde_summaries`): share of V paces
  followed by an atrial sense, median VA and its IQR;
- the ventricular paced share (VP over all ventricular events), the atrial paced share (AP over
  all atrial events), atrial and ventricular events per minute and the median VS-VS cycle
  (the sinus rate where only the ventricle is sensed, as under VVI).

A statistic without data takes the protocol summaries' fixed ``MISSING`` value, in data and
simulation alike, so "never conducted" is itself compared.

**Inference**: the protocol calibration's priors (:data:`~devicetwin.twin.calibration.
CONTINUOUS_PRIORS`, :data:`~devicetwin.twin.calibration.BINARY_PRIORS`) and its ABC-SMC
(:func:`devicetwin.twin.calibration_abc.abc_smc`); each candidate runs the session's programming
on the fast heart for ``scale`` times the session's length (at most
:data:`MAX_SIMULATED_S`). Generation 0 depends on the programming and the length, so it is
simulated for each session (the fast heart makes that a few seconds).

**What the data informed** (:class:`Information`): for a continuous parameter, the width of its
90 % credible interval over the prior's 90 % width (1 = the prior; the VA time is taken given
retrograde conduction); for a binary one, the posterior's entropy over the prior's (bits). A
ratio below :data:`INFORMED_RATIO` counts as informed by the session; the rest stayed at (or
near) the prior and the twin file says so.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from devicetwin.heart.conditions import Condition
from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind
from devicetwin.pacemaker.programming import Programming
from devicetwin.twin.calibration import (
    BINARY_PRIORS,
    CONTINUOUS_PRIORS,
    Estimate,
    PosteriorFit,
    PredictiveCheck,
    SegmentSimulator,
    fast_segment,
    patient_condition,
    point_condition,
)
from devicetwin.twin.calibration_abc import (
    AbcPosterior,
    AbcSettings,
    Mapper,
    abc_smc,
)
from devicetwin.twin.calibration_summaries import (
    MISSING,
    intrinsic_summaries,
    pacing_summaries,
    resolution_of,
    retrograde_summaries,
)
from devicetwin.twin.errors import TwinError

FloatArray = npt.NDArray[np.float64]

#: Longest simulated stretch per candidate, seconds (the summaries are medians, shares and
#: rates: a longer run only narrows their noise).
MAX_SIMULATED_S = 300.0
#: Shortest session calibrated, seconds (fewer beats do not give a median worth comparing).
MIN_SESSION_S = 20.0
#: A parameter whose posterior spread is below this share of the prior's counts as informed.
INFORMED_RATIO = 0.5
#: A VS-VS interval longer than this share of the median is not a sinus cycle (a pause).
_CYCLE_BAND = (0.7, 1.3)


def session_summary_names() -> tuple[str, ...]:
    """The statistics of a session under one programming, in vector order (module docstring)."""
    return ("sinus_cycle_ms", "sinus_cv", "pr_ms", "pr_iqr_ms", "conducted_fraction",
            "pac_per_min", "pvc_per_min", "av_any_ms", "av_any_conducted_fraction",
            "retro_fraction", "retro_va_ms", "retro_iqr_ms", "ventricular_paced_fraction",
            "atrial_paced_fraction", "atrial_events_per_min", "ventricular_events_per_min",
            "ventricular_sensed_cycle_ms")


def session_summary_resolution() -> tuple[float, ...]:
    """The smallest difference worth a unit of distance, per statistic (same order as
    :func:`session_summary_names`): 5 ms for times, 0.5/min for rates, 0.005 for the coefficient
    of variation, 0.05 for shares (the protocol summaries' floors)."""
    return tuple(resolution_of(n) for n in session_summary_names())


def _count(markers: Sequence[MarkerEvent], chamber: Chamber,
           kinds: tuple[MarkerKind, ...] | None = None) -> int:
    return sum(1 for m in markers if m.chamber is chamber and (kinds is None or m.kind in kinds))


def _sensed_cycle_ms(markers: Sequence[MarkerEvent]) -> float:
    """Median interval between consecutive ventricular senses with no ventricular pace between
    (ms), within the band around the median that excludes pauses and premature beats."""
    events = sorted((m.t_us, m.kind) for m in markers if m.chamber is Chamber.V
                    and m.kind in (MarkerKind.VS, MarkerKind.VP))
    intervals = [(b[0] - a[0]) / 1000.0 for a, b in itertools.pairwise(events)
                 if a[1] is MarkerKind.VS and b[1] is MarkerKind.VS]
    if not intervals:
        return MISSING
    arr = np.asarray(intervals)
    med = float(np.median(arr))
    band = arr[(arr > _CYCLE_BAND[0] * med) & (arr < _CYCLE_BAND[1] * med)]
    return float(np.median(band)) if len(band) else med


def session_summaries(markers: Sequence[MarkerEvent], duration_us: int) -> FloatArray:
    """The summary vector of a session's markers (times in us from its start), in
    :func:`session_summary_names` order."""
    if duration_us <= 0:
        raise TwinError(f"session duration {duration_us} us is not positive",
                        name="duration_us", value=duration_us, expected="> 0 us")
    minutes = duration_us / 60e6
    out = intrinsic_summaries(markers, duration_us)
    out += pacing_summaries(markers)
    out += retrograde_summaries(markers)
    v_paced = _count(markers, Chamber.V, (MarkerKind.VP,))
    v_all = _count(markers, Chamber.V, (MarkerKind.VP, MarkerKind.VS, MarkerKind.PVC))
    a_paced = _count(markers, Chamber.A, (MarkerKind.AP,))
    a_all = _count(markers, Chamber.A, (MarkerKind.AP, MarkerKind.AS, MarkerKind.AT,
                                        MarkerKind.AR))
    out += [v_paced / v_all if v_all else 0.0, a_paced / a_all if a_all else 0.0,
            a_all / minutes, v_all / minutes, _sensed_cycle_ms(markers)]
    return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True)
class SessionSimulator:
    """The batch simulator ABC-SMC calls for one programming (picklable): parameter rows ->
    session summary rows, each run on ``simulate`` for ``duration_us``."""

    base: Condition
    programming: Programming
    duration_us: int
    simulate: SegmentSimulator

    def __call__(self, x: FloatArray, b: npt.NDArray[np.bool_],
                 seeds: npt.NDArray[np.int64]) -> FloatArray:
        out = np.empty((len(x), len(session_summary_names())))
        for i in range(len(x)):
            cond = patient_condition(
                self.base, {p.name: float(v) for p, v in zip(CONTINUOUS_PRIORS, x[i],
                                                             strict=True)},
                {p.name: bool(v) for p, v in zip(BINARY_PRIORS, b[i], strict=True)})
            markers = self.simulate(cond, self.programming, self.duration_us, int(seeds[i]))
            out[i] = session_summaries(markers, self.duration_us)
        return out


@dataclass(frozen=True)
class Information:
    """How much the session told about one parameter.

    ``ratio`` is the posterior's spread over the prior's: for a continuous parameter the width of
    the 90 % credible interval over the prior's 90 % width, for a binary one the posterior's
    entropy over the prior's (bits). ``informed`` is ``ratio < INFORMED_RATIO``, and for a
    parameter that matters only given a binary one (the VA time given retrograde conduction)
    also that the binary one is more likely than not: when the session does not show retrograde
    conduction, the VA time is judged on the posterior's minority of retrograde particles, whose
    spread the regression adjustment can narrow by chance.
    """

    name: str
    kind: str
    prior_spread: float
    posterior_spread: float
    given: str | None = None
    given_probability: float | None = None

    @property
    def ratio(self) -> float:
        """Posterior spread over prior spread (0 = pinned down, 1 = the prior)."""
        return self.posterior_spread / self.prior_spread if self.prior_spread > 0 else 1.0

    @property
    def informed(self) -> bool:
        """True when the session narrowed the parameter well below its prior."""
        return self.ratio < INFORMED_RATIO and (self.given_probability is None
                                                or self.given_probability >= 0.5)

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        out: dict[str, Any] = {"kind": self.kind, "prior_spread": self.prior_spread,
                               "posterior_spread": self.posterior_spread,
                               "ratio": round(self.ratio, 4), "informed": self.informed}
        if self.given is not None:
            out["given"] = self.given
            out["given_probability"] = self.given_probability
        return out


def _entropy_bits(p: float) -> float:
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -(p * math.log2(p) + (1.0 - p) * math.log2(1.0 - p))


def information(post: AbcPosterior) -> tuple[Information, ...]:
    """The :class:`Information` of every parameter of ``post``."""
    out = []
    for cp in post.continuous_priors:
        lo, hi = post.quantiles(cp.name, [0.05, 0.95])
        given = None if cp.requires is None else post.probability(cp.requires)
        out.append(Information(cp.name, "continuous", 0.9 * (cp.high - cp.low), hi - lo,
                               cp.requires, given))
    for bp in post.binary_priors:
        out.append(Information(bp.name, "binary", _entropy_bits(bp.p_true),
                               _entropy_bits(post.probability(bp.name))))
    return tuple(out)


@dataclass(frozen=True)
class SessionCalibration(PosteriorFit):
    """A patient calibrated from a session under one programming.

    Attributes
    ----------
    condition:
        The point condition (posterior medians, binary parameters by majority).
    estimates:
        Median and 90 % interval of each continuous parameter.
    probabilities:
        Posterior probability of each binary parameter.
    information:
        What the session told about each parameter (:class:`Information`).
    observed:
        The session's summaries (:func:`session_summary_names` order).
    checks:
        Posterior predictive check of each summary, at the session's full length.
    posterior:
        The ABC-SMC particles.
    programming:
        The programming the session was recorded under (and every candidate simulated with).
    simulated_us:
        Length of each candidate's simulation, microseconds.
    """

    information: tuple[Information, ...]
    programming: Programming
    simulated_us: int

    def info(self, name: str) -> Information:
        """The :class:`Information` of ``name``."""
        for i in self.information:
            if i.name == name:
                return i
        raise TwinError(f"no parameter {name!r}", name="parameter", value=name,
                        expected=str([i.name for i in self.information]))

    @property
    def informed(self) -> tuple[str, ...]:
        """The parameters the session informed."""
        return tuple(i.name for i in self.information if i.informed)

    @property
    def prior_only(self) -> tuple[str, ...]:
        """The parameters the session could not show (still at or near their prior)."""
        return tuple(i.name for i in self.information if not i.informed)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready): estimates, probabilities, what was informed, checks, run
        figures and a thinned posterior sample."""
        post = self.posterior
        return {
            "data": "a session under one programming",
            "estimates": {e.name: e.to_dict() for e in self.estimates},
            "probabilities": dict(self.probabilities),
            "information": {i.name: i.to_dict() for i in self.information},
            "informed": list(self.informed),
            "prior_only": list(self.prior_only),
            "observed_summaries": dict(zip(session_summary_names(), self.observed,
                                           strict=True)),
            "predictive_checks": {c.name: c.to_dict() for c in self.checks},
            "posterior_sample": self.posterior_sample_dict(),
            "method": {"algorithm": "ABC-SMC (PMC-ABC, quantile tolerance) + local-linear "
                                    "regression adjustment, one programming",
                       "simulations": post.simulations, "population": self.settings.population,
                       "generations": self.settings.generations,
                       "tolerances": list(post.tolerances),
                       "simulated_s_per_candidate": self.simulated_us / 1e6,
                       "informed_ratio": INFORMED_RATIO,
                       "elapsed_s": round(self.elapsed_s, 2)},
        }


def _checks(observed: FloatArray, predicted: FloatArray) -> tuple[PredictiveCheck, ...]:
    out = []
    for j, name in enumerate(session_summary_names()):
        col = predicted[:, j]
        below = float(np.mean(col < observed[j]) + 0.5 * np.mean(col == observed[j]))
        lo, med, hi = np.percentile(col, [5.0, 50.0, 95.0])
        out.append(PredictiveCheck(name, float(observed[j]), float(med), float(lo), float(hi),
                                   below))
    return tuple(out)


def simulated_length_us(duration_us: int, scale: float) -> int:
    """Each candidate's simulated length: ``scale`` times the session's, at most
    :data:`MAX_SIMULATED_S`, at least :data:`MIN_SESSION_S`."""
    if not (isinstance(scale, int | float) and 0.01 <= scale <= 10.0):
        raise TwinError(f"simulation scale {scale!r} is out of range; expected 0.01-10",
                        name="scale", value=scale, expected="0.01-10")
    return round(min(max(duration_us * scale, MIN_SESSION_S * 1e6), MAX_SIMULATED_S * 1e6))


def check_session(markers: Sequence[MarkerEvent], duration_us: int,
                  programming: Programming) -> None:
    """Raise :class:`TwinError` when the markers cannot be calibrated under ``programming``:
    none at all, a session shorter than :data:`MIN_SESSION_S`, or paces in a chamber the
    programming's mode does not pace (the wrong programming)."""
    if not markers:
        raise TwinError("the session holds no device markers; calibration reads the marker "
                        "channel (an interrogation, the bench's 'dev' annotator, a CSV marker "
                        "log)", name="markers", value=0, expected="device markers")
    if duration_us < MIN_SESSION_S * 1e6:
        raise TwinError(f"the session lasts {duration_us / 1e6:.1f} s, shorter than the "
                        f"{MIN_SESSION_S:g} s calibration needs", name="duration_us",
                        value=duration_us, expected=f">= {MIN_SESSION_S * 1e6:.0f} us")
    mode = programming.mode
    checks = ((Chamber.A, (MarkerKind.AP,), mode.paces_atrium, "pace"),
              (Chamber.V, (MarkerKind.VP,), mode.paces_ventricle, "pace"),
              (Chamber.A, (MarkerKind.AS, MarkerKind.AR, MarkerKind.AT), mode.senses_atrium,
               "sense"),
              (Chamber.V, (MarkerKind.VS, MarkerKind.VR), mode.senses_ventricle, "sense"))
    for chamber, kinds, can, verb in checks:
        n = _count(markers, chamber, kinds)
        if n and not can:
            names = "/".join(k.value for k in kinds)
            where = "atrium" if chamber is Chamber.A else "ventricle"
            raise TwinError(f"the session holds {n} {names} marker(s) but mode {mode.value} "
                            f"does not {verb} the {where}: "
                            "the programming given is not the session's", name="mode",
                            value=mode.value,
                            expected=f"a mode that can {verb} where the session shows {names}")


def calibrate_session(markers: Sequence[MarkerEvent], duration_us: int,
                      programming: Programming, simulate: SegmentSimulator = fast_segment, *,
                      base: Condition | None = None, settings: AbcSettings | None = None,
                      scale: float = 0.5, seed: int = 0, check_draws: int = 20,
                      mapper: Mapper | None = None,
                      progress: Callable[[int, float], None] | None = None
                      ) -> SessionCalibration:
    """The posterior of the patient behind a session recorded under ``programming``.

    Parameters
    ----------
    markers, duration_us:
        The session's device markers (times in us from its start) and its length (us).
    programming:
        The programming the session was recorded under.
    simulate:
        Runs the patient under a programming (picklable when ``mapper`` is an executor's).
    base:
        The condition the unknowns are set on (default: :class:`Condition`'s defaults).
    settings:
        ABC-SMC sizes (default :class:`AbcSettings`).
    scale:
        Length of each candidate's simulation relative to the session's
        (:func:`simulated_length_us`).
    check_draws:
        Posterior draws for the predictive check, at the session's length (0: none).
    progress:
        Called after each ABC-SMC generation with (generation, tolerance).

    The priors are the protocol calibration's (module docstring).
    """
    check_session(markers, duration_us, programming)
    start = time.perf_counter()
    base_cond = base or Condition()
    cfg = settings or AbcSettings()
    observed = session_summaries(markers, duration_us)
    sim_us = simulated_length_us(duration_us, scale)
    sim = SessionSimulator(base_cond, programming, sim_us, simulate)
    post = abc_smc(observed, sim, CONTINUOUS_PRIORS, BINARY_PRIORS, cfg, seed=seed,
                   mapper=mapper, min_scales=session_summary_resolution(), progress=progress)
    checks: tuple[PredictiveCheck, ...] = ()
    if check_draws > 0:
        rng = np.random.default_rng(seed + 1)
        idx = rng.choice(len(post.weights), size=check_draws, p=post.weights)
        ppc = SessionSimulator(base_cond, programming, duration_us, simulate)
        predicted = ppc(post.continuous[idx], post.binary[idx],
                        np.arange(check_draws, dtype=np.int64) + 10_000_019 * (seed + 1))
        checks = _checks(observed, predicted)
    estimates = []
    for p in post.continuous_priors:
        lo, med, hi = post.quantiles(p.name, [0.05, 0.5, 0.95])
        estimates.append(Estimate(p.name, med, lo, hi))
    return SessionCalibration(
        condition=point_condition(base_cond, post), estimates=tuple(estimates),
        probabilities={p.name: post.probability(p.name) for p in post.binary_priors},
        information=information(post), observed=tuple(float(v) for v in observed),
        checks=checks, posterior=post, programming=programming, simulated_us=sim_us,
        elapsed_s=time.perf_counter() - start, settings=cfg)
