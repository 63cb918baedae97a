"""Crosstalk monitor (A-7; pacing.md section 3): every atrial pace gets a ventricular event."""

from __future__ import annotations

import numpy as np

from devicetwin.conformance.monitors._context import (
    MS,
    MonitorContext,
    MonitorResult,
    count_between,
    count_measurement,
    info_measurement,
    previous_index,
    take,
)
from devicetwin.conformance.stream import V_CODE, K
from devicetwin.pacemaker.markers import Chamber, MarkerKind, PaceFlag

CROSSTALK_REQ = "A-7"


def crosstalk(ctx: MonitorContext) -> MonitorResult:
    """In modes that pace both chambers, no atrial pace may leave the ventricle without a beat.

    For each AP the cycle's deadline is ``max(AP + PAV, last V + URI) + tol``; an AP whose
    deadline lies past the end of the run is not judged.

    - ``ap_without_v_event``: no VP, and no VS/PVC outside the safety window
      ``[AP + ventricular blanking, AP + vsp_window)``, before the deadline: a missing V pace
      (in complete heart block, asystole).
    - ``window_senses_not_paced``: a VS inside that window with no VP before the deadline, with
      safety pacing on; with it off, counted unless the heart's ground truth shows a
      non-paced ventricular activation in the cycle (without ground truth, counted).
    - ``safety_paces`` (informational): VPs flagged ``SAFETY``.
    """
    lim = ctx.limits
    ev = ctx.ev
    name = "crosstalk"
    applicable = lim.dual_paced
    ap_t = ev.t_us[ctx.a_idx[ctx.kind_is(ctx.a_idx, MarkerKind.AP)]]
    on_v = ev.chamber == V_CODE
    vp_pos = np.flatnonzero(on_v & (ev.kind == K[MarkerKind.VP]))
    vp_t = ev.t_us[vp_pos]
    vs_t = ev.t_us[on_v & np.isin(ev.kind, np.array([K[MarkerKind.VS], K[MarkerKind.PVC]],
                                                    dtype=np.int8))]
    v_t = ev.t_us[ctx.v_idx]
    safety_t = vp_t[(ev.flags[vp_pos] & int(PaceFlag.SAFETY)) != 0]
    if not applicable or ap_t.size == 0:
        return MonitorResult(name, (
            count_measurement(f"{name}.ap_without_v_event", CROSSTALK_REQ,
                              "atrial paces with no ventricular event", ap_t[:0],
                              applicable=False),
            count_measurement(f"{name}.window_senses_not_paced", CROSSTALK_REQ,
                              "safety-window V senses with no V pace", ap_t[:0],
                              applicable=False),
        ), (f"{name}.ap_without_v_event", f"{name}.window_senses_not_paced"))
    pv = previous_index(v_t, ap_t)
    prev_v = take(v_t, pv, -(10**12))
    deadline = np.maximum(ap_t + lim.pav_ms * MS, prev_v + lim.uri_ms * MS) \
        + lim.tolerance_us
    # the next AP bounds the cycle too
    nxt_ap = np.concatenate([ap_t[1:], [np.iinfo(np.int64).max]])
    deadline = np.minimum(deadline, nxt_ap)
    w_lo = ap_t + lim.ventricular_blanking_ms * MS
    w_hi = ap_t + lim.vsp_window_ms * MS
    n_vp = count_between(vp_t, ap_t, deadline + 1)
    n_vs_all = count_between(vs_t, ap_t, deadline + 1)
    n_vs_win = count_between(vs_t, w_lo - 1, w_hi)
    n_vs_out = n_vs_all - n_vs_win
    # a cycle whose deadline lies past the end of the run is not judged: its VP was still due
    judged = deadline <= ctx.end_us
    missing = ap_t[judged & (n_vp == 0) & (n_vs_out == 0) & (n_vs_win == 0)]
    win_unpaced = judged & (n_vs_win > 0) & (n_vp == 0) & (n_vs_out == 0)
    if not lim.safety_pacing and ctx.activations is not None:
        real = ctx.activations.of(Chamber.V, paced=False)
        win_unpaced &= count_between(real, ap_t, deadline + 1) == 0
    return MonitorResult(name, (
        count_measurement(f"{name}.ap_without_v_event", CROSSTALK_REQ,
                          "atrial paces with no ventricular event in their cycle", missing),
        count_measurement(f"{name}.window_senses_not_paced", CROSSTALK_REQ,
                          "atrial paces whose only V event is a safety-window sense, unpaced",
                          ap_t[win_unpaced]),
        info_measurement(f"{name}.safety_paces", CROSSTALK_REQ, "safety paces delivered",
                         float(safety_t.size), "events", safety_t),
    ), (f"{name}.ap_without_v_event", f"{name}.window_senses_not_paced"))
