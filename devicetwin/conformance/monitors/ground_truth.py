"""Monitors that need the heart's ground truth: loss of capture and far-field oversensing
(pacing.md section 3)."""

from __future__ import annotations

import numpy as np

from devicetwin.conformance.monitors._context import (
    MS,
    MonitorContext,
    MonitorResult,
    count_between,
    count_measurement,
    info_measurement,
)
from devicetwin.conformance.monitors.atr import short_counts
from devicetwin.conformance.stream import CHAMBER_CODE, K
from devicetwin.pacemaker.markers import Chamber, MarkerKind

CAPTURE_REQ = "HAZ-loss_of_capture"
FAR_FIELD_REQ = "HAZ-far_field_oversensing"

#: An atrial detection is explained by an atrial activation that began up to this long before
#: it (conduction to the lead and the front end's detection latency) ...
FAR_FIELD_BEFORE_MS = 120
#: ... or up to this long after it.
FAR_FIELD_AFTER_MS = 20
#: A ground-truth atrial activation interval shorter than this (faster than 250 bpm, the
#: flutter/fibrillation range) marks the atrium as disorganised around it: the heart stamps
#: fibrillation wavelets at their origin, so their timing cannot attribute a detection.
DISORGANISED_INTERVAL_MS = 240
#: How far back from a detection a disorganised interval makes the atrium count as fibrillating.
DISORGANISED_LOOKBACK_MS = 1000
#: Refractory window of the tissue per chamber: a pace this soon after a depolarisation of its
#: chamber falls on refractory tissue and cannot capture (pacing.md), so it is no loss of capture.
TISSUE_REFRACTORY_MS = {Chamber.A: 200, Chamber.V: 250}


def loss_of_capture(ctx: MonitorContext) -> MonitorResult:
    """Paces whose ground-truth record says they did not capture.

    Each device pace is looked up among the heart's ``PACED`` activations of its chamber within
    +-tol; one found with ``captured`` False is a loss of capture, unless the chamber depolarised
    (a non-paced or a captured paced activation) in ``[pace - refractory, pace + tol]`` (200 ms
    A, 250 ms V): such a pace (triggered, safety, asynchronous) fell on refractory tissue,
    functional non-capture, counted informationally. Paces the heart has no record of are counted
    separately (informational).
    """
    name = "loss_of_capture"
    ev = ctx.ev
    acts = ctx.activations
    key = f"{name}.non_captured_paces"
    if acts is None:
        return MonitorResult(name, (count_measurement(
            key, CAPTURE_REQ, "paces that did not capture", ev.t_us[:0], applicable=False),),
            (key,))
    tol_us = ctx.limits.tolerance_us
    bad: list[np.ndarray] = []
    refractory: list[np.ndarray] = []
    unknown: list[np.ndarray] = []
    for chamber, kind in ((Chamber.A, MarkerKind.AP), (Chamber.V, MarkerKind.VP)):
        p_t = ev.t_us[(ev.chamber == CHAMBER_CODE[chamber]) & (ev.kind == K[kind])]
        sel = (acts.chamber == CHAMBER_CODE[chamber]) & acts.paced
        g_t, g_cap = acts.t_us[sel], acts.captured[sel]
        if p_t.size == 0:
            continue
        if g_t.size == 0:
            unknown.append(p_t)
            continue
        j = np.searchsorted(g_t, p_t - tol_us, side="left")
        jj = np.minimum(j, g_t.size - 1)
        found = (j < g_t.size) & (np.abs(g_t[jj] - p_t) <= tol_us)
        on_ch = acts.chamber == CHAMBER_CODE[chamber]
        depol = acts.t_us[on_ch & (~acts.paced | acts.captured)]
        refr_us = TISSUE_REFRACTORY_MS[chamber] * MS
        in_refr = count_between(depol, p_t - refr_us - 1, p_t + tol_us + 1) > 0
        not_cap = found & ~g_cap[jj]
        bad.append(p_t[not_cap & ~in_refr])
        refractory.append(p_t[not_cap & in_refr])
        unknown.append(p_t[~found])
    bad_t = np.sort(np.concatenate(bad)) if bad else ev.t_us[:0]
    refr_t = np.sort(np.concatenate(refractory)) if refractory else ev.t_us[:0]
    unk_t = np.sort(np.concatenate(unknown)) if unknown else ev.t_us[:0]
    return MonitorResult(name, (
        count_measurement(key, CAPTURE_REQ, "paces that did not capture (ground truth)", bad_t),
        info_measurement(f"{name}.refractory_non_captured_paces", CAPTURE_REQ,
                         "paces into refractory tissue (functional non-capture)",
                         float(refr_t.size), "events", refr_t),
        info_measurement(f"{name}.paces_without_ground_truth", CAPTURE_REQ,
                         "paces the heart has no record of", float(unk_t.size), "events", unk_t),
    ), (key,))


