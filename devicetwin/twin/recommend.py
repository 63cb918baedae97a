"""Recommend a programming for a patient's twin: a multi-objective search on the PACEMAKER grid.

For a calibrated patient (a :class:`~devicetwin.heart.Condition`) and the current programming,
optuna's NSGA-II sampler (Deb et al. 2002; ``optuna.samplers.NSGAIISampler``) searches the AV
delay, PVARP and its extension, PMT termination, upper and lower rate, hysteresis and rate
response (DDD or DDDR), every value on the specification's grid
(:data:`devicetwin.pacemaker.parameters.PARAMETERS`). Each candidate is run on the fast heart in
closed loop with the reference pacemaker (``simulate``), and scored on three objectives:

- ventricular pacing, per cent of ventricular beats (minimise: unnecessary right-ventricular
  pacing is linked to heart failure and atrial fibrillation);
- PMT burden, the share of the run inside pacemaker-mediated tachycardia (minimise);
- battery longevity, years (maximise; :mod:`devicetwin.longevity` from the run's pacing
  fractions and mean rate);

under two constraints: the 2:1 block point ``60000 / (AV delay + PVARP)`` stays above the
patient's highest expected sinus rate, and the programming is valid (TARP within the upper-rate
interval, every cross-parameter rule). The run challenges the programming the way the bench's
PMT scenario does: the patient's own condition plus a premature ventricular beat every
:data:`PVC_CHALLENGE_S` seconds (a PVC conducted back to the atria is what starts a PMT).

The recommended point is read off the feasible Pareto front by priority, as a clinician would:
the lowest PMT burden first, then ventricular pacing within :data:`VP_TOLERANCE_PP` of the
lowest left, then the longest longevity, then the fewest changes from the current programming.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import optuna

from devicetwin.heart.conditions import Condition
from devicetwin.longevity import Battery, programming_longevity
from devicetwin.outcomes.measures import Outcomes
from devicetwin.pacemaker.modes import Mode
from devicetwin.pacemaker.parameters import PARAMETERS, interval_ms
from devicetwin.pacemaker.programming import Programming, ProgrammingError, value_to_plain
from devicetwin.twin.errors import TwinError

#: Runs a patient under a programming: (condition, programming, duration_us, seed) -> outcomes.
Simulate = Callable[[Condition, Programming, int, int], Outcomes]

#: A PVC every this many seconds challenges each candidate with PMT's trigger.
PVC_CHALLENGE_S = 12.0
#: Ventricular pacing this close (percentage points) to the front's lowest counts as lowest.
VP_TOLERANCE_PP = 2.0
#: The patient's highest expected sinus rate when the twin does not say (bpm): a resting
#: recording cannot show it, so it is a setting of the recommendation (``--highest-sinus-bpm``).
DEFAULT_HIGHEST_SINUS_BPM = 120.0
#: Lower rates the search may choose (ppm): the grid's values from 40 to 80.
LOWER_RATES_PPM = tuple(v for v in PARAMETERS["lower_rate_ppm"].values if 40 <= v <= 80)
#: Hysteresis choices: Off or this many ppm below the lower rate.
HYSTERESIS_OFFSETS_PPM = (0, 10, 20)
#: Objective names, units in the names, and their sense.
OBJECTIVES = ("ventricular_paced_percent", "pmt_burden", "longevity_years")
_DIRECTIONS = (optuna.study.StudyDirection.MINIMIZE, optuna.study.StudyDirection.MINIMIZE,
               optuna.study.StudyDirection.MAXIMIZE)


def _grid(name: str) -> list[Any]:
    return list(PARAMETERS[name].values)


@dataclass(frozen=True)
class RecommendSettings:
    """How hard to search.

    Attributes
    ----------
    trials:
        Candidate programmings evaluated (the current one is always among them).
    duration_us:
        Simulated time per candidate.
    highest_sinus_bpm:
        The rate the 2:1 point must stay above.
    battery:
        The device's battery, for longevity.
    seed:
        Seeds the sampler and every simulation.
    """

    trials: int = 80
    duration_us: int = 60_000_000
    highest_sinus_bpm: float = DEFAULT_HIGHEST_SINUS_BPM
    battery: Battery = dataclasses.field(default_factory=Battery)
    seed: int = 0

    def __post_init__(self) -> None:
        if not (isinstance(self.trials, int) and 2 <= self.trials <= 100_000):
            raise TwinError(f"trials {self.trials!r} is out of range; expected 2-100000",
                            name="trials", value=self.trials, expected="2-100000")
        if not (isinstance(self.duration_us, int) and self.duration_us >= 5_000_000):
            raise TwinError(f"duration_us {self.duration_us!r} is too short; expected at least "
                            "5 s (5000000 us)", name="duration_us", value=self.duration_us,
                            expected=">= 5000000 us")
        if not (isinstance(self.highest_sinus_bpm, int | float)
                and 40.0 <= self.highest_sinus_bpm <= 220.0):
            raise TwinError(f"highest_sinus_bpm {self.highest_sinus_bpm!r} is out of range; "
                            "expected 40-220 bpm", name="highest_sinus_bpm",
                            value=self.highest_sinus_bpm, expected="40-220 bpm")


@dataclass(frozen=True)
class Candidate:
    """One evaluated programming and its predicted outcome."""

    programming: Programming
    ventricular_paced_percent: float
    pmt_burden: float
    pmt_episodes: int
    longevity_years: float
    two_to_one_bpm: float
    feasible: bool
    trial: int

    def objectives(self) -> tuple[float, float, float]:
        """(VP %, PMT burden, longevity years)."""
        return (self.ventricular_paced_percent, self.pmt_burden, self.longevity_years)

    def to_dict(self, baseline: Programming | None = None) -> dict[str, Any]:
        """Plain data; with ``baseline``, only the parameters that differ from it."""
        return {
            "trial": self.trial, "feasible": self.feasible,
            "ventricular_paced_percent": round(self.ventricular_paced_percent, 2),
            "pmt_burden": round(self.pmt_burden, 4), "pmt_episodes": self.pmt_episodes,
            "longevity_years": round(self.longevity_years, 2),
            "two_to_one_bpm": round(self.two_to_one_bpm, 1),
            "programming": programming_changes(self.programming, baseline),
        }


@dataclass(frozen=True)
class Recommendation:
    """The search's result: the current programming's prediction, the front, the choice."""

    current: Candidate
    recommended: Candidate
    front: tuple[Candidate, ...]
    evaluated: int
    settings: RecommendSettings

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready); programmings as changes from the current one."""
        base = self.current.programming
        return {
            "current": self.current.to_dict(),
            "recommended": self.recommended.to_dict(base),
            "front": [c.to_dict(base) for c in self.front],
            "evaluated": self.evaluated,
            "highest_sinus_bpm": self.settings.highest_sinus_bpm,
            "duration_s": self.settings.duration_us / 1e6,
        }


