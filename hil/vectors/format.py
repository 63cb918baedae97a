"""The test-vector file: timed stimuli, the device outputs they must produce, and tolerances.

A JSON object (docs/vectors.md; JSON Schema ``hil/vectors/schema/vectors-v2.schema.json``),
version 2::

    {
      "format": "devicetwin-vectors", "version": 2,
      "name": "ddd_safety", "description": "...", "requirements": ["A-7", "SRS-112"],
      "mode": "DDD", "parameters": {"lower_rate_timing": "atrial"}, "device_defined": false,
      "duration_us": 10000000, "judge_until_us": 9000000,
      "tolerance_us": {"A": 8000, "V": 8000},
      "prelude": [{"t_us": 300000, "chamber": "A"}],
      "anchor": {"events": ["AP", "VP"], "after_us": 2000000, "timeout_us": 10000000},
      "stimuli": [{"t_us": 0, "chamber": "A"}, ...],
      "expected": [{"t_us": 150000, "chamber": "V", "tolerance_us": 2000,
                    "flags": ["safety"], "rule": "A-7"}, ...]
    }

Stimuli are sense events (detections) the device must see; expected entries are the paces it must
deliver (AP in chamber A, VP in chamber V), each within its tolerance. The prelude is sent from
the session start and not judged; with an anchor, time zero of ``stimuli`` and ``expected`` is the
device's last event of the anchor sequence (searched from ``after_us``), else the session start.
Version 1 files (no prelude, anchor, judge-until, per-entry tolerance or flags) still load.
Errors name the file, the line, the entry (``stimuli[3]``) and the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devicetwin.errors import DeviceTwinError, did_you_mean
from devicetwin.pacemaker import Chamber, MarkerKind, PaceFlag
from devicetwin.pacemaker.programming import (
    Programming,
    parse_mode,
    value_to_plain,
    values_from_plain,
)
from hil.errors import ConfigError

FORMAT_NAME = "devicetwin-vectors"
FORMAT_VERSION = 2
READ_VERSIONS = (1, 2)
DEFAULT_TOLERANCE_US = 8000
DEFAULT_ANCHOR_TIMEOUT_US = 10_000_000
MIN_DURATION_US = 1000
_V1_KEYS = ("format", "version", "name", "description", "mode", "parameters", "duration_us",
            "tolerance_us", "stimuli", "expected", "generator")
_TOP_KEYS = (*_V1_KEYS, "requirements", "device_defined", "judge_until_us", "prelude", "anchor")
_REQUIRED_KEYS = ("mode", "duration_us", "stimuli", "expected")
_ENTRY_KEYS = ("t_us", "chamber")
_EXPECTED_KEYS = (*_ENTRY_KEYS, "tolerance_us", "flags", "rule", "note")
_ANCHOR_KEYS = ("events", "after_us", "timeout_us")
_GENERATOR_KEYS = ("tool", "pattern", "options")
_CHAMBERS = {"A": Chamber.A, "V": Chamber.V}
#: The device events an anchor may name (the device shows paces).
ANCHOR_EVENTS = {"AP": MarkerKind.AP, "VP": MarkerKind.VP}
#: Pace flags by the name a file uses (``"upper_rate"``), as the model sets them (A-17).
FLAG_NAMES: dict[str, PaceFlag] = {f.name.lower(): f for f in PaceFlag if f and f.name}

JsonPath = tuple[str | int, ...]
"""Where a value sits in the document: object keys, array indices as ints."""


class VectorFileError(ConfigError):
    """A vector file that cannot be read or is not valid; names the file, line, entry, field.

    ``str()`` is ``file:line: entry.field: message`` (``source`` is the file, ``line`` None
    when it is not known, e.g. for a missing field).
    """

    def __init__(self, message: str, *, file: str, line: int | None = None,
                 entry: str | None = None, field_name: str | None = None, value: Any = None,
                 expected: str | None = None) -> None:
        what = ".".join(p for p in (entry, field_name) if p)
        super().__init__(f"{what}: {message}" if what else message, name=field_name,
                         value=value, expected=expected, source=file, line=line or None)
        self.file = file
        self.entry = entry
        self.field_name = field_name


@dataclass(frozen=True, slots=True)
class Stimulus:
    """A sense event the device must see: a detection in ``chamber`` at ``t_us``."""

    t_us: int
    chamber: Chamber


@dataclass(frozen=True, slots=True)
class ExpectedPace:
    """A pace the device must deliver in ``chamber`` at ``t_us`` (within the tolerance).

    ``tolerance_us`` overrides the file's window for this pace (None: the chamber's);
    ``flags`` say why the pace comes when it does (safety, upper rate, ...; A-17), ``rule``
    the requirement it checks (``"A-7"``), ``note`` free text.
    """

    t_us: int
    chamber: Chamber
    line: int = 0  # where it was read from (0 when built in memory)
    tolerance_us: int | None = None
    flags: PaceFlag = PaceFlag.NONE
    rule: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Anchor:
    """Time zero on a device event: the device's first run of ``events`` (consecutive paces,
    e.g. AP then VP) starting at or after ``after_us`` (session time); t = 0 is the last one.
    Not found within ``timeout_us`` after ``after_us``: the vector fails."""

    events: tuple[MarkerKind, ...]
    after_us: int = 0
    timeout_us: int = DEFAULT_ANCHOR_TIMEOUT_US

    def describe(self) -> str:
        """``AP,VP after 2000 ms``."""
        return (",".join(k.value for k in self.events)
                + (f" after {self.after_us / 1000:g} ms" if self.after_us else ""))


@dataclass(frozen=True, slots=True)
class VectorFile:
    """A test vector (see the module docstring). Times of ``stimuli`` and ``expected`` count
    from time zero (the anchor, or the session start); ``prelude`` times from the session
    start."""

    name: str
    mode: str
    duration_us: int
    stimuli: tuple[Stimulus, ...]
    expected: tuple[ExpectedPace, ...]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    tolerance_us: Mapping[Chamber, int] = field(
        default_factory=lambda: {Chamber.A: DEFAULT_TOLERANCE_US, Chamber.V: DEFAULT_TOLERANCE_US})
    description: str = ""
    generator: Mapping[str, Any] = field(default_factory=dict)
    source: str = "<memory>"
    prelude: tuple[Stimulus, ...] = ()
    anchor: Anchor | None = None
    judge_until_us: int | None = None
    requirements: tuple[str, ...] = ()
    device_defined: bool = False
    version: int = FORMAT_VERSION

    def tolerance_for(self, chamber: Chamber) -> int:
        """The file's tolerance window (+-, microseconds) of ``chamber``."""
        return int(self.tolerance_us[chamber])

    def window_of(self, pace: ExpectedPace) -> int:
        """The tolerance window (+-, microseconds) of one expected pace."""
        return self.tolerance_for(pace.chamber) if pace.tolerance_us is None else pace.tolerance_us

    @property
    def judged_until_us(self) -> int:
        """The last time judged (from time zero): ``judge_until_us``, else the duration."""
        return self.duration_us if self.judge_until_us is None else self.judge_until_us

    def programming(self) -> Programming:
        """The programming the vector is written for (device-defined when the file says so)."""
        return programming_of(self.mode, self.parameters, device_defined=self.device_defined)

    def to_json(self) -> str:
        """The file's text (version 2): one stimulus or expected pace per line; enums by name."""
        head: dict[str, Any] = {
            "format": FORMAT_NAME, "version": FORMAT_VERSION, "name": self.name,
            "description": self.description,
        }
        if self.requirements:
            head["requirements"] = list(self.requirements)
        head["mode"] = self.mode
        if self.device_defined:
            head["device_defined"] = True
        head["parameters"] = {k: value_to_plain(v) for k, v in self.parameters.items()}
        head["duration_us"] = self.duration_us
        if self.judge_until_us is not None:
            head["judge_until_us"] = self.judge_until_us
        head["tolerance_us"] = {c.name: int(v) for c, v in self.tolerance_us.items()}
        if self.anchor is not None:
            head["anchor"] = {"events": [k.value for k in self.anchor.events],
                              "after_us": self.anchor.after_us,
                              "timeout_us": self.anchor.timeout_us}
        if self.generator:
            head["generator"] = {k: _plain(v) for k, v in self.generator.items()}
        lines = ["{"]
        for k, v in head.items():
            lines.append(f"  {json.dumps(k)}: {json.dumps(v)},")
        tables: list[tuple[str, list[str]]] = []
        if self.prelude:
            tables.append(("prelude", [_entry_json(s.t_us, s.chamber) for s in self.prelude]))
        tables.append(("stimuli", [_entry_json(s.t_us, s.chamber) for s in self.stimuli]))
        tables.append(("expected", [_expected_json(e) for e in self.expected]))
        for n, (key, rows) in enumerate(tables):
            lines.append(f'  "{key}": [')
            lines += [f"    {row}{',' if i + 1 < len(rows) else ''}" for i, row in enumerate(rows)]
            lines.append("  ]" + ("," if n + 1 < len(tables) else ""))
        lines.append("}")
        return "\n".join(lines) + "\n"


