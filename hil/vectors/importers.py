"""Bring external vector suites in as version-2 files: the Penn pacemaker tester's ``.mat``
vectors and plain CSV.

The tester's vectors are arrays of rows ``(t_ms, code)``: 1 atrial input, 2 ventricular input,
3 expected atrial pace, 4 expected ventricular pace, 5 expected atrial pace and a ventricular
input at the same time, 6 expected ventricular pace and an atrial input. A separate initializer
array of inputs brings the device to a known state: the tester sends its rows only while
``t < 2000 ms``, then waits for the device's first atrial pace followed by a ventricular pace and
makes that ventricular pace t = 0 (``anchor = AP, VP``); inputs go at t0 + t; nothing after the
last row is judged (``judge_until_us`` = the last row). The programming lives outside the
vectors: a TOML file and/or ``--mode``/``--param``.

Decisions where the tester is silent: the input of a code 5 or 6 row goes 1 ms after the pace
(the tester's next tick; after the pace it accompanies, as on the tester's bench); expected codes
in the initializer are dropped (the prelude is not judged); times are whole microseconds
(``round(t_ms * 1000)``).

CSV: one ``t_ms,event`` row per line, the event ``A``/``V`` (inputs), ``AP``/``VP`` (expected
paces) or a tester code 1-6; a header line and ``#`` comments are allowed.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io

from devicetwin.errors import DeviceTwinError, did_you_mean
from devicetwin.pacemaker import Chamber, MarkerKind
from devicetwin.pacemaker.programming import values_from_plain
from hil.errors import ConfigError
from hil.scenarios.toml_reader import read_toml
from hil.vectors.format import (
    DEFAULT_ANCHOR_TIMEOUT_US,
    DEFAULT_TOLERANCE_US,
    Anchor,
    ExpectedPace,
    Stimulus,
    VectorFile,
    programming_of,
)

#: The tester's row codes.
ATRIAL_INPUT, VENTRICULAR_INPUT, ATRIAL_PACE, VENTRICULAR_PACE, AP_AND_V_INPUT, VP_AND_A_INPUT = (
    1, 2, 3, 4, 5, 6)
#: The tester sends initializer rows only before this time (ms).
PRELUDE_UNTIL_MS = 2000
#: Where the input of a code 5 or 6 row goes after its pace (us): the tester's next tick.
COMBINED_INPUT_DELAY_US = 1000
#: CSV event names -> tester codes.
CSV_EVENTS: dict[str, int] = {"A": ATRIAL_INPUT, "V": VENTRICULAR_INPUT, "AP": ATRIAL_PACE,
                              "VP": VENTRICULAR_PACE, "AP+V": AP_AND_V_INPUT,
                              "VP+A": VP_AND_A_INPUT}
_CODES = "1 (A input), 2 (V input), 3 (AP), 4 (VP), 5 (AP + V input), 6 (VP + A input)"


class VectorImportError(ConfigError):
    """A file that cannot be imported; ``source`` names the file (and the array or row)."""


@dataclass(frozen=True)
class ImportSettings:
    """What the tester's vectors do not say: the programming, tolerances, the prelude cut and
    the anchor.

    Attributes
    ----------
    mode, parameters, device_defined:
        The programming (model units; enums by name).
    tolerance_us:
        The +- window per chamber (us).
    prelude_until_ms:
        Initializer rows are sent only before this time (ms); the anchor search starts there.
    anchor:
        The pace sequence that makes t = 0 (None: the session start; no prelude then).
    requirements:
        Requirement IDs stored in every vector.
    """

    mode: str = "DDD"
    parameters: Mapping[str, Any] = field(default_factory=dict)
    device_defined: bool = False
    tolerance_us: Mapping[Chamber, int] = field(
        default_factory=lambda: {Chamber.A: DEFAULT_TOLERANCE_US, Chamber.V: DEFAULT_TOLERANCE_US})
    prelude_until_ms: int = PRELUDE_UNTIL_MS
    anchor: tuple[MarkerKind, ...] | None = (MarkerKind.AP, MarkerKind.VP)
    anchor_timeout_us: int = DEFAULT_ANCHOR_TIMEOUT_US
    requirements: tuple[str, ...] = ()


def read_programming(path: Path | str) -> tuple[str, dict[str, Any], bool]:
    """A programming file (TOML): ``mode``, parameter values (top level or under
    ``[programming]``) and ``device_defined``; returns (mode, parameters, device_defined)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise VectorImportError(f"cannot read the programming file {str(p)!r}: {err}",
                                name="programming", value=str(p),
                                expected="a readable UTF-8 TOML file",
                                source="--programming") from err
    doc = read_toml(text, str(p))
    table = doc.get("programming", doc)
    if not isinstance(table, dict):
        raise VectorImportError(f"{p!s}: [programming] is not a table", name="programming",
                                value=table, expected="a table of mode and parameters",
                                source=str(p))
    values = {k: v for k, v in table.items() if k not in ("mode", "device_defined")}
    mode = table.get("mode", "DDD")
    defined = table.get("device_defined", False)
    if not isinstance(mode, str) or not isinstance(defined, bool):
        raise VectorImportError(f"{p!s}: mode must be a string and device_defined true or false",
                                name="mode", value=mode, expected='mode = "DDD"', source=str(p))
    try:
        programming_of(mode, values_from_plain(values), device_defined=defined)
    except DeviceTwinError as err:
        raise VectorImportError(f"{p!s}: the programming is not valid: {err}", name=err.name,
                                value=err.value, expected=err.expected, source=str(p)) from None
    return mode, values, defined


