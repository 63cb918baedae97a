"""A trial file (TOML): a population, the arms, simulated time per patient, the endpoints.

::

    name = "save_pace"
    description = "..."
    population = "snd_intact_av"   # a library population, or a file relative to this one
    patients = 200                 # sampled from the population with ``seed``
    seed = 2007
    duration_s = 600               # simulated time per patient and arm
    heart = "fast"                 # the event-level heart; "cells" cross-checks a small trial
    baseline = "nominal_ddd"       # differences are every other arm minus this one
    endpoints = ["ventricular_paced_percent", "pmt_burden"]   # outcome measures
    statistic = "median"           # of each endpoint per arm: median or mean
    endpoint_statistics = { pmt_burden = "mean" }   # per-endpoint exceptions
    strata = ["indication", "retrograde"]   # patient columns to break results down by

    [[arms]]
    name = "nominal_ddd"
    device = "reference"           # the reference pacemaker model; "firmware": the C firmware
    mode = "DDD"
    parameters = { fixed_av_delay_ms = 150 }

    [[arms]]
    name = "pmt_fault"
    device = "firmware"            # the reference firmware in-process, sensing electrograms
    fault = "PMT_NOT_TERMINATED"   # a seeded-fault variant of it (hil/firmware/src/fw_faults.h)
    mode = "DDD"

    [[comparisons]]                # a published result the report sets the trial against
    endpoint = "ventricular_paced_percent"
    source = "Sweeney MO et al. N Engl J Med 2007;357:1000-8 (SAVE PACe)"
    published = { nominal_ddd = 99.0, long_av = 9.1 }
    expect_min = { nominal_ddd = 90.0 }
    expect_max = { long_av = 20.0 }

Every value is validated here, once: errors name the file, the line and the field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from devicetwin.cohort import HEARTS as COHORT_HEARTS
from devicetwin.errors import DeviceTwinError, did_you_mean
from devicetwin.outcomes import OUTCOME_NAMES
from devicetwin.pacemaker.programming import Programming
from devicetwin.population import ID_COLUMNS, Population, load_population
from devicetwin.population.distributions import is_numeric
from hil.emulator.faults import fault_names
from hil.errors import ConfigError
from hil.scenarios.toml_reader import FieldPath, TomlReader, read_toml

#: Where the reference trials and populations live.
LIBRARY_DIR = Path(__file__).with_name("library")
#: The device kinds an arm may name: ``reference``, the reference pacemaker model at event level
#: (``devicetwin.cohort.simulate_patient``); ``firmware``, the reference C firmware linked into
#: the worker (``hil.emulator.fastloop.run_patient``: it senses electrograms rendered from the
#: heart through its own front end), clean or, with ``fault``, a seeded-fault variant.
DEVICE_KINDS: tuple[str, ...] = ("reference", "firmware")
#: The device kinds that take a seeded fault, and the hearts they run with.
FAULT_DEVICES: tuple[str, ...] = ("firmware",)
FIRMWARE_HEARTS: tuple[str, ...] = ("fast",)
#: The patient models a trial may use: the event-level heart, or the cell-network heart (~75x
#: real time) to cross-check a small trial.
HEARTS: tuple[str, ...] = COHORT_HEARTS
#: How an endpoint is summarised per arm.
STATISTICS: tuple[str, ...] = ("median", "mean")
_TOP = ("name", "description", "population", "patients", "seed", "duration_s", "heart",
        "baseline", "endpoints", "statistic", "endpoint_statistics", "strata", "arms",
        "comparisons", "confidence", "bootstrap_resamples")
_ARM = ("name", "description", "device", "fault", "mode", "parameters")
_COMPARISON = ("endpoint", "statistic", "source", "published", "expect_min", "expect_max",
               "note")


@dataclass(frozen=True)
class Arm:
    """One arm: a device kind (a seeded-fault variant of the firmware, with ``fault``) and its
    programming (plain values, validated)."""

    name: str
    device: str
    mode: str
    parameters: Mapping[str, Any]
    description: str = ""
    fault: str | None = None

    @property
    def device_label(self) -> str:
        """The device as the report names it: the kind, and the seeded fault if any."""
        return f"{self.device} ({self.fault})" if self.fault else self.device

    def programming(self) -> Programming:
        """The arm's programming (validated when the trial was read)."""
        return Programming.from_plain(self.mode, self.parameters)