def far_field(ctx: MonitorContext) -> MonitorResult:
    """Atrial detections that no atrial activation explains, and what the device did with them.

    A detection (AS, AR, AT) is oversensed when no non-paced atrial activation nor captured
    atrial pace began within ``[t - 120 ms, t + 20 ms]`` and the atrium was organised: no
    ground-truth atrial activation interval under 240 ms ended in ``[t - 1 s, t + 20 ms]``
    (in flutter/fibrillation the heart stamps wavelets at their origin, so timing cannot tell
    far field from fibrillation there). Two counts are held to zero:

    - ``tracked_oversensed``: a VP whose AV delay was started by an oversensed AS/AT (tracking
      modes).
    - ``false_mode_switches``: an ``ATR_DUR`` while fewer than 8 of the last 10 ground-truth
      atrial activation intervals were shorter than the URI.
    """
    name = "far_field_oversensing"
    ev = ctx.ev
    acts = ctx.activations
    keys = (f"{name}.tracked_oversensed", f"{name}.false_mode_switches")
    if acts is None:
        return MonitorResult(name, tuple(count_measurement(
            k, FAR_FIELD_REQ, d, ev.t_us[:0], applicable=False) for k, d in (
            (keys[0], "V paces tracking an oversensed atrial detection"),
            (keys[1], "mode switches without an atrial tachyarrhythmia"))), keys)
    lim = ctx.limits
    sel_a = (acts.chamber == CHAMBER_CODE[Chamber.A]) & (~acts.paced | acts.captured)
    true_a = acts.t_us[sel_a]
    det_t = ev.t_us[ctx.a_det_idx]
    explained = count_between(true_a, det_t - FAR_FIELD_BEFORE_MS * MS - 1,
                              det_t + FAR_FIELD_AFTER_MS * MS + 1) > 0
    if true_a.size >= 2:
        short_end = true_a[1:][np.diff(true_a) < DISORGANISED_INTERVAL_MS * MS]
        explained |= count_between(short_end, det_t - DISORGANISED_LOOKBACK_MS * MS - 1,
                                   det_t + FAR_FIELD_AFTER_MS * MS + 1) > 0
    over_t = det_t[~explained]
    det_kind = ev.kind[ctx.a_det_idx]
    nonref_over = ~explained & np.isin(det_kind, np.array([K[MarkerKind.AS], K[MarkerKind.AT]],
                                                          dtype=np.int8))
    tracked = ev.t_us[:0]
    if lim.tracking and nonref_over.any():
        v_t = ev.t_us[ctx.v_idx]
        cand = det_t[nonref_over]
        k = np.searchsorted(v_t, cand, side="right")
        has_v = k < v_t.size
        kk = np.minimum(k, max(v_t.size - 1, 0))
        is_vp = ctx.kind_is(ctx.v_idx, MarkerKind.VP)[kk] if v_t.size else has_v
        a_t = ev.t_us[ctx.a_idx]
        # the oversensed sense is the last timing atrial event before that VP
        last_a = np.searchsorted(a_t, v_t[kk], side="left") - 1 if v_t.size else kk
        is_last = a_t[np.maximum(last_a, 0)] == cand if a_t.size else has_v
        tracked = cand[has_v & is_vp & is_last & ~ctx.in_fallback(cand)]
    dur_t = ctx.x_times(MarkerKind.ATR_DUR)
    false_sw = ev.t_us[:0]
    if dur_t.size:
        cnt = short_counts(true_a, lim.uri_ms)
        j = np.searchsorted(true_a, dur_t, side="right") - 1
        real = (j >= 0) & (cnt[np.maximum(j, 0)] >= 8) if true_a.size else j < -1
        false_sw = dur_t[~real]
    return MonitorResult(name, (
        count_measurement(keys[0], FAR_FIELD_REQ,
                          "V paces tracking an oversensed atrial detection", tracked),
        count_measurement(keys[1], FAR_FIELD_REQ,
                          "mode switches without an atrial tachyarrhythmia (ground truth)",
                          false_sw),
        info_measurement(f"{name}.oversensed_atrial_detections", FAR_FIELD_REQ,
                         "atrial detections no atrial activation explains",
                         float(over_t.size), "events", over_t),
    ), keys)
