"""Calibrate a patient's twin: the condition parameters behind a protocol recording, with
their uncertainty, by simulation-based inference over the fast heart.

The unknowns (:data:`CONTINUOUS_PRIORS`, :data:`BINARY_PRIORS`) are the condition fields the
issue names: sinus rate and its variability, AV conduction time, its decrement and the AV node's
refractoriness (which sets the Wenckebach point), retrograde conduction and its VA time, ectopy
rates and the block pattern (complete block or not). Everything else keeps the base condition's
value. The priors are uniform over ranges a pacemaker clinic sees (each range in the table) and
even odds on retrograde conduction; complete block has prior odds 1 in 5.

For each candidate parameter set the fast heart runs the recording protocol
(:mod:`devicetwin.twin.calibration_protocol`) in closed loop with the reference pacemaker, at
``scale`` of its length, and the summaries (:mod:`devicetwin.twin.calibration_summaries`) are
compared with the recording's by ABC-SMC (:mod:`devicetwin.twin.calibration_abc`, which says why
that algorithm, written here). A posterior predictive check then reruns the protocol at full
length for posterior draws and places each observed summary within the predicted spread.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from devicetwin.cohort.simulate import simulate_patient
from devicetwin.heart.conditions import Condition
from devicetwin.pacemaker.markers import MarkerEvent
from devicetwin.pacemaker.programming import Programming
from devicetwin.twin.calibration_abc import (
    AbcPosterior,
    AbcSettings,
    BernoulliPrior,
    Mapper,
    PriorSample,
    UniformPrior,
    abc_smc,
    simulate_prior,
)
from devicetwin.twin.calibration_protocol import (
    Recording,
    Segment,
    SegmentRecord,
    recording_protocol,
)
from devicetwin.twin.calibration_summaries import (
    summaries,
    summary_names,
    summary_resolution,
)
from devicetwin.twin.errors import TwinError

FloatArray = npt.NDArray[np.float64]

#: Runs one protocol segment: (condition, programming, duration_us, seed) -> device markers.
SegmentSimulator = Callable[[Condition, Programming, int, int], Sequence[MarkerEvent]]

#: The continuous unknowns and their uniform priors (condition field, low, high).
CONTINUOUS_PRIORS: tuple[UniformPrior, ...] = (
    UniformPrior("sinus_rate_bpm", 40.0, 100.0),
    UniformPrior("sinus_jitter", 0.0, 0.08),
    UniformPrior("av_delay_ms", 130.0, 300.0),
    UniformPrior("av_decrement_ms", 0.0, 400.0),
    UniformPrior("av_erp_ms", 200.0, 600.0),
    UniformPrior("va_conduction_ms", 120.0, 450.0, requires="retrograde"),
    UniformPrior("pac_rate_per_min", 0.0, 6.0),
    UniformPrior("pvc_rate_per_min", 0.0, 6.0),
)
#: The binary unknowns: retrograde conduction, and complete AV block (``av_conduction``).
BINARY_PRIORS: tuple[BernoulliPrior, ...] = (
    BernoulliPrior("retrograde", 0.5),
    BernoulliPrior("complete_block", 0.2),
)
#: The estimates validated against the truth (the issue's goals): headline parameters.
HEADLINE = ("sinus_rate_bpm", "av_delay_ms", "va_conduction_ms")
#: Parameters a few summaries measure directly and almost without noise: each one's marginal
#: posterior is estimated again from those summaries alone (:func:`refine_marginals`).
MARGINAL_SUMMARIES: dict[str, tuple[str, ...]] = {
    "va_conduction_ms": ("retro_fraction", "retro_va_ms", "retro_iqr_ms"),
}
#: Prior draws, nearest the data on a parameter's own summaries, that estimate its marginal.
MARGINAL_NEIGHBOURS = 100


def fast_segment(condition: Condition, programming: Programming, duration_us: int,
                 seed: int) -> tuple[MarkerEvent, ...]:
    """A protocol segment on the fast heart (the calibration's :data:`SegmentSimulator`)."""
    return simulate_patient(condition, programming, duration_us, seed, heart="fast").markers


def cells_segment(condition: Condition, programming: Programming, duration_us: int,
                  seed: int) -> tuple[MarkerEvent, ...]:
    """A protocol segment on the cell-network heart (synthetic patients' recordings)."""
    return simulate_patient(condition, programming, duration_us, seed, heart="cells").markers


def patient_condition(base: Condition, continuous: Mapping[str, float],
                      binary: Mapping[str, bool]) -> Condition:
    """``base`` with the unknowns set (``complete_block`` sets ``av_conduction``)."""
    changes: dict[str, Any] = dict(continuous)
    if "retrograde" in binary:
        changes["retrograde"] = bool(binary["retrograde"])
    if "complete_block" in binary:
        changes["av_conduction"] = "blocked" if binary["complete_block"] else "normal"
    return base.with_changes(**changes)


def simulate_recording(condition: Condition, segments: Sequence[Segment], seed: int,
                       simulate: SegmentSimulator) -> Recording:
    """Run every protocol segment on ``condition`` (segment k with seed ``seed * 16 + k``)."""
    return Recording(tuple(
        SegmentRecord(seg, tuple(simulate(condition, seg.programming, seg.duration_us,
                                          seed * 16 + k)))
        for k, seg in enumerate(segments)))


@dataclass(frozen=True)
class PatientSimulator:
    """The batch simulator ABC-SMC calls: parameter rows -> summary rows (picklable)."""

    base: Condition
    scale: float
    simulate: SegmentSimulator

    def __call__(self, x: FloatArray, b: npt.NDArray[np.bool_],
                 seeds: npt.NDArray[np.int64]) -> FloatArray:
        segments = recording_protocol(self.scale)
        out = np.empty((len(x), len(summary_names())))
        for i in range(len(x)):
            cond = patient_condition(
                self.base, {p.name: float(v) for p, v in zip(CONTINUOUS_PRIORS, x[i],
                                                             strict=True)},
                {p.name: bool(v) for p, v in zip(BINARY_PRIORS, b[i], strict=True)})
            out[i] = summaries(simulate_recording(cond, segments, int(seeds[i]),
                                                  self.simulate))
        return out


@dataclass(frozen=True)
class Estimate:
    """A parameter's posterior: median and 90 % credible interval (5th-95th percentile)."""

    name: str
    median: float
    low90: float
    high90: float

    def covers(self, value: float) -> bool:
        """True when ``value`` lies in the 90 % interval."""
        return self.low90 <= value <= self.high90

    def to_dict(self) -> dict[str, float]:
        """Plain data."""
        return {"median": self.median, "low90": self.low90, "high90": self.high90}


@dataclass(frozen=True)
class PredictiveCheck:
    """One summary's posterior predictive check: where the data fall in the predicted spread.

    ``quantile`` is the share of predictive draws below the observed value (ties half); a value
    near 0 or 1 means the twin does not reproduce that behaviour.
    """

    name: str
    observed: float
    predicted_median: float
    predicted_low90: float
    predicted_high90: float
    quantile: float

    @property
    def consistent(self) -> bool:
        """True when the observed value lies within the central 98 % of the predictions."""
        return 0.01 <= self.quantile <= 0.99

    def to_dict(self) -> dict[str, float | bool]:
        """Plain data."""
        return {"observed": self.observed, "predicted_median": self.predicted_median,
                "predicted_low90": self.predicted_low90,
                "predicted_high90": self.predicted_high90, "quantile": self.quantile,
                "consistent": self.consistent}


@dataclass(frozen=True)
class PosteriorFit:
    """What every calibration gives: estimates with uncertainty, the point condition, the
    posterior predictive checks and the ABC-SMC particles they came from."""

    condition: Condition
    estimates: tuple[Estimate, ...]
    probabilities: Mapping[str, float]
    observed: tuple[float, ...]
    checks: tuple[PredictiveCheck, ...]
    posterior: AbcPosterior
    elapsed_s: float
    settings: AbcSettings

    def estimate(self, name: str) -> Estimate:
        """The estimate of ``name``."""
        for e in self.estimates:
            if e.name == name:
                return e
        raise TwinError(f"no estimate of {name!r}", name="parameter", value=name,
                        expected=str([e.name for e in self.estimates]))

    def posterior_samples(self, n: int, seed: int = 0) -> list[Condition]:
        """``n`` conditions drawn from the posterior by weight."""
        rng = np.random.default_rng(seed)
        post = self.posterior
        idx = rng.choice(len(post.weights), size=n, p=post.weights)
        return [self._row(int(i)) for i in idx]

    def _row(self, i: int) -> Condition:
        post = self.posterior
        return patient_condition(
            self.condition, {p.name: float(v) for p, v in zip(post.continuous_priors,
                                                                post.continuous[i], strict=True)},
            {p.name: bool(v) for p, v in zip(post.binary_priors, post.binary[i], strict=True)})

    def posterior_sample_dict(self, most: int = 200) -> dict[str, list[float]]:
        """The ``most`` heaviest particles as plain data: their weights and each parameter's
        values (parameter name -> list)."""
        post = self.posterior
        order = np.argsort(-post.weights)[:most]
        return {"weights": post.weights[order].tolist(),
                **{p.name: post.continuous[order, j].tolist()
                   for j, p in enumerate(post.continuous_priors)},
                **{p.name: post.binary[order, j].tolist()
                   for j, p in enumerate(post.binary_priors)}}


@dataclass(frozen=True)
class Calibration(PosteriorFit):
    """A patient calibrated from the recording protocol; ``scale`` is the simulated protocol's
    length relative to the recording's."""

    scale: float

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready): estimates, probabilities, checks, run figures and a
        thinned posterior sample (parameter name -> list of values, with weights)."""
        post = self.posterior
        return {
            "estimates": {e.name: e.to_dict() for e in self.estimates},
            "probabilities": dict(self.probabilities),
            "observed_summaries": dict(zip(summary_names(), self.observed, strict=True)),
            "predictive_checks": {c.name: c.to_dict() for c in self.checks},
            "posterior_sample": self.posterior_sample_dict(),
            "method": {"algorithm": "ABC-SMC (PMC-ABC, quantile tolerance) + local-linear "
                                    "regression adjustment",
                       "simulations": post.simulations, "population": self.settings.population,
                       "generations": self.settings.generations,
                       "tolerances": list(post.tolerances), "protocol_scale": self.scale,
                       "elapsed_s": round(self.elapsed_s, 2)},
        }


def _weighted_quantile_fn(x: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    order = np.argsort(x, kind="stable")
    cdf = np.cumsum(w[order]) / w.sum()
    return cdf - w[order] / w.sum() / 2.0, x[order]


def refine_marginals(post: AbcPosterior, table: PriorSample, observed: FloatArray
                     ) -> AbcPosterior:
    """``post`` with the marginal of each :data:`MARGINAL_SUMMARIES` parameter estimated from
    its own summaries (marginal adjustment, Nott, Fan, Marshall & Sisson 2014).

    The joint ABC matches all 18 summaries at once, so a parameter that a few summaries measure
    to a millisecond (the VA time: the retrograde test's median V-pace-to-atrial-sense interval,
    with an IQR near 0) is left tens of milliseconds wide. Its marginal is estimated instead by
    rejection over the prior table: the :data:`MARGINAL_NEIGHBOURS` draws nearest the data on
    those summaries (each in units of its resolution), among the draws where the parameter
    exists, weighted by an Epanechnikov kernel. No regression adjustment here: on the fast heart
    the relation is exact (VA time + 3.8 ms), and an adjustment would claim a sub-millisecond
    precision that a recording from another heart does not have; the rejection's width (the
    tolerance the table affords, about +-10 ms) is kept as the uncertainty. The joint sample
    keeps its dependence structure by quantile mapping: each particle keeps its weighted rank in
    the parameter and takes the new marginal's quantile at it.
    """
    names = summary_names()
    resolution = np.asarray(summary_resolution())
    cont = post.continuous.copy()
    binary_names = [p.name for p in post.binary_priors]
    table_binary_names = [p.name for p in BINARY_PRIORS]
    for pname, snames in MARGINAL_SUMMARIES.items():
        cont_names = [p.name for p in post.continuous_priors]
        if pname not in cont_names:
            continue
        j = cont_names.index(pname)
        prior = post.continuous_priors[j]
        rows_t = np.ones(len(table.summaries), dtype=bool)
        rows_p = np.ones(len(post.weights), dtype=bool)
        if prior.requires is not None:
            rows_t = table.binary[:, table_binary_names.index(prior.requires)]
            rows_p = post.binary[:, binary_names.index(prior.requires)]
        if rows_t.sum() < MARGINAL_NEIGHBOURS or not rows_p.any():
            continue
        cols = [names.index(n) for n in snames]
        ds = (table.summaries[rows_t][:, cols] - observed[cols]) / resolution[cols]
        x = table.continuous[rows_t, [p.name for p in CONTINUOUS_PRIORS].index(pname)]
        dist = np.sqrt(np.sum(ds ** 2, axis=1))
        near = np.argsort(dist, kind="stable")[:MARGINAL_NEIGHBOURS]
        eps = max(float(dist[near].max()) * 1.0001, 1e-12)
        kern = 1.0 - (dist[near] / eps) ** 2
        m_cdf, m_x = _weighted_quantile_fn(x[near], kern)
        idx = np.flatnonzero(rows_p)
        p_cdf, _ = _weighted_quantile_fn(cont[idx, j], post.weights[idx])
        order = np.argsort(cont[idx, j], kind="stable")
        cont[idx[order], j] = np.interp(p_cdf, m_cdf, m_x)
    return dataclasses.replace(post, continuous=cont)


def _estimates(post: AbcPosterior) -> tuple[Estimate, ...]:
    out = []
    for p in post.continuous_priors:
        lo, med, hi = post.quantiles(p.name, [0.05, 0.5, 0.95])
        out.append(Estimate(p.name, med, lo, hi))
    return tuple(out)


def point_condition(base: Condition, post: AbcPosterior) -> Condition:
    """The twin's condition: posterior medians, binary parameters by majority."""
    cont = {p.name: post.quantiles(p.name, [0.5])[0] for p in post.continuous_priors}
    binary = {p.name: post.probability(p.name) > 0.5 for p in post.binary_priors}
    return patient_condition(base, cont, binary)