def _time_us(t_ms: float, where: str, source: str) -> int:
    if not math.isfinite(t_ms) or t_ms < 0:
        raise VectorImportError(f"{where}: time {t_ms:g} ms is not a time", name="t_ms",
                                value=t_ms,
                                expected="a finite time >= 0 ms", source=source)
    return round(t_ms * 1000)


def rows_of(array: Any, where: str, source: str) -> list[tuple[int, int]]:
    """``(t_us, code)`` rows of a tester array (n x 2, numbers), checked: codes 1-6, time
    order."""
    a = np.asarray(array)
    if a.dtype.kind not in "iuf" or a.ndim != 2 or (a.size and a.shape[1] != 2):
        raise VectorImportError(f"{where}: an array of shape {a.shape} ({a.dtype}) is not a list "
                                "of (t_ms, code) rows", name="array", value=str(a.shape),
                                expected="n x 2 numbers", source=source)
    out: list[tuple[int, int]] = []
    for i, (t_ms, code) in enumerate(a.tolist() if a.size else []):
        at = f"{where} row {i + 1}"
        if code not in range(1, 7) or float(code) != int(code):
            raise VectorImportError(f"{at}: code {code!r} is not a tester code; expected {_CODES}",
                                    name="code", value=code, expected=_CODES, source=source)
        t = _time_us(float(t_ms), at, source)
        if out and t < out[-1][0]:
            raise VectorImportError(f"{at}: t = {t_ms} ms is before the previous row's "
                                    f"{out[-1][0] / 1000:g} ms", name="t_ms", value=t_ms,
                                    expected="time order", source=source)
        out.append((t, int(code)))
    return out


def _inputs(rows: Sequence[tuple[int, int]]) -> list[Stimulus]:
    out = []
    for t, code in rows:
        if code == ATRIAL_INPUT:
            out.append(Stimulus(t, Chamber.A))
        elif code == VENTRICULAR_INPUT:
            out.append(Stimulus(t, Chamber.V))
        elif code == AP_AND_V_INPUT:
            out.append(Stimulus(t + COMBINED_INPUT_DELAY_US, Chamber.V))
        elif code == VP_AND_A_INPUT:
            out.append(Stimulus(t + COMBINED_INPUT_DELAY_US, Chamber.A))
    return sorted(out, key=lambda s: (s.t_us, s.chamber.value))


def _expected(rows: Sequence[tuple[int, int]]) -> list[ExpectedPace]:
    pace = {ATRIAL_PACE: Chamber.A, VENTRICULAR_PACE: Chamber.V, AP_AND_V_INPUT: Chamber.A,
            VP_AND_A_INPUT: Chamber.V}
    return [ExpectedPace(t, pace[code], note=f"tester code {code}") for t, code in rows
            if code in pace]


