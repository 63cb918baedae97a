"""Pacemaker-mediated tachycardia (PMT) read from the heart: paced beats that track retrograde
atrial activations, grouped into episodes.

Definition used here (the endless-loop mechanism: a ventricular beat conducts back to the atria,
the device senses that retrograde P wave and tracks it with a ventricular pace, which conducts
back again; Furman, *A Practice of Cardiac Pacing*; Barold, *Cardiac Pacemakers Step by Step*):
a *PMT cycle* is a ventricular pace that follows (``devicetwin.outcomes.tracking``) an atrial
activation of retrograde origin and comes sooner than the lower-rate interval would have
brought it (so it was triggered, not an escape). An *episode* is a run of at least ``min_cycles``
consecutive PMT cycles. It starts at the ventricular beat whose retrograde conduction opened the
loop and ends at its last PMT cycle. How it ended is read from what came next:

- ``device``: a retrograde atrial activation came but the next ventricular beat did not track it
  (PVARP extension, PMT termination, a refractory sense: the device broke the loop);
- ``spontaneous``: no retrograde activation came (retrograde block, or an intrinsic beat
  intervened);
- ``run_end``: the run ended inside the episode.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from devicetwin.heart.events import Origin
from devicetwin.outcomes.beats import ORIGIN_CODE, GroundTruth
from devicetwin.outcomes.tracking import NO_BEAT

DEFAULT_MIN_CYCLES = 3
"""Consecutive retrograde-tracked paces that make an episode: three beats of a re-entrant loop
at the upper rate are a run, not a coincidence (a single tracked retrograde P wave is counted as
a cycle but not as an episode)."""


class PmtEnd(enum.Enum):
    """How a PMT episode ended (module docstring)."""

    DEVICE = "device"
    SPONTANEOUS = "spontaneous"
    RUN_END = "run_end"


@dataclass(frozen=True)
class PmtEpisode:
    """One PMT episode: onset and end (microseconds), its cycles, and how it ended."""

    onset_us: int
    end_us: int
    cycles: int
    ended_by: PmtEnd

    @property
    def duration_us(self) -> int:
        """End minus onset, microseconds."""
        return self.end_us - self.onset_us


@dataclass(frozen=True)
class PmtOutcome:
    """Every PMT cycle and episode of a run."""

    cycles: int
    episodes: tuple[PmtEpisode, ...]
    burden: float
    """Fraction of the run's time inside an episode, 0..1."""

    @property
    def longest_episode_us(self) -> int:
        """The longest episode's duration (0 without an episode)."""
        return max((e.duration_us for e in self.episodes), default=0)

    @property
    def ended_by_device(self) -> int:
        """How many episodes the device broke."""
        return sum(e.ended_by is PmtEnd.DEVICE for e in self.episodes)


def pmt_outcome(truth: GroundTruth, followed: np.ndarray, *, lri_ms: float, duration_us: int,
                min_cycles: int = DEFAULT_MIN_CYCLES) -> PmtOutcome:
    """PMT cycles and episodes (module docstring).

    Parameters
    ----------
    followed:
        ``devicetwin.outcomes.tracking.followed_atrial`` of the same ground truth.
    lri_ms:
        The lower-rate interval: a cycle must be shorter to count as triggered.
    duration_us:
        The run's length, for the burden.
    """
    v = truth.ventricular
    a = truth.atrial
    n = len(v)
    if n == 0:
        return PmtOutcome(0, (), 0.0)
    retro = ORIGIN_CODE[Origin.RETROGRADE]
    has_a = followed != NO_BEAT
    a_origin = np.where(has_a, a.origin[np.clip(followed, 0, max(len(a) - 1, 0))]
                        if len(a) else -1, -1)
    interval = np.diff(v.t_us, prepend=np.int64(0))
    cycle = v.paced & has_a & (a_origin == retro) & (interval < round(lri_ms * 1000))
    cycle[0] = False  # the first beat has no preceding interval to judge
    episodes: list[PmtEpisode] = []
    idx = np.flatnonzero(cycle)
    if len(idx):  # runs of consecutive beat indices
        breaks = np.flatnonzero(np.diff(idx) != 1)
        starts = np.concatenate(([idx[0]], idx[breaks + 1]))
        ends = np.concatenate((idx[breaks], [idx[-1]]))
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            if e - s + 1 < min_cycles:
                continue
            episodes.append(PmtEpisode(int(v.t_us[s - 1]), int(v.t_us[e]), e - s + 1,
                                       _ending(truth, e)))
    burden = sum(ep.duration_us for ep in episodes) / duration_us if duration_us > 0 else 0.0
    return PmtOutcome(int(cycle.sum()), tuple(episodes), min(1.0, burden))


def _ending(truth: GroundTruth, last: int) -> PmtEnd:
    v = truth.ventricular
    a = truth.atrial
    if last + 1 >= len(v):
        return PmtEnd.RUN_END
    lo, hi = v.t_us[last], v.t_us[last + 1]
    first = int(np.searchsorted(a.t_us, lo, side="right"))
    upto = int(np.searchsorted(a.t_us, hi, side="left"))
    between = a.origin[first:upto]
    if np.any(between == ORIGIN_CODE[Origin.RETROGRADE]):
        return PmtEnd.DEVICE
    return PmtEnd.SPONTANEOUS