@dataclass(frozen=True)
class Comparison:
    """A published result: per-arm values of an endpoint's statistic, and the bounds the
    trial's own values must meet to count as reproducing its direction and size."""

    endpoint: str
    statistic: str
    source: str
    published: Mapping[str, float]
    expect_min: Mapping[str, float] = field(default_factory=dict)
    expect_max: Mapping[str, float] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class TrialSpec:
    """A validated trial file."""

    name: str
    description: str
    population_path: Path
    patients: int
    seed: int
    duration_s: float
    heart: str
    baseline: str
    endpoints: tuple[str, ...]
    statistic: str
    endpoint_statistics: Mapping[str, str]
    strata: tuple[str, ...]
    arms: tuple[Arm, ...]
    comparisons: tuple[Comparison, ...]
    confidence: float
    bootstrap_resamples: int
    source: str

    @property
    def duration_us(self) -> int:
        """Simulated time per patient and arm, microseconds."""
        return round(self.duration_s * 1_000_000)

    def statistic_for(self, endpoint: str) -> str:
        """The statistic that summarises ``endpoint`` per arm."""
        return self.endpoint_statistics.get(endpoint, self.statistic)

    def arm(self, name: str) -> Arm:
        """The arm called ``name``."""
        return next(a for a in self.arms if a.name == name)

    def population(self) -> Population:
        """The trial's population, read from its file."""
        return load_population(self.population_path)

    def fingerprint(self) -> str:
        """A hash of everything that decides the per-patient results (not the summary's
        settings), so a resumed run can tell whether its folder holds the same trial."""
        decisive = {
            "population": self.population_path.read_text(encoding="utf-8"),
            "patients": self.patients, "seed": self.seed, "duration_us": self.duration_us,
            "heart": self.heart,
            "arms": [asdict(a) | {"parameters": dict(a.parameters)} for a in self.arms],
        }
        text = json.dumps(decisive, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def library_trials() -> list[str]:
    """Names of the reference trials."""
    return sorted(p.stem for p in LIBRARY_DIR.glob("*.toml") if _is_trial(p))


def _is_trial(path: Path) -> bool:
    try:
        return "arms" in read_toml(path.read_text(encoding="utf-8"), str(path))
    except (OSError, ConfigError):
        return False


def resolve_file(name_or_path: str, what: str, relative_to: Path | None = None) -> Path:
    """A file given by path, else by name in the library (``<name>.toml``)."""
    candidate = Path(name_or_path)
    if relative_to is not None and not candidate.is_absolute():
        near = relative_to.parent / candidate
        if near.exists():
            return near
    if candidate.exists():
        return candidate
    builtin = LIBRARY_DIR / f"{name_or_path}.toml"
    if builtin.exists():
        return builtin
    names = sorted(p.stem for p in LIBRARY_DIR.glob("*.toml"))
    expected = "a path to a .toml file or one of " + ", ".join(names)
    raise ConfigError(f"no {what} file or library {what} named {name_or_path!r}"
                      f"{did_you_mean(name_or_path, names)}; expected {expected}", name=what,
                      value=name_or_path, expected=expected,
                      source=str(relative_to) if relative_to else None)


def load_trial(name_or_path: str | Path) -> TrialSpec:
    """The trial in a file (or a library trial by name), validated."""
    path = resolve_file(str(name_or_path), "trial")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read trial file: {err.strerror}", name="trial",
                          value=str(path), source=str(path)) from None
    return trial_from_text(text, path)