def programming_changes(programming: Programming, baseline: Programming | None = None
                        ) -> dict[str, Any]:
    """``mode`` plus every parameter that differs from ``baseline`` (all of them without one),
    as plain data."""
    out: dict[str, Any] = {"mode": programming.mode.value}
    for name in PARAMETERS:
        if name == "mode":
            continue
        value = programming.value(name)
        if baseline is None or value != baseline.value(name):
            out[name] = value_to_plain(value)
    return out


def challenge_condition(condition: Condition, duration_us: int) -> Condition:
    """``condition`` with a PVC every :data:`PVC_CHALLENGE_S` seconds added (module docstring)."""
    step_ms = PVC_CHALLENGE_S * 1000.0
    times = tuple(step_ms * k + 3000.0 for k in range(int(duration_us / 1000 / step_ms)))
    return condition.with_changes(pvc_times_ms=tuple(sorted({*condition.pvc_times_ms, *times})))


def two_to_one_bpm(programming: Programming) -> float:
    """The atrial rate at which 2:1 block begins, 60000 / TARP (TARP = AV delay + PVARP)."""
    return 60000.0 / (programming.fixed_av_delay_ms + programming.pvarp_ms)


def evaluate(condition: Condition, programming: Programming, simulate: Simulate,
             settings: RecommendSettings, trial: int = -1) -> Candidate:
    """Run ``programming`` on the challenged patient and score it (module docstring)."""
    out = simulate(challenge_condition(condition, settings.duration_us), programming,
                   settings.duration_us, settings.seed)
    vals = out.values()
    vp = float(vals["ventricular_paced_percent"] or 0.0)
    ap = float(vals["atrial_paced_percent"] or 0.0)
    rate = vals["ventricular_rate_mean_bpm"]
    life = programming_longevity(
        settings.battery, programming, atrial_paced_fraction=ap / 100.0,
        ventricular_paced_fraction=vp / 100.0,
        rate_ppm=float(rate) if rate else float(programming.lower_rate_ppm))
    ratio = two_to_one_bpm(programming)
    return Candidate(programming, vp, float(vals["pmt_burden"] or 0.0),
                     int(vals["pmt_episodes"] or 0), life.years, ratio,
                     ratio >= settings.highest_sinus_bpm, trial)