def _entry_json(t_us: int, chamber: Chamber) -> str:
    return f'{{"t_us": {t_us}, "chamber": "{chamber.name}"}}'


def _expected_json(e: ExpectedPace) -> str:
    out: dict[str, Any] = {"t_us": e.t_us, "chamber": e.chamber.name}
    if e.tolerance_us is not None:
        out["tolerance_us"] = e.tolerance_us
    if e.flags:
        out["flags"] = flag_names(e.flags)
    if e.rule:
        out["rule"] = e.rule
    if e.note:
        out["note"] = e.note
    return json.dumps(out)


def flag_names(flags: PaceFlag) -> list[str]:
    """The file's names of ``flags`` (``["safety", "upper_rate"]``), in flag order."""
    return [name for name, f in FLAG_NAMES.items() if f in flags]


def programming_of(mode: str, parameters: Mapping[str, Any], *,
                   device_defined: bool = False) -> Programming:
    """The programming of ``mode`` with ``parameters`` (plain data or typed values): on the
    PACEMAKER grid, or device-defined (held to physical sense, ``Programming.device_defined``).

    Raises
    ------
    DeviceTwinError
        (a ``ProgrammingError``) naming the bad mode or parameter.
    """
    parsed = parse_mode(mode)
    if device_defined:
        return Programming(mode=parsed, device_defined=True,
                           **values_from_plain(dict(parameters)))
    return Programming.from_plain(parsed, parameters)


