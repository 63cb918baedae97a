"""Behaviour observed in a device's marker channel: the figures a twin's prediction is set
against (rates, pacing percentages, AV and VA intervals, ectopy).

Marker channels show what the device sensed and did, not the heart's truth: a sensed AV interval
is the conduction time seen at the leads, a VP followed by an AS at a stable interval is the
signature of retrograde conduction (or of far-field oversensing; the markers cannot tell).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Mapping, Sequence

from devicetwin.pacemaker import MarkerEvent, MarkerKind

#: The measures, their units, in display order; a twin's prediction uses the same names.
BEHAVIOUR_UNITS: Mapping[str, str] = {
    "atrial_rate_bpm": "bpm",
    "ventricular_rate_bpm": "bpm",
    "atrial_paced_pct": "%",
    "ventricular_paced_pct": "%",
    "av_conduction_ms": "ms",
    "va_after_vp_ms": "ms",
    "pvc_per_min": "/min",
}
#: Longest A-to-V interval (ms) taken as conduction, and longest VP-to-AS as retrograde.
MAX_AV_MS = 500.0
MAX_VA_MS = 600.0

_A_BEATS = (MarkerKind.AS, MarkerKind.AP, MarkerKind.AR, MarkerKind.AT)
_V_BEATS = (MarkerKind.VS, MarkerKind.VP, MarkerKind.PVC)


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100.0 * part / whole


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def observed_behaviour(markers: Sequence[MarkerEvent],
                       duration_us: int) -> dict[str, float | None]:
    """The :data:`BEHAVIOUR_UNITS` measures of a marker stream (None where it shows nothing).

    ``av_conduction_ms`` is the median interval from an atrial event (AS or AP) to the next
    ventricular sense (VS) with nothing in between, up to :data:`MAX_AV_MS`; ``va_after_vp_ms``
    the median interval from a VP to the next atrial sense (AS or AR) with nothing in between,
    up to :data:`MAX_VA_MS`.
    """
    minutes = duration_us / 60e6
    kinds = [m.kind for m in markers]
    n_a = sum(k in _A_BEATS for k in kinds)
    n_v = sum(k in _V_BEATS for k in kinds)
    av: list[float] = []
    va: list[float] = []
    beats = [m for m in markers if m.kind in _A_BEATS or m.kind in _V_BEATS]
    for first, second in itertools.pairwise(beats):
        gap_ms = (second.t_us - first.t_us) / 1000.0
        if first.kind in (MarkerKind.AS, MarkerKind.AP) and second.kind is MarkerKind.VS:
            if gap_ms <= MAX_AV_MS:
                av.append(gap_ms)
        elif (first.kind is MarkerKind.VP and second.kind in (MarkerKind.AS, MarkerKind.AR)
              and gap_ms <= MAX_VA_MS):
            va.append(gap_ms)
    return {
        "atrial_rate_bpm": n_a / minutes if minutes > 0 else None,
        "ventricular_rate_bpm": n_v / minutes if minutes > 0 else None,
        "atrial_paced_pct": _pct(kinds.count(MarkerKind.AP),
                                 sum(k in (MarkerKind.AP, MarkerKind.AS, MarkerKind.AT)
                                     for k in kinds)),
        "ventricular_paced_pct": _pct(kinds.count(MarkerKind.VP), n_v),
        "av_conduction_ms": _median(av),
        "va_after_vp_ms": _median(va),
        "pvc_per_min": kinds.count(MarkerKind.PVC) / minutes if minutes > 0 else None,
    }
