"""Lower-rate and upper-rate monitors (A-2, A-3, A-9, A-12; pacing.md section 3 upper rate)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import numpy.typing as npt

from devicetwin.conformance.limits import TimingLimits
from devicetwin.conformance.monitors._context import (
    MS,
    MonitorContext,
    MonitorResult,
    count_between,
    evidence,
)
from devicetwin.conformance.statistics import SignedStats
from devicetwin.conformance.stream import A_CODE, I64, BoolArray, K
from devicetwin.conformance.verdicts import Limits, Measurement
from devicetwin.pacemaker.markers import MarkerKind, PaceFlag

LOWER_RATE_REQ = "A-2"
UPPER_RATE_REQ = "A-3"

#: Flags that let a pace come earlier than the escape interval for a stated reason.
_EARLY_REASONS = (PaceFlag.SENSOR | PaceFlag.SMOOTHING | PaceFlag.TRIGGERED | PaceFlag.SAFETY
                  | PaceFlag.MAGNET | PaceFlag.NOISE | PaceFlag.UPPER_RATE)


def _extreme(name: str, req: str, desc: str, values_us: I64, t_us: I64, limits: Limits,
             *, use_max: bool, signed_error: SignedStats | None = None) -> Measurement:
    """The longest (``use_max``) or shortest of intervals ``values_us`` as a measurement in ms
    (exact: microseconds / 1000, never floored), violations of ``limits`` (ms) as evidence."""
    if values_us.size == 0:
        return Measurement(name, req, None, "ms", limits, desc)
    values_ms = values_us / MS
    v = float(values_ms.max() if use_max else values_ms.min())
    bad = _outside(values_ms, limits)
    return Measurement(name, req, v, "ms", limits, desc, evidence(t_us[bad]), signed_error)


def _against(intervals_us: I64, expected_ms: int, label: str) -> SignedStats | None:
    """Signed error of intervals against their programmed value ``label`` (us)."""
    return SignedStats.of(intervals_us - expected_ms * MS, f"{label} {expected_ms} ms")


def _outside(values: npt.NDArray[np.float64], limits: Limits) -> BoolArray:
    bad = np.zeros(values.shape, dtype=np.bool_)
    if limits.low is not None:
        bad |= values < limits.low
    if limits.high is not None:
        bad |= values > limits.high
    return bad


def _chamber_events(ctx: MonitorContext, on_atrium: bool) -> I64:
    """Positions of the timing events of the lower-rate chamber."""
    if on_atrium:
        return ctx.a_idx
    return ctx.v_idx


def _after_hysteresis_ap(ctx: MonitorContext, open_t: I64, close_t: I64) -> BoolArray:
    """Mask: the last atrial timing event in ``(open_t, close_t)`` is an AP flagged
    ``HYSTERESIS``."""
    a_idx = ctx.a_idx
    out = np.zeros(close_t.shape, dtype=np.bool_)
    if a_idx.size == 0:
        return out
    a_t = ctx.ev.t_us[a_idx]
    j = np.searchsorted(a_t, close_t, side="left") - 1
    jj = np.maximum(j, 0)
    hyst_ap = ctx.kind_is(a_idx, MarkerKind.AP) & ctx.flag(a_idx, PaceFlag.HYSTERESIS)
    out = (j >= 0) & (a_t[jj] > open_t) & hyst_ap[jj]
    return out


def lower_rate(ctx: MonitorContext) -> MonitorResult:
    """No escape interval longer than the allowed interval + tolerance (A-2, A-9).

    The interval is timed on the chamber of the programmed convention: A-A in atrial modes and
    under atrial-based timing with atrial pacing, V-V otherwise. An interval closed by a pace may
    be at most LRI + tol, or HRI + tol when the pace is flagged ``HYSTERESIS`` (in dual-chamber
    V-V timing also when it closes the AV delay of a ``HYSTERESIS``-flagged AP); one closed by a
    sense (or still open at the end of the run) may be HRI + tol when hysteresis is programmed.
    An interval whose two ends differ in the ``MAGNET`` flag spans a magnet on/off change, which
    restarts timing (A-21), and is not judged.
    Escape paces with no flag giving a reason to be early (sensor, smoothing, upper rate, ...)
    and no tracked atrial sense in their interval must also not come before LRI - tol; those
    escape intervals also give the signed error against LRI (HRI for hysteresis escapes).
    """
    lim = ctx.limits
    tol = lim.tolerance_us / MS  # ms, exact (2.5 for 2500 us)
    name = "lower_rate"
    paces = lim.paces_atrium or lim.paces_ventricle
    on_atrium = lim.lower_rate_on_atrium
    idx = _chamber_events(ctx, on_atrium)
    l_lim = Limits(high=lim.lri_ms + tol)
    h_lim = Limits(high=(lim.hysteresis_interval_ms or lim.lri_ms) + tol)
    chamber = "A-A" if on_atrium else "V-V"
    d_l = f"longest {chamber} escape interval (closed by a non-hysteresis event)"
    d_h = f"longest {chamber} escape interval under hysteresis"
    d_s = f"shortest {chamber} interval before an escape pace"
    if not paces or idx.size == 0:
        ms = [Measurement(f"{name}.longest_interval_ms", LOWER_RATE_REQ, None, "ms", l_lim, d_l)]
        return MonitorResult(name, tuple(ms))
    t = ctx.ev.t_us[idx]
    # Closing events: each event after the first, plus the still-open interval to the run's end.
    close_t = np.concatenate([t[1:], [ctx.end_us]]).astype(np.int64)
    interval_us = close_t - t
    is_pace = np.concatenate([ctx.kind_is(idx[1:], MarkerKind.AP, MarkerKind.VP), [False]])
    hyst_flag = np.concatenate([ctx.flag(idx[1:], PaceFlag.HYSTERESIS), [False]])
    if not on_atrium and lim.paces_atrium:
        # V-V timing in dual-chamber modes: a VP that closes the AV delay of a HYSTERESIS-flagged
        # AP ends an interval timed by HRI even though the VP itself is not flagged
        hyst_flag |= _after_hysteresis_ap(ctx, t, close_t) & is_pace
    # an interval that spans a device-state change (magnet on or off, seen as a change of the
    # MAGNET flag between its two ends) restarts timing and is not judged
    mag = ctx.flag(idx, PaceFlag.MAGNET)
    spans_state = np.concatenate([mag[1:] != mag[:-1], [False]])
    open_end = np.zeros(t.shape, dtype=np.bool_)
    open_end[-1] = True
    hyst_on = lim.hysteresis_interval_ms is not None
    in_h = hyst_flag | (hyst_on & ~is_pace)
    # The open interval at the end only matters once it is already too long.
    open_limit = (h_lim if hyst_on else l_lim).high or 0
    keep_open = interval_us / MS > open_limit
    valid = (~open_end | keep_open) & ~spans_state
    ms_list = [
        _extreme(f"{name}.longest_interval_ms", LOWER_RATE_REQ, d_l,
                 interval_us[valid & ~in_h], close_t[valid & ~in_h], l_lim, use_max=True),
    ]
    if hyst_on:
        ms_list.append(_extreme(f"{name}.longest_hysteresis_interval_ms", LOWER_RATE_REQ, d_h,
                                interval_us[valid & in_h], close_t[valid & in_h], h_lim,
                                use_max=True))
    # Escape paces must not come early either.
    pace_close = is_pace & ~open_end & ~spans_state
    flags_ok = np.concatenate([~ctx.flag(idx[1:], _EARLY_REASONS), [False]])
    early_ok = pace_close & flags_ok & ~ctx.in_fallback(close_t)
    if not on_atrium and lim.tracking:
        a_sense_t = ctx.ev.t_us[ctx.a_idx[ctx.kind_is(ctx.a_idx, MarkerKind.AS, MarkerKind.AT)]]
        early_ok &= count_between(a_sense_t, t, close_t + 1) == 0
    skip_dynamic = not on_atrium and lim.paces_atrium and lim.dynamic_av_min_ms is not None
    if not skip_dynamic:
        s_lim = Limits(low=lim.lri_ms - tol)
        no_h = early_ok & ~hyst_flag
        ms_list.append(_extreme(f"{name}.shortest_escape_interval_ms", LOWER_RATE_REQ, d_s,
                                interval_us[no_h], close_t[no_h], s_lim, use_max=False,
                                signed_error=_against(interval_us[no_h], lim.lri_ms, "LRI")))
        if hyst_on:
            hri_ms = lim.hysteresis_interval_ms or lim.lri_ms
            sh_lim = Limits(low=hri_ms - tol)
            yes_h = early_ok & hyst_flag
            ms_list.append(_extreme(
                f"{name}.shortest_hysteresis_escape_interval_ms", LOWER_RATE_REQ,
                f"{d_s} flagged hysteresis", interval_us[yes_h], close_t[yes_h], sh_lim,
                use_max=False, signed_error=_against(interval_us[yes_h], hri_ms, "HRI")))
    return MonitorResult(name, tuple(ms_list))


def upper_rate(ctx: MonitorContext) -> MonitorResult:
    """V-V (A-A in atrial modes) before a pace never below URI - tol (A-3, A-8), or MSRI - tol
    for sensor-driven paces (A-12); magnet paces are exempt (A-15). In the triggered modes (AAT,
    VVT) the interval runs from the previous pace (A-8), in the others from any timing event.

    The paces flagged ``UPPER_RATE`` (held to the URI) give the signed error of their interval
    against the URI.

    In tracking modes it also reports the atrial:ventricular block patterns it saw: the atrial
    senses from one refractory atrial sense (the blocked P wave, AR) to the next, against the
    ventricular paces between them; a group counts when it is 2:1 or holds an upper-rate pace
    (AV delay stretched beyond SAV + tol, or flagged ``UPPER_RATE``): Wenckebach ``N:N-1``.
    """
    lim = ctx.limits
    tol = lim.tolerance_us / MS  # ms, exact
    name = "upper_rate"
    on_atrium = lim.atrial_only
    idx = ctx.a_idx if on_atrium else ctx.v_idx
    pace_kind = MarkerKind.AP if on_atrium else MarkerKind.VP
    if lim.base_mode in ("AAT", "VVT"):
        # triggered modes: a sense sooner than URI after the previous *pace* triggers nothing
        # so the limit holds pace to pace
        idx = idx[ctx.kind_is(idx, pace_kind)]
    label = "A-A" if on_atrium else "V-V"
    u_lim = Limits(low=lim.uri_ms - tol)
    d_u = f"shortest {label} interval before a pace"
    ms: list[Measurement] = []
    details: dict[str, object] = {}
    if idx.size < 2 or not (lim.paces_atrium or lim.paces_ventricle):
        ms.append(Measurement(f"{name}.min_interval_ms", UPPER_RATE_REQ, None, "ms", u_lim, d_u))
        return MonitorResult(name, tuple(ms), (f"{name}.min_interval_ms",), details)
    t = ctx.ev.t_us[idx]
    nxt = idx[1:]
    iv = t[1:] - t[:-1]
    close_t = t[1:]
    is_pace = ctx.kind_is(nxt, pace_kind) & ~ctx.flag(nxt, PaceFlag.MAGNET)
    sensor = ctx.flag(nxt, PaceFlag.SENSOR) & (lim.msri_ms is not None)
    plain = is_pace & ~sensor
    held = plain & ctx.flag(nxt, PaceFlag.UPPER_RATE)
    ms.append(_extreme(f"{name}.min_interval_ms", UPPER_RATE_REQ, d_u, iv[plain], close_t[plain],
                       u_lim, use_max=False, signed_error=_against(iv[held], lim.uri_ms, "URI")))
    hazard = [f"{name}.min_interval_ms"]
    if lim.msri_ms is not None:
        s_lim = Limits(low=lim.msri_ms - tol)
        sp = is_pace & sensor
        ms.append(_extreme(f"{name}.min_sensor_interval_ms", "A-12",
                           f"shortest {label} interval before a sensor-driven pace", iv[sp],
                           close_t[sp], s_lim, use_max=False))
        hazard.append(f"{name}.min_sensor_interval_ms")
    if lim.tracking:
        patterns = _block_patterns(ctx, lim)
        details["patterns"] = dict(patterns)
        wb = sum(c for p, c in patterns.items() if p != "2:1")
        ms.append(Measurement(f"{name}.wenckebach_groups", UPPER_RATE_REQ, float(wb), "groups",
                              Limits(), "pacemaker Wenckebach groups (N:N-1) observed"))
        ms.append(Measurement(f"{name}.two_to_one_groups", UPPER_RATE_REQ,
                              float(patterns.get("2:1", 0)), "groups", Limits(),
                              "2:1 block groups observed"))
    return MonitorResult(name, tuple(ms), tuple(hazard), details)


def _block_patterns(ctx: MonitorContext, lim: TimingLimits) -> Counter[str]:
    ev = ctx.ev
    on_a = ev.chamber == A_CODE
    senses = np.flatnonzero(on_a & np.isin(ev.kind, np.array(
        [K[MarkerKind.AS], K[MarkerKind.AT], K[MarkerKind.AR]], dtype=np.int8)))
    out: Counter[str] = Counter()
    if senses.size == 0:
        return out
    s_t = ev.t_us[senses]
    is_ar = ev.kind[senses] == K[MarkerKind.AR]
    ar_pos = np.flatnonzero(is_ar)
    if ar_pos.size < 2:
        return out
    vp_idx = ctx.v_idx[ctx.kind_is(ctx.v_idx, MarkerKind.VP)]
    vp_t = ev.t_us[vp_idx]
    v_all_t = ev.t_us[ctx.v_idx]
    # an upper-rate pace: flagged, or its AV delay after the last atrial sense (an AS/AT)
    # stretched beyond SAV + tol
    j = np.searchsorted(s_t, vp_t, side="left") - 1
    jj = np.maximum(j, 0)
    stretched = (j >= 0) & ~is_ar[jj] & (vp_t - s_t[jj] > lim.sav_ms * MS + lim.tolerance_us)
    held = ctx.flag(vp_idx, PaceFlag.UPPER_RATE) | stretched
    held_cum = np.concatenate([[0], np.cumsum(held)])
    ar_t = s_t[ar_pos]
    lo_t, hi_t = ar_t[:-1], ar_t[1:]
    n_a = np.diff(ar_pos)
    a = np.searchsorted(vp_t, lo_t, side="right")
    b = np.searchsorted(vp_t, hi_t, side="right")
    n_v = b - a
    n_v_all = (np.searchsorted(v_all_t, hi_t, side="right")
               - np.searchsorted(v_all_t, lo_t, side="right"))
    all_paced = n_v_all == n_v
    two_one = all_paced & (n_a == 2) & (n_v == 1)
    if two_one.any():
        out["2:1"] = int(two_one.sum())
    wb = all_paced & (n_a >= 3) & (n_a <= 16) & (n_v == n_a - 1) & (held_cum[b] > held_cum[a])
    for n, c in zip(*np.unique(n_a[wb], return_counts=True), strict=True):
        out[f"{int(n)}:{int(n) - 1}"] = int(c)
    return out
