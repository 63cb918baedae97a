"""AV delay monitor (A-3, A-4): AP->VP = PAV, AS->VP = SAV or held to the URI, +-tol."""

from __future__ import annotations

import numpy as np

from devicetwin.conformance.limits import TimingLimits
from devicetwin.conformance.monitors._context import MS, MonitorContext, MonitorResult, evidence
from devicetwin.conformance.statistics import SignedStats
from devicetwin.conformance.stream import I64, K
from devicetwin.conformance.verdicts import Limits, Measurement
from devicetwin.pacemaker.markers import MarkerKind, PaceFlag

AV_DELAY_REQ = "A-4"


def _av_ms(lim: TimingLimits, vv_ms: I64, sensed: bool) -> I64:
    """Vectorised A-4: the AV delay for previous V-V cycles ``vv_ms`` (-1: unknown)."""
    fixed = lim.pav_ms
    lo = lim.dynamic_av_min_ms
    if lo is None:
        return np.full(vv_ms.shape, lim.sav_ms if sensed else fixed, dtype=np.int64)
    span = lim.lri_ms - lim.uri_ms
    mid = lo + ((fixed - lo) * (vv_ms - lim.uri_ms)) // max(span, 1)
    avd = np.where((vv_ms < 0) | (vv_ms >= lim.lri_ms), fixed,
                   np.where(vv_ms <= lim.uri_ms, lo, mid)).astype(np.int64)
    if sensed:
        avd = np.maximum(30, avd + lim.sensed_av_offset_ms)
    return avd


def _vdd_escape_us(ctx: MonitorContext, vp_k: I64, prev_v: I64) -> I64:
    """VDD: when the ventricular escape of each VP (positions ``vp_k`` in ``ctx.v_idx``) ends:
    ``last V + HRI`` after a VS when hysteresis is on (A-9), ``last V + LRI`` otherwise; never
    (int64 max) for a VP with no previous V event."""
    lim = ctx.limits
    far = np.iinfo(np.int64).max
    prev_k = np.maximum(vp_k - 1, 0)
    after_vs = ctx.kind_is(ctx.v_idx[prev_k], MarkerKind.VS)
    hri = lim.hysteresis_interval_ms
    esc_ms = np.where(after_vs & (hri is not None), hri or lim.lri_ms, lim.lri_ms)
    out: I64 = np.where(prev_v >= 0, prev_v + esc_ms * MS, far).astype(np.int64)
    return out


def av_delay(ctx: MonitorContext) -> MonitorResult:
    """Each VP that closes an AV delay comes at its expected time +-tol.

    The AV delay is started by the last atrial event (AP, or AS/AT in tracking modes) after the
    previous ventricular event. Expected: ``A + AV``, and in tracking modes not before
    ``last V + URI`` (A-3); in VDD not after the ventricular escape ``last V + LRI`` (HRI after
    a VS under hysteresis), which keeps running during the sensed AV delay (A-21). Safety
    paces (checked by the crosstalk monitor) and smoothing paces
    (whose bound the markers do not carry) are skipped, as are paces in ATR fallback.
    The value is the largest absolute error in ms; the signed errors (VP minus expected, us)
    go with it, so a VP that is always a little early shows as a negative bias.
    """
    lim = ctx.limits
    tol_ms = lim.tolerance_us / MS  # exact: 2.5 for 2500 us
    name = "av_delay"
    p_lim = Limits(high=tol_ms)
    d_p = "largest AP->VP error against the paced AV delay"
    d_s = "largest AS->VP error against the sensed AV delay (or URI hold)"
    applicable = lim.paces_ventricle and (lim.paces_atrium or lim.tracking)
    ev = ctx.ev
    v_t = ev.t_us[ctx.v_idx]
    vp_sel = ctx.kind_is(ctx.v_idx, MarkerKind.VP) & ~ctx.flag(
        ctx.v_idx, PaceFlag.SAFETY | PaceFlag.SMOOTHING)
    vp_k = np.flatnonzero(vp_sel)
    a_t = ev.t_us[ctx.a_idx]
    if not applicable or vp_k.size == 0 or a_t.size == 0:
        return MonitorResult(name, (
            Measurement(f"{name}.max_paced_av_error_ms", AV_DELAY_REQ, None, "ms", p_lim, d_p),
            Measurement(f"{name}.max_sensed_av_error_ms", AV_DELAY_REQ, None, "ms", p_lim, d_s),
        ))
    vp_t = v_t[vp_k]
    prev_v = np.where(vp_k >= 1, v_t[np.maximum(vp_k - 1, 0)], -1)
    prev2_v = np.where(vp_k >= 2, v_t[np.maximum(vp_k - 2, 0)], -1)
    vv = np.where(vp_k >= 2, (prev_v - prev2_v) // MS, -1)
    j = np.searchsorted(a_t, vp_t, side="left") - 1
    jj = np.maximum(j, 0)
    has_a = (j >= 0) & (a_t[jj] > prev_v)
    a_kind = ev.kind[ctx.a_idx[jj]]
    is_ap = a_kind == K[MarkerKind.AP]
    ok = has_a & ~ctx.in_fallback(vp_t)
    results: list[Measurement] = []
    for sensed, desc, mname in ((False, d_p, "max_paced_av_error_ms"),
                                (True, d_s, "max_sensed_av_error_ms")):
        sel = ok & (~is_ap if sensed else is_ap)
        if sensed and not lim.tracking:
            sel = np.zeros_like(sel)
        if not sel.any():
            results.append(Measurement(f"{name}.{mname}", AV_DELAY_REQ, None, "ms", p_lim, desc))
            continue
        av = _av_ms(lim, vv[sel], sensed)
        expected = a_t[jj[sel]] + av * MS
        if lim.tracking:
            held = np.where(prev_v[sel] >= 0, prev_v[sel] + lim.uri_ms * MS, 0)
            expected = np.maximum(expected, held)
        if sensed and lim.base_mode == "VDD":
            # the ventricular escape keeps running during the sensed AV delay
            expected = np.minimum(expected, _vdd_escape_us(ctx, vp_k[sel], prev_v[sel]))
        err_us = vp_t[sel] - expected
        abs_ms = np.abs(err_us) / MS
        bad = abs_ms > tol_ms  # the same float comparison judge() makes
        reference = "expected VP (AS + SAV, A-4)" if sensed else "expected VP (AP + PAV, A-4)"
        results.append(Measurement(f"{name}.{mname}", AV_DELAY_REQ, float(abs_ms.max()), "ms",
                                   p_lim, desc, evidence(vp_t[sel][bad]),
                                   SignedStats.of(err_us, reference)))
    return MonitorResult(name, tuple(results))
