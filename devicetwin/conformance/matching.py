"""Match the device's marker stream against the twin's predicted stream and classify every
discrepancy.

Events pair only within a *matching group*: same channel and same family (atrial paces, atrial
senses, ventricular paces, ventricular senses, and each device-channel marker kind on its own),
so a sense is never paired with a pace; a pace where the twin predicted a sense shows as an extra
pace and a missing sense at the same time. Pairing is optimal per group (``_pairing``), so one
shifted event is one discrepancy, not a cascade.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from devicetwin.conformance._pairing import pair_sorted
from devicetwin.conformance.limits import MatchTolerance
from devicetwin.conformance.statistics import SignedStats
from devicetwin.conformance.stream import (
    A_CODE,
    I64,
    KINDS,
    V_CODE,
    X_CODE,
    EventArrays,
    K,
)
from devicetwin.pacemaker.markers import MarkerEvent, MarkerKind, PaceFlag


class DiscrepancyClass(enum.Enum):
    """Why a device event and the prediction disagree."""

    EARLY_PACE = "early_pace"
    LATE_PACE = "late_pace"
    MISSING_PACE = "missing_pace"
    EXTRA_PACE = "extra_pace"
    SENSE_TIMING = "sense_timing"
    MISSING_SENSE = "missing_sense"
    EXTRA_SENSE = "extra_sense"
    SENSE_CLASSIFICATION = "sense_classification"
    PVC_HANDLING = "pvc_handling"
    SAFETY_PACING = "safety_pacing"
    PACE_FLAGS = "pace_flags"
    PACE_OUTPUT = "pace_output"
    MODE_SWITCH_TIMING = "mode_switch_timing"
    PVARP_EXTENSION = "pvarp_extension"


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One disagreement, with the events involved (the HTML report zooms on ``t_us``).

    ``error_us`` is device time minus predicted time for paired events, ``None`` otherwise.
    """

    cls: DiscrepancyClass
    t_us: int
    device: MarkerEvent | None
    predicted: MarkerEvent | None
    error_us: int | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "class": self.cls.value,
            "t_us": self.t_us,
            "device": None if self.device is None else str(self.device).strip(),
            "predicted": None if self.predicted is None else str(self.predicted).strip(),
            "error_us": self.error_us,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class TimingErrorStats:
    """Distribution of absolute timing errors of the matched events, in milliseconds.

    Percentiles interpolate linearly between order statistics (NumPy's default); all three are
    0.0 when nothing matched.
    """

    n: int
    p50_ms: float
    p95_ms: float
    max_ms: float

    def to_dict(self) -> dict[str, float]:
        """``{"p50": .., "p95": .., "max": ..}`` in ms, as ``summary.json`` wants it."""
        return {"p50": self.p50_ms, "p95": self.p95_ms, "max": self.max_ms}