def write_vectors(vectors: VectorFile, path: Path | str) -> Path:
    """Write ``vectors`` to ``path`` (JSON, version 2); returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(vectors.to_json(), encoding="utf-8")
    return p


def _plain(value: Any) -> Any:
    """JSON-ready data: enum members by name, mappings and sequences element by element."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value_to_plain(value)


class _Frame:
    """An open object or array while scanning JSON text."""

    def __init__(self, is_array: bool) -> None:
        self.is_array = is_array
        self.at: str | int = -1  # the current key, or the current index
        self.want = True  # an object waits for a key, an array for a value


def _value_lines(text: str) -> dict[JsonPath, int]:
    """The line (1-based) of every key and array element in JSON text, by its path.

    A small scan (strings, nesting, keys, elements) that the ``json`` module does not offer;
    the text has already parsed, so it is well formed.
    """
    out: dict[JsonPath, int] = {}
    stack: list[_Frame] = []
    line = 1
    pos = 0
    n = len(text)
    while pos < n:
        ch = text[pos]
        top = stack[-1] if stack else None
        if ch == "\n":
            line += 1
        elif top is not None and top.is_array and top.want and ch not in " \t\r,]":
            top.at = int(top.at) + 1
            top.want = False
            out.setdefault(tuple(f.at for f in stack), line)
            continue  # the element itself is handled on the next round
        elif ch == '"':
            end = pos + 1
            while text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            if top is not None and not top.is_array and top.want:
                top.at, top.want = json.loads(text[pos:end + 1]), False
                out.setdefault(tuple(f.at for f in stack), line)
            pos = end
        elif ch in "{[":
            stack.append(_Frame(ch == "["))
        elif ch in "}]":
            stack.pop()
        elif ch == "," and top is not None:
            top.want = True
        pos += 1
    return out


