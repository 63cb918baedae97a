"""Refractory handling monitor (A-3, A-5): senses in refractory periods are marked refractory,
and a refractory sense causes no response."""

from __future__ import annotations

import numpy as np

from devicetwin.conformance.monitors._context import (
    MS,
    MonitorContext,
    MonitorResult,
    count_measurement,
    previous_index,
)
from devicetwin.conformance.stream import A_CODE, K
from devicetwin.pacemaker.markers import MarkerKind, PaceFlag

REFRACTORY_REQ = "A-5"

_ESCAPE_REASONS = (PaceFlag.SENSOR | PaceFlag.HYSTERESIS | PaceFlag.SMOOTHING | PaceFlag.NOISE
                   | PaceFlag.MAGNET | PaceFlag.SAFETY | PaceFlag.TRIGGERED)


def refractory(ctx: MonitorContext) -> MonitorResult:
    """Four checks, each a count of violations held to zero.

    - ``v_senses_in_vrp``: a VS/PVC less than VRP - tol after the previous V event (it should
      have been VR).
    - ``a_senses_in_pvarp``: an AS/AT less than PVARP - tol after a V event in modes with PVARP,
      or less than ARP - tol after an atrial event in single-chamber atrial modes (should be AR).
    - ``a_senses_in_av_delay``: in tracking modes, a second AS/AT after the atrial event that
      started the AV delay and before the V event (A-3: refractory).
    - ``tracked_refractory_senses``: a VP whose only atrial events since the last V event are
      refractory (AR), timed as if it tracked one (flagged upper-rate, or at AR + SAV +- tol and
      sooner than LRI - tol with no flag giving another reason).
    """
    lim = ctx.limits
    tol_us = lim.tolerance_us
    ev = ctx.ev
    name = "refractory"
    v_t = ev.t_us[ctx.v_idx]
    senses_v = lim.base_mode[1:2] in ("V", "D") if len(lim.base_mode) == 3 else False
    senses_a = lim.senses_atrium
    out = []

    # 1. V senses inside VRP
    vs_k = np.flatnonzero(ctx.kind_is(ctx.v_idx, MarkerKind.VS, MarkerKind.PVC))
    vs_k = vs_k[vs_k >= 1]
    gap = v_t[vs_k] - v_t[vs_k - 1]
    bad1 = v_t[vs_k][gap < lim.vrp_ms * MS - tol_us]
    out.append(count_measurement(f"{name}.v_senses_in_vrp", REFRACTORY_REQ,
                                 "non-refractory V senses inside the VRP", bad1,
                                 applicable=senses_v))

    # 2. A senses inside PVARP (or ARP)
    a_sense_mask = (ev.chamber == A_CODE) & np.isin(
        ev.kind, np.array([K[MarkerKind.AS], K[MarkerKind.AT]], dtype=np.int8))
    as_t = ev.t_us[a_sense_mask]
    has_pvarp = senses_a and lim.paces_ventricle
    if has_pvarp and as_t.size and v_t.size:
        pv = previous_index(v_t, as_t)
        ok = pv >= 0
        since = as_t - v_t[np.maximum(pv, 0)]
        bad2 = as_t[ok & (since < lim.pvarp_ms * MS - tol_us)]
        bad2 = bad2[~ctx.in_fallback(bad2)]
    elif lim.atrial_only and senses_a and as_t.size:
        a_t = ev.t_us[ctx.a_idx]
        pa = previous_index(a_t, as_t)
        ok = pa >= 0
        since = as_t - a_t[np.maximum(pa, 0)]
        bad2 = as_t[ok & (since < lim.arp_ms * MS - tol_us)]
    else:
        bad2 = np.zeros(0, dtype=np.int64)
    out.append(count_measurement(
        f"{name}.a_senses_in_pvarp", REFRACTORY_REQ,
        "non-refractory A senses inside PVARP/ARP", bad2,
        applicable=senses_a and (has_pvarp or lim.atrial_only)))

    # 3. A senses inside the AV delay (tracking modes)
    a_t = ev.t_us[ctx.a_idx]
    bad3 = np.zeros(0, dtype=np.int64)
    if lim.tracking and a_t.size >= 2:
        later = np.arange(1, a_t.size)
        is_sense = np.isin(ev.kind[ctx.a_idx[later]],
                           np.array([K[MarkerKind.AS], K[MarkerKind.AT]], dtype=np.int8))
        # no V event between the two atrial events: the second fell in the first's AV delay
        same_cycle = (np.searchsorted(v_t, a_t[later - 1], side="right")
                      == np.searchsorted(v_t, a_t[later], side="left"))
        bad3 = a_t[later][is_sense & same_cycle]
        bad3 = bad3[~ctx.in_fallback(bad3)]
    out.append(count_measurement(f"{name}.a_senses_in_av_delay", REFRACTORY_REQ,
                                 "non-refractory A senses inside a running AV delay", bad3,
                                 applicable=lim.tracking))

    # 4. VPs that tracked a refractory atrial sense
    bad4 = np.zeros(0, dtype=np.int64)
    ar_t = ev.t_us[(ev.chamber == A_CODE) & (ev.kind == K[MarkerKind.AR])]
    if lim.tracking and ar_t.size and v_t.size >= 2:
        vp_k = np.flatnonzero(ctx.kind_is(ctx.v_idx, MarkerKind.VP))
        vp_k = vp_k[vp_k >= 1]
        vp_t, prev_t = v_t[vp_k], v_t[vp_k - 1]
        j = np.searchsorted(ar_t, vp_t, side="left") - 1
        jj = np.maximum(j, 0)
        has_ar = (j >= 0) & (ar_t[jj] > prev_t)
        if a_t.size:
            ja = np.searchsorted(a_t, vp_t, side="left") - 1
            no_nonref = (ja < 0) | (a_t[np.maximum(ja, 0)] <= prev_t)
        else:
            no_nonref = np.ones(vp_t.shape, dtype=np.bool_)
        flags = ctx.flag(ctx.v_idx[vp_k], PaceFlag.UPPER_RATE)
        other = ctx.flag(ctx.v_idx[vp_k], _ESCAPE_REASONS)
        av = vp_t - ar_t[jj]
        at_sav = np.abs(av - lim.sav_ms * MS) <= tol_us
        early = (vp_t - prev_t) < lim.lri_ms * MS - tol_us
        tracked = flags | (at_sav & early & ~other)
        bad4 = vp_t[has_ar & no_nonref & tracked & ~ctx.in_fallback(vp_t)]
    out.append(count_measurement(f"{name}.tracked_refractory_senses", REFRACTORY_REQ,
                                 "V paces that tracked a refractory atrial sense", bad4,
                                 applicable=lim.tracking))
    return MonitorResult(name, tuple(out))