def trial_from_text(text: str, path: Path) -> TrialSpec:
    """The trial in ``text`` read from ``path`` (population files resolve next to it)."""
    r = TomlReader(str(path), text)
    data = read_toml(text, str(path))
    r.keys(data, (), _TOP)
    name = r.get(data, ("name",), str, "a string", path.stem)
    pop_name = r.get(data, ("population",), str, "a population name or file", required=True)
    try:
        pop_path = resolve_file(pop_name, "population", path)
        population = load_population(pop_path)
    except (ConfigError, DeviceTwinError) as err:
        raise r.fail(("population",), str(err), pop_name, "a valid population") from None
    patients = _integer(r, data, "patients", ..., 1, 1_000_000)
    seed = _integer(r, data, "seed", 0, 0, 2**32 - 1)
    duration_s = r.number(data, ("duration_s",), "seconds in (0, 604800]", ..., low=1e-3,
                          high=7 * 86400.0)
    heart = r.choice(("heart",), r.get(data, ("heart",), str, "a heart name", "fast"),
                     "heart", HEARTS)
    statistic = r.choice(("statistic",), r.get(data, ("statistic",), str, "median or mean",
                                               "median"), "statistic", STATISTICS)
    arms = _arms(r, data, heart)
    arm_names = [a.name for a in arms]
    baseline = r.get(data, ("baseline",), str, "an arm name", arm_names[0])
    r.choice(("baseline",), baseline, "arm", arm_names)
    endpoints = _names(r, data, "endpoints", OUTCOME_NAMES, "endpoint",
                       ("ventricular_paced_percent",))
    per_endpoint = r.get(data, ("endpoint_statistics",), dict, "a table endpoint = statistic",
                         {})
    for key, value in per_endpoint.items():
        r.choice(("endpoint_statistics", key), key, "endpoint", endpoints)
        if not isinstance(value, str):
            raise r.fail(("endpoint_statistics", key), f"{value!r} is not a statistic name",
                         value, "median or mean")
        r.choice(("endpoint_statistics", key), value, "statistic", STATISTICS)
    strata = _names(r, data, "strata", ("indication", *population.parameter_names()),
                    "stratum column", ())
    _check_strata(r, strata, population)
    comparisons = _comparisons(r, data, arm_names, statistic)
    confidence = r.number(data, ("confidence",), "a level in (0.5, 1)", 0.95, low=0.5,
                          high=0.999)
    resamples = _integer(r, data, "bootstrap_resamples", 2000, 100, 100_000)
    return TrialSpec(name=name, description=r.get(data, ("description",), str, "a string", ""),
                     population_path=pop_path, patients=patients, seed=seed,
                     duration_s=duration_s, heart=heart, baseline=baseline, endpoints=endpoints,
                     statistic=statistic, endpoint_statistics=dict(per_endpoint),
                     strata=strata, arms=arms, comparisons=comparisons,
                     confidence=confidence, bootstrap_resamples=resamples, source=str(path))


def _integer(r: TomlReader, data: Mapping[str, Any], key: str, default: Any, low: int,
             high: int) -> int:
    expected = f"an integer {low}..{high}"
    value = r.get(data, (key,), int, expected, default)
    if not low <= value <= high:
        raise r.fail((key,), f"{value!r} is out of range; expected {expected}", value, expected)
    return int(value)


def _check_strata(r: TomlReader, strata: tuple[str, ...], population: Population) -> None:
    """A stratum is the indication or a parameter every indication draws from a discrete
    distribution (a continuous one would make a stratum per patient)."""
    for i, s in enumerate(strata):
        if s in ID_COLUMNS:
            continue
        for ind in population.indications:
            for p in ind.parameters:
                if p.name == s and is_numeric(p.distribution):
                    raise r.fail(("strata", str(i)), f"{s!r} is continuous in indication "
                                 f"{ind.name!r}; strata need discrete columns", s,
                                 "indication or a bernoulli/choice/constant parameter")


def _names(r: TomlReader, data: Mapping[str, Any], key: str, known: tuple[str, ...],
           what: str, default: tuple[str, ...]) -> tuple[str, ...]:
    values = r.get(data, (key,), list, f"a list of {what}s", list(default))
    out: list[str] = []
    for i, v in enumerate(values):
        path: FieldPath = (key, str(i))
        if not isinstance(v, str):
            raise r.fail(path, f"{v!r} is not a {what} name", v, "a string")
        r.choice(path, v, what, known)
        if v in out:
            raise r.fail(path, f"{what} {v!r} is listed twice", v)
        out.append(v)
    return tuple(out)


