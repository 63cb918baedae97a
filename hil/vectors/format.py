"""The test-vector file: timed stimuli, the device outputs they must produce, and tolerances.

A JSON object (docs/vectors.md), version 1::

    {
      "format": "devicetwin-vectors", "version": 1,
      "name": "ddd_sinus", "description": "...",
      "mode": "DDD", "parameters": {"lower_rate_ppm": 60},
      "duration_us": 10000000,
      "tolerance_us": {"A": 8000, "V": 8000},
      "stimuli": [{"t_us": 0, "chamber": "A"}, ...],
      "expected": [{"t_us": 150000, "chamber": "V"}, ...]
    }

Stimuli are sense events (detections) the device must see; expected entries are the paces it must
deliver (AP in chamber A, VP in chamber V), each within its chamber's tolerance. Errors name the
file, the line, the entry (``stimuli[3]``) and the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devicetwin.errors import DeviceTwinError, did_you_mean
from devicetwin.pacemaker import Chamber
from devicetwin.pacemaker.programming import (
    Programming,
    parse_mode,
    value_to_plain,
    values_from_plain,
)
from hil.errors import ConfigError

FORMAT_NAME = "devicetwin-vectors"
FORMAT_VERSION = 1
DEFAULT_TOLERANCE_US = 8000
MIN_DURATION_US = 1000
_TOP_KEYS = ("format", "version", "name", "description", "mode", "parameters", "duration_us",
             "tolerance_us", "stimuli", "expected", "generator")
_REQUIRED_KEYS = ("mode", "duration_us", "stimuli", "expected")
_ENTRY_KEYS = ("t_us", "chamber")
_GENERATOR_KEYS = ("tool", "pattern", "options")
_CHAMBERS = {"A": Chamber.A, "V": Chamber.V}

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
    """A pace the device must deliver in ``chamber`` at ``t_us`` (within the tolerance)."""

    t_us: int
    chamber: Chamber
    line: int = 0  # where it was read from (0 when built in memory)


@dataclass(frozen=True, slots=True)
class VectorFile:
    """A set of test vectors (see the module docstring)."""

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

    def tolerance_for(self, chamber: Chamber) -> int:
        """The tolerance window (+-, microseconds) of ``chamber``."""
        return int(self.tolerance_us[chamber])

    def to_json(self) -> str:
        """The file's text: one stimulus or expected pace per line; enum values by name."""
        head: dict[str, Any] = {
            "format": FORMAT_NAME, "version": FORMAT_VERSION, "name": self.name,
            "description": self.description, "mode": self.mode,
            "parameters": {k: value_to_plain(v) for k, v in self.parameters.items()},
            "duration_us": self.duration_us,
            "tolerance_us": {c.name: int(v) for c, v in self.tolerance_us.items()},
        }
        if self.generator:
            head["generator"] = {k: _plain(v) for k, v in self.generator.items()}
        lines = ["{"]
        for k, v in head.items():
            lines.append(f"  {json.dumps(k)}: {json.dumps(v)},")
        tables: tuple[tuple[str, list[tuple[int, Chamber]]], ...] = (
            ("stimuli", [(r.t_us, r.chamber) for r in self.stimuli]),
            ("expected", [(r.t_us, r.chamber) for r in self.expected]))
        for key, rows in tables:
            lines.append(f'  "{key}": [')
            for i, (t_us, chamber) in enumerate(rows):
                comma = "," if i + 1 < len(rows) else ""
                lines.append(f'    {{"t_us": {t_us}, "chamber": "{chamber.name}"}}{comma}')
            lines.append("  ]" + ("," if key == "stimuli" else ""))
        lines.append("}")
        return "\n".join(lines) + "\n"


def write_vectors(vectors: VectorFile, path: Path | str) -> Path:
    """Write ``vectors`` to ``path`` (JSON, version 1); returns the path."""
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


def _entries(ctx: _Ctx, data: Mapping[str, Any], array: str, duration_us: int
             ) -> list[tuple[int, Chamber, int]]:
    rows = data[array]
    if not isinstance(rows, list):
        raise ctx.fail(f"{array!r} must be a list of entries", (array,), value=rows,
                       expected="a JSON array")
    out: list[tuple[int, Chamber, int]] = []
    last = -1
    for i, row in enumerate(rows):
        at: JsonPath = (array, i)
        if not isinstance(row, dict):
            raise ctx.fail(f"{row!r} is not an object", at, value=row,
                           expected='{"t_us": ..., "chamber": ...}')
        ctx.keys(row, at, _ENTRY_KEYS)
        for need in _ENTRY_KEYS:
            if need not in row:
                raise ctx.fail(f"missing field {need!r}", (*at, need), expected="present")
        t = ctx.integer(row["t_us"], (*at, "t_us"), 0)
        if t > duration_us:
            raise ctx.fail(f"t_us = {t} is after the end (duration_us = {duration_us})",
                           (*at, "t_us"), value=t, expected=f"<= {duration_us}")
        if t < last:
            raise ctx.fail(f"t_us = {t} is before the previous entry's {last}", (*at, "t_us"),
                           value=t, expected="time order")
        last = t
        out.append((t, _chamber(ctx, row["chamber"], (*at, "chamber")),
                    ctx.lines.get(at, 0)))
    return out


def _programming(ctx: _Ctx, mode: Any, raw: Any) -> tuple[str, dict[str, Any]]:
    """The canonical mode name and the typed parameters, validated by the reference model."""
    if not isinstance(raw, dict):
        raise ctx.fail("parameters must be an object", ("parameters",), value=raw,
                       expected='{"name": value}')
    try:
        parsed = parse_mode(mode)
        params = values_from_plain(raw)
        Programming.nominal(parsed, **params)
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
    """A vector file from its text; raises :class:`VectorFileError` naming what is wrong.

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
    if isinstance(version, bool) or version != FORMAT_VERSION:
        raise ctx.fail(f"version {version!r} is not supported", ("version",), value=version,
                       expected=str(FORMAT_VERSION))
    ctx.keys(data, (), _TOP_KEYS)
    for need in _REQUIRED_KEYS:
        if need not in data:
            raise ctx.fail(f"missing field {need!r}", (need,), expected="present")
    mode, params = _programming(ctx, data["mode"], data.get("parameters", {}))
    duration = ctx.integer(data["duration_us"], ("duration_us",), MIN_DURATION_US)
    tol = _tolerances(ctx, data)
    stimuli = tuple(Stimulus(t, c) for t, c, _ in _entries(ctx, data, "stimuli", duration))
    expected = tuple(ExpectedPace(t, c, ln) for t, c, ln in
                     _entries(ctx, data, "expected", duration))
    return VectorFile(name=ctx.text(data, ("name",), Path(file).stem), mode=mode,
                      duration_us=duration, stimuli=stimuli, expected=expected,
                      parameters=params, tolerance_us=tol,
                      description=ctx.text(data, ("description",), ""),
                      generator=_generator(ctx, data), source=file)


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


__all__ = ["DEFAULT_TOLERANCE_US", "FORMAT_NAME", "FORMAT_VERSION", "MIN_DURATION_US",
           "ExpectedPace", "Stimulus", "VectorFile", "VectorFileError", "parse_vectors",
           "read_vectors", "write_vectors"]