def _suggest(trial: optuna.Trial, current: Programming) -> Programming:
    rate_adaptive = trial.suggest_categorical("rate_response", [False, True])
    lower = int(trial.suggest_categorical("lower_rate_ppm", list(LOWER_RATES_PPM)))
    hyst_off = int(trial.suggest_categorical("hysteresis_below_ppm",
                                             list(HYSTERESIS_OFFSETS_PPM)))
    hyst_grid = set(PARAMETERS["hysteresis_rate_ppm"].values)
    hysteresis = lower - hyst_off if hyst_off and (lower - hyst_off) in hyst_grid else None
    ext = trial.suggest_categorical("pvarp_extension_ms",
                                    ["off", *[str(v) for v in _grid("pvarp_extension_ms")
                                              if v is not None]])
    av = int(trial.suggest_categorical("fixed_av_delay_ms", _grid("fixed_av_delay_ms")))
    pvarp = int(trial.suggest_categorical("pvarp_ms", _grid("pvarp_ms")))
    upper = int(trial.suggest_categorical("upper_rate_ppm",
                                          [v for v in _grid("upper_rate_ppm") if v >= 80]))
    changes: dict[str, Any] = {
        "mode": Mode.DDDR if rate_adaptive else Mode.DDD,
        "fixed_av_delay_ms": av,
        "pvarp_ms": pvarp,
        "pvarp_extension_ms": None if ext == "off" else int(ext),
        "pmt_termination": bool(trial.suggest_categorical("pmt_termination", [True, False])),
        "upper_rate_ppm": allowed_upper_rate(upper, av + pvarp),
        "lower_rate_ppm": lower,
        "hysteresis_rate_ppm": hysteresis,
    }
    if rate_adaptive:
        changes["max_sensor_rate_ppm"] = changes["upper_rate_ppm"]
    return _with(current, changes)


def allowed_upper_rate(upper_ppm: int, tarp_ms: int) -> int:
    """``upper_ppm``, or the highest upper rate on the grid whose interval still holds the total
    atrial refractory period ``tarp_ms`` (a tracking mode needs TARP <= upper-rate interval),
    whichever is lower: the search then never proposes a programming the rules reject."""
    fits = [v for v in _grid("upper_rate_ppm") if v <= upper_ppm and interval_ms(v) >= tarp_ms]
    return max(fits) if fits else upper_ppm


def _with(current: Programming, changes: Mapping[str, Any]) -> Programming:
    """``current`` (its outputs and sensing kept) with the searched parameters changed; a
    parameter that does not apply to the new mode goes back to its nominal value."""
    mode = changes["mode"]
    keep = {}
    for name, spec in PARAMETERS.items():
        if name == "mode" or name in changes:
            continue
        value = current.value(name)
        keep[name] = value if spec.applies_to(mode) else spec.nominal
    return Programming(**{**keep, **changes})


def _dominates(a: Candidate, b: Candidate) -> bool:
    ka = (a.ventricular_paced_percent, a.pmt_burden, -a.longevity_years)
    kb = (b.ventricular_paced_percent, b.pmt_burden, -b.longevity_years)
    return all(x <= y for x, y in zip(ka, kb, strict=True)) and ka != kb


def pareto_front(candidates: Sequence[Candidate]) -> list[Candidate]:
    """The feasible candidates no other feasible candidate dominates (objectives above)."""
    feasible = [c for c in candidates if c.feasible]
    return [c for c in feasible if not any(_dominates(o, c) for o in feasible)]


def _changes(p: Programming, base: Programming) -> int:
    return sum(p.value(n) != base.value(n) for n in PARAMETERS)


def choose(front: Sequence[Candidate], current: Programming) -> Candidate:
    """The recommended point of a front by priority (module docstring)."""
    if not front:
        raise TwinError("no feasible programming was found: every candidate put the 2:1 point "
                        "below the highest sinus rate", name="front", value=0,
                        expected="at least one feasible candidate (lower highest_sinus_bpm or "
                        "search more trials)")
    least_pmt = min(c.pmt_burden for c in front)
    pool = [c for c in front if c.pmt_burden <= least_pmt + 1e-9]
    least_vp = min(c.ventricular_paced_percent for c in pool)
    pool = [c for c in pool if c.ventricular_paced_percent <= least_vp + VP_TOLERANCE_PP]
    return max(pool, key=lambda c: (round(c.longevity_years, 2),
                                    -_changes(c.programming, current)))


