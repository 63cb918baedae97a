"""What every monitor reads: the device stream as arrays, the programming, the ground truth,
and a few derived arrays (ventricular events, atrial events, fallback spans) computed once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from devicetwin.conformance.limits import TimingLimits
from devicetwin.conformance.stream import (
    A_CODE,
    I64,
    V_CODE,
    X_CODE,
    ActivationArrays,
    BoolArray,
    EventArrays,
    K,
)
from devicetwin.conformance.verdicts import Measurement
from devicetwin.pacemaker.markers import MarkerKind, PaceFlag

MS = 1000  # microseconds per millisecond


@dataclass(frozen=True, slots=True)
class MonitorResult:
    """What one monitor acquired: measurements (unjudged) and details for the reports.

    ``hazard_measurements`` names the measurements whose failure means the monitor's hazard
    (pacing.md section 3) was detected.
    """

    name: str
    measurements: tuple[Measurement, ...]
    hazard_measurements: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)


def _kinds(*kinds: MarkerKind) -> npt.NDArray[np.int8]:
    return np.array([K[k] for k in kinds], dtype=np.int8)


@dataclass(frozen=True, slots=True, eq=False)
class MonitorContext:
    """The shared, precomputed view of one session for all monitors."""

    ev: EventArrays
    limits: TimingLimits
    activations: ActivationArrays | None
    end_us: int
    #: Ventricular events that start timing (VP, VS, PVC; not VR, TN, nor a VS in the safety
    #: window that a safety pace answered, A-7): their positions in ``ev``.
    v_idx: I64
    #: Atrial events that start timing (AP, AS, AT): positions in ``ev``.
    a_idx: I64
    #: All atrial detections counted by ATR (AS, AR, AT; A-13): positions in ``ev``.
    a_det_idx: I64
    #: Sorted VS positions judged to be crosstalk answered by a safety pace.
    crosstalk_vs_idx: I64
    #: Spans [ATR_FB, next ATR_END] during which the device runs its fallback mode.
    fallback_start_us: I64
    fallback_end_us: I64

    @classmethod
    def build(
        cls,
        ev: EventArrays,
        limits: TimingLimits,
        activations: ActivationArrays | None,
        end_us: int | None,
    ) -> MonitorContext:
        """Derive the shared arrays from a sorted stream."""
        n = len(ev)
        last = int(ev.t_us[-1]) if n else 0
        end = max(last, end_us) if end_us is not None else last
        on_v = ev.chamber == V_CODE
        on_a = ev.chamber == A_CODE
        vp = on_v & (ev.kind == K[MarkerKind.VP])
        vs = on_v & (ev.kind == K[MarkerKind.VS])
        # A VS answered by a safety VP within the safety window is crosstalk.
        vs_pos = np.flatnonzero(vs)
        vp_pos = np.flatnonzero(vp)
        xtalk = np.zeros(0, dtype=np.int64)
        if vs_pos.size and vp_pos.size:
            nxt = np.searchsorted(ev.t_us[vp_pos], ev.t_us[vs_pos], side="right")
            ok = nxt < vp_pos.size
            cand_vs = vs_pos[ok]
            cand_vp = vp_pos[nxt[ok]]
            safe = (ev.flags[cand_vp] & int(PaceFlag.SAFETY)) != 0
            close = ev.t_us[cand_vp] - ev.t_us[cand_vs] <= limits.vsp_window_ms * MS
            xtalk = cand_vs[safe & close].astype(np.int64)
        v_mask = on_v & np.isin(ev.kind, _kinds(MarkerKind.VP, MarkerKind.VS, MarkerKind.PVC))
        v_mask[xtalk] = False
        a_mask = on_a & np.isin(ev.kind, _kinds(MarkerKind.AP, MarkerKind.AS, MarkerKind.AT))
        a_det = on_a & np.isin(ev.kind, _kinds(MarkerKind.AS, MarkerKind.AR, MarkerKind.AT))
        on_x = ev.chamber == X_CODE
        fb = ev.t_us[on_x & (ev.kind == K[MarkerKind.ATR_FB])]
        ends = ev.t_us[on_x & (ev.kind == K[MarkerKind.ATR_END])]
        fb_end = np.full(fb.shape, end + 1, dtype=np.int64)
        if ends.size:
            j = np.searchsorted(ends, fb, side="right")
            has_end = j < ends.size
            fb_end[has_end] = ends[j[has_end]]
        return cls(
            ev, limits, activations, end,
            np.flatnonzero(v_mask).astype(np.int64),
            np.flatnonzero(a_mask).astype(np.int64),
            np.flatnonzero(a_det).astype(np.int64),
            xtalk,
            fb.astype(np.int64), fb_end,
        )

    def kind_is(self, idx: I64, *kinds: MarkerKind) -> BoolArray:
        """Mask over positions ``idx`` of events whose kind is one of ``kinds``."""
        return np.isin(self.ev.kind[idx], _kinds(*kinds))

    def flag(self, idx: I64, flags: PaceFlag) -> BoolArray:
        """Mask over positions ``idx`` of events carrying any of ``flags``."""
        mask: BoolArray = (self.ev.flags[idx] & int(flags)) != 0
        return mask

    def in_fallback(self, t_us: I64) -> BoolArray:
        """Mask of times inside an ATR fallback span (its ATR_END instant included)."""
        if self.fallback_start_us.size == 0:
            return np.zeros(t_us.shape, dtype=np.bool_)
        k = np.searchsorted(self.fallback_start_us, t_us, side="right") - 1
        kk = np.maximum(k, 0)
        # inclusive: the V event that carries ATR_END was still timed by the fallback mode
        inside: BoolArray = (k >= 0) & (t_us <= self.fallback_end_us[kk])
        return inside

    def x_times(self, kind: MarkerKind) -> I64:
        """Sorted times of device-channel markers of ``kind``."""
        out: I64 = self.ev.t_us[(self.ev.chamber == X_CODE) & (self.ev.kind == K[kind])]
        return out


def evidence(t_us: npt.NDArray[np.int64]) -> tuple[int, ...]:
    """Evidence times as a tuple of Python ints."""
    return tuple(int(x) for x in np.asarray(t_us).tolist())


def count_measurement(
    name: str, requirement_id: str, description: str, bad_t_us: I64, *, applicable: bool = True
) -> Measurement:
    """A count of violations held to zero, with the violations' times as evidence."""
    from devicetwin.conformance.verdicts import Limits

    if not applicable:
        return Measurement(name, requirement_id, None, "events", Limits(high=0), description)
    return Measurement(name, requirement_id, int(bad_t_us.size), "events", Limits(high=0),
                       description, evidence(bad_t_us))


