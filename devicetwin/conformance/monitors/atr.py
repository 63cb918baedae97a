"""ATR mode-switch monitor (A-13): onset, fallback after the programmed duration, and end."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from devicetwin.conformance._pairing import pair_sorted
from devicetwin.conformance.limits import TimingLimits
from devicetwin.conformance.monitors._context import (
    MS,
    MonitorContext,
    MonitorResult,
    count_measurement,
    info_measurement,
    take,
)
from devicetwin.conformance.stream import I64, K
from devicetwin.pacemaker.markers import MarkerKind

ATR_REQ = "A-13"
_WINDOW = 10
_ONSET = 8
_KEEP = 6


@dataclass(frozen=True, slots=True)
class AtrExpectation:
    """The mode-switch markers A-13 implies for the device's own atrial detections."""

    onset_t_us: I64
    fallback_v: I64  # ordinal of the V event at which ATR_FB is due
    end_v: I64  # ordinal of the V event at which ATR_END is due


def short_counts(det_t_us: I64, uri_ms: int) -> I64:
    """For each atrial detection, how many of the last 10 detection intervals ending at it
    (fewer at the start) are shorter than the URI."""
    n = det_t_us.size
    short = np.zeros(n, dtype=np.int64)
    if n > 1:
        short[1:] = (np.diff(det_t_us) < uri_ms * MS).astype(np.int64)
    c = np.concatenate([[0], np.cumsum(short)])
    i = np.arange(n)
    lo = np.maximum(i + 1 - _WINDOW, 0)
    out: I64 = c[i + 1] - c[lo]
    return out


def expected_atr(det_t_us: I64, v_t_us: I64, lim: TimingLimits) -> AtrExpectation:
    """Run the A-13 state machine over atrial detections and ventricular events.

    Onset at the first detection with at least 8 of the last 10 intervals shorter than URI;
    ``ATR_FB`` at the V event after ``atr_duration_cycles`` V events following the onset when the
    criterion (at least 6 of 10) holds at every detection until then; ``ATR_END`` at the first V
    event after the detection where it lapses (during the duration or in fallback).
    """
    cnt = short_counts(det_t_us, lim.uri_ms)
    onset_ok = np.flatnonzero(cnt >= _ONSET)
    lapse = np.flatnonzero(cnt < _KEEP)
    onsets: list[int] = []
    fbs: list[int] = []
    ends: list[int] = []
    pos = 0
    n_v = v_t_us.size
    while True:
        k = int(np.searchsorted(onset_ok, pos))
        if k >= onset_ok.size:
            break
        i = int(onset_ok[k])
        t_on = int(det_t_us[i])
        onsets.append(t_on)
        first_v = int(np.searchsorted(v_t_us, t_on, side="right"))
        fb_v = first_v + lim.atr_duration_cycles
        m = int(np.searchsorted(lapse, i + 1))
        lapse_i = int(lapse[m]) if m < lapse.size else None
        lapse_t = int(det_t_us[lapse_i]) if lapse_i is not None else None
        if fb_v < n_v and (lapse_t is None or lapse_t > int(v_t_us[fb_v])):
            fbs.append(fb_v)
            if lapse_i is None:
                break
        if lapse_t is None:
            break
        end_v = int(np.searchsorted(v_t_us, lapse_t, side="right"))
        if end_v >= n_v:
            break
        ends.append(end_v)
        pos = int(np.searchsorted(det_t_us, int(v_t_us[end_v]), side="right"))
    return AtrExpectation(np.asarray(onsets, dtype=np.int64), np.asarray(fbs, dtype=np.int64),
                          np.asarray(ends, dtype=np.int64))


def _unpaired(expected: I64, actual: I64, tol: int, window: int) -> tuple[I64, I64]:
    """Elements of ``expected`` and of ``actual`` left unpaired within ``tol`` by the matcher."""
    tol_e = np.full(expected.shape, tol, dtype=np.int64)
    tol_a = np.full(actual.shape, tol, dtype=np.int64)
    win_e = np.full(expected.shape, window, dtype=np.int64)
    win_a = np.full(actual.shape, window, dtype=np.int64)
    ia, ie = pair_sorted(actual, expected, tol_a, tol_e, win_a, win_e)
    good = np.abs(actual[ia] - expected[ie]) <= tol
    miss = np.ones(expected.shape, dtype=np.bool_)
    miss[ie[good]] = False
    extra = np.ones(actual.shape, dtype=np.bool_)
    extra[ia[good]] = False
    return expected[miss], actual[extra]


