"""The moments of a run a reviewer must see: hazard episodes and discrepancies, as time spans.

A PMT episode comes from the patient's outcome (onset to end); a mode switch from the device's
ATR markers (duration or fallback to ATR end); noise from the device's TN markers; loss of capture
from the heart's ground truth (paces that did not capture); other hazards from the monitors'
evidence times; discrepancies from conformance; failed criteria from their evidence
times. Events closer than a gap join one episode.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from devicetwin.conformance import Verdict, VerdictStatus
from devicetwin.conformance.hazards import Hazard, HazardFinding
from devicetwin.conformance.matching import Discrepancy
from devicetwin.heart import Activation, Origin
from devicetwin.outcomes.pmt import PmtEpisode
from devicetwin.pacemaker import MarkerEvent, MarkerKind

#: Events of one kind closer than this (microseconds) belong to one episode.
JOIN_GAP_US = 1_500_000


class EpisodeKind(enum.Enum):
    """What an episode is; the value is its label in the report."""

    PMT = "PMT"
    MODE_SWITCH = "mode switch"
    NOISE = "noise"
    LOSS_OF_CAPTURE = "loss of capture"
    HAZARD = "hazard"
    DISCREPANCY = "discrepancy"
    FAILURE = "failed criterion"


@dataclass(frozen=True, slots=True)
class Episode:
    """One span of a run worth a look: ``start_us`` to ``end_us`` (equal for one event)."""

    kind: EpisodeKind
    start_us: int
    end_us: int
    text: str

    @property
    def anchor(self) -> str:
        """The HTML id of the episode's section."""
        return f"ep-{self.kind.name.lower()}-{self.start_us}"


def join_times(times_us: Iterable[int], gap_us: int = JOIN_GAP_US) -> list[tuple[int, int, int]]:
    """Group sorted-or-not times into ``(first, last, count)`` runs whose neighbours lie within
    ``gap_us`` of each other."""
    out: list[tuple[int, int, int]] = []
    for t in sorted(times_us):
        if out and t - out[-1][1] <= gap_us:
            first, _, n = out[-1]
            out[-1] = (first, t, n + 1)
        else:
            out.append((t, t, 1))
    return out


def pmt_episodes(episodes: Sequence[PmtEpisode]) -> list[Episode]:
    """The patient's PMT episodes (outcome measures)."""
    return [Episode(EpisodeKind.PMT, e.onset_us, e.end_us,
                    f"PMT, {e.cycles} cycles, ended by {e.ended_by.value}") for e in episodes]


def mode_switch_episodes(device: Sequence[MarkerEvent], end_us: int) -> list[Episode]:
    """From each ATR start (duration or fallback marker) to the next ATR end, or the run's end."""
    out = []
    start: int | None = None
    for e in device:
        if e.kind in (MarkerKind.ATR_DUR, MarkerKind.ATR_FB) and start is None:
            start = e.t_us
        elif e.kind is MarkerKind.ATR_END and start is not None:
            out.append(Episode(EpisodeKind.MODE_SWITCH, start, e.t_us, "mode switch (ATR)"))
            start = None
    if start is not None:
        out.append(Episode(EpisodeKind.MODE_SWITCH, start, end_us,
                           "mode switch (ATR), to the end of the run"))
    return out


def noise_episodes(device: Sequence[MarkerEvent]) -> list[Episode]:
    """Runs of the device's noise markers (TN)."""
    return [Episode(EpisodeKind.NOISE, a, b, f"noise: {n} TN markers")
            for a, b, n in join_times(e.t_us for e in device if e.kind is MarkerKind.TN)]


def capture_episodes(heart: Sequence[Activation]) -> list[Episode]:
    """Runs of paces the heart did not capture (ground truth)."""
    lost = (e.t_us for e in heart if e.origin is Origin.PACED and e.captured is False)
    return [Episode(EpisodeKind.LOSS_OF_CAPTURE, a, b, f"loss of capture: {n} paces")
            for a, b, n in join_times(lost)]


def hazard_episodes(findings: dict[Hazard, HazardFinding],
                    covered: Iterable[Hazard] = ()) -> list[Episode]:
    """Runs of each detected hazard's evidence times, except hazards ``covered`` elsewhere."""
    skip = set(covered)
    out = []
    for hazard, finding in findings.items():
        if hazard in skip or not finding.detected:
            continue
        for a, b, n in join_times(finding.evidence_t_us):
            out.append(Episode(EpisodeKind.HAZARD, a, b,
                               f"{hazard.value.replace('_', ' ')} ({n} evidence times)"))
    return out


def discrepancy_episodes(discrepancies: Sequence[Discrepancy]) -> list[Episode]:
    """Discrepancies, neighbours within the join gap together; the text counts each class."""
    out = []
    ds = sorted(discrepancies, key=lambda d: d.t_us)
    for a, b, _ in join_times(d.t_us for d in ds):
        inside = [d for d in ds if a <= d.t_us <= b]
        counts: dict[str, int] = {}
        for d in inside:
            counts[d.cls.value] = counts.get(d.cls.value, 0) + 1
        text = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items())
        out.append(Episode(EpisodeKind.DISCREPANCY, a, b, f"discrepancy: {text}"))
    return out


def failure_episodes(criteria: Sequence[Verdict]) -> list[Episode]:
    """Runs of the evidence times of each failed criterion (a monitor's late paces, ...)."""
    out = []
    for c in criteria:
        if c.status is VerdictStatus.FAIL:
            for a, b, n in join_times(c.evidence_t_us):
                out.append(Episode(EpisodeKind.FAILURE, a, b,
                                   f"failed {c.name} ({n} evidence times)"))
    return out


def run_episodes(*, pmt: Sequence[PmtEpisode], device: Sequence[MarkerEvent],
                 heart: Sequence[Activation], findings: dict[Hazard, HazardFinding],
                 discrepancies: Sequence[Discrepancy], end_us: int) -> list[Episode]:
    """Every episode of a run in time order. PMT, mode switch, noise and loss of capture come
    from their own sources; the monitors' evidence adds the other hazards (and these four when
    their own source shows nothing)."""
    episodes = (pmt_episodes(pmt) + mode_switch_episodes(device, end_us)
                + noise_episodes(device) + capture_episodes(heart))
    shown = {Hazard.PMT: EpisodeKind.PMT,
             Hazard.ATRIAL_TACHYARRHYTHMIA_HANDLING: EpisodeKind.MODE_SWITCH,
             Hazard.NOISE_REVERSION: EpisodeKind.NOISE,
             Hazard.LOSS_OF_CAPTURE: EpisodeKind.LOSS_OF_CAPTURE}
    kinds = {e.kind for e in episodes}
    covered = [h for h, k in shown.items() if k in kinds]
    episodes += hazard_episodes(findings, covered) + discrepancy_episodes(discrepancies)
    return sorted(episodes, key=lambda e: (e.start_us, e.kind.value))
