"""Marker events: what a pacemaker says it did, as on a programmer's marker channel.

The vocabulary is fixed by ``docs/assumptions.md`` A-17. The reference model emits these, the
bench decodes the device's events into these, and conformance compares the two streams.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Chamber(enum.Enum):
    """The marker channel an event belongs to: atrium, ventricle, or device-level (``X``)."""

    A = "A"
    V = "V"
    X = "X"


class MarkerKind(enum.Enum):
    """Marker kinds of the specification (A-17).

    ``AR``/``VR`` are refractory senses, shown in brackets on a programmer (``(AS)``, ``(VS)``).
    ``AT`` is an atrial sense faster than the ATR detection rate. ``TN`` is a detection on a noisy
    channel. ``ATR_*`` and ``PVARP_EXT`` sit on the device channel ``X``.
    """

    AS = "AS"
    AP = "AP"
    AR = "AR"
    AT = "AT"
    VS = "VS"
    VP = "VP"
    VR = "VR"
    PVC = "PVC"
    TN = "TN"
    ATR_DUR = "ATR_DUR"
    ATR_FB = "ATR_FB"
    ATR_END = "ATR_END"
    PVARP_EXT = "PVARP_EXT"

    @property
    def is_pace(self) -> bool:
        """True for AP and VP."""
        return self in (MarkerKind.AP, MarkerKind.VP)

    @property
    def is_sense(self) -> bool:
        """True for every kind reported for a detection on a sensing channel."""
        return self in _SENSE_KINDS


_SENSE_KINDS = frozenset(
    {MarkerKind.AS, MarkerKind.AR, MarkerKind.AT, MarkerKind.VS, MarkerKind.VR, MarkerKind.PVC,
     MarkerKind.TN}
)


class PaceFlag(enum.IntFlag):
    """Why a pace came when it did (A-17). Several may be set on one pace."""

    NONE = 0
    TRIGGERED = 1
    SAFETY = 2
    HYSTERESIS = 4
    SMOOTHING = 8
    SENSOR = 16
    UPPER_RATE = 32
    NOISE = 64
    MAGNET = 128


@dataclass(frozen=True, slots=True)
class MarkerEvent:
    """One marker: its time in microseconds since session start, channel, kind and pace details.

    ``amplitude_mv`` and ``width_us`` are set for paces (AP, VP) and ``None`` otherwise.
    """

    t_us: int
    chamber: Chamber
    kind: MarkerKind
    amplitude_mv: int | None = None
    width_us: int | None = None
    flags: PaceFlag = PaceFlag.NONE

    def __str__(self) -> str:
        tag = self.kind.value
        if self.kind in (MarkerKind.AR, MarkerKind.VR):
            tag = f"({self.kind.value[0]}S)"
        extra = ""
        if self.flags:
            extra = "[" + "|".join(f.name or "" for f in PaceFlag if f and f in self.flags) + "]"
        return f"{self.t_us / 1000:10.0f} ms {self.chamber.value} {tag}{extra}"
