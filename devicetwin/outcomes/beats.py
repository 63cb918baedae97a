"""Beats from the heart's ground truth: what activated each chamber, when, and whether it was paced.

A *beat* of a chamber is an activation of it: an intrinsic one (sinus, ectopic, retrograde,
escape, conducted) or a pace that captured. A pace that did not capture is a delivered pulse but
not a beat. Records of one chamber less than ``SAME_BEAT_MS`` apart are one beat (a pace that
captured while an intrinsic wave was already arriving: fusion); such a beat counts as paced, and
otherwise takes the origin of its first record.

Everything here reads the heart's records only, never the device's or the twin's labels, so a
device that reports nothing about itself is judged the same as one that reports all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from devicetwin.heart.events import Activation, Origin
from devicetwin.pacemaker.markers import Chamber

#: Integer codes of the beat origins in the arrays below (one place for the closed set).
ORIGIN_CODE: dict[Origin, int] = {origin: i for i, origin in enumerate(Origin)}

SAME_BEAT_MS = 100
"""Upper limit of a normal QRS duration (100-120 ms): records of a chamber closer than this are
parts of one depolarisation, and a spike this close to an intrinsic activation lands on it."""


@dataclass(frozen=True)
class ChamberBeats:
    """The beats of one chamber in time order, as parallel arrays.

    Attributes
    ----------
    t_us:
        Beat times (microseconds since the session start).
    origin:
        ``ORIGIN_CODE`` of each beat's origin (``PACED`` for a captured pace).
    """

    t_us: npt.NDArray[np.int64]
    origin: npt.NDArray[np.int8]

    def __len__(self) -> int:
        return len(self.t_us)

    def is_origin(self, origin: Origin) -> npt.NDArray[np.bool_]:
        """A mask of the beats of ``origin``."""
        return np.asarray(self.origin == ORIGIN_CODE[origin], dtype=np.bool_)

    @property
    def paced(self) -> npt.NDArray[np.bool_]:
        """A mask of the beats that a pace started."""
        return self.is_origin(Origin.PACED)


@dataclass(frozen=True)
class ChamberPaces:
    """Every pulse delivered to one chamber, captured or not, in time order, and the times of
    every intrinsic activation record of the chamber (for fusion and competition)."""

    t_us: npt.NDArray[np.int64]
    captured: npt.NDArray[np.bool_]
    intrinsic_us: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.t_us)


@dataclass(frozen=True)
class GroundTruth:
    """The heart's record of a run, split by chamber (see the module docstring)."""

    atrial: ChamberBeats
    ventricular: ChamberBeats
    atrial_paces: ChamberPaces
    ventricular_paces: ChamberPaces

    def beats(self, chamber: Chamber) -> ChamberBeats:
        """The beats of ``chamber`` (A or V)."""
        return self.atrial if chamber is Chamber.A else self.ventricular

    def paces(self, chamber: Chamber) -> ChamberPaces:
        """The pulses delivered to ``chamber`` (A or V)."""
        return self.atrial_paces if chamber is Chamber.A else self.ventricular_paces


def ground_truth(activations: Sequence[Activation]) -> GroundTruth:
    """Split the heart's activation and pace records into beats and paces per chamber.

    Records need not be sorted; a record at the same time as another keeps its input order.
    """
    ordered = sorted(activations, key=lambda a: a.t_us)
    parts = {}
    for chamber in (Chamber.A, Chamber.V):
        mine = [a for a in ordered if a.chamber is chamber]
        paces = [a for a in mine if a.origin is Origin.PACED]
        intrinsic = [a.t_us for a in mine if a.origin is not Origin.PACED]
        t_beat, o_beat = _merge([a for a in mine if a.origin is not Origin.PACED or a.captured])
        parts[chamber] = (
            ChamberBeats(np.array(t_beat, dtype=np.int64), np.array(o_beat, dtype=np.int8)),
            ChamberPaces(np.array([a.t_us for a in paces], dtype=np.int64),
                         np.array([bool(a.captured) for a in paces], dtype=np.bool_),
                         np.array(intrinsic, dtype=np.int64)),
        )
    return GroundTruth(parts[Chamber.A][0], parts[Chamber.V][0], parts[Chamber.A][1],
                       parts[Chamber.V][1])


def _merge(records: list[Activation]) -> tuple[list[int], list[int]]:
    """Beats from time-ordered records: those within ``SAME_BEAT_MS`` of a beat's first record
    join it; a beat with a captured pace among its records is paced."""
    times: list[int] = []
    origins: list[int] = []
    paced = ORIGIN_CODE[Origin.PACED]
    window = SAME_BEAT_MS * 1000
    for a in records:
        code = ORIGIN_CODE[a.origin]
        if times and a.t_us - times[-1] < window:
            if code == paced:
                origins[-1] = paced
            continue
        times.append(a.t_us)
        origins.append(code)
    return times, origins
