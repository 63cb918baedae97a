"""Pacemaker-mediated tachycardia monitor (A-14; pacing.md sections 2-3)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from devicetwin.conformance.monitors._context import (
    MS,
    MonitorContext,
    MonitorResult,
    count_between,
    info_measurement,
)
from devicetwin.conformance.stream import K
from devicetwin.conformance.verdicts import Limits, Measurement
from devicetwin.pacemaker.markers import MarkerKind

PMT_REQ = "A-14"


@dataclass(frozen=True, slots=True)
class PmtRun:
    """One run of consecutive VP->AS cycles at or near the URL.

    ``start_t_us`` is the first VP of the run, ``end_t_us`` the VP after which the atrial sense
    was no longer tracked. ``terminated`` is False when the run lasts to the end of the stream;
    ``by_device`` when the device marked a PVARP extension at ``end_t_us``.
    """

    start_t_us: int
    end_t_us: int
    cycles: int
    terminated: bool
    by_device: bool

    @property
    def time_to_termination_ms(self) -> float | None:
        """Time from the run's first VP to its terminating VP, in ms (None if unterminated)."""
        return (self.end_t_us - self.start_t_us) / MS if self.terminated else None


def pmt(ctx: MonitorContext) -> MonitorResult:
    """Find runs of PMT cycles; a run longer than ``pmt_hazard_cycles`` is the PMT hazard.

    A PMT cycle goes from a VP to the next V event, also a VP, with exactly one non-refractory
    atrial event between them, an AS/AT (no AP) sensed less than ``pmt_va_max_ms`` after the
    first VP, tracked by the second (its AV delay at least SAV - tol), and a V-V interval at most
    ``uri_ms * (100 + near_url_pct) / 100 + tol``. Runs are maximal chains of such cycles.
    """
    lim = ctx.limits
    tol_us = lim.tolerance_us
    ev = ctx.ev
    name = "pmt"
    lim_run = Limits(high=lim.pmt_hazard_cycles)
    desc = "longest run of VP->AS cycles at or near the URL"
    if not lim.tracking or ctx.v_idx.size < 2:
        return MonitorResult(name, (Measurement(f"{name}.longest_run_cycles", PMT_REQ, None,
                                                "cycles", lim_run, desc),),
                             (f"{name}.longest_run_cycles",), {"runs": []})
    v_t = ev.t_us[ctx.v_idx]
    is_vp = ctx.kind_is(ctx.v_idx, MarkerKind.VP)
    a_t = ev.t_us[ctx.a_idx]
    a_is_sense = np.isin(ev.kind[ctx.a_idx],
                         np.array([K[MarkerKind.AS], K[MarkerKind.AT]], dtype=np.int8))
    t0, t1 = v_t[:-1], v_t[1:]
    n_a = count_between(a_t, t0, t1)
    first = np.searchsorted(a_t, t0, side="right")
    fi = np.minimum(first, max(a_t.size - 1, 0))
    if a_t.size:
        ok_a = (n_a == 1) & a_is_sense[fi]
        va = a_t[fi] - t0
        av = t1 - a_t[fi]
    else:
        ok_a = np.zeros(t0.shape, dtype=np.bool_)
        va = av = np.zeros(t0.shape, dtype=np.int64)
    near_us = (lim.uri_ms * (100 + lim.near_url_pct) // 100) * MS + tol_us
    cyc = (is_vp[:-1] & is_vp[1:] & ok_a & (va < lim.pmt_va_max_ms * MS)
           & (av >= lim.sav_ms * MS - tol_us) & (t1 - t0 <= near_us))
    ext_t = ctx.x_times(MarkerKind.PVARP_EXT)
    runs: list[PmtRun] = []
    idx = np.flatnonzero(cyc)
    if idx.size:
        breaks = np.flatnonzero(np.diff(idx) != 1)
        starts = np.concatenate([[0], breaks + 1])
        ends = np.concatenate([breaks, [idx.size - 1]])
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            k0, k1 = int(idx[s]), int(idx[e]) + 1  # first VP, last VP of the run (V indices)
            end_t = int(v_t[k1])
            terminated = k1 < v_t.size - 1
            j = int(np.searchsorted(ext_t, end_t - tol_us, side="left"))
            by_dev = j < ext_t.size and abs(int(ext_t[j]) - end_t) <= tol_us
            runs.append(PmtRun(int(v_t[k0]), end_t, k1 - k0, terminated, by_dev))
    longest = max((r.cycles for r in runs), default=0)
    bad = np.array([r.start_t_us for r in runs if r.cycles > lim.pmt_hazard_cycles],
                   dtype=np.int64)
    ms = [
        Measurement(f"{name}.longest_run_cycles", PMT_REQ, float(longest), "cycles", lim_run,
                    desc, tuple(bad.tolist())),
        info_measurement(f"{name}.runs", PMT_REQ, "runs of VP->AS cycles", float(len(runs)),
                         "runs", np.array([r.start_t_us for r in runs], dtype=np.int64)),
    ]
    ttt = [r.time_to_termination_ms for r in runs if r.time_to_termination_ms is not None]
    ms.append(info_measurement(f"{name}.max_time_to_termination_ms", PMT_REQ,
                               "longest time from a run's start to its termination",
                               max(ttt) if ttt else None, "ms"))
    return MonitorResult(name, tuple(ms), (f"{name}.longest_run_cycles",), {"runs": runs})


__all__ = ["PMT_REQ", "PmtRun", "pmt"]
