"""Expected device outputs from the twin: the free-running reference model on the stimuli."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devicetwin.pacemaker import Chamber, PacemakerModel, Programming
from hil.session.mapping import programming_from
from hil.vectors.format import DEFAULT_TOLERANCE_US, ExpectedPace, Stimulus, VectorFile
from hil.vectors.patterns import make_stimuli


def expected_paces(mode: str, parameters: Mapping[str, Any], stimuli: tuple[Stimulus, ...],
                   duration_us: int) -> tuple[ExpectedPace, ...]:
    """The paces the reference model delivers when it sees ``stimuli`` (detections) only."""
    return _paces(programming_from(mode, parameters), stimuli, duration_us)


def _paces(programming: Programming, stimuli: tuple[Stimulus, ...],
           duration_us: int) -> tuple[ExpectedPace, ...]:
    model = PacemakerModel(programming)
    markers = model.run_detections([(s.t_us, s.chamber) for s in stimuli], duration_us)
    return tuple(ExpectedPace(m.t_us, m.chamber) for m in markers
                 if m.kind.is_pace and m.chamber in (Chamber.A, Chamber.V))


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
    typed = {k: programming.value(k) for k in parameters}
    mode_name = programming.mode.name
    duration_us -= duration_us % 1000
    pname, options, stimuli = make_stimuli(pattern, duration_us)
    tol = dict(tolerance_us) if tolerance_us is not None else {
        Chamber.A: DEFAULT_TOLERANCE_US, Chamber.V: DEFAULT_TOLERANCE_US}
    stim = tuple(stimuli)
    expected = _paces(programming, stim, duration_us)
    from devicetwin import __version__

    opts = ", ".join(f"{k}={v:g}" for k, v in options.items())

    return VectorFile(
        name=name or f"{mode_name.lower()}_{pname}",
        mode=mode_name,
        duration_us=duration_us,
        stimuli=stim,
        expected=expected,
        parameters=typed,
        tolerance_us=tol,
        description=(f"{mode_name}, pattern {pname} ({opts}): {len(stim)} stimuli, "
                     f"{len(expected)} expected paces from the twin"),
        generator={"tool": f"devicetwin {__version__}", "pattern": pname,
                   "options": options},
    )


__all__ = ["expected_paces", "generate_vectors"]
