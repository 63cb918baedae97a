"""Validation of calibration on synthetic patients: hidden truths, replay, the headline figures.

A synthetic patient is a condition drawn from the calibration priors
(:func:`devicetwin.twin.calibration.draw_patients`), recorded with the *cell-network* heart in
closed loop with the reference pacemaker through the whole ten-minute protocol, then calibrated
with the *fast* heart: the twin never sees the model that made its data. Two more cell-heart
runs under programmings the protocol never used give the replay truths:

- :data:`REPLAY_VPACE`: DDD at 60 ppm with a 200 ms AV delay; the truth is the ventricular
  pacing percentage;
- :data:`REPLAY_PMT`: DDD with PVARP 280 ms and PMT termination off, challenged with a PVC every
  12 s (:func:`devicetwin.twin.recommend.challenge_condition`); the truth is whether a PMT
  episode occurred.

The twin predicts both by running the same programmings on the fast heart for draws from its
posterior (:data:`REPLAY_DRAWS`). The draws are the nearest neighbours, among
:data:`REPLAY_CANDIDATES` times as many posterior draws, of the recording's conduction times
(:data:`REPLAY_MATCH`: the median PR of the intrinsic segment and the AV time at the slowest
atrial pacing rate, each simulated at the recording's length): whether a beat conducts within the
replay's 200 ms AV delay is decided by those times, which the recording measures to about a
millisecond, while the ABC posterior, matched on all 18 summaries at once, is spread over tens
of milliseconds (k-nearest-neighbour ABC, Biau, Cerou & Guyader 2015, on the summaries the
prediction depends on). Then PMT when at least half the draws have an episode, and as the
ventricular pacing the *median* over the draws, the posterior predictive median. The median, not
the mean, because the figure scored is the absolute error, and the median of a predictive
distribution is the point that minimises the expected absolute error under it. The two differ
where it matters: when the patient's AV time lies near the replay's AV delay the draws split
into two modes, "conducts" (near 0 % pacing) and "paced" (near 100 %), and the mean lands between
them, far from either outcome, while the median lies in the mode with more posterior mass (with
even mass, between the modes' inner edges). The spread of the draws is kept as the prediction's
uncertainty (5th and 95th percentiles).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from devicetwin.cohort.simulate import simulate_patient
from devicetwin.heart.conditions import Condition
from devicetwin.outcomes.measures import Outcomes
from devicetwin.pacemaker.modes import Mode
from devicetwin.pacemaker.programming import Programming
from devicetwin.twin.calibration import (
    Calibration,
    SegmentSimulator,
    fast_segment,
    isclose_rate,
    truth_of,
)
from devicetwin.twin.calibration_protocol import recording_protocol
from devicetwin.twin.calibration_summaries import (
    intrinsic_summaries,
    pacing_summaries,
    summary_names,
    summary_resolution,
)
from devicetwin.twin.errors import TwinError
from devicetwin.twin.recommend import challenge_condition

#: Runs a patient: (condition, programming, duration_us, seed) -> outcomes.
OutcomeSimulator = Callable[[Condition, Programming, int, int], Outcomes]

#: Replay programming for ventricular pacing: another AV delay than the protocol's.
REPLAY_VPACE = Programming.nominal(Mode.DDD, lower_rate_ppm=60, fixed_av_delay_ms=200)
#: Replay programming for PMT: a PVARP the protocol never used, PMT termination off.
REPLAY_PMT = Programming.nominal(Mode.DDD, pvarp_ms=280, pmt_termination=False)
#: Length of each replay run, microseconds.
REPLAY_DURATION_US = 60_000_000
#: Posterior draws the twin's replay prediction runs (each two 60-s runs on the fast heart).
REPLAY_DRAWS = 40
#: Posterior draws simulated per replay draw kept (the nearest to :data:`REPLAY_MATCH`).
REPLAY_CANDIDATES = 5
#: The summaries a replay draw must reproduce, and the protocol segment each is read from.
REPLAY_MATCH: tuple[tuple[str, str], ...] = (("pr_ms", "intrinsic"),
                                             ("paced_av_ms_90", "atrial_pacing_90"))


def fast_outcomes(condition: Condition, programming: Programming, duration_us: int,
                  seed: int) -> Outcomes:
    """A run's outcomes on the fast heart (the twin's predictions)."""
    return simulate_patient(condition, programming, duration_us, seed, heart="fast").outcomes


def cells_outcomes(condition: Condition, programming: Programming, duration_us: int,
                   seed: int) -> Outcomes:
    """A run's outcomes on the cell-network heart (the synthetic patients' truths)."""
    return simulate_patient(condition, programming, duration_us, seed, heart="cells").outcomes


@dataclass(frozen=True)
class ReplayTruth:
    """What the cell heart did under the replay programmings."""

    ventricular_paced_percent: float
    pmt: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"ventricular_paced_percent": self.ventricular_paced_percent, "pmt": self.pmt}


def replay_truth(condition: Condition, simulate_cells: OutcomeSimulator, seed: int
                 ) -> ReplayTruth:
    """The replay runs of a synthetic patient on the cell heart (module docstring)."""
    vp = simulate_cells(condition, REPLAY_VPACE, REPLAY_DURATION_US, seed)
    pmt = simulate_cells(challenge_condition(condition, REPLAY_DURATION_US), REPLAY_PMT,
                         REPLAY_DURATION_US, seed + 1)
    return ReplayTruth(float(vp.values()["ventricular_paced_percent"] or 0.0),
                       len(pmt.pmt.episodes) > 0)


@dataclass(frozen=True)
class ReplayPrediction:
    """The twin's replay prediction: the median ventricular pacing (%) over posterior draws,
    the share of draws with PMT, and the draws' 5th and 95th percentiles of ventricular pacing
    (%; NaN when not known)."""

    ventricular_paced_percent: float
    pmt_probability: float
    ventricular_paced_low90: float = math.nan
    ventricular_paced_high90: float = math.nan

    @property
    def pmt(self) -> bool:
        """PMT predicted (at least half the draws)."""
        return self.pmt_probability >= 0.5


def matching_draws(calibration: Calibration, draws: int, seed: int,
                   simulate_segment: SegmentSimulator) -> list[Condition]:
    """The ``draws`` posterior draws, among ``REPLAY_CANDIDATES * draws``, whose simulated
    :data:`REPLAY_MATCH` summaries lie nearest the recording's (distance: the largest
    difference in units of each summary's resolution; module docstring)."""
    candidates = calibration.posterior_samples(draws * REPLAY_CANDIDATES, seed)
    names = summary_names()
    observed = np.asarray([calibration.observed[names.index(n)] for n, _ in REPLAY_MATCH])
    resolution = np.asarray([summary_resolution()[names.index(n)] for n, _ in REPLAY_MATCH])
    segments = {s.name: s for s in recording_protocol()}
    dist = np.empty(len(candidates))
    for i, cond in enumerate(candidates):
        sim = []
        for k, (name, seg_name) in enumerate(REPLAY_MATCH):
            seg = segments[seg_name]
            markers = simulate_segment(cond, seg.programming, seg.duration_us,
                                       7_000_003 * (seed + 1) + 16 * i + k)
            values = (intrinsic_summaries(markers, seg.duration_us) if seg_name == "intrinsic"
                      else pacing_summaries(markers))
            sim.append(values[0 if name.startswith("paced_av") else 2])
        dist[i] = float(np.max(np.abs(np.asarray(sim) - observed) / resolution))
    keep = np.argsort(dist, kind="stable")[:draws]
    return [candidates[int(i)] for i in keep]