def vector_of(name: str, rows: Sequence[tuple[int, int]],
              initializer: Sequence[tuple[int, int]], settings: ImportSettings,
              source: str) -> VectorFile:
    """One v2 vector from tester rows (module docstring)."""
    if not rows:
        raise VectorImportError(f"{name}: the test has no rows", name="rows", value=0,
                                expected="at least one (t_ms, code) row", source=source)
    cut = settings.prelude_until_ms * 1000
    prelude = [s for s in _inputs(initializer) if s.t_us < cut]
    anchor = None
    if settings.anchor is not None:
        anchor = Anchor(settings.anchor, cut if prelude or initializer else 0,
                        settings.anchor_timeout_us)
    elif prelude:
        raise VectorImportError(f"{name}: an initializer needs an anchor (t = 0 after it)",
                                name="anchor", value=None, expected="--anchor AP,VP", source=source)
    stimuli = _inputs(rows)
    expected = _expected(rows)
    until = rows[-1][0]
    widest = max(settings.tolerance_us.values())
    end = max([until + widest] + [s.t_us for s in stimuli])
    duration = end + 1000 - end % 1000
    mode_params = programming_of(settings.mode, values_from_plain(dict(settings.parameters)),
                                 device_defined=settings.device_defined)
    return VectorFile(
        name=name, mode=mode_params.mode.name, duration_us=duration, stimuli=tuple(stimuli),
        expected=tuple(expected), parameters=values_from_plain(dict(settings.parameters)),
        tolerance_us=dict(settings.tolerance_us),
        description=(f"imported from {Path(source).name} ({name}): {len(stimuli)} inputs, "
                     f"{len(expected)} expected paces, judged until the last row at "
                     f"{until / 1000:g} ms" + (f"; prelude of {len(prelude)} initializer inputs "
                                               f"before {settings.prelude_until_ms} ms"
                                               if prelude else "")),
        generator={"tool": "devicetwin vectors import", "pattern": "tester",
                   "options": {"prelude_until_ms": settings.prelude_until_ms}},
        prelude=tuple(prelude), anchor=anchor, judge_until_us=until,
        requirements=settings.requirements, device_defined=settings.device_defined)


def load_mat(path: Path | str) -> dict[str, Any]:
    """The arrays of a MATLAB file (``scipy.io.loadmat``), by variable name."""
    p = Path(path)
    try:
        data = scipy.io.loadmat(str(p))
    except FileNotFoundError as err:
        raise VectorImportError(f"cannot read {str(p)!r}: no such file", name="file", value=str(p),
                                expected="a MATLAB .mat file", source=str(p)) from err
    except (OSError, ValueError, TypeError, NotImplementedError) as err:
        raise VectorImportError(f"cannot read {str(p)!r} as a MATLAB file: {err}", name="file",
                                value=str(p), expected="a MATLAB .mat file (v4 to v7.2)",
                                source=str(p)) from err
    return {k: v for k, v in data.items() if not k.startswith("__")}


def _array_ref(ref: str, default_file: Path) -> tuple[Path, str | None]:
    """``FILE[:VAR]`` or ``VAR`` -> (file, variable)."""
    head, colon, var = ref.rpartition(":")
    if colon and head and Path(head).suffix.lower() == ".mat":
        return Path(head), var or None
    if Path(ref).suffix.lower() == ".mat":
        return Path(ref), None
    return default_file, ref


def _pick(arrays: Mapping[str, Any], var: str | None, what: str, source: str) -> Any:
    if var is None:
        if len(arrays) != 1:
            raise VectorImportError(f"{source}: holds {len(arrays)} arrays; name the {what} as "
                                    "FILE:VAR", name=what, value=sorted(arrays),
                                    expected="FILE.mat:VARIABLE", source=source)
        return next(iter(arrays.values()))
    if var not in arrays:
        raise VectorImportError(f"{source}: no array {var!r}{did_you_mean(var, list(arrays))}; it "
                                f"holds {', '.join(sorted(arrays))}", name=what, value=var,
                                expected=f"one of {sorted(arrays)}", source=source)
    return arrays[var]