class _Ctx:
    def __init__(self, file: str, lines: dict[JsonPath, int]) -> None:
        self.file = file
        self.lines = lines

    def line_of(self, path: JsonPath) -> int | None:
        """The line of ``path`` or of the nearest enclosing value written in the file."""
        for depth in range(len(path), 0, -1):
            if path[:depth] in self.lines:
                return self.lines[path[:depth]]
        return None

    def fail(self, message: str, path: JsonPath, *, value: Any = None,
             expected: str | None = None) -> VectorFileError:
        """An error at ``path``: ``("expected", 2, "t_us")`` reads ``expected[2].t_us``."""
        entry = None
        rest = list(path)
        if len(rest) >= 2 and isinstance(rest[1], int):
            entry = f"{rest[0]}[{rest[1]}]"
            rest = rest[2:]
        return VectorFileError(message, file=self.file, line=self.line_of(path), entry=entry,
                               field_name=".".join(str(p) for p in rest) or None, value=value,
                               expected=expected)

    def keys(self, table: Mapping[str, Any], base: JsonPath, known: tuple[str, ...]) -> None:
        """Every key of ``table`` is one of ``known``, else an error with the closest."""
        for key in table:
            if key not in known:
                expected = "one of " + ", ".join(known)
                raise self.fail(f"unknown field {key!r}{did_you_mean(key, known)}; expected "
                                f"{expected}", (*base, key), value=key, expected=expected)

    def integer(self, value: Any, path: JsonPath, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"{value!r} is not an integer", path, value=value,
                            expected="an integer")
        if value < minimum:
            raise self.fail(f"{value!r} is below {minimum}", path, value=value,
                            expected=f">= {minimum}")
        return value

    def text(self, data: Mapping[str, Any], path: JsonPath, default: str) -> str:
        value = data.get(str(path[-1]), default)
        if not isinstance(value, str):
            raise self.fail(f"{value!r} is not a string", path, value=value, expected="a string")
        return value


def _chamber(ctx: _Ctx, value: Any, path: JsonPath) -> Chamber:
    if not isinstance(value, str) or value not in _CHAMBERS:
        raise ctx.fail(f"chamber {value!r} is not A or V", path, value=value,
                       expected="'A' or 'V'")
    return _CHAMBERS[value]


def _rows(ctx: _Ctx, data: Mapping[str, Any], array: str, known: tuple[str, ...],
          limit_us: int | None, limit_name: str) -> list[tuple[int, Chamber, int, JsonPath,
                                                               Mapping[str, Any]]]:
    """The entries of ``array``: (t_us, chamber, line, path, the raw entry), checked for keys,
    types, time order and ``t_us <= limit_us``."""
    rows = data.get(array, [])
    if not isinstance(rows, list):
        raise ctx.fail(f"{array!r} must be a list of entries", (array,), value=rows,
                       expected="a JSON array")
    out: list[tuple[int, Chamber, int, JsonPath, Mapping[str, Any]]] = []
    last = -1
    for i, row in enumerate(rows):
        at: JsonPath = (array, i)
        if not isinstance(row, dict):
            raise ctx.fail(f"{row!r} is not an object", at, value=row,
                           expected='{"t_us": ..., "chamber": ...}')
        ctx.keys(row, at, known)
        for need in _ENTRY_KEYS:
            if need not in row:
                raise ctx.fail(f"missing field {need!r}", (*at, need), expected="present")
        t = ctx.integer(row["t_us"], (*at, "t_us"), 0)
        if limit_us is not None and t > limit_us:
            raise ctx.fail(f"t_us = {t} is after the end ({limit_name} = {limit_us})",
                           (*at, "t_us"), value=t, expected=f"<= {limit_us}")
        if t < last:
            raise ctx.fail(f"t_us = {t} is before the previous entry's {last}", (*at, "t_us"),
                           value=t, expected="time order")
        last = t
        out.append((t, _chamber(ctx, row["chamber"], (*at, "chamber")), ctx.lines.get(at, 0),
                    at, row))
    return out


