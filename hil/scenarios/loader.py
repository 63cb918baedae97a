"""Load scenario files (TOML) with errors that name the file, the line and the field.

Every key is checked against the names it may take (the top-level fields, the heart's
conditions and their fields, the programmable parameters, the modes, the timeline actions, the
hazards), an unknown one with the closest known names ("did you mean lower_rate_ppm?"). The
programming and the patient are validated here, once, by the twin's own rules
(``Programming.from_plain``, ``Condition.with_changes``), and their errors carry the line of the
offending value. Whatever the text, loading raises :class:`ScenarioError` or returns a Scenario.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from devicetwin.errors import DeviceTwinError, did_you_mean
from devicetwin.heart import PRESETS, Condition
from devicetwin.outcomes import OUTCOME_NAMES, OutcomeLimit
from devicetwin.pacemaker import PARAMETERS, Programming
from devicetwin.pacemaker.programming import parse_mode, values_from_plain
from devicetwin.twin import Twin, TwinError, condition_changes, load_twin
from devicetwin.twin.twinfile import TWIN_BASE_PRESET
from hil.devices.contract import DEVICE_FEATURES
from hil.scenarios.model import (
    HAZARDS,
    TIMELINE_ACTIONS,
    ActionField,
    Expectations,
    Scenario,
    TimelineEntry,
)
from hil.scenarios.toml_reader import FieldPath, ScenarioError, TomlReader, read_toml

LIBRARY_DIR = Path(__file__).with_name("library")
_TOP_KEYS = ("name", "description", "requirements", "duration_s", "seed", "tolerance_ms",
             "patient", "device", "timeline", "expect")
_PATIENT_KEYS = ("condition", "overrides", "twin")
_DEVICE_KEYS = ("mode", "parameters", "start", "must_refuse", "needs")
_DEVICE_STARTS = ("normal", "corrupt_store")
_EXPECT_KEYS = ("hazards", "min_recall", "min_precision", "max_timing_error_ms", "monitors",
                "outcomes")
#: ``[expect.outcomes]`` keys: ``<measure>_max`` and ``<measure>_min`` for each outcome measure.
_OUTCOME_KEYS = tuple(f"{n}_{side}" for n in OUTCOME_NAMES for side in ("max", "min"))
_CONDITION_FIELDS = tuple(f.name for f in dataclasses.fields(Condition))
_NAME_RE = re.compile(r"^[a-z0-9_]+$")

#: A semantic check run after parsing: raises (any exception with a message) on a bad value.
Check = Callable[[Scenario], None]

def _field_value(r: TomlReader, path: FieldPath, value: Any, spec: ActionField) -> Any:
    """``value`` checked against a timeline action field's type, choices and bounds."""
    words = spec.description
    if spec.kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and isinstance(value, float) and not math.isfinite(value):
            ok = False
        words = f"a number ({spec.description})"
    elif spec.kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        words = f"an integer ({spec.description})"
    elif spec.kind is bool:
        ok = isinstance(value, bool)
        words = f"true or false ({spec.description})"
    else:
        ok = isinstance(value, str)
        words = f"a string ({spec.description})"
    if not ok:
        raise r.fail(path, f"{value!r} is not {words}", value, words)
    if spec.choices:
        r.choice(path, value, f"{path[-1]} value", spec.choices)
    if (spec.low is not None and value < spec.low) or (spec.high is not None
                                                      and value > spec.high):
        bounds = f"{spec.low if spec.low is not None else '-inf'} to " \
                 f"{spec.high if spec.high is not None else 'inf'}"
        raise r.fail(path, f"{value!r} is out of range; expected {bounds} "
                     f"({spec.description})", value, bounds)
    return value


def _condition(r: TomlReader, base: Condition, changes: Mapping[str, Any], at: FieldPath,
               places: Mapping[str, FieldPath]) -> Condition:
    """``base`` with ``changes`` (names already checked), its errors at their lines."""
    try:
        return base.with_changes(**changes)
    except (DeviceTwinError, TypeError, ValueError) as err:
        # Condition.__post_init__ checks ranges; a value of a wrong shape (a number for a
        # per-site table) can fail inside it with a TypeError or ValueError instead.
        raise r.twin_error(err, at, places) from None