def recommend(condition: Condition, current: Programming, simulate: Simulate,
              settings: RecommendSettings | None = None,
              progress: Callable[[int, Candidate], None] | None = None) -> Recommendation:
    """Search programmings for ``condition`` and recommend one (module docstring).

    Raises
    ------
    TwinError
        When the current programming is not a dual-chamber tracking one (DDD/DDDR) the search
        could start from, or when nothing feasible is found.
    """
    cfg = settings or RecommendSettings()
    if current.mode not in (Mode.DDD, Mode.DDDR):
        raise TwinError(f"the current programming's mode {current.mode.value} is not searched; "
                        "expected DDD or DDDR", name="mode", value=current.mode.value,
                        expected="DDD or DDDR")
    candidates: list[Candidate] = []
    base = evaluate(condition, current, simulate, cfg, trial=0)
    candidates.append(base)

    def objective(trial: optuna.Trial) -> tuple[float, float, float]:
        try:
            prog = _suggest(trial, current)
        except ProgrammingError as err:
            trial.set_constraint("valid", 1.0)
            trial.set_constraint("two_to_one", 1.0)
            trial.set_user_attr("invalid", str(err))
            return (100.0, 1.0, 0.0)
        cand = evaluate(condition, prog, simulate, cfg, trial=trial.number + 1)
        candidates.append(cand)
        trial.set_constraint("valid", 0.0)
        trial.set_constraint("two_to_one", cfg.highest_sinus_bpm - cand.two_to_one_bpm)
        if progress:
            progress(trial.number + 1, cand)
        return cand.objectives()

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.NSGAIISampler(population_size=max(8, min(24, cfg.trials // 4)),
                                            seed=cfg.seed)
    study = optuna.create_study(directions=list(_DIRECTIONS), sampler=sampler)
    for start in starting_points(condition, current, cfg.highest_sinus_bpm):
        study.enqueue_trial(start, skip_if_exists=True)
    study.optimize(objective, n_trials=cfg.trials - 1)
    front = pareto_front(candidates)
    front.sort(key=lambda c: (c.pmt_burden, c.ventricular_paced_percent, -c.longevity_years))
    return Recommendation(base, choose(front, current), tuple(front), len(candidates), cfg)


def _ceil10(x: float) -> int:
    return int(math.ceil(x / 10.0) * 10)


def starting_points(condition: Condition, current: Programming,
                    highest_sinus_bpm: float = DEFAULT_HIGHEST_SINUS_BPM) -> list[dict[str, Any]]:
    """Trials the search evaluates first (then NSGA-II takes over): the current programming's
    own values and the two moves a clinician would try, a long AV delay (300 ms, for intrinsic
    conduction) and, when the twin conducts retrogradely, a PVARP 30 ms above its VA time."""
    lower = current.lower_rate_ppm if current.lower_rate_ppm in LOWER_RATES_PPM else 60
    base: dict[str, Any] = {
        "rate_response": current.mode is Mode.DDDR, "lower_rate_ppm": lower,
        "hysteresis_below_ppm": 0,
        "pvarp_extension_ms": "off" if current.pvarp_extension_ms is None
        else str(current.pvarp_extension_ms),
        "fixed_av_delay_ms": current.fixed_av_delay_ms, "pvarp_ms": current.pvarp_ms,
        "pmt_termination": current.pmt_termination,
        "upper_rate_ppm": max(80, current.upper_rate_ppm),
    }
    out = [base, {**base, "fixed_av_delay_ms": 300, "pvarp_ms": 150}]
    if condition.retrograde:
        pvarp = min(500, _ceil10(condition.va_conduction_ms + 30.0))
        out.append({**base, "pvarp_ms": pvarp,
                    "fixed_av_delay_ms": max(70, min(300, _ceil10(
                        60000.0 / highest_sinus_bpm) - pvarp - 10))})
    return out


def is_grid_programming(programming: Programming) -> bool:
    """True when every parameter of ``programming`` lies on the specification's grid (what a
    recommendation must be; a device-defined programming is not)."""
    return not programming.device_defined and all(
        _on_grid_value(name, programming.value(name)) for name in PARAMETERS if name != "mode")


def _on_grid_value(name: str, value: Any) -> bool:
    values = PARAMETERS[name].values
    if isinstance(value, float) and not isinstance(value, bool):
        return any(v is not None and not isinstance(v, enum.Enum) and not isinstance(v, bool)
                   and math.isclose(float(v), value) for v in values)
    return value in values