def _expected(ctx: _Ctx, data: Mapping[str, Any], duration_us: int) -> tuple[ExpectedPace, ...]:
    out = []
    for t, chamber, line, at, row in _rows(ctx, data, "expected", _EXPECTED_KEYS, duration_us,
                                            "duration_us"):
        tol = row.get("tolerance_us")
        if tol is not None:
            tol = ctx.integer(tol, (*at, "tolerance_us"), 0)
        flags = PaceFlag.NONE
        raw = row.get("flags", [])
        if not isinstance(raw, list):
            raise ctx.fail(f"flags {raw!r} must be a list of names", (*at, "flags"), value=raw,
                           expected=f"a list of {', '.join(FLAG_NAMES)}")
        for k, name in enumerate(raw):
            if not isinstance(name, str) or name.lower() not in FLAG_NAMES:
                allowed = ", ".join(FLAG_NAMES)
                raise ctx.fail(f"flag {name!r} is not a pace flag"
                               f"{did_you_mean(str(name), FLAG_NAMES)}; expected one of "
                               f"{allowed}", (*at, "flags", k), value=name,
                               expected=f"one of {allowed}")
            flags |= FLAG_NAMES[name.lower()]
        out.append(ExpectedPace(t, chamber, line, tol, flags, ctx.text(row, (*at, "rule"), ""),
                                ctx.text(row, (*at, "note"), "")))
    return tuple(out)


def _programming(ctx: _Ctx, mode: Any, raw: Any, device_defined: bool
                 ) -> tuple[str, dict[str, Any]]:
    """The canonical mode name and the typed parameters, validated by the reference model."""
    if not isinstance(raw, dict):
        raise ctx.fail("parameters must be an object", ("parameters",), value=raw,
                       expected='{"name": value}')
    try:
        parsed = parse_mode(mode)
        params = values_from_plain(raw)
        programming_of(parsed.name, params, device_defined=device_defined)
    except DeviceTwinError as err:
        name = err.name if isinstance(err.name, str) else ""
        path: JsonPath = ("parameters", name) if name in raw else (
            ("mode",) if name == "mode" else ("parameters",))
        raise ctx.fail(f"the programming is not valid: {err}", path, value=err.value,
                       expected=err.expected) from None
    return parsed.name, params


def _tolerances(ctx: _Ctx, data: Mapping[str, Any]) -> dict[Chamber, int]:
    raw = data.get("tolerance_us", {c: DEFAULT_TOLERANCE_US for c in _CHAMBERS})
    if not isinstance(raw, dict):
        raise ctx.fail(f"tolerance_us {raw!r} must give A and V", ("tolerance_us",), value=raw,
                       expected='{"A": us, "V": us}')
    ctx.keys(raw, ("tolerance_us",), tuple(_CHAMBERS))
    for c in _CHAMBERS:
        if c not in raw:
            raise ctx.fail(f"tolerance_us {raw!r} must give A and V", ("tolerance_us",),
                           value=raw, expected='{"A": us, "V": us}')
    return {chamber: ctx.integer(raw[c], ("tolerance_us", c), 0)
            for c, chamber in _CHAMBERS.items()}