def import_tester(path: Path | str, settings: ImportSettings, *,
                  initializer: str | None = None, tests: Sequence[str] = ()) -> list[VectorFile]:
    """The tests of a tester ``.mat`` file as v2 vectors.

    Parameters
    ----------
    initializer:
        The initializer array: a variable of the same file, or ``OTHER.mat[:VAR]``; None for
        none (then there is no prelude and the anchor search starts at 0).
    tests:
        The variables that are tests (default: every n x 2 numeric array but the initializer).
    """
    p = Path(path)
    arrays = load_mat(p)
    init_rows: list[tuple[int, int]] = []
    init_var = None
    if initializer is not None:
        file, var = _array_ref(initializer, p)
        source = arrays if file == p else load_mat(file)
        if file == p:
            init_var = var
        init_rows = rows_of(_pick(source, var, "initializer", str(file)),
                            f"initializer {var or file.name}", str(file))
    names = list(tests) or sorted(
        k for k, v in arrays.items() if k != init_var and isinstance(v, np.ndarray)
        and v.ndim == 2 and v.shape[1:] == (2,) and v.dtype.kind in "iuf")
    if not names:
        raise VectorImportError(f"{p}: no test arrays (n x 2 numbers) found", name="tests",
                                value=sorted(arrays), expected="arrays of (t_ms, code) rows",
                                source=str(p))
    out = []
    for name in names:
        rows = rows_of(_pick(arrays, name, "test", str(p)), name, str(p))
        out.append(vector_of(f"{p.stem}_{name}", rows, init_rows, settings, str(p)))
    return out


def read_csv_rows(path: Path | str) -> list[tuple[int, int]]:
    """``(t_us, code)`` rows of a CSV file (module docstring)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise VectorImportError(f"cannot read {str(p)!r}: {err}", name="file", value=str(p),
                                expected="a UTF-8 CSV file", source=str(p)) from err
    rows: list[tuple[float, int]] = []
    for n, rec in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in rec]
        if not cells or not any(cells) or cells[0].startswith("#"):
            continue
        at = f"{p.name} line {n}"
        if len(cells) < 2:
            raise VectorImportError(f"{at}: {rec!r} is not t_ms,event", name="row", value=rec,
                                    expected="t_ms,event", source=str(p))
        try:
            t_ms = float(cells[0])
        except ValueError:
            if not rows:
                continue  # a header line
            raise VectorImportError(f"{at}: time {cells[0]!r} is not a number", name="t_ms",
                                    value=cells[0], expected="milliseconds",
                                    source=str(p)) from None
        ev = cells[1].upper()
        code = CSV_EVENTS.get(ev)
        if code is None and ev.isdigit() and int(ev) in range(1, 7):
            code = int(ev)
        if code is None:
            allowed = ", ".join(CSV_EVENTS) + " or a tester code 1-6"
            raise VectorImportError(f"{at}: event {cells[1]!r} is not known"
                                    f"{did_you_mean(ev, list(CSV_EVENTS))}; expected {allowed}",
                                    name="event", value=cells[1], expected=allowed, source=str(p))
        rows.append((t_ms, code))
    return rows_of(np.asarray(rows, dtype=float).reshape(-1, 2), p.name, str(p))


def import_csv(path: Path | str, settings: ImportSettings, *,
               initializer: Path | str | None = None) -> VectorFile:
    """A CSV file of ``t_ms,event`` rows as one v2 vector (an initializer CSV is its
    prelude)."""
    p = Path(path)
    init = read_csv_rows(initializer) if initializer is not None else []
    return vector_of(p.stem, read_csv_rows(p), init, settings, str(p))


__all__ = [
    "AP_AND_V_INPUT",
    "ATRIAL_INPUT",
    "ATRIAL_PACE",
    "COMBINED_INPUT_DELAY_US",
    "CSV_EVENTS",
    "PRELUDE_UNTIL_MS",
    "VENTRICULAR_INPUT",
    "VENTRICULAR_PACE",
    "VP_AND_A_INPUT",
    "ImportSettings",
    "VectorImportError",
    "import_csv",
    "import_tester",
    "load_mat",
    "read_csv_rows",
    "read_programming",
    "rows_of",
    "vector_of",
]
