"""Measurements and verdicts in the OpenHTF style (STYLE.md item 5).

A monitor *acquires* a :class:`Measurement`: a value with its unit, the limits it is held to and
the requirement it evidences. It never decides pass or fail; :func:`judge` does, by asking the
measurement's :class:`Limits`, and writes the human sentence of the :class:`Verdict`. A
measurement with nothing to judge (no value) is *not applicable*: neither a pass nor a failure.

A value is a number held to numeric bounds, or a word held to the words allowed (OpenHTF's
``equals``/``one_of`` validators): a device's answer ``"NACK"``, a hazard ``"detected"``. The
bench's criteria (``hil.results``) are these verdicts.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass
from typing import Any

from devicetwin.conformance.errors import ConformanceError
from devicetwin.conformance.statistics import SignedStats

#: Evidence times kept per verdict in dictionaries (the full tuple stays on the record).
MAX_EVIDENCE_IN_DICT = 200


#: A measured value: a number, or a word for a categorical measurement (``"NACK"``).
Value = float | str


@dataclass(frozen=True, slots=True)
class Limits:
    """Inclusive bounds on a measured number (``None`` is unbounded on that side), or the words
    a categorical value may take (``allowed``; then there are no bounds)."""

    low: float | None = None
    high: float | None = None
    allowed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ConformanceError(
                f"limits low = {self.low} > high = {self.high}",
                name="limits", value=(self.low, self.high), expected="low <= high",
            )
        if self.allowed and (self.low is not None or self.high is not None):
            raise ConformanceError(
                f"limits allow words {self.allowed} and bound numbers ({self.low}, {self.high})",
                name="limits", value=(self.low, self.high, self.allowed),
                expected="either numeric bounds or allowed words, not both",
            )

    @classmethod
    def one_of(cls, *words: str) -> Limits:
        """A categorical limit: the value must be one of ``words``."""
        if not words:
            raise ConformanceError("a categorical limit allows no word", name="allowed",
                                   value=(), expected="at least one allowed word")
        return cls(allowed=tuple(words))

    def contains(self, value: Value) -> bool:
        """True when ``value`` lies within the bounds (inclusive) or is an allowed word. A word
        against numeric bounds, or a number against allowed words, never does."""
        if self.allowed:
            return isinstance(value, str) and value in self.allowed
        if isinstance(value, str):
            return False
        if math.isnan(value):
            return False
        if self.low is not None and value < self.low:
            return False
        return not (self.high is not None and value > self.high)

    def describe(self, unit: str) -> str:
        """The bounds as text, e.g. ``"<= 1008 ms"`` or ``"142..158 ms"``."""
        u = f" {unit}" if unit else ""
        if self.allowed:
            return " or ".join(self.allowed)
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
    """A value as text: whole numbers bare, others to the thousandth (1002.5, not 1e+03)."""
    if x is None:
        return "-"
    if float(x).is_integer():
        return str(int(x))
    if abs(x) >= 0.01:
        return f"{x:.3f}".rstrip("0").rstrip(".")
    return f"{x:.3g}"


class VerdictStatus(enum.Enum):
    """What judging a measurement concluded: a closed set of three."""

    PASS = "pass"
    FAIL = "fail"
    #: nothing of its kind occurred, so there was nothing to judge (not a pass, not a failure)
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True, slots=True)
class Measurement:
    """A value a monitor acquired, declared with its unit, limits and requirement.

    Parameters
    ----------
    name:
        Dotted name, ``monitor.quantity`` (e.g. ``"upper_rate.min_vv_interval_ms"``).
    requirement_id:
        The requirement it evidences (an assumption ID such as ``"A-3"``, or a hazard ID);
        several are joined by commas (``"A-2,A-5"``).
    value:
        The measured value (a number, or a word for a categorical limit), ``None`` when there
        was nothing to measure.
    unit:
        Unit of ``value`` and of the limits (``"ms"``, ``"events"``, ``"cycles"``).
    limits:
        The bounds the value is held to.
    description:
        What was measured, as a noun phrase (``"shortest V-V interval before a V pace"``).
    evidence_t_us:
        Times of the events that make the value what it is (the violations, when any).
    signed_error:
        For interval measurements: the distribution of every measured interval minus its
        expected (programmed) value, in microseconds, so a systematic bias shows even within
        the limits. ``None`` where there is no expected value to be early or late against.
    signed_errors:
        Further labelled distributions of signed errors in microseconds, e.g. per marker kind
        (device minus twin) behind a conformance timing measurement.
    """

    name: str
    requirement_id: str
    value: Value | None
    unit: str
    limits: Limits
    description: str
    evidence_t_us: tuple[int, ...] = ()
    signed_error: SignedStats | None = None
    signed_errors: tuple[tuple[str, SignedStats], ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    """A judged measurement: the record the reports, JUnit and the manifest carry.

    ``status`` is the conclusion; ``passed`` and ``failed`` ask for one of its values, so a
    not-applicable verdict is neither (it does not fail a run and is not counted as a pass).
    """

    name: str
    requirement_id: str
    value: Value | None
    unit: str
    limits: Limits
    status: VerdictStatus
    sentence: str
    evidence_t_us: tuple[int, ...] = ()
    signed_error: SignedStats | None = None
    signed_errors: tuple[tuple[str, SignedStats], ...] = ()

    @property
    def passed(self) -> bool:
        """True when the value was judged and lies within the limits."""
        return self.status is VerdictStatus.PASS

    @property
    def failed(self) -> bool:
        """True when the value was judged and lies outside the limits."""
        return self.status is VerdictStatus.FAIL

    @property
    def applicable(self) -> bool:
        """False when there was nothing to judge."""
        return self.status is not VerdictStatus.NOT_APPLICABLE

    @property
    def required(self) -> str:
        """The limits as text, with the unit (``"<= 8 ms"``, ``"NACK"``)."""
        return self.limits.describe(self.unit)

    @property
    def requirement_ids(self) -> tuple[str, ...]:
        """The requirement IDs, ``requirement_id`` split at its commas."""
        return tuple(r.strip() for r in self.requirement_id.split(",") if r.strip())

    @property
    def statistics(self) -> tuple[tuple[str, SignedStats], ...]:
        """Every signed-error distribution as (label, stats), microseconds: ``signed_error``
        with an empty label, then ``signed_errors``."""
        own = (("", self.signed_error),) if self.signed_error is not None else ()
        return own + self.signed_errors

    def renamed(self, name: str) -> Verdict:
        """The same verdict under another name (a report's prefix, ``monitor.<name>``)."""
        return dataclasses.replace(self, name=name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (evidence capped at ``MAX_EVIDENCE_IN_DICT`` times)."""
        return {
            "name": self.name,
            "requirement_id": self.requirement_id,
            "value": self.value,
            "unit": self.unit,
            "limits": {"low": self.limits.low, "high": self.limits.high,
                       **({"allowed": list(self.limits.allowed)} if self.limits.allowed else {})},
            "status": self.status.value,
            "passed": self.passed,
            "sentence": self.sentence,
            "evidence_t_us": list(self.evidence_t_us[:MAX_EVIDENCE_IN_DICT]),
            "evidence_count": len(self.evidence_t_us),
            "signed_error_us": (None if self.signed_error is None
                                else self.signed_error.to_dict()),
            **({"signed_errors_us": {label: st.to_dict() for label, st in self.signed_errors}}
               if self.signed_errors else {}),
        }


def not_applicable(measurement: Measurement, why: str) -> Verdict:
    """A measurement that cannot be judged in this run at all (``why``), whatever its value."""
    m = measurement
    return Verdict(m.name, m.requirement_id, None, m.unit, m.limits,
                   VerdictStatus.NOT_APPLICABLE,
                   f"{m.description}: not applicable, {why} ({m.requirement_id}).", ())


def _text(value: Value) -> str:
    return value if isinstance(value, str) else _num(value)


def judge(measurement: Measurement) -> Verdict:
    """Hold ``measurement`` to its limits and say the result in a sentence.

    A measurement with no value (nothing of its kind occurred) is not applicable.
    """
    m = measurement
    unit = f" {m.unit}" if m.unit else ""
    bounds = m.limits.describe(m.unit)
    if m.value is None:
        status = VerdictStatus.NOT_APPLICABLE
        sentence = (
            f"{m.description}: not applicable, not observed in this run, nothing to judge "
            f"({m.requirement_id})."
        )
    else:
        passed = m.limits.contains(m.value if isinstance(m.value, str) else float(m.value))
        status = VerdictStatus.PASS if passed else VerdictStatus.FAIL
        word = "within" if passed else "OUTSIDE"
        sentence = (
            f"{m.description} was {_text(m.value)}{unit}, {word} the limit {bounds} "
            f"({m.requirement_id})"
        )
        if not passed and m.evidence_t_us:
            first = m.evidence_t_us[0] / 1000
            sentence += f"; first at {first:.0f} ms, {len(m.evidence_t_us)} occurrence(s)"
        sentence += "."
    return Verdict(m.name, m.requirement_id, m.value, m.unit, m.limits, status, sentence,
                   m.evidence_t_us, m.signed_error, m.signed_errors)
