"""Measurements and verdicts in the OpenHTF style (STYLE.md item 5).

A monitor *acquires* a :class:`Measurement`: a value with its unit, the limits it is held to and
the requirement it evidences. It never decides pass or fail; :func:`judge` does, by asking the
measurement's :class:`Limits`, and writes the human sentence of the :class:`Verdict`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from devicetwin.conformance.errors import ConformanceError

#: Evidence times kept per verdict in dictionaries (the full tuple stays on the record).
MAX_EVIDENCE_IN_DICT = 200


@dataclass(frozen=True, slots=True)
class Limits:
    """Inclusive bounds on a measured value; ``None`` is unbounded on that side."""

    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ConformanceError(
                f"limits low = {self.low} > high = {self.high}",
                name="limits", value=(self.low, self.high), expected="low <= high",
            )

    def contains(self, value: float) -> bool:
        """True when ``value`` lies within the bounds (inclusive)."""
        if math.isnan(value):
            return False
        if self.low is not None and value < self.low:
            return False
        return not (self.high is not None and value > self.high)

    def describe(self, unit: str) -> str:
        """The bounds as text, e.g. ``"<= 1008 ms"`` or ``"142..158 ms"``."""
        u = f" {unit}" if unit else ""
        if self.low is None and self.high is None:
            return "no limit (informational)"
        if self.low is None:
            return f"<= {_num(self.high)}{u}"
        if self.high is None:
            return f">= {_num(self.low)}{u}"
        if self.low == self.high:
            return f"== {_num(self.low)}{u}"
        return f"{_num(self.low)}..{_num(self.high)}{u}"


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.3g}"


@dataclass(frozen=True, slots=True)
class Measurement:
    """A value a monitor acquired, declared with its unit, limits and requirement.

    Parameters
    ----------
    name:
        Dotted name, ``monitor.quantity`` (e.g. ``"upper_rate.min_vv_interval_ms"``).
    requirement_id:
        The requirement it evidences (an assumption ID such as ``"A-3"``, or a hazard ID).
    value:
        The measured value, ``None`` when there was nothing to measure.
    unit:
        Unit of ``value`` and of the limits (``"ms"``, ``"events"``, ``"cycles"``).
    limits:
        The bounds the value is held to.
    description:
        What was measured, as a noun phrase (``"shortest V-V interval before a V pace"``).
    evidence_t_us:
        Times of the events that make the value what it is (the violations, when any).
    """

    name: str
    requirement_id: str
    value: float | None
    unit: str
    limits: Limits
    description: str
    evidence_t_us: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    """A judged measurement: the record the reports, JUnit and the manifest carry."""

    name: str
    requirement_id: str
    value: float | None
    unit: str
    limits: Limits
    passed: bool
    sentence: str
    evidence_t_us: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (evidence capped at ``MAX_EVIDENCE_IN_DICT`` times)."""
        return {
            "name": self.name,
            "requirement_id": self.requirement_id,
            "value": self.value,
            "unit": self.unit,
            "limits": {"low": self.limits.low, "high": self.limits.high},
            "passed": self.passed,
            "sentence": self.sentence,
            "evidence_t_us": list(self.evidence_t_us[:MAX_EVIDENCE_IN_DICT]),
            "evidence_count": len(self.evidence_t_us),
        }


def judge(measurement: Measurement) -> Verdict:
    """Hold ``measurement`` to its limits and say the result in a sentence.

    A measurement with no value (nothing of its kind occurred) passes as not applicable.
    """
    m = measurement
    unit = f" {m.unit}" if m.unit else ""
    bounds = m.limits.describe(m.unit)
    if m.value is None:
        passed = True
        sentence = (
            f"{m.description}: not observed in this run, nothing to judge ({m.requirement_id})."
        )
    else:
        passed = m.limits.contains(float(m.value))
        word = "within" if passed else "OUTSIDE"
        sentence = (
            f"{m.description} was {_num(m.value)}{unit}, {word} the limit {bounds} "
            f"({m.requirement_id})"
        )
        if not passed and m.evidence_t_us:
            first = m.evidence_t_us[0] / 1000
            sentence += f"; first at {first:.0f} ms, {len(m.evidence_t_us)} occurrence(s)"
        sentence += "."
    return Verdict(m.name, m.requirement_id, m.value, m.unit, m.limits, passed, sentence,
                   m.evidence_t_us)