def atr(ctx: MonitorContext) -> MonitorResult:
    """Compare the device's ATR_DUR/ATR_FB/ATR_END with what A-13 implies for its own atrial
    detections (AS, AR, AT; TN excluded).

    ``ATR_DUR`` must fall within tol of the onset detection; ``ATR_FB`` and ``ATR_END`` within
    one ventricular cycle (the specification's +-1 cc) of the V event where they are due.
    Counts of missed/late and of unexpected markers are held to zero. With ATR off (or in a
    mode without tracking) any ATR marker is unexpected.
    """
    lim = ctx.limits
    ev = ctx.ev
    name = "atr"
    det_t = ev.t_us[ctx.a_det_idx]
    v_t = ev.t_us[ctx.v_idx]
    dur_t = ctx.x_times(MarkerKind.ATR_DUR)
    fb_t = ctx.x_times(MarkerKind.ATR_FB)
    end_t = ctx.x_times(MarkerKind.ATR_END)
    names = (f"{name}.missed_markers", f"{name}.unexpected_markers")
    if not (lim.atr_enabled and lim.tracking):
        extra = np.sort(np.concatenate([dur_t, fb_t, end_t]))
        return MonitorResult(name, (
            count_measurement(names[0], ATR_REQ, "ATR markers A-13 required but missing",
                              extra[:0], applicable=False),
            count_measurement(names[1], ATR_REQ, "ATR markers with ATR off", extra),
        ), names)
    exp = expected_atr(det_t, v_t, lim)
    tol_us = lim.tolerance_us
    miss_on, extra_on = _unpaired(exp.onset_t_us, dur_t, tol_us, 10**12)

    def v_ordinal(t: I64) -> I64:
        out: I64 = np.searchsorted(v_t, t - tol_us, side="left").astype(np.int64)
        return out

    miss_fb, extra_fb = _unpaired(exp.fallback_v, v_ordinal(fb_t), 1, 10**9)
    miss_end, extra_end = _unpaired(exp.end_v, v_ordinal(end_t), 1, 10**9)

    def at(ordinals: I64) -> I64:
        if v_t.size == 0:
            return ordinals
        out: I64 = v_t[np.clip(ordinals, 0, v_t.size - 1)]
        return out

    missed = np.sort(np.concatenate([miss_on, at(miss_fb), at(miss_end)]))
    unexpected = np.sort(np.concatenate([extra_on, at(extra_fb), at(extra_end)]))
    mis = _misclassified_senses(ctx, det_t, dur_t, end_t)
    return MonitorResult(name, (
        count_measurement(names[0], ATR_REQ,
                          "ATR markers A-13 required but missing or mistimed", missed),
        count_measurement(names[1], ATR_REQ, "ATR markers A-13 did not call for", unexpected),
        count_measurement(f"{name}.misclassified_atrial_senses", ATR_REQ,
                          "atrial senses marked AS/AT against A-13", mis),
        info_measurement(f"{name}.episodes", ATR_REQ, "atrial tachy onsets (A-13)",
                         float(exp.onset_t_us.size), "episodes", exp.onset_t_us),
    ), names, {"expected_onsets_t_us": exp.onset_t_us.tolist(),
               "expected_fallback_t_us": at(exp.fallback_v).tolist(),
               "expected_end_t_us": at(exp.end_v).tolist()})


def _misclassified_senses(ctx: MonitorContext, det_t: I64, dur_t: I64, end_t: I64) -> I64:
    """Non-refractory atrial senses whose AS/AT marking disagrees with A-13.

    While ATR is on (from an ATR_DUR, its own instant included, to the next ATR_END) a sense
    whose interval from the previous atrial detection (AS, AR, AT) is shorter than the URI is
    AT; every other non-refractory sense is AS.
    """
    ev = ctx.ev
    kinds = ev.kind[ctx.a_det_idx]
    if det_t.size < 1:
        return det_t
    is_as = kinds == K[MarkerKind.AS]
    is_at = kinds == K[MarkerKind.AT]
    short = np.zeros(det_t.shape, dtype=np.bool_)
    short[1:] = np.diff(det_t) < ctx.limits.uri_ms * MS
    on = np.zeros(det_t.shape, dtype=np.bool_)
    if dur_t.size:
        k = np.searchsorted(dur_t, det_t, side="right") - 1
        start = dur_t[np.maximum(k, 0)]
        e = np.searchsorted(end_t, start, side="left").astype(np.int64)
        stop = take(end_t, e, int(np.iinfo(np.int64).max))
        on = (k >= 0) & (det_t <= stop)
    want_at = on & short
    bad: I64 = det_t[(is_as & want_at) | (is_at & ~want_at)]
    return bad