def replay_prediction(calibration: Calibration, simulate_fast: OutcomeSimulator,
                      draws: int = REPLAY_DRAWS, seed: int = 0,
                      simulate_segment: SegmentSimulator | None = fast_segment
                      ) -> ReplayPrediction:
    """Run the replay programmings on the fast heart for ``draws`` posterior draws: the median
    ventricular pacing and the share of draws with PMT (module docstring). The draws match the
    recording's conduction times (:func:`matching_draws`) when ``simulate_segment`` is given,
    else they are plain posterior draws."""
    vps, pmts = [], []
    conds = (calibration.posterior_samples(draws, seed) if simulate_segment is None
             else matching_draws(calibration, draws, seed, simulate_segment))
    for k, cond in enumerate(conds):
        vp = simulate_fast(cond, REPLAY_VPACE, REPLAY_DURATION_US, seed * 1000 + k)
        pmt = simulate_fast(challenge_condition(cond, REPLAY_DURATION_US), REPLAY_PMT,
                            REPLAY_DURATION_US, seed * 1000 + k)
        vps.append(float(vp.values()["ventricular_paced_percent"] or 0.0))
        pmts.append(len(pmt.pmt.episodes) > 0)
    return summarise_replay(vps, pmts)


def summarise_replay(vp_percents: Sequence[float], pmt_flags: Sequence[bool]
                     ) -> ReplayPrediction:
    """The prediction from the draws' ventricular pacing (%) and PMT flags: the median pacing
    with its 5th-95th percentiles, and the share of draws with PMT (module docstring)."""
    if not vp_percents or len(vp_percents) != len(pmt_flags):
        raise TwinError(f"replay draws: {len(vp_percents)} pacing figures and "
                        f"{len(pmt_flags)} PMT flags; expected as many of each, at least one",
                        name="draws", value=len(vp_percents),
                        expected="as many PMT flags as pacing figures, at least one")
    low, med, high = np.percentile(np.asarray(vp_percents, dtype=np.float64), [5.0, 50.0, 95.0])
    return ReplayPrediction(float(med), sum(bool(f) for f in pmt_flags) / len(pmt_flags),
                            float(low), float(high))