def info_measurement(
    name: str, requirement_id: str, description: str, value: float | None, unit: str,
    t_us: I64 | None = None,
) -> Measurement:
    """An informational measurement (no limits, always passes)."""
    from devicetwin.conformance.verdicts import Limits

    ev_t = () if t_us is None else evidence(t_us)
    return Measurement(name, requirement_id, value, unit, Limits(), description, ev_t)


def previous_index(sorted_t: I64, t: I64) -> I64:
    """For each time in ``t``, the index of the last element of ``sorted_t`` strictly before it
    (-1 when none)."""
    out: I64 = np.searchsorted(sorted_t, t, side="left").astype(np.int64) - 1
    return out


def count_between(sorted_t: I64, lo_us: I64, hi_us: I64) -> I64:
    """For each open interval (lo, hi), how many elements of ``sorted_t`` lie strictly inside."""
    a = np.searchsorted(sorted_t, lo_us, side="right")
    b = np.searchsorted(sorted_t, hi_us, side="left")
    out: I64 = np.maximum(b - a, 0).astype(np.int64)
    return out


def take(arr: I64, idx: I64, fill: int) -> I64:
    """``arr[idx]`` where ``idx`` is a valid index, ``fill`` elsewhere (also for empty ``arr``)."""
    out: I64 = np.full(idx.shape, fill, dtype=np.int64)
    ok = (idx >= 0) & (idx < arr.size)
    out[ok] = arr[idx[ok]]
    return out
