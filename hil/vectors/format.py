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

from devicetwin.pacemaker import Chamber
from hil.errors import HilError

FORMAT_NAME = "devicetwin-vectors"
FORMAT_VERSION = 1
DEFAULT_TOLERANCE_US = 8000
_TOP_KEYS = {"format", "version", "name", "description", "mode", "parameters", "duration_us",
             "tolerance_us", "stimuli", "expected", "generator"}
_ENTRY_KEYS = {"t_us", "chamber"}
_CHAMBERS = {"A": Chamber.A, "V": Chamber.V}


class VectorFileError(HilError):
    """A vector file that cannot be read or is not valid; names the file, line, entry, field."""

    def __init__(self, message: str, *, file: str, line: int | None = None,
                 entry: str | None = None, field_name: str | None = None, value: Any = None,
                 expected: str | None = None) -> None:
        where = file + (f":{line}" if line else "")
        what = ".".join(p for p in (entry, field_name) if p)
        super().__init__(f"{where}: {what + ': ' if what else ''}{message}",
                         name=field_name, value=value, expected=expected)
        self.file = file
        self.line = line
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
        """The file's text: one stimulus or expected pace per line."""
        head: dict[str, Any] = {
            "format": FORMAT_NAME, "version": FORMAT_VERSION, "name": self.name,
            "description": self.description, "mode": self.mode,
            "parameters": dict(self.parameters), "duration_us": self.duration_us,
            "tolerance_us": {c.name: int(v) for c, v in self.tolerance_us.items()},
        }
        if self.generator:
            head["generator"] = dict(self.generator)
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
    p.write_text(vectors.to_json())
    return p


def _entry_lines(text: str) -> dict[tuple[str, int], int]:
    """Line of each object in the top-level arrays: (array key, index) -> line (1-based).

    A small scan of the JSON text (strings, nesting, the last key at the top level) that the
    ``json`` module does not offer; the text has already parsed, so it is well formed.
    """
    out: dict[tuple[str, int], int] = {}
    line = 1
    depth = 0
    in_string = False
    escape = False
    last_string = ""
    current = ""
    top_key = ""
    array_key = ""
    index = -1
    for ch in text:
        if ch == "\n":
            line += 1
        if in_string:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_string = False
                last_string = current
            else:
                current += ch
            continue
        if ch == '"':
            in_string, current = True, ""
        elif ch == ":" and depth == 1:
            top_key = last_string
        elif ch in "{[":
            depth += 1
            if ch == "[" and depth == 2:
                array_key, index = top_key, -1
            elif ch == "{" and depth == 3 and array_key:
                index += 1
                out[(array_key, index)] = line
        elif ch in "}]":
            depth -= 1
            if depth == 1:
                array_key = ""
    return out


class _Ctx:
    def __init__(self, file: str, lines: dict[tuple[str, int], int]) -> None:
        self.file = file
        self.lines = lines

    def fail(self, message: str, *, entry: str | None = None, key: tuple[str, int] | None = None,
             field_name: str | None = None, value: Any = None, expected: str | None = None
             ) -> VectorFileError:
        line = self.lines.get(key) if key is not None else None
        return VectorFileError(message, file=self.file, line=line, entry=entry,
                               field_name=field_name, value=value, expected=expected)