def _arms(r: TomlReader, data: Mapping[str, Any], heart: str) -> tuple[Arm, ...]:
    raw = r.get(data, ("arms",), list, "an array of [[arms]] tables", required=True)
    if len(raw) < 2:
        raise r.fail(("arms",), f"a trial needs at least two arms, found {len(raw)}", len(raw),
                     "two or more [[arms]]")
    arms: list[Arm] = []
    for i, table in enumerate(raw):
        base: FieldPath = ("arms", str(i))
        if not isinstance(table, dict):
            raise r.fail(base, "an arm must be a table", table, "[[arms]] with name, mode, ...")
        r.keys(table, base, _ARM)
        name = r.get(table, (*base, "name"), str, "an arm name", required=True)
        if name in [a.name for a in arms]:
            raise r.fail((*base, "name"), f"arm name {name!r} is used twice", name,
                         "unique arm names")
        device = r.choice((*base, "device"),
                          r.get(table, (*base, "device"), str, "a device kind", "reference"),
                          "device kind", DEVICE_KINDS)
        if device in FAULT_DEVICES and heart not in FIRMWARE_HEARTS:
            raise r.fail((*base, "device"), f"a {device} arm runs on the event-level heart "
                         f"(heart = {FIRMWARE_HEARTS[0]!r}), not heart = {heart!r}", device,
                         f"heart = {FIRMWARE_HEARTS[0]!r} with {device} arms, or "
                         "device = \"reference\"")
        fault = r.get(table, (*base, "fault"), str, "a seeded fault name", None)
        if fault is not None:
            if device not in FAULT_DEVICES:
                raise r.fail((*base, "fault"), f"a seeded fault needs device = "
                             f"{FAULT_DEVICES[0]!r}, not {device!r}", fault,
                             f"device = {FAULT_DEVICES[0]!r} with fault")
            r.choice((*base, "fault"), fault, "seeded fault", fault_names())
        mode = r.get(table, (*base, "mode"), str, "a pacing mode", "DDD")
        params = r.get(table, (*base, "parameters"), dict, "a table of parameters", {})
        arm = Arm(name, device, mode, dict(params),
                  r.get(table, (*base, "description"), str, "a string", ""), fault)
        try:
            arm.programming()
        except DeviceTwinError as err:
            names = {str(k): (*base, "parameters", str(k)) for k in params}
            names["mode"] = (*base, "mode")
            raise r.twin_error(err, (*base, "parameters"), names) from None
        arms.append(arm)
    return tuple(arms)


def _comparisons(r: TomlReader, data: Mapping[str, Any], arm_names: list[str],
                 statistic: str) -> tuple[Comparison, ...]:
    out: list[Comparison] = []
    for i, table in enumerate(r.get(data, ("comparisons",), list, "[[comparisons]]", [])):
        base: FieldPath = ("comparisons", str(i))
        if not isinstance(table, dict):
            raise r.fail(base, "a comparison must be a table", table)
        r.keys(table, base, _COMPARISON)
        endpoint = r.choice((*base, "endpoint"), r.get(table, (*base, "endpoint"), str,
                                                       "an endpoint", required=True),
                            "endpoint", OUTCOME_NAMES)
        stat = r.choice((*base, "statistic"), r.get(table, (*base, "statistic"), str,
                                                    "median or mean", statistic),
                        "statistic", STATISTICS)
        tables = {}
        for key in ("published", "expect_min", "expect_max"):
            values = r.get(table, (*base, key), dict, "a table arm = number",
                           {} if key != "published" else ...)
            for arm in values:
                r.choice((*base, key, arm), arm, "arm", arm_names)
                r.number(values, (*base, key, arm), "a number")
            tables[key] = {k: float(v) for k, v in values.items()}
        out.append(Comparison(endpoint, stat,
                              r.get(table, (*base, "source"), str, "a citation", required=True),
                              tables["published"], tables["expect_min"], tables["expect_max"],
                              r.get(table, (*base, "note"), str, "a string", "")))
    return tuple(out)