def _generator(ctx: _Ctx, data: Mapping[str, Any]) -> dict[str, Any]:
    gen = data.get("generator", {})
    if not isinstance(gen, dict):
        raise ctx.fail(f"{gen!r} is not an object", ("generator",), value=gen,
                       expected='{"tool": ..., "pattern": ..., "options": {...}}')
    ctx.keys(gen, ("generator",), _GENERATOR_KEYS)
    for key in ("tool", "pattern"):
        ctx.text(gen, ("generator", key), "")
    if not isinstance(gen.get("options", {}), dict):
        raise ctx.fail(f"{gen['options']!r} is not an object", ("generator", "options"),
                       value=gen["options"], expected="an object of pattern options")
    return gen


def _anchor(ctx: _Ctx, data: Mapping[str, Any]) -> Anchor | None:
    raw = data.get("anchor")
    if raw is None:
        return None
    shape = '{"events": ["AP", "VP"], "after_us": ..., "timeout_us": ...}'
    if not isinstance(raw, dict):
        raise ctx.fail(f"{raw!r} is not an object", ("anchor",), value=raw, expected=shape)
    ctx.keys(raw, ("anchor",), _ANCHOR_KEYS)
    events = raw.get("events")
    if not isinstance(events, list) or not events:
        raise ctx.fail(f"events {events!r} must be a non-empty list of AP/VP",
                       ("anchor", "events"), value=events, expected='e.g. ["AP", "VP"]')
    kinds = []
    for k, name in enumerate(events):
        if not isinstance(name, str) or name.upper() not in ANCHOR_EVENTS:
            raise ctx.fail(f"anchor event {name!r} is not AP or VP", ("anchor", "events", k),
                           value=name, expected="'AP' or 'VP' (the device shows paces)")
        kinds.append(ANCHOR_EVENTS[name.upper()])
    after = ctx.integer(raw.get("after_us", 0), ("anchor", "after_us"), 0)
    timeout = ctx.integer(raw.get("timeout_us", DEFAULT_ANCHOR_TIMEOUT_US),
                          ("anchor", "timeout_us"), 1000)
    return Anchor(tuple(kinds), after, timeout)


def _requirements(ctx: _Ctx, data: Mapping[str, Any]) -> tuple[str, ...]:
    raw = data.get("requirements", [])
    if not isinstance(raw, list) or not all(isinstance(r, str) and r for r in raw):
        raise ctx.fail(f"requirements {raw!r} must be a list of IDs", ("requirements",),
                       value=raw, expected='a list of strings, e.g. ["A-7", "SRS-112"]')
    return tuple(raw)


