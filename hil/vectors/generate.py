"""Expected device outputs from the twin: the free-running reference model on the stimuli.

Each expected pace carries the model's flags (safety, upper rate, ...) and the rule it checks;
default names are unique: the mode, the pattern, the options that differ from their defaults
and a short digest of everything that shaped the file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from devicetwin import __version__
from devicetwin.pacemaker import Chamber, MarkerEvent, PacemakerModel, Programming
from devicetwin.pacemaker.programming import value_to_plain
from hil.session.mapping import programming_from
from hil.vectors.explain import pace_reason
from hil.vectors.format import (
    DEFAULT_TOLERANCE_US,
    ExpectedPace,
    Stimulus,
    VectorFile,
)
from hil.vectors.patterns import PATTERNS, make_stimuli


def expected_from_markers(markers: Sequence[MarkerEvent]) -> tuple[ExpectedPace, ...]:
    """The model's paces as expectations, each with its flags and rule."""
    out = []
    last = None
    for m in markers:
        if m.kind.is_pace and m.chamber in (Chamber.A, Chamber.V):
            _, rule = pace_reason(m.chamber, m.flags, last)
            out.append(ExpectedPace(m.t_us, m.chamber, flags=m.flags, rule=rule))
        if m.chamber in (Chamber.A, Chamber.V):
            last = m
    return tuple(out)


def expected_paces(mode: str, parameters: Mapping[str, Any], stimuli: tuple[Stimulus, ...],
                   duration_us: int) -> tuple[ExpectedPace, ...]:
    """The paces the reference model delivers when it sees ``stimuli`` (detections) only."""
    return _paces(programming_from(mode, parameters), stimuli, duration_us)


def _paces(programming: Programming, stimuli: Sequence[Stimulus],
           duration_us: int) -> tuple[ExpectedPace, ...]:
    model = PacemakerModel(programming)
    return expected_from_markers(model.run_detections([(s.t_us, s.chamber) for s in stimuli],
                                                      duration_us))


def default_name(mode: str, pattern: str, options: Mapping[str, float],
                 parameters: Mapping[str, Any], duration_us: int, extra: str = "") -> str:
    """``ddd_sinus_rate_bpm90-3fa2c1``: mode, pattern, the options off their defaults, and a
    digest of pattern, options, parameters and duration (two different files never share it)."""
    spec = PATTERNS.get(pattern)
    defaults = spec.defaults if spec is not None else {}
    changed = "".join(f"_{k}{v:g}" for k, v in options.items() if defaults.get(k) != v)
    digest = hashlib.sha1(json.dumps(
        [mode, pattern, sorted(options.items()),
         sorted((k, value_to_plain(v)) for k, v in parameters.items()), duration_us, extra],
        default=str).encode()).hexdigest()[:6]
    return f"{mode.lower()}_{pattern}{changed}-{digest}".replace(".", "p")


def vectors_from_stimuli(mode: str, parameters: Mapping[str, Any],
                         stimuli: Sequence[Stimulus], duration_us: int, *,
                         tolerance_us: Mapping[Chamber, int] | None = None,
                         name: str | None = None, pattern: str = "stimuli",
                         options: Mapping[str, float] | None = None,
                         description: str = "",
                         requirements: Sequence[str] = ()) -> VectorFile:
    """A vector file of ``stimuli`` with the twin's paces as the expectations."""
    programming = programming_from(mode, parameters)
    typed = {k: programming.value(k) for k in parameters}
    mode_name = programming.mode.name
    duration_us -= duration_us % 1000
    stim = tuple(sorted(stimuli, key=lambda s: (s.t_us, s.chamber.value)))
    if stim and stim[-1].t_us > duration_us:
        duration_us = stim[-1].t_us + 1000 - stim[-1].t_us % 1000
    expected = _paces(programming, stim, duration_us)
    opts = dict(options or {})
    tol = dict(tolerance_us) if tolerance_us is not None else {
        Chamber.A: DEFAULT_TOLERANCE_US, Chamber.V: DEFAULT_TOLERANCE_US}
    text = ", ".join(f"{k}={v:g}" for k, v in opts.items())
    return VectorFile(
        name=name or default_name(mode_name, pattern, opts, typed, duration_us,
                                  "" if opts else repr([(s.t_us, s.chamber.name) for s in stim])),
        mode=mode_name, duration_us=duration_us, stimuli=stim, expected=expected,
        parameters=typed, tolerance_us=tol,
        description=description or (f"{mode_name}, pattern {pattern}"
                                     + (f" ({text})" if text else "")
                                     + f": {len(stim)} stimuli, {len(expected)} expected paces "
                                     "from the twin"),
        generator={"tool": f"devicetwin {__version__}", "pattern": pattern, "options": opts},
        requirements=tuple(requirements))


def generate_vectors(
    mode: str,
    parameters: Mapping[str, Any],
    pattern: str,
    duration_us: int,
    *,
    tolerance_us: Mapping[Chamber, int] | None = None,
    name: str | None = None,
) -> VectorFile:
    """Test vectors for ``pattern`` (``NAME[:key=value,...]``, hil.vectors.patterns) under
    ``mode`` and ``parameters`` (model units; plain data such as ``"atrial"`` or typed values),
    expected outputs from the twin. The file keeps the mode's canonical name and the typed
    values, which ``VectorFile.to_json`` writes by name.

    Parameters
    ----------
    duration_us:
        Length of the vector set, microseconds (whole milliseconds).
    tolerance_us:
        Per-chamber tolerance windows (+-), microseconds; 8 ms each by default.

    Raises
    ------
    ProgrammingError
        For a programming the reference model rejects (unknown names with the closest ones).
    PatternError
        For an unknown pattern or a bad option.
    """
    programming = programming_from(mode, parameters)
    duration_us -= duration_us % 1000
    pname, options, stimuli = make_stimuli(pattern, duration_us, programming)
    return vectors_from_stimuli(mode, parameters, stimuli, duration_us,
                                tolerance_us=tolerance_us, name=name, pattern=pname,
                                options=options, requirements=PATTERNS[pname].requirements)


__all__ = ["default_name", "expected_from_markers", "expected_paces", "generate_vectors",
           "vectors_from_stimuli"]
