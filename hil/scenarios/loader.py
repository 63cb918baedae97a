"""Load scenario files (TOML) with errors that name the file, the line and the field."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hil.errors import HilError
from hil.scenarios.model import (
    HAZARDS,
    TIMELINE_ACTIONS,
    Expectations,
    Scenario,
    TimelineEntry,
)

LIBRARY_DIR = Path(__file__).with_name("library")
_TOP_KEYS = {
    "name", "description", "requirements", "duration_s", "seed", "tolerance_ms", "patient",
    "device", "timeline", "expect",
}
_NAME_RE = re.compile(r"^[a-z0-9_]+$")

#: A semantic check run after parsing: raises (any exception with a message) on a bad value.
Check = Callable[[Scenario], None]


class ScenarioError(HilError):
    """A scenario file is invalid; the message names the file, line and field."""

    def __init__(self, message: str, *, file: str, line: int, field: str, value: Any = None,
                 expected: str | None = None) -> None:
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: field '{field}': {message}", name=field, value=value,
                         expected=expected)
        self.file = file
        self.line = line
        self.field = field


class _Locator:
    """Finds the line of a field in TOML text (tomllib keeps no positions)."""

    _header = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\"-]+)\s*\]\]?")
    _key = re.compile(r"^\s*([A-Za-z0-9_\"-]+)\s*=")

    def __init__(self, text: str) -> None:
        self.entries: list[tuple[tuple[str, ...], int]] = []
        table: tuple[str, ...] = ()
        counts: dict[tuple[str, ...], int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._header.match(line)
            if header:
                parts = tuple(p.strip('"') for p in header.group(2).split("."))
                if header.group(1) == "[[":
                    index = counts.get(parts, 0)
                    counts[parts] = index + 1
                    table = (*parts, str(index))
                else:
                    table = parts
                self.entries.append((table, number))
                continue
            key = self._key.match(line)
            if key:
                self.entries.append(((*table, key.group(1).strip('"')), number))

    def line_of(self, path: tuple[str, ...]) -> int:
        """The line where ``path`` (or its nearest enclosing table) is written; 0 if unknown."""
        for depth in range(len(path), 0, -1):
            for entry, number in self.entries:
                if entry == path[:depth]:
                    return number
        return 0


class _Reader:
    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.locator = _Locator(text)

    def fail(self, path: tuple[str, ...], message: str, value: Any = None,
             expected: str | None = None) -> ScenarioError:
        return ScenarioError(message, file=self.file, line=self.locator.line_of(path),
                             field=".".join(path), value=value, expected=expected)

    def get(self, table: Mapping[str, Any], path: tuple[str, ...], kind: type | tuple[type, ...],
            expected: str, default: Any = ..., *, required: bool = False) -> Any:
        key = path[-1]
        if key not in table:
            if required or default is ...:
                raise self.fail(path[:-1] or path, f"missing required field '{key}'",
                                expected=expected)
            return default
        value = table[key]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.fail(path, f"{value!r} is not {expected}", value, expected)
        if not isinstance(value, kind):
            raise self.fail(path, f"{value!r} is not {expected}", value, expected)
        return value


def _number(r: _Reader, table: Mapping[str, Any], path: tuple[str, ...], expected: str,
            default: Any = ..., *, low: float | None = None, high: float | None = None) -> float:
    value = r.get(table, path, (int, float), expected, default)
    if (low is not None and value < low) or (high is not None and value > high):
        raise r.fail(path, f"{value!r} is out of range; expected {expected}", value, expected)
    return float(value)


def parse_scenario(text: str, file: str = "<string>", checks: tuple[Check, ...] = ()) -> Scenario:
    """Parse scenario TOML text; ``checks`` validate the result semantically.

    Raises
    ------
    ScenarioError
        On any invalid content, naming the file, the line and the field.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        match = re.search(r"line (\d+)", str(err))
        raise ScenarioError(str(err), file=file, line=int(match.group(1)) if match else 0,
                            field="(syntax)", value=None, expected="valid TOML") from err
    r = _Reader(file, text)
    for key in doc:
        if key not in _TOP_KEYS:
            allowed = "one of " + ", ".join(sorted(_TOP_KEYS))
            raise r.fail((key,), f"unknown field '{key}'", key, allowed)
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
    duration_s = _number(r, doc, ("duration_s",), "a duration in seconds, 0.1 to 86400",
                         required_default(), low=0.1, high=86400)
    seed = r.get(doc, ("seed",), int, "an integer seed", 0)
    tolerance_ms = _number(r, doc, ("tolerance_ms",), "a tolerance in ms, 0 to 100", 8.0,
                           low=0, high=100)

    patient = r.get(doc, ("patient",), dict, "a [patient] table", required=True)
    for key in patient:
        if key not in ("condition", "overrides"):
            raise r.fail(("patient", key), f"unknown field '{key}'", key, "condition, overrides")
    condition = r.get(patient, ("patient", "condition"), str, "a heart condition name",
                      required=True)
    overrides = r.get(patient, ("patient", "overrides"), dict, "a table of overrides", {})

    device = r.get(doc, ("device",), dict, "a [device] table", required=True)
    mode = r.get(device, ("device", "mode"), str, "a pacing mode such as DDD", required=True)
    parameters = r.get(device, ("device", "parameters"), dict, "a table of parameters", {})
    for key in device:
        if key not in ("mode", "parameters", "start", "must_refuse"):
            raise r.fail(("device", key), f"unknown field '{key}'", key,
                         "mode, parameters, start, must_refuse")
    device_start = r.get(device, ("device", "start"), str, "normal or corrupt_store", "normal")
    if device_start not in ("normal", "corrupt_store"):
        raise r.fail(("device", "start"), f"unknown start {device_start!r}", device_start,
                     "normal or corrupt_store")
    must_refuse = r.get(device, ("device", "must_refuse"), list,
                        "a list of tables of parameter changes", [])
    for i, entry in enumerate(must_refuse):
        if not isinstance(entry, dict) or not entry:
            raise r.fail(("device", "must_refuse"), f"entry {i} ({entry!r}) is not a table "
                         "of parameter changes", entry, "{ name = value, ... }")

    timeline = []
    entries = r.get(doc, ("timeline",), list, "an array of [[timeline]] tables", [])
    for i, entry in enumerate(entries):
        base = ("timeline", str(i))
        if not isinstance(entry, dict):
            raise r.fail(base, f"entry {i} is not a table", entry, "[[timeline]] tables")
        at_s = _number(r, entry, (*base, "at_s"), f"a time in seconds within 0..{duration_s:g}",
                       required_default(), low=0, high=duration_s)
        action = r.get(entry, (*base, "action"), str, "an action name", required=True)
        if action not in TIMELINE_ACTIONS:
            raise r.fail((*base, "action"), f"unknown action {action!r}", action,
                         "one of " + ", ".join(sorted(TIMELINE_ACTIONS)))
        params = {k: v for k, v in entry.items() if k not in ("at_s", "action")}
        for key in params:
            if key not in TIMELINE_ACTIONS[action] and "*" not in TIMELINE_ACTIONS[action]:
                allowed = ", ".join(TIMELINE_ACTIONS[action]) or "no parameters"
                raise r.fail((*base, key), f"action {action!r} takes no field '{key}'", key,
                             allowed)
        timeline.append(TimelineEntry(round(at_s * 1_000_000), action, params,
                                      r.locator.line_of(base)))
    timeline.sort(key=lambda e: e.at_us)

    expect_doc = r.get(doc, ("expect",), dict, "an [expect] table", {})
    hazards_doc = r.get(expect_doc, ("expect", "hazards"), dict, "a table hazard = true/false", {})
    for hazard, value in hazards_doc.items():
        if hazard not in HAZARDS:
            raise r.fail(("expect", "hazards", hazard), f"unknown hazard {hazard!r}", hazard,
                         "one of " + ", ".join(HAZARDS))
        if not isinstance(value, bool):
            raise r.fail(("expect", "hazards", hazard), f"{value!r} is not true or false", value,
                         "true or false")
    for key in expect_doc:
        if key not in ("hazards", "min_recall", "min_precision", "max_timing_error_ms",
                       "monitors"):
            raise r.fail(("expect", key), f"unknown field '{key}'", key,
                         "hazards, min_recall, min_precision, max_timing_error_ms, monitors")
    monitors = r.get(expect_doc, ("expect", "monitors"), list, "a list of monitor names", [])
    expect = Expectations(
        hazards=dict(hazards_doc),
        min_recall=_number(r, expect_doc, ("expect", "min_recall"), "a fraction 0..1", 0.99,
                           low=0, high=1),
        min_precision=_number(r, expect_doc, ("expect", "min_precision"), "a fraction 0..1",
                              0.99, low=0, high=1),
        max_timing_error_ms=_number(r, expect_doc, ("expect", "max_timing_error_ms"),
                                    "milliseconds, 0 to 1000", 8.0, low=0, high=1000),
        monitors=tuple(str(m) for m in monitors),
    )
    scenario = Scenario(
        name=name, description=description, requirements=tuple(reqs),
        duration_us=round(duration_s * 1_000_000), seed=seed, condition=condition,
        condition_overrides=dict(overrides), mode=mode, parameters=dict(parameters),
        timeline=tuple(timeline), expect=expect, tolerance_ms=tolerance_ms,
        device_start=device_start, must_refuse=tuple(dict(e) for e in must_refuse),
        source=None if file.startswith("<") else Path(file),
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
              overrides: Mapping[str, Any]) -> tuple[str, ...]:
    if name in parameters:
        return ("device", "parameters", name)
    if name == "mode":
        return ("device", "mode")
    if name in overrides:
        return ("patient", "overrides", name)
    if name in ("condition", "condition_name"):
        return ("patient", "condition")
    return (name,) if name else ("device",)


def required_default() -> Any:
    """Marker for a required numeric field (no default)."""
    return ...


def load_scenario(path: Path | str, checks: tuple[Check, ...] = ()) -> Scenario:
    """Load a scenario file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise ScenarioError(f"cannot read the file: {err.strerror}", file=str(p), line=0,
                            field="(file)", value=str(p), expected="a readable TOML file") from err
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
    raise ScenarioError(
        f"no scenario named {name_or_path!r}", file=name_or_path, line=0, field="(name)",
        value=name_or_path, expected="a file or one of " + ", ".join(library_names()),
    )
