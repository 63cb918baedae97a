"""Optimal order-preserving pairing of two sorted time sequences (the matcher's kernel).

Among order-preserving pairings (device event i before i' pairs with predicted j before j': the
two streams are ordered in time, and a crossing pair would explain one event by a partner on the
far side of another), pairs maximise, in this order: the number of pairs within tolerance, the
number of pairs within the search window, and then minimise the summed absolute time error. A
dynamic programme over the two sequences finds the optimum (an edit-distance recurrence). Two
observations make it linear in practice:

1. Components. Merge both sequences; wherever two neighbours are more than the largest window
   apart no pair can straddle the gap, so the problem splits there. Most components hold one
   device and one predicted event and are paired in one vectorised step.
2. Bands. Inside a larger component (e.g. an atrial fibrillation episode, where detections on
   both sides chain together), the state ``F(i, j)`` (best over the first ``i`` device and first
   ``j`` predicted events) only needs computing where predicted event ``j - 1`` lies within the
   window of device event ``i - 1``: outside that band it equals a band state or zero, found by
   clipping ``j`` to the band end or dropping device events that cannot pair (``_canon``).
"""

from __future__ import annotations

from bisect import bisect_left

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]


def pair_sorted(
    d_t: I64, p_t: I64, d_tol: I64, p_tol: I64, d_win: I64, p_win: I64
) -> tuple[I64, I64]:
    """Pair sorted device times ``d_t`` with sorted predicted times ``p_t``.

    Parameters
    ----------
    d_t, p_t:
        Sorted event times (any integer unit, the same for all arguments).
    d_tol, p_tol:
        Per-event tolerance; a pair is within tolerance when its absolute error is at most the
        larger of its two events' tolerances.
    d_win, p_win:
        Per-event search window; a pair is allowed when its absolute error is at most the larger
        of its two windows.

    Returns
    -------
    (d_index, p_index):
        Indices of the paired events, in increasing order of both.
    """
    n, m = int(d_t.shape[0]), int(p_t.shape[0])
    empty = np.zeros(0, dtype=np.int64)
    if n == 0 or m == 0:
        return empty, empty
    w_max = int(max(int(d_win.max()), int(p_win.max())))
    times = np.concatenate([d_t, p_t])
    is_p = np.concatenate([np.zeros(n, dtype=np.bool_), np.ones(m, dtype=np.bool_)])
    order = np.argsort(times, kind="stable")
    ts = times[order]
    new = np.empty(n + m, dtype=np.bool_)
    new[0] = True
    new[1:] = np.diff(ts) > w_max
    comp = np.cumsum(new) - 1
    n_comp = int(comp[-1]) + 1
    src_p = is_p[order]
    nd = np.bincount(comp[~src_p], minlength=n_comp)
    npr = np.bincount(comp[src_p], minlength=n_comp)
    d_start = np.concatenate([[0], np.cumsum(nd)[:-1]])
    p_start = np.concatenate([[0], np.cumsum(npr)[:-1]])

    out_d: list[I64] = []
    out_p: list[I64] = []
    simple = (nd == 1) & (npr == 1)
    si, sj = d_start[simple], p_start[simple]
    if si.size:
        err = np.abs(d_t[si] - p_t[sj])
        ok = err <= np.maximum(d_win[si], p_win[sj])
        out_d.append(si[ok])
        out_p.append(sj[ok])
    for c in np.flatnonzero((nd > 0) & (npr > 0) & ~simple).tolist():
        a, b = int(d_start[c]), int(p_start[c])
        na, nb = int(nd[c]), int(npr[c])
        di, pj = _band_dp(
            d_t[a:a + na], p_t[b:b + nb], d_tol[a:a + na], p_tol[b:b + nb],
            d_win[a:a + na], p_win[b:b + nb], w_max,
        )
        out_d.append(di + a)
        out_p.append(pj + b)
    if not out_d:
        return empty, empty
    di_all = np.concatenate(out_d).astype(np.int64)
    pj_all = np.concatenate(out_p).astype(np.int64)
    srt = np.argsort(di_all, kind="stable")
    return di_all[srt], pj_all[srt]


_UP, _LEFT, _DIAG = 0, 1, 2


def _band_dp(
    d_arr: I64, p_arr: I64, d_tol_a: I64, p_tol_a: I64, d_win_a: I64, p_win_a: I64, w_max: int
) -> tuple[I64, I64]:
    n, m = int(d_arr.shape[0]), int(p_arr.shape[0])
    lo: list[int] = np.searchsorted(p_arr, d_arr - w_max, side="left").tolist()
    hi: list[int] = np.searchsorted(p_arr, d_arr + w_max, side="right").tolist()
    d: list[int] = d_arr.tolist()
    p: list[int] = p_arr.tolist()
    dtol, ptol = d_tol_a.tolist(), p_tol_a.tolist()
    dwin, pwin = d_win_a.tolist(), p_win_a.tolist()
    big_b = w_max * (n + m + 1) + 1
    big_a = big_b * (n + m + 1)
    # rows[i][j - lo[i-1] - 1] holds F(i, j) for j in (lo[i-1], hi[i-1]]; choice likewise.
    rows: list[list[int]] = [[]]
    choice: list[list[int]] = [[]]

    def canon(i: int, j: int) -> tuple[int, int]:
        while i > 0 and j > 0:
            if j > hi[i - 1]:
                j = hi[i - 1]
            elif j <= lo[i - 1]:
                i = bisect_left(lo, j, 0, i)
            else:
                return i, j
        return 0, 0

    def get(i: int, j: int) -> int:
        ci, cj = canon(i, j)
        if ci == 0:
            return 0
        return rows[ci][cj - lo[ci - 1] - 1]

    for i in range(1, n + 1):
        lo_i, hi_i = lo[i - 1], hi[i - 1]
        row: list[int] = []
        ch: list[int] = []
        di = d[i - 1]
        for j in range(lo_i + 1, hi_i + 1):
            best = get(i - 1, j)
            how = _UP
            left = row[-1] if row else get(i, j - 1)
            if left > best:
                best, how = left, _LEFT
            err = abs(di - p[j - 1])
            if err <= max(dwin[i - 1], pwin[j - 1]):
                w = big_b - err
                if err <= max(dtol[i - 1], ptol[j - 1]):
                    w += big_a
                diag = get(i - 1, j - 1) + w
                if diag > best:
                    best, how = diag, _DIAG
            row.append(best)
            ch.append(how)
        rows.append(row)
        choice.append(ch)

    pairs_d: list[int] = []
    pairs_p: list[int] = []
    i, j = canon(n, m)
    while i > 0:
        how = choice[i][j - lo[i - 1] - 1]
        if how == _DIAG:
            pairs_d.append(i - 1)
            pairs_p.append(j - 1)
            i, j = canon(i - 1, j - 1)
        elif how == _UP:
            i, j = canon(i - 1, j)
        else:
            i, j = canon(i, j - 1)
    pairs_d.reverse()
    pairs_p.reverse()
    return np.asarray(pairs_d, dtype=np.int64), np.asarray(pairs_p, dtype=np.int64)