def _document(text: str, file: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise VectorFileError(f"not valid JSON: {err.msg} (column {err.colno})", file=file,
                              line=err.lineno, value=text[err.pos: err.pos + 20],
                              expected="JSON") from None
    except (ValueError, RecursionError) as err:
        # the int() limit (over 4300 digits) and the decoder's recursion on deep nesting
        raise VectorFileError(f"cannot be read as JSON: {err}", file=file, expected="JSON",
                              value=None) from None


def parse_vectors(text: str, file: str = "<string>") -> VectorFile:
    """A vector file (version 1 or 2) from its text; raises :class:`VectorFileError` naming
    what is wrong.

    Every key is checked (an unknown one with the closest known names), every value's type and
    range, and the programming by the reference model; whatever the text, the result is a
    VectorFile or a VectorFileError.
    """
    data = _document(text, file)
    ctx = _Ctx(file, _value_lines(text))
    if not isinstance(data, dict):
        raise ctx.fail("the file must hold one JSON object", (), value=type(data).__name__,
                       expected="an object")
    if "format" not in data:
        ctx.keys(data, (), _TOP_KEYS)  # a misspelt "format" is named as such
    fmt = data.get("format")
    if fmt != FORMAT_NAME:
        raise ctx.fail(f"format {fmt!r} is not {FORMAT_NAME!r}", ("format",), value=fmt,
                       expected=FORMAT_NAME)
    version = data.get("version")
    if isinstance(version, bool) or version not in READ_VERSIONS:
        raise ctx.fail(f"version {version!r} is not supported", ("version",), value=version,
                       expected=" or ".join(map(str, READ_VERSIONS)))
    ctx.keys(data, (), _V1_KEYS if version == 1 else _TOP_KEYS)
    for need in _REQUIRED_KEYS:
        if need not in data:
            raise ctx.fail(f"missing field {need!r}", (need,), expected="present")
    device_defined = data.get("device_defined", False)
    if not isinstance(device_defined, bool):
        raise ctx.fail(f"device_defined {device_defined!r} is not true or false",
                       ("device_defined",), value=device_defined, expected="true or false")
    mode, params = _programming(ctx, data["mode"], data.get("parameters", {}), device_defined)
    duration = ctx.integer(data["duration_us"], ("duration_us",), MIN_DURATION_US)
    judge_until = data.get("judge_until_us")
    if judge_until is not None:
        judge_until = ctx.integer(judge_until, ("judge_until_us",), 0)
        if judge_until > duration:
            raise ctx.fail(f"judge_until_us = {judge_until} is after the end (duration_us = "
                           f"{duration})", ("judge_until_us",), value=judge_until,
                           expected=f"<= {duration}")
    tol = _tolerances(ctx, data)
    anchor = _anchor(ctx, data)
    prelude_rows = _rows(ctx, data, "prelude", _ENTRY_KEYS, None, "")
    if prelude_rows:
        if anchor is None:
            raise ctx.fail("a prelude needs an anchor (time zero after it)", ("prelude",),
                           value=len(prelude_rows), expected='an "anchor" object')
        t, _, _, at, _ = prelude_rows[-1]
        if t >= anchor.after_us:
            raise ctx.fail(f"t_us = {t} is not before the anchor search (anchor.after_us = "
                           f"{anchor.after_us})", (*at, "t_us"), value=t,
                           expected=f"< {anchor.after_us}")
    stimuli = tuple(Stimulus(t, c) for t, c, *_ in
                    _rows(ctx, data, "stimuli", _ENTRY_KEYS, duration, "duration_us"))
    return VectorFile(name=ctx.text(data, ("name",), Path(file).stem), mode=mode,
                      duration_us=duration, stimuli=stimuli,
                      expected=_expected(ctx, data, duration), parameters=params,
                      tolerance_us=tol, description=ctx.text(data, ("description",), ""),
                      generator=_generator(ctx, data), source=file,
                      prelude=tuple(Stimulus(t, c) for t, c, *_ in prelude_rows),
                      anchor=anchor, judge_until_us=judge_until,
                      requirements=_requirements(ctx, data), device_defined=device_defined,
                      version=int(version))


def read_vectors(path: Path | str) -> VectorFile:
    """Read and validate a vector file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise VectorFileError(f"cannot read: {err.strerror}", file=str(p), value=str(p),
                              expected="a readable file") from err
    except UnicodeDecodeError as err:
        raise VectorFileError(f"the file is not UTF-8 text: {err.reason} at byte {err.start}",
                              file=str(p), value=str(p), expected="a UTF-8 JSON file") from None
    return parse_vectors(text, str(p))


__all__ = ["ANCHOR_EVENTS", "DEFAULT_ANCHOR_TIMEOUT_US", "DEFAULT_TOLERANCE_US", "FLAG_NAMES",
           "FORMAT_NAME", "FORMAT_VERSION", "MIN_DURATION_US", "READ_VERSIONS", "Anchor",
           "ExpectedPace", "Stimulus", "VectorFile", "VectorFileError", "flag_names",
           "parse_vectors", "programming_of", "read_vectors", "write_vectors"]