def predictive_checks(observed: FloatArray, predicted: FloatArray) -> tuple[PredictiveCheck, ...]:
    """Place each observed summary within the rows of ``predicted`` (draws x summaries)."""
    checks = []
    for j, name in enumerate(summary_names()):
        col = predicted[:, j]
        below = float(np.mean(col < observed[j]) + 0.5 * np.mean(col == observed[j]))
        lo, med, hi = np.percentile(col, [5.0, 50.0, 95.0])
        checks.append(PredictiveCheck(name, float(observed[j]), float(med), float(lo), float(hi),
                                      below))
    return tuple(checks)


def calibrate(recording: Recording, simulate: SegmentSimulator, *,
              base: Condition | None = None, settings: AbcSettings | None = None,
              scale: float = 0.25, seed: int = 0, check_draws: int = 20,
              mapper: Mapper | None = None, prior_sample: PriorSample | None = None,
              progress: Callable[[int, float], None] | None = None) -> Calibration:
    """The posterior of the patient behind ``recording`` (module docstring).

    Parameters
    ----------
    recording:
        A protocol recording (every segment of :func:`recording_protocol`).
    simulate:
        Runs a segment on the fast heart (picklable when ``mapper`` is an executor's).
    base:
        The condition the unknowns are set on (default: :class:`Condition`'s defaults).
    settings:
        ABC-SMC sizes (default :class:`AbcSettings`).
    scale:
        Length of each simulated protocol relative to the recording's.
    check_draws:
        Posterior draws for the predictive check, run at the recording's length (0: none).
    mapper:
        ``map``-like callable for the simulation batches (an executor's map for 2+ cores).
    prior_sample:
        Generation 0 from :func:`prior_table` with the same ``base``, ``scale`` and simulator
        (reused across patients; default: simulated here).
    """
    names = sorted(s.segment.name for s in recording.segments)
    wanted = sorted(s.name for s in recording_protocol())
    if names != wanted:
        raise TwinError(f"the recording's segments {names} are not the calibration protocol's "
                        f"{wanted}: calibration needs a recording made with 'devicetwin twin "
                        "calibrate --protocol'", name="segments", value=names,
                        expected=str(wanted))
    start = time.perf_counter()
    base_cond = base or Condition()
    cfg = settings or AbcSettings()
    observed = summaries(recording)
    sim = PatientSimulator(base_cond, scale, simulate)
    if prior_sample is None:
        prior_sample = prior_table(cfg.first_batch, simulate, base=base_cond, scale=scale,
                                   seed=seed, mapper=mapper, pieces=cfg.batches_per_generation)
    post = abc_smc(observed, sim, CONTINUOUS_PRIORS, BINARY_PRIORS, cfg, seed=seed,
                   mapper=mapper, min_scales=summary_resolution(), prior_sample=prior_sample,
                   progress=progress)
    post = refine_marginals(post, prior_sample, observed)
    cond = point_condition(base_cond, post)
    checks: tuple[PredictiveCheck, ...] = ()
    if check_draws > 0:
        full_scale = recording.duration_us / sum(s.duration_us for s in recording_protocol())
        rng = np.random.default_rng(seed + 1)
        idx = rng.choice(len(post.weights), size=check_draws, p=post.weights)
        ppc = PatientSimulator(base_cond, full_scale, simulate)
        predicted = ppc(post.continuous[idx], post.binary[idx],
                        np.arange(check_draws, dtype=np.int64) + 10_000_019 * (seed + 1))
        checks = predictive_checks(observed, predicted)
    probabilities = {p.name: post.probability(p.name) for p in post.binary_priors}
    elapsed = time.perf_counter() - start
    return Calibration(cond, _estimates(post), probabilities,
                       tuple(float(v) for v in observed), checks, post, elapsed, cfg, scale)


