"""PVC response monitor (A-6): PVC classification and PVARP extension, once, not more often
than every two cycles."""

from __future__ import annotations

import numpy as np

from devicetwin.conformance.monitors._context import (
    MS,
    MonitorContext,
    MonitorResult,
    count_between,
    count_measurement,
    previous_index,
)
from devicetwin.conformance.stream import A_CODE, K
from devicetwin.pacemaker.markers import MarkerKind

PVC_REQ = "A-6"


def pvc_response(ctx: MonitorContext) -> MonitorResult:
    """Four counts held to zero.

    - ``misclassified_v_senses`` (modes that sense the atrium): a PVC marker with an atrial event
      (AP, AS, AR, AT) since the previous V event (one at the V sense's own instant included,
      A-21: atrial first), or a VS without one.
    - ``missing_extensions`` (extension programmed): a PVC without a ``PVARP_EXT`` at its time
      (+-tol), unless the previous V event already carried one.
    - ``unexpected_extensions``: a ``PVARP_EXT`` at no PVC (nor at a VP, when PMT termination is
      on), at a PVC while the extension is Off, or at two consecutive V events.
    - ``a_senses_in_extended_pvarp``: an AS/AT inside the extended PVARP (PVARP + extension after
      a PVC, the PMT PVARP after a VP), less tol.
    """
    lim = ctx.limits
    tol_us = lim.tolerance_us
    ev = ctx.ev
    name = "pvc_response"
    v_t = ev.t_us[ctx.v_idx]
    on_a = ev.chamber == A_CODE
    a_any_t = ev.t_us[on_a & np.isin(ev.kind, np.array(
        [K[MarkerKind.AP], K[MarkerKind.AS], K[MarkerKind.AR], K[MarkerKind.AT]], dtype=np.int8))]
    is_pvc = ctx.kind_is(ctx.v_idx, MarkerKind.PVC)
    is_vs = ctx.kind_is(ctx.v_idx, MarkerKind.VS)
    prev_v = np.concatenate([[-1], v_t[:-1]]).astype(np.int64)
    # an atrial event at the V sense's own instant was handled first: it counts
    had_a = count_between(a_any_t, prev_v, v_t + 1) > 0
    # the very first V event has no previous one: any atrial event before it counts
    mis = (is_pvc & had_a) | (is_vs & ~had_a)
    out = [count_measurement(f"{name}.misclassified_v_senses", PVC_REQ,
                             "ventricular senses classified PVC/VS against A-6", v_t[mis],
                             applicable=lim.senses_atrium)]

    ext_t = ctx.x_times(MarkerKind.PVARP_EXT)
    # V event carrying each extension: the nearest V event within tol
    k = np.searchsorted(v_t, ext_t - tol_us, side="left")
    kk = np.minimum(k, max(v_t.size - 1, 0))
    at_v = (k < v_t.size) & (np.abs(v_t[kk] - ext_t) <= tol_us) if v_t.size else \
        np.zeros(ext_t.shape, dtype=np.bool_)
    ext_on_v = np.zeros(v_t.shape, dtype=np.bool_)
    ext_on_v[kk[at_v]] = True
    ext_kind_pvc = np.zeros(ext_t.shape, dtype=np.bool_)
    ext_kind_vp = np.zeros(ext_t.shape, dtype=np.bool_)
    if v_t.size:
        ext_kind_pvc = at_v & is_pvc[kk]
        ext_kind_vp = at_v & ctx.kind_is(ctx.v_idx, MarkerKind.VP)[kk]
    prev_ext = np.concatenate([[False], ext_on_v[:-1]]) if v_t.size else ext_on_v
    ext_enabled = lim.pvarp_extension_ms is not None
    missing = v_t[is_pvc & ~ext_on_v & ~prev_ext] if ext_enabled else np.zeros(0, np.int64)
    out.append(count_measurement(f"{name}.missing_extensions", PVC_REQ,
                                 "PVCs without the PVARP extension", missing,
                                 applicable=ext_enabled))
    allowed = (ext_kind_pvc & ext_enabled) | (ext_kind_vp & lim.pmt_termination)
    consecutive = np.zeros(ext_t.shape, dtype=np.bool_)
    if v_t.size:
        consecutive = at_v & prev_ext[kk]
    unexpected = ext_t[~allowed | consecutive]
    out.append(count_measurement(f"{name}.unexpected_extensions", PVC_REQ,
                                 "PVARP extensions not allowed by A-6/A-14", unexpected))

    as_t = ev.t_us[on_a & np.isin(ev.kind, np.array(
        [K[MarkerKind.AS], K[MarkerKind.AT]], dtype=np.int8))]
    bad = np.zeros(0, dtype=np.int64)
    if as_t.size and v_t.size and ext_on_v.any():
        pv = previous_index(v_t, as_t)
        ok = pv >= 0
        pvi = np.maximum(pv, 0)
        ext_len_ms = np.where(is_pvc[pvi], lim.pvarp_ms + (lim.pvarp_extension_ms or 0),
                              lim.pmt_pvarp_ms)
        inside = ok & ext_on_v[pvi] & (as_t - v_t[pvi] < ext_len_ms * MS - tol_us)
        bad = as_t[inside]
    out.append(count_measurement(f"{name}.a_senses_in_extended_pvarp", PVC_REQ,
                                 "non-refractory A senses inside an extended PVARP", bad,
                                 applicable=lim.senses_atrium and lim.paces_ventricle))
    return MonitorResult(name, tuple(out), tuple(m.name for m in out))