def _patient(r: TomlReader, doc: Mapping[str, Any]
             ) -> tuple[str, dict[str, Any], Condition, str | None]:
    patient = r.get(doc, ("patient",), dict, "a [patient] table", required=True)
    r.keys(patient, ("patient",), _PATIENT_KEYS)
    twin = _twin(r, patient)
    label = None
    if twin is not None:
        label = f"twin {twin.twin_id} ({patient['twin']})"
        name, base, start = TWIN_BASE_PRESET, condition_changes(twin.condition), twin.condition
    else:
        name = r.get(patient, ("patient", "condition"), str, "a heart condition name",
                     required=True)
        r.choice(("patient", "condition"), name, "condition", PRESETS)
        base, start = {}, PRESETS[name]
    overrides = r.get(patient, ("patient", "overrides"), dict, "a table of overrides", {})
    r.keys(overrides, ("patient", "overrides"), _CONDITION_FIELDS)
    places = {k: ("patient", "overrides", k) for k in overrides}
    cond = _condition(r, start, overrides, ("patient", "overrides"), places)
    return name, {**base, **overrides}, cond, label


def _twin(r: TomlReader, patient: Mapping[str, Any]) -> Twin | None:
    """``[patient] twin = "file"``: the twin (a path relative to the scenario)."""
    text = r.get(patient, ("patient", "twin"), str, "a twin file path", None)
    if text is None:
        return None
    if "condition" in patient:
        raise r.fail(("patient", "condition"), "give either condition or twin, not both",
                     patient["condition"], "condition or twin")
    path = Path(text)
    if not path.is_absolute() and not r.file.startswith("<"):
        path = Path(r.file).parent / path
    try:
        return load_twin(path)
    except TwinError as err:
        raise r.fail(("patient", "twin"), str(err), text, "a twin file "
                     "(devicetwin twin calibrate)") from None


def _programming(r: TomlReader, doc: Mapping[str, Any]) -> tuple[str, dict[str, Any],
                                                              tuple[dict[str, Any], ...], str]:
    device = r.get(doc, ("device",), dict, "a [device] table", required=True)
    r.keys(device, ("device",), _DEVICE_KEYS)
    mode_text = r.get(device, ("device", "mode"), str, "a pacing mode such as DDD",
                      required=True)
    raw = r.get(device, ("device", "parameters"), dict, "a table of parameters", {})
    places: dict[str, FieldPath] = {name: ("device", "parameters", name) for name in raw}
    places.setdefault("mode", ("device", "mode"))
    # a rule broken by parameters the file leaves nominal is reported at the [device] table
    at = ("device", "parameters") if "parameters" in device else ("device",)
    try:
        mode = parse_mode(mode_text)
        parameters = values_from_plain(raw)
        Programming.nominal(mode, **parameters)
    except DeviceTwinError as err:
        raise r.twin_error(err, at, places) from None
    start = r.get(device, ("device", "start"), str, "normal or corrupt_store", "normal")
    r.choice(("device", "start"), start, "start", _DEVICE_STARTS)
    entries = r.get(device, ("device", "must_refuse"), list,
                    "a list of tables of parameter changes", [])
    refusals = []
    for i, entry in enumerate(entries):
        path = ("device", "must_refuse", str(i))
        if not isinstance(entry, dict) or not entry:
            raise r.fail(path, f"entry {i} ({entry!r}) is not a table of parameter changes",
                         entry, "{ name = value, ... }")
        # names and types only: the values are meant to break the rules
        try:
            refusals.append(values_from_plain(entry))
        except DeviceTwinError as err:
            raise r.twin_error(err, path, {k: (*path, k) for k in entry}) from None
    return mode.name, parameters, tuple(refusals), start


def _needs(r: TomlReader, doc: Mapping[str, Any]) -> tuple[str, ...]:
    """``[device] needs = [...]``: the device features the scenario exercises."""
    device = doc.get("device", {})
    needs = r.get(device, ("device", "needs"), list, "a list of device features", [])
    for i, feature in enumerate(needs):
        path = ("device", "needs", str(i))
        if not isinstance(feature, str):
            raise r.fail(path, f"{feature!r} is not a feature name", feature,
                         "one of " + ", ".join(DEVICE_FEATURES))
        r.choice(path, feature, "device feature", DEVICE_FEATURES)
    return tuple(needs)