def prior_table(n: int, simulate: SegmentSimulator, *, base: Condition | None = None,
                scale: float = 0.25, seed: int = 0, mapper: Mapper | None = None,
                pieces: int = 8) -> PriorSample:
    """``n`` prior draws run through the protocol: calibration's generation 0, which does not
    depend on the patient and so can be simulated once and reused (``calibrate``'s
    ``prior_sample``)."""
    sim = PatientSimulator(base or Condition(), scale, simulate)
    return simulate_prior(sim, CONTINUOUS_PRIORS, BINARY_PRIORS, n, seed=seed, mapper=mapper,
                          pieces=pieces)


def truth_of(condition: Condition) -> dict[str, float | bool]:
    """The unknowns' values of a known condition (the synthetic patients' hidden truth)."""
    out: dict[str, float | bool] = {p.name: float(getattr(condition, p.name))
                                    for p in CONTINUOUS_PRIORS}
    out["retrograde"] = bool(condition.retrograde)
    out["complete_block"] = condition.av_conduction == "blocked"
    return out


def draw_patients(n: int, seed: int, base: Condition | None = None) -> list[Condition]:
    """``n`` synthetic patients with parameters drawn from the priors (the hidden truths)."""
    rng = np.random.default_rng(seed)
    base_cond = base or Condition()
    out = []
    for k in range(n):
        cont = {p.name: float(rng.uniform(p.low, p.high)) for p in CONTINUOUS_PRIORS}
        binary = {p.name: bool(rng.random() < p.p_true) for p in BINARY_PRIORS}
        out.append(patient_condition(base_cond, cont, binary).with_changes(
            name=f"synthetic_{k:03d}", description="synthetic patient (hidden parameters)"))
    return out


def isclose_rate(estimate_bpm: float, truth_bpm: float) -> float:
    """Absolute relative error of a rate estimate, per cent."""
    return 100.0 * abs(estimate_bpm - truth_bpm) / truth_bpm if truth_bpm else math.inf