def _int(ctx: _Ctx, value: Any, *, entry: str | None, key: tuple[str, int] | None,
         field_name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ctx.fail(f"{value!r} is not an integer", entry=entry, key=key,
                       field_name=field_name, value=value, expected="an integer")
    if value < minimum:
        raise ctx.fail(f"{value!r} is below {minimum}", entry=entry, key=key,
                       field_name=field_name, value=value, expected=f">= {minimum}")
    return value


def _chamber(ctx: _Ctx, value: Any, *, entry: str, key: tuple[str, int]) -> Chamber:
    if value not in _CHAMBERS:
        raise ctx.fail(f"chamber {value!r} is not A or V", entry=entry, key=key,
                       field_name="chamber", value=value, expected="'A' or 'V'")
    return _CHAMBERS[value]


def _entries(ctx: _Ctx, data: Mapping[str, Any], array: str, duration_us: int
             ) -> list[tuple[int, Chamber, int]]:
    rows = data.get(array)
    if not isinstance(rows, list):
        raise ctx.fail(f"{array!r} must be a list of entries", field_name=array, value=rows,
                       expected="a JSON array")
    out: list[tuple[int, Chamber, int]] = []
    last = -1
    for i, row in enumerate(rows):
        entry, key = f"{array}[{i}]", (array, i)
        if not isinstance(row, dict):
            raise ctx.fail(f"{row!r} is not an object", entry=entry, key=key, value=row,
                           expected='{"t_us": ..., "chamber": ...}')
        unknown = set(row) - _ENTRY_KEYS
        if unknown:
            name = sorted(unknown)[0]
            raise ctx.fail(f"unknown field {name!r}", entry=entry, key=key, field_name=name,
                           value=row[name], expected=f"only {sorted(_ENTRY_KEYS)}")
        for need in ("t_us", "chamber"):
            if need not in row:
                raise ctx.fail(f"missing field {need!r}", entry=entry, key=key, field_name=need,
                               expected="present")
        t = _int(ctx, row["t_us"], entry=entry, key=key, field_name="t_us", minimum=0)
        if t > duration_us:
            raise ctx.fail(f"t_us = {t} is after the end (duration_us = {duration_us})",
                           entry=entry, key=key, field_name="t_us", value=t,
                           expected=f"<= {duration_us}")
        if t < last:
            raise ctx.fail(f"t_us = {t} is before the previous entry's {last}", entry=entry,
                           key=key, field_name="t_us", value=t, expected="time order")
        last = t
        out.append((t, _chamber(ctx, row["chamber"], entry=entry, key=key),
                    ctx.lines.get(key, 0)))
    return out


def _check_programming(ctx: _Ctx, mode: str, params: Mapping[str, Any]) -> None:
    from devicetwin import DeviceTwinError
    from devicetwin.pacemaker import Mode
    from hil.session.mapping import programming_from

    if mode not in Mode.__members__:
        raise ctx.fail(f"mode {mode!r} is not a pacing mode", field_name="mode", value=mode,
                       expected=f"one of {sorted(Mode.__members__)}")
    try:
        programming_from(mode, params)
    except (DeviceTwinError, TypeError) as err:
        raise ctx.fail(f"the programming is not valid: {err}", field_name="parameters",
                       value=dict(params), expected="a valid programming for the mode") from None


def parse_vectors(text: str, file: str = "<string>") -> VectorFile:
    """A vector file from its text; raises :class:`VectorFileError` naming what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise VectorFileError(f"not valid JSON: {err.msg} (column {err.colno})", file=file,
                              line=err.lineno, value=text[err.pos: err.pos + 20],
                              expected="JSON") from None
    ctx = _Ctx(file, _entry_lines(text))
    if not isinstance(data, dict):
        raise ctx.fail("the file must hold one JSON object", value=type(data).__name__,
                       expected="an object")
    if data.get("format") != FORMAT_NAME:
        raise ctx.fail(f"format {data.get('format')!r} is not {FORMAT_NAME!r}",
                       field_name="format", value=data.get("format"), expected=FORMAT_NAME)
    if data.get("version") != FORMAT_VERSION:
        raise ctx.fail(f"version {data.get('version')!r} is not supported",
                       field_name="version", value=data.get("version"),
                       expected=str(FORMAT_VERSION))
    unknown = set(data) - _TOP_KEYS
    if unknown:
        name = sorted(unknown)[0]
        raise ctx.fail(f"unknown field {name!r}", field_name=name, value=data[name],
                       expected=f"one of {sorted(_TOP_KEYS)}")
    for need in ("mode", "duration_us", "stimuli", "expected"):
        if need not in data:
            raise ctx.fail(f"missing field {need!r}", field_name=need, expected="present")
    mode = data["mode"]
    if not isinstance(mode, str):
        raise ctx.fail(f"mode {mode!r} is not a string", field_name="mode", value=mode,
                       expected="a mode name such as 'DDD'")
    duration = _int(ctx, data["duration_us"], entry=None, key=None, field_name="duration_us",
                    minimum=1000)
    params = data.get("parameters", {})
    if not isinstance(params, dict):
        raise ctx.fail("parameters must be an object", field_name="parameters", value=params,
                       expected='{"name": value}')
    _check_programming(ctx, mode, params)
    tol_raw = data.get("tolerance_us", {"A": DEFAULT_TOLERANCE_US, "V": DEFAULT_TOLERANCE_US})
    if not isinstance(tol_raw, dict) or set(tol_raw) != {"A", "V"}:
        raise ctx.fail(f"tolerance_us {tol_raw!r} must give A and V", field_name="tolerance_us",
                       value=tol_raw, expected='{"A": us, "V": us}')
    tol = {_CHAMBERS[c]: _int(ctx, v, entry=None, key=None, field_name=f"tolerance_us.{c}",
                              minimum=0) for c, v in tol_raw.items()}
    stimuli = tuple(Stimulus(t, c) for t, c, _ in _entries(ctx, data, "stimuli", duration))
    expected = tuple(ExpectedPace(t, c, ln) for t, c, ln in
                     _entries(ctx, data, "expected", duration))
    name = data.get("name", Path(file).stem)
    gen = data.get("generator", {})
    return VectorFile(name=str(name), mode=mode, duration_us=duration, stimuli=stimuli,
                      expected=expected, parameters=params, tolerance_us=tol,
                      description=str(data.get("description", "")),
                      generator=gen if isinstance(gen, dict) else {}, source=file)


def read_vectors(path: Path | str) -> VectorFile:
    """Read and validate a vector file."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as err:
        raise VectorFileError(f"cannot read: {err.strerror}", file=str(p), value=str(p),
                              expected="a readable file") from err
    return parse_vectors(text, str(p))


__all__ = ["DEFAULT_TOLERANCE_US", "FORMAT_NAME", "FORMAT_VERSION", "ExpectedPace", "Stimulus",
           "VectorFile", "VectorFileError", "parse_vectors", "read_vectors", "write_vectors"]