@dataclass(frozen=True, slots=True, eq=False)
class MatchResult:
    """The outcome of :func:`match`.

    ``matched`` counts true positives: pairs within tolerance and of the same kind (a pair that
    disagrees only in flags or pace output still counts as matched, and is reported in its own
    class). Precision is ``matched / device_events``, recall ``matched / predicted_events``;
    with no events on a side its ratio is 1.0. The ``pace_*`` figures do the same over AP/VP.

    ``timing_error`` is the absolute error of the matched events; ``timing_by_kind`` the signed
    error (device minus twin, microseconds) per device marker kind over every pair of one kind,
    in tolerance or not, so a systematic early or late device shows as a bias whether it passes
    or not. Kinds with no such pair are absent; the order is the marker kinds' declaration order.
    """

    device_events: int
    predicted_events: int
    matched: int
    paired: int
    precision: float
    recall: float
    pace_precision: float
    pace_recall: float
    timing_error: TimingErrorStats
    timing_by_kind: dict[MarkerKind, SignedStats]
    counts: dict[DiscrepancyClass, int]
    discrepancies: tuple[Discrepancy, ...]
    device_index: I64
    predicted_index: I64
    error_us: I64

    @property
    def passed(self) -> bool:
        """True when no discrepancy of any class was found."""
        return not self.discrepancies

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the discrepancy list in full)."""
        return {
            "device_events": self.device_events,
            "predicted_events": self.predicted_events,
            "matched_events": self.matched,
            "paired_events": self.paired,
            "precision": self.precision,
            "recall": self.recall,
            "pace_precision": self.pace_precision,
            "pace_recall": self.pace_recall,
            "timing_error_ms": self.timing_error.to_dict(),
            "timing_by_kind_us": {k.value: st.to_dict() for k, st in self.timing_by_kind.items()},
            "discrepancy_counts": {c.value: n for c, n in self.counts.items()},
            "discrepancies": [d.to_dict() for d in self.discrepancies],
        }


_PACE_CODES = np.array([K[MarkerKind.AP], K[MarkerKind.VP]], dtype=np.int8)
_X_GROUP = {
    K[MarkerKind.ATR_DUR]: 4, K[MarkerKind.ATR_FB]: 5, K[MarkerKind.ATR_END]: 6,
    K[MarkerKind.PVARP_EXT]: 7,
}
_SAFETY = int(PaceFlag.SAFETY)


def _groups(ev: EventArrays) -> npt.NDArray[np.int8]:
    """Matching group per event: 0 A pace, 1 A sense, 2 V pace, 3 V sense, 4.. X kinds."""
    is_pace = np.isin(ev.kind, _PACE_CODES)
    g = np.full(len(ev), -1, dtype=np.int8)
    g[(ev.chamber == A_CODE) & is_pace] = 0
    g[(ev.chamber == A_CODE) & ~is_pace] = 1
    g[(ev.chamber == V_CODE) & is_pace] = 2
    g[(ev.chamber == V_CODE) & ~is_pace] = 3
    on_x = ev.chamber == X_CODE
    for code, grp in _X_GROUP.items():
        g[on_x & (ev.kind == code)] = grp
    return g


def _ratio(num: int, den: int) -> float:
    return 1.0 if den == 0 else num / den


def match(
    device: Sequence[MarkerEvent] | EventArrays,
    predicted: Sequence[MarkerEvent] | EventArrays,
    tolerance: MatchTolerance | None = None,
) -> MatchResult:
    """Pair each device event with the twin's predicted event and classify the differences.

    Parameters
    ----------
    device:
        The device's marker stream (any order; sorted stably by ``t_us`` here), or its
        :class:`~devicetwin.conformance.stream.EventArrays` when the caller converted it once
        to share with :func:`~devicetwin.conformance.monitors.run_monitors`.
    predicted:
        The twin's predicted marker stream (likewise).
    tolerance:
        Per-kind timing tolerance (us) and search window; default +-8000 us within 100 ms.

    Returns
    -------
    MatchResult
        Counts, precision/recall, timing error distributions (absolute, and signed per kind)
        and every discrepancy, in time order.
    """
    tol = tolerance or MatchTolerance()
    dev = EventArrays.of(device)
    pre = EventArrays.of(predicted)
    tol_us = np.array([tol.tolerance_us_for(k) for k in KINDS], dtype=np.int64)
    win_us = np.array([tol.window_us_for(k) for k in KINDS], dtype=np.int64)
    gd, gp = _groups(dev), _groups(pre)

    di_parts: list[I64] = []
    pj_parts: list[I64] = []
    for grp in range(8):
        d_idx = np.flatnonzero(gd == grp)
        p_idx = np.flatnonzero(gp == grp)
        if d_idx.size == 0 or p_idx.size == 0:
            continue
        dk, pk = dev.kind[d_idx], pre.kind[p_idx]
        a, b = pair_sorted(
            dev.t_us[d_idx], pre.t_us[p_idx], tol_us[dk], tol_us[pk], win_us[dk], win_us[pk]
        )
        di_parts.append(d_idx[a])
        pj_parts.append(p_idx[b])
    di = np.concatenate(di_parts) if di_parts else np.zeros(0, dtype=np.int64)
    pj = np.concatenate(pj_parts) if pj_parts else np.zeros(0, dtype=np.int64)
    srt = np.argsort(dev.t_us[di], kind="stable")
    di, pj = di[srt].astype(np.int64), pj[srt].astype(np.int64)

    err = dev.t_us[di] - pre.t_us[pj]
    kd, kp = dev.kind[di], pre.kind[pj]
    pair_tol = np.maximum(tol_us[kd], tol_us[kp])
    in_tol = np.abs(err) <= pair_tol
    same_kind = kd == kp
    tp = in_tol & same_kind
    matched = int(tp.sum())
    n_dev, n_pre = len(dev), len(pre)
    dev_pace = np.isin(dev.kind, _PACE_CODES)
    pre_pace = np.isin(pre.kind, _PACE_CODES)
    tp_pace = int((tp & np.isin(kd, _PACE_CODES)).sum())

    abs_ms = np.abs(err[tp]) / 1000.0
    if abs_ms.size:
        stats = TimingErrorStats(
            int(abs_ms.size), float(np.percentile(abs_ms, 50)), float(np.percentile(abs_ms, 95)),
            float(abs_ms.max()),
        )
    else:
        stats = TimingErrorStats(0, 0.0, 0.0, 0.0)
    by_kind: dict[MarkerKind, SignedStats] = {}
    for code in np.unique(kd[same_kind]).tolist():
        st = SignedStats.of(err[same_kind & (kd == code)], "twin")
        if st is not None:
            by_kind[KINDS[int(code)]] = st

    found = _classify(dev, pre, di, pj, err, in_tol, same_kind, gd, gp, tol)
    found.sort(key=lambda x: x.t_us)
    counts = {c: 0 for c in DiscrepancyClass}
    for x in found:
        counts[x.cls] += 1
    return MatchResult(
        device_events=n_dev,
        predicted_events=n_pre,
        matched=matched,
        paired=int(di.size),
        precision=_ratio(matched, n_dev),
        recall=_ratio(matched, n_pre),
        pace_precision=_ratio(tp_pace, int(dev_pace.sum())),
        pace_recall=_ratio(tp_pace, int(pre_pace.sum())),
        timing_error=stats,
        timing_by_kind=by_kind,
        counts=counts,
        discrepancies=tuple(found),
        device_index=dev.order[di],
        predicted_index=pre.order[pj],
        error_us=err.astype(np.int64),
    )


def _classify(
    dev: EventArrays,
    pre: EventArrays,
    di: I64,
    pj: I64,
    err: I64,
    in_tol: npt.NDArray[np.bool_],
    same_kind: npt.NDArray[np.bool_],
    gd: npt.NDArray[np.int8],
    gp: npt.NDArray[np.int8],
    tol: MatchTolerance,
) -> list[Discrepancy]:
    out: list[Discrepancy] = []
    pace_pair = np.isin(dev.kind[di], _PACE_CODES)
    fd, fp = dev.flags[di], pre.flags[pj]
    safety_diff = pace_pair & (((fd ^ fp) & _SAFETY) != 0)
    flags_diff = pace_pair & (fd != fp) & ~safety_diff
    ad, ap_ = dev.amplitude_mv[di], pre.amplitude_mv[pj]
    wd, wp = dev.width_us[di], pre.width_us[pj]
    amp_bad = pace_pair & (ad >= 0) & (ap_ >= 0)
    amp_bad &= 100 * np.abs(ad - ap_) > tol.amplitude_pct * ap_
    width_bad = pace_pair & (wd >= 0) & (wp >= 0) & (np.abs(wd - wp) > tol.width_us)
    missing_output = pace_pair & ((ad < 0) | (wd < 0)) & ((ap_ >= 0) | (wp >= 0))
    interesting = np.flatnonzero(
        ~in_tol | ~same_kind | safety_diff | flags_diff | amp_bad | width_bad | missing_output
    )
    for r in interesting.tolist():
        i, j = int(di[r]), int(pj[r])
        e_dev, e_pre = dev.event(i), pre.event(j)
        e_us = int(err[r])
        t = int(dev.t_us[i])
        kind = e_dev.kind
        where = f"device {kind.value} at {t / 1000:.0f} ms vs predicted {e_pre.kind.value} " \
                f"at {e_pre.t_us / 1000:.0f} ms ({e_us / 1000:+.1f} ms)"
        if kind.is_pace:
            if safety_diff[r]:
                out.append(Discrepancy(DiscrepancyClass.SAFETY_PACING, t, e_dev, e_pre, e_us,
                                       f"safety flag differs: {where}"))
            elif not in_tol[r]:
                cls = DiscrepancyClass.EARLY_PACE if e_us < 0 else DiscrepancyClass.LATE_PACE
                out.append(Discrepancy(cls, t, e_dev, e_pre, e_us, where))
            elif flags_diff[r]:
                out.append(Discrepancy(
                    DiscrepancyClass.PACE_FLAGS, t, e_dev, e_pre, e_us,
                    f"flags {e_dev.flags!r} vs predicted {e_pre.flags!r}: {where}",
                ))
            if amp_bad[r] or width_bad[r] or missing_output[r]:
                out.append(Discrepancy(
                    DiscrepancyClass.PACE_OUTPUT, t, e_dev, e_pre, e_us,
                    f"output {e_dev.amplitude_mv} mV / {e_dev.width_us} us vs predicted "
                    f"{e_pre.amplitude_mv} mV / {e_pre.width_us} us (tolerance "
                    f"+-{tol.amplitude_pct} %, +-{tol.width_us} us)",
                ))
        elif kind.is_sense:
            if not in_tol[r]:
                out.append(Discrepancy(DiscrepancyClass.SENSE_TIMING, t, e_dev, e_pre, e_us,
                                       where))
            if not same_kind[r]:
                pvc = MarkerKind.PVC in (kind, e_pre.kind)
                cls = DiscrepancyClass.PVC_HANDLING if pvc else \
                    DiscrepancyClass.SENSE_CLASSIFICATION
                out.append(Discrepancy(cls, t, e_dev, e_pre, e_us, f"classified {where}"))
        else:
            cls = _x_class(kind)
            out.append(Discrepancy(cls, t, e_dev, e_pre, e_us, f"mistimed: {where}"))

    dev_left = np.ones(len(dev), dtype=np.bool_)
    dev_left[di] = False
    pre_left = np.ones(len(pre), dtype=np.bool_)
    pre_left[pj] = False
    for i in np.flatnonzero(dev_left & (gd >= 0)).tolist():
        e = dev.event(i)
        out.append(_unpaired(e, device_side=True))
    for j in np.flatnonzero(pre_left & (gp >= 0)).tolist():
        e = pre.event(j)
        out.append(_unpaired(e, device_side=False))
    return out


def _x_class(kind: MarkerKind) -> DiscrepancyClass:
    if kind is MarkerKind.PVARP_EXT:
        return DiscrepancyClass.PVARP_EXTENSION
    return DiscrepancyClass.MODE_SWITCH_TIMING


def _unpaired(e: MarkerEvent, *, device_side: bool) -> Discrepancy:
    at = f"{e.kind.value} at {e.t_us / 1000:.0f} ms"
    what = f"device {at} was not predicted" if device_side else \
        f"predicted {at} did not occur on the device"
    dev = e if device_side else None
    pre = None if device_side else e
    if e.kind.is_pace:
        if PaceFlag.SAFETY in e.flags:
            cls = DiscrepancyClass.SAFETY_PACING
        else:
            cls = DiscrepancyClass.EXTRA_PACE if device_side else DiscrepancyClass.MISSING_PACE
    elif e.kind.is_sense:
        cls = DiscrepancyClass.EXTRA_SENSE if device_side else DiscrepancyClass.MISSING_SENSE
    else:
        cls = _x_class(e.kind)
    return Discrepancy(cls, e.t_us, dev, pre, None, what)
