"""Columnar views of marker streams and the heart's ground-truth activations.

Matching and every monitor work on sorted NumPy arrays, built once per stream, so that a 24 h
stream (about 300k events) costs a few vectorised passes instead of Python loops.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from devicetwin.conformance.errors import ConformanceError
from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind, PaceFlag

I64 = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Integer code of each marker kind and chamber in the arrays (enum declaration order).
KIND_CODE: dict[MarkerKind, int] = {k: i for i, k in enumerate(MarkerKind)}
KINDS: tuple[MarkerKind, ...] = tuple(MarkerKind)
CHAMBER_CODE: dict[Chamber, int] = {c: i for i, c in enumerate(Chamber)}
CHAMBERS: tuple[Chamber, ...] = tuple(Chamber)

K = KIND_CODE
# Enum members are singletons: looking them up by id() avoids Enum.__hash__ (a Python-level call)
# in the per-event conversion loops, which dominates them otherwise.
_KIND_BY_ID: dict[int, int] = {id(k): i for k, i in KIND_CODE.items()}
_CHAMBER_BY_ID: dict[int, int] = {id(c): i for c, i in CHAMBER_CODE.items()}
A_CODE = CHAMBER_CODE[Chamber.A]
V_CODE = CHAMBER_CODE[Chamber.V]
X_CODE = CHAMBER_CODE[Chamber.X]


class ActivationOrigin(enum.Enum):
    """What started a ground-truth activation of a chamber in the heart."""

    INTRINSIC = "intrinsic"
    CONDUCTED = "conducted"
    RETROGRADE = "retrograde"
    ECTOPIC = "ectopic"
    PACED = "paced"


@dataclass(frozen=True, slots=True)
class Activation:
    """One ground-truth event of the heart, as the bench reports it to the monitors.

    Parameters
    ----------
    t_us:
        Time of the activation, or of the pace that tried to cause it, in microseconds.
    chamber:
        ``Chamber.A`` or ``Chamber.V``.
    origin:
        What started it; ``PACED`` for every pace the heart received.
    captured:
        For a pace: whether it captured the myocardium. Always True for other origins.
    """

    t_us: int
    chamber: Chamber
    origin: ActivationOrigin
    captured: bool = True


@dataclass(frozen=True, slots=True, eq=False)
class EventArrays:
    """A marker stream as parallel arrays sorted by time (stable: equal times keep input order).

    ``order[i]`` is the index in the original sequence of the i-th sorted event; amplitude and
    width are -1 where the event carries none.
    """

    events: Sequence[MarkerEvent]
    order: I64
    t_us: I64
    chamber: npt.NDArray[np.int8]
    kind: npt.NDArray[np.int8]
    flags: I64
    amplitude_mv: I64
    width_us: I64

    @classmethod
    def of(cls, events: Sequence[MarkerEvent] | EventArrays) -> EventArrays:
        """``events`` as arrays: converted once, or returned as is when already converted."""
        if isinstance(events, EventArrays):
            return events
        return cls.from_events(events)

    @classmethod
    def from_events(cls, events: Sequence[MarkerEvent]) -> EventArrays:
        """Build the sorted columns of ``events`` (validated: integer times, no negatives)."""
        n = len(events)
        t = np.fromiter((e.t_us for e in events), dtype=np.int64, count=n)
        if n and int(t.min()) < 0:
            bad = int(t.min())
            raise ConformanceError(
                f"an event time t_us = {bad} is negative", name="t_us", value=bad,
                expected="microseconds since session start, >= 0",
            )
        kind = np.fromiter((_KIND_BY_ID[id(e.kind)] for e in events), dtype=np.int8, count=n)
        chamber = np.fromiter((_CHAMBER_BY_ID[id(e.chamber)] for e in events), dtype=np.int8,
                              count=n)
        flags = np.fromiter((int(e.flags) for e in events), dtype=np.int64, count=n)
        amp = np.fromiter(
            (-1 if e.amplitude_mv is None else e.amplitude_mv for e in events),
            dtype=np.int64, count=n,
        )
        width = np.fromiter(
            (-1 if e.width_us is None else e.width_us for e in events), dtype=np.int64, count=n
        )
        if n > 1 and bool(np.any(t[1:] < t[:-1])):
            order = np.argsort(t, kind="stable").astype(np.int64)
            t, kind, chamber = t[order], kind[order], chamber[order]
            flags, amp, width = flags[order], amp[order], width[order]
        else:
            order = np.arange(n, dtype=np.int64)
        return cls(events, order, t, chamber, kind, flags, amp, width)

    def __len__(self) -> int:
        return int(self.t_us.shape[0])

    def event(self, i: int) -> MarkerEvent:
        """The original event at sorted position ``i``."""
        return self.events[int(self.order[i])]

    def is_kind(self, *kinds: MarkerKind) -> BoolArray:
        """Mask of events whose kind is one of ``kinds``."""
        codes = np.array([KIND_CODE[k] for k in kinds], dtype=np.int8)
        return np.isin(self.kind, codes)

    def times(self, *kinds: MarkerKind) -> I64:
        """Sorted times of the events of ``kinds``."""
        return self.t_us[self.is_kind(*kinds)]

    def has_flag(self, flag: PaceFlag) -> BoolArray:
        """Mask of events carrying ``flag``."""
        mask: BoolArray = (self.flags & int(flag)) != 0
        return mask


@dataclass(frozen=True, slots=True, eq=False)
class ActivationArrays:
    """Ground-truth activations as sorted arrays."""

    t_us: I64
    chamber: npt.NDArray[np.int8]
    paced: BoolArray
    captured: BoolArray

    @classmethod
    def from_activations(cls, activations: Sequence[Activation]) -> ActivationArrays:
        """Build the sorted columns of ``activations``."""
        n = len(activations)
        t = np.fromiter((a.t_us for a in activations), dtype=np.int64, count=n)
        ch = np.fromiter((_CHAMBER_BY_ID[id(a.chamber)] for a in activations), dtype=np.int8,
                         count=n)
        paced = np.fromiter(
            (a.origin is ActivationOrigin.PACED for a in activations), dtype=np.bool_, count=n
        )
        cap = np.fromiter((a.captured for a in activations), dtype=np.bool_, count=n)
        order = np.argsort(t, kind="stable")
        return cls(t[order], ch[order], paced[order], cap[order])

    def of(self, chamber: Chamber, *, paced: bool | None = None) -> I64:
        """Sorted times of the activations of ``chamber`` (only paced / non-paced if given)."""
        mask = self.chamber == CHAMBER_CODE[chamber]
        if paced is not None:
            mask &= self.paced == paced
        out: I64 = self.t_us[mask]
        return out
