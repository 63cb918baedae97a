"""Noise reversion monitor (A-11): while a channel is noisy, its chamber is paced
asynchronously at the programmed rate."""

from __future__ import annotations

import numpy as np

from devicetwin.conformance.monitors._context import MS, MonitorContext, MonitorResult, evidence
from devicetwin.conformance.stream import CHAMBER_CODE, K
from devicetwin.conformance.verdicts import Limits, Measurement
from devicetwin.pacemaker.markers import Chamber, MarkerKind

NOISE_REQ = "A-11"


def noise_reversion(ctx: MonitorContext) -> MonitorResult:
    """For each noise episode, the longest gap between paces of the noisy chamber.

    An episode is a run of ``TN`` markers on one channel whose neighbours are less than
    ``noise_interval_ms`` apart; it lasts until ``noise_interval_ms`` after its last TN. Within
    it (from the chamber's last timing event before it), paces must come at least every
    escape interval (HRI when hysteresis is programmed, else LRI) + tol. Chambers the mode does
    not pace are skipped.
    """
    lim = ctx.limits
    ev = ctx.ev
    name = "noise_reversion"
    limit_ms = lim.max_escape_ms + lim.tolerance_us / MS  # exact: tolerance in us
    limit = Limits(high=limit_ms)
    desc = "longest gap between paces of a noisy chamber during noise"
    gaps: list[int] = []
    gap_t: list[int] = []
    episodes = 0
    for chamber, paced, pace_kind, timing_idx in (
        (Chamber.A, lim.paces_atrium, MarkerKind.AP, ctx.a_idx),
        (Chamber.V, lim.paces_ventricle, MarkerKind.VP, ctx.v_idx),
    ):
        on_c = ev.chamber == CHAMBER_CODE[chamber]
        tn_t = ev.t_us[on_c & (ev.kind == K[MarkerKind.TN])]
        if tn_t.size == 0 or not paced:
            continue
        pace_t = ev.t_us[on_c & (ev.kind == K[pace_kind])]
        timing_t = ev.t_us[timing_idx]
        brk = np.flatnonzero(np.diff(tn_t) >= lim.noise_interval_ms * MS)
        starts = np.concatenate([[0], brk + 1])
        ends = np.concatenate([brk, [tn_t.size - 1]])
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            episodes += 1
            t_s = int(tn_t[s])
            t_e = min(int(tn_t[e]) + lim.noise_interval_ms * MS, ctx.end_us)
            j = int(np.searchsorted(timing_t, t_s, side="right")) - 1
            anchor = int(timing_t[j]) if j >= 0 else t_s
            a = int(np.searchsorted(pace_t, t_s, side="right"))
            b = int(np.searchsorted(pace_t, t_e, side="right"))
            marks = [anchor, *pace_t[a:b].tolist(), t_e]
            d = np.diff(np.asarray(marks, dtype=np.int64))
            k = int(np.argmax(d))
            gaps.append(int(d[k]))
            gap_t.append(int(marks[k + 1]))
    if not gaps:
        return MonitorResult(name, (Measurement(f"{name}.longest_gap_ms", NOISE_REQ, None, "ms",
                                                limit, desc),), (f"{name}.longest_gap_ms",))
    g = np.asarray(gaps, dtype=np.int64) / MS  # ms, exact
    bad = np.asarray(gap_t, dtype=np.int64)[g > limit_ms]
    return MonitorResult(name, (
        Measurement(f"{name}.longest_gap_ms", NOISE_REQ, float(g.max()), "ms", limit, desc,
                    evidence(bad)),
        Measurement(f"{name}.episodes", NOISE_REQ, float(episodes), "episodes", Limits(),
                    "noise episodes seen"),
    ), (f"{name}.longest_gap_ms",))