@dataclass(frozen=True)
class PatientResult:
    """One synthetic patient's calibration against its truth."""

    truth: Mapping[str, float | bool]
    estimates: Mapping[str, tuple[float, float, float]]
    retrograde_probability: float
    replay_truth: ReplayTruth
    replay: ReplayPrediction
    calibrate_s: float

    @classmethod
    def of(cls, truth_condition: Condition, calibration: Calibration, replay_truth: ReplayTruth,
           replay: ReplayPrediction) -> PatientResult:
        """Collect a patient's figures."""
        return cls(truth_of(truth_condition),
                   {e.name: (e.median, e.low90, e.high90) for e in calibration.estimates},
                   calibration.probabilities["retrograde"], replay_truth, replay,
                   calibration.elapsed_s)

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"truth": dict(self.truth),
                "estimates": {k: list(v) for k, v in self.estimates.items()},
                "retrograde_probability": self.retrograde_probability,
                "replay_truth": self.replay_truth.to_dict(),
                "replay_predicted": {
                    "ventricular_paced_percent": self.replay.ventricular_paced_percent,
                    "ventricular_paced_low90": self.replay.ventricular_paced_low90,
                    "ventricular_paced_high90": self.replay.ventricular_paced_high90,
                    "pmt_probability": self.replay.pmt_probability},
                "calibrate_s": self.calibrate_s}


def _covers(est: tuple[float, float, float], value: float) -> bool:
    return est[1] <= value <= est[2]


def validation_figures(results: Sequence[PatientResult]) -> dict[str, float | int]:
    """The headline figures (issue 17's names and goals).

    ``av_mae_ms`` is over patients whose AV node conducts (with complete block there is no AV
    time to estimate), ``va_mae_ms`` over patients with retrograde conduction (estimate given
    retrograde conduction), ``coverage_90`` over every (patient, parameter) pair of sinus rate,
    AV time (conducting patients) and VA time (retrograde patients).
    """
    av_err, va_err, rate_err, covered = [], [], [], []
    retro_ok, vp_err, pmt_ok, secs = [], [], [], []
    for r in results:
        t = r.truth
        rate = r.estimates["sinus_rate_bpm"]
        rate_err.append(isclose_rate(rate[0], float(t["sinus_rate_bpm"])))
        covered.append(_covers(rate, float(t["sinus_rate_bpm"])))
        if not t["complete_block"]:
            av = r.estimates["av_delay_ms"]
            av_err.append(abs(av[0] - float(t["av_delay_ms"])))
            covered.append(_covers(av, float(t["av_delay_ms"])))
        if t["retrograde"]:
            va = r.estimates["va_conduction_ms"]
            va_err.append(abs(va[0] - float(t["va_conduction_ms"])))
            covered.append(_covers(va, float(t["va_conduction_ms"])))
        retro_ok.append((r.retrograde_probability > 0.5) == bool(t["retrograde"]))
        vp_err.append(abs(r.replay.ventricular_paced_percent
                          - r.replay_truth.ventricular_paced_percent))
        pmt_ok.append(r.replay.pmt == r.replay_truth.pmt)
        secs.append(r.calibrate_s)

    def mean(xs: Sequence[float]) -> float:
        return round(statistics.fmean(xs), 3) if xs else float("nan")

    return {
        "patients": len(results),
        "av_mae_ms": mean(av_err),
        "va_mae_ms": mean(va_err),
        "retrograde_accuracy": mean([float(x) for x in retro_ok]),
        "sinus_rate_error_pct": mean(rate_err),
        "coverage_90": mean([float(x) for x in covered]),
        "replay_vpace_error_pp": mean(vp_err),
        "replay_pmt_accuracy": mean([float(x) for x in pmt_ok]),
        "calibrate_s_median": round(statistics.median(secs), 2) if secs else float("nan"),
    }
