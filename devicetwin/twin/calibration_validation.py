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
posterior: the mean ventricular pacing, and PMT when at least half the draws have an episode.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devicetwin.cohort.simulate import simulate_patient
from devicetwin.heart.conditions import Condition
from devicetwin.outcomes.measures import Outcomes
from devicetwin.pacemaker.modes import Mode
from devicetwin.pacemaker.programming import Programming
from devicetwin.twin.calibration import Calibration, isclose_rate, truth_of
from devicetwin.twin.recommend import challenge_condition

#: Runs a patient: (condition, programming, duration_us, seed) -> outcomes.
OutcomeSimulator = Callable[[Condition, Programming, int, int], Outcomes]

#: Replay programming for ventricular pacing: another AV delay than the protocol's.
REPLAY_VPACE = Programming.nominal(Mode.DDD, lower_rate_ppm=60, fixed_av_delay_ms=200)
#: Replay programming for PMT: a PVARP the protocol never used, PMT termination off.
REPLAY_PMT = Programming.nominal(Mode.DDD, pvarp_ms=280, pmt_termination=False)
#: Length of each replay run, microseconds.
REPLAY_DURATION_US = 60_000_000
#: Posterior draws the twin's replay prediction averages.
REPLAY_DRAWS = 12


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
    """The twin's replay prediction: mean VP % over draws and the share of draws with PMT."""

    ventricular_paced_percent: float
    pmt_probability: float

    @property
    def pmt(self) -> bool:
        """PMT predicted (at least half the draws)."""
        return self.pmt_probability >= 0.5


def replay_prediction(calibration: Calibration, simulate_fast: OutcomeSimulator,
                      draws: int = REPLAY_DRAWS, seed: int = 0) -> ReplayPrediction:
    """Run the replay programmings on the fast heart for posterior draws."""
    vps, pmts = [], []
    for k, cond in enumerate(calibration.posterior_samples(draws, seed)):
        vp = simulate_fast(cond, REPLAY_VPACE, REPLAY_DURATION_US, seed * 1000 + k)
        pmt = simulate_fast(challenge_condition(cond, REPLAY_DURATION_US), REPLAY_PMT,
                            REPLAY_DURATION_US, seed * 1000 + k)
        vps.append(float(vp.values()["ventricular_paced_percent"] or 0.0))
        pmts.append(len(pmt.pmt.episodes) > 0)
    return ReplayPrediction(statistics.fmean(vps), sum(pmts) / len(pmts))


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