def _timeline(r: TomlReader, doc: Mapping[str, Any], duration_s: float,
              patient: Condition) -> tuple[TimelineEntry, ...]:
    entries = r.get(doc, ("timeline",), list, "an array of [[timeline]] tables", [])
    out = []
    for i, entry in enumerate(entries):
        base = ("timeline", str(i))
        if not isinstance(entry, dict):
            raise r.fail(base, f"entry {i} is not a table", entry, "[[timeline]] tables")
        at_s = r.number(entry, (*base, "at_s"), f"a time in seconds within 0..{duration_s:g}",
                        low=0, high=duration_s)
        action = r.get(entry, (*base, "action"), str, "an action name", required=True)
        spec = TIMELINE_ACTIONS[r.choice((*base, "action"), action, "action",
                                         TIMELINE_ACTIONS)]
        params = {k: v for k, v in entry.items() if k not in ("at_s", "action")}
        known = (*spec.fields, *(_CONDITION_FIELDS if spec.condition_fields else ()))
        changes: dict[str, Any] = {}
        for key, value in params.items():
            if key not in known:
                expected = ", ".join(known) or "no fields"
                raise r.fail((*base, key), f"action {action!r} takes no field '{key}'"
                             f"{did_you_mean(key, known)}; it takes {expected}", key, expected)
            if key in spec.fields:
                _field_value(r, (*base, key), value, spec.fields[key])
            else:
                changes[key] = value
        if spec.condition_fields:
            preset = params.get("name")
            start = PRESETS[preset] if isinstance(preset, str) else patient
            _condition(r, start, changes, base, {k: (*base, k) for k in changes})
        out.append(TimelineEntry(round(at_s * 1_000_000), action, params,
                                 r.locator.line_of(base)))
    return tuple(sorted(out, key=lambda e: e.at_us))


def _expectations(r: TomlReader, doc: Mapping[str, Any]) -> Expectations:
    expect_doc = r.get(doc, ("expect",), dict, "an [expect] table", {})
    r.keys(expect_doc, ("expect",), _EXPECT_KEYS)
    hazards = r.get(expect_doc, ("expect", "hazards"), dict, "a table hazard = true/false", {})
    for hazard, value in hazards.items():
        path = ("expect", "hazards", hazard)
        r.choice(path, hazard, "hazard", HAZARDS)
        if not isinstance(value, bool):
            raise r.fail(path, f"{value!r} is not true or false", value, "true or false")
    monitors = r.get(expect_doc, ("expect", "monitors"), list, "a list of monitor names", [])
    for i, monitor in enumerate(monitors):
        if not isinstance(monitor, str) or not monitor:
            raise r.fail(("expect", "monitors"), f"entry {i} ({monitor!r}) is not a monitor "
                         "name", monitor, "non-empty strings")
    return Expectations(
        outcomes=_outcome_limits(r, expect_doc),
        hazards=dict(hazards),
        min_recall=r.number(expect_doc, ("expect", "min_recall"), "a fraction 0..1", 0.99,
                            low=0, high=1),
        min_precision=r.number(expect_doc, ("expect", "min_precision"), "a fraction 0..1",
                               0.99, low=0, high=1),
        max_timing_error_ms=r.number(expect_doc, ("expect", "max_timing_error_ms"),
                                     "milliseconds, 0 to 1000", 8.0, low=0, high=1000),
        monitors=tuple(monitors),
    )


def _outcome_limits(r: TomlReader, expect_doc: Mapping[str, Any]) -> tuple[OutcomeLimit, ...]:
    """``[expect.outcomes]``: ``pmt_burden_max = 0.05`` and so on, one limit per measure."""
    base = ("expect", "outcomes")
    table = r.get(expect_doc, base, dict, "a table <measure>_max/_min = number", {})
    r.keys(table, base, _OUTCOME_KEYS)
    bounds: dict[str, dict[str, float]] = {}
    for key in table:
        name, _, side = key.rpartition("_")
        bounds.setdefault(name, {})[side] = r.number(table, (*base, key), "a number", None)
    limits = []
    for name, b in bounds.items():
        low, high = b.get("min"), b.get("max")
        if low is not None and high is not None and low > high:
            raise r.fail((*base, f"{name}_min"), f"{name}_min {low:g} is above {name}_max "
                         f"{high:g}", low, f"at most {high:g}")
        limits.append(OutcomeLimit(name, low, high))
    return tuple(limits)


def parse_scenario(text: str, file: str = "<string>", checks: tuple[Check, ...] = ()) -> Scenario:
    """Parse scenario TOML text; ``checks`` validate the result semantically.

    Raises
    ------
    ScenarioError
        On any invalid content, naming the file, the line and the field.
    """
    doc = read_toml(text, file)
    r = TomlReader(file, text)
    r.keys(doc, (), _TOP_KEYS)
    name = r.get(doc, ("name",), str, "a lowercase identifier", required=True)
    if not _NAME_RE.match(name):
        raise r.fail(("name",), f"{name!r} is not a lowercase identifier", name, "[a-z0-9_]+")
    description = r.get(doc, ("description",), str, "a sentence saying what the run proves",
                        required=True)
    reqs = r.get(doc, ("requirements",), list, "a list of requirement IDs", [])
    for i, req in enumerate(reqs):
        if not isinstance(req, str) or not req:
            raise r.fail(("requirements",), f"entry {i} ({req!r}) is not a requirement ID", req,
                         "non-empty strings")
    duration_s = r.number(doc, ("duration_s",), "a duration in seconds, 0.1 to 86400",
                          low=0.1, high=86400)
    seed = r.get(doc, ("seed",), int, "an integer seed >= 0", 0)
    if seed < 0:
        raise r.fail(("seed",), f"{seed!r} is negative; expected an integer seed >= 0", seed,
                     "an integer seed >= 0")
    tolerance_ms = r.number(doc, ("tolerance_ms",), "a tolerance in ms, 0 to 100", 8.0,
                            low=0, high=100)
    condition, overrides, patient, twin_label = _patient(r, doc)
    mode, parameters, must_refuse, device_start = _programming(r, doc)
    timeline = _timeline(r, doc, duration_s, patient)
    expect = _expectations(r, doc)
    scenario = Scenario(
        name=name, description=description, requirements=tuple(reqs),
        duration_us=round(duration_s * 1_000_000), seed=seed, condition=condition,
        condition_overrides=overrides, mode=mode, parameters=parameters,
        timeline=timeline, expect=expect, tolerance_ms=tolerance_ms,
        device_start=device_start, must_refuse=must_refuse, needs=_needs(r, doc),
        source=None if file.startswith("<") else Path(file), patient_twin=twin_label,
    )
    for check in checks:
        try:
            check(scenario)
        except ScenarioError:
            raise
        except Exception as err:  # a semantic check names its field through .name
            field_name = getattr(err, "name", None) or ""
            path = _path_for(field_name, parameters, overrides)
            raise r.fail(path, str(err), getattr(err, "value", None),
                         getattr(err, "expected", None)) from err
    return scenario


def _path_for(name: str, parameters: Mapping[str, Any],
              overrides: Mapping[str, Any]) -> FieldPath:
    if name in parameters:
        return ("device", "parameters", name)
    if name == "mode":
        return ("device", "mode")
    if name in PARAMETERS:
        return ("device",)
    if name in overrides:
        return ("patient", "overrides", name)
    if name in ("condition", "condition_name"):
        return ("patient", "condition")
    return (name,) if name else ("device",)


def load_scenario(path: Path | str, checks: tuple[Check, ...] = ()) -> Scenario:
    """Load a scenario file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise ScenarioError(f"cannot read the file: {err.strerror}", file=str(p), line=None,
                            field="(file)", value=str(p), expected="a readable TOML file") from err
    except UnicodeDecodeError as err:
        raise ScenarioError(f"the file is not UTF-8 text: {err.reason} at byte {err.start}",
                            file=str(p), line=None, field="(file)", value=str(p),
                            expected="a UTF-8 TOML file") from None
    return parse_scenario(text, str(p), checks)


def library_names() -> list[str]:
    """Names of the built-in scenarios."""
    return sorted(p.stem for p in LIBRARY_DIR.glob("*.toml"))


def resolve(name_or_path: str) -> Path:
    """A built-in scenario name or a path to a scenario file."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        return candidate
    builtin = LIBRARY_DIR / f"{name_or_path}.toml"
    if builtin.exists():
        return builtin
    names = library_names()
    raise ScenarioError(
        f"no scenario named {name_or_path!r}{did_you_mean(name_or_path, names)}",
        file=name_or_path, line=None, field="(name)", value=name_or_path,
        expected="a file or one of " + ", ".join(names),
    )
