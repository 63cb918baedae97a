"""The pairing kernel against a brute-force search over every order-preserving matching (a
second implementation of the same objective)."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from devicetwin.conformance._pairing import pair_sorted

TOL, WIN = 8, 100


def objective(pairs: list[tuple[int, int]], d: list[int], p: list[int]) -> tuple[int, int, int]:
    errs = [abs(d[i] - p[j]) for i, j in pairs]
    return (sum(e <= TOL for e in errs), len(pairs), -sum(errs))


def brute_best(d: list[int], p: list[int]) -> tuple[int, int, int]:
    edges = [(i, j) for i in range(len(d)) for j in range(len(p)) if abs(d[i] - p[j]) <= WIN]
    best = (0, 0, 0)
    for r in range(1, min(len(d), len(p)) + 1):
        for combo in itertools.combinations(edges, r):
            ii = [i for i, _ in combo]
            jj = [j for _, j in combo]
            # combinations keep edges sorted by (i, j): order-preserving iff both strictly rise
            if all(a < b for a, b in itertools.pairwise(ii)) and all(
                a < b for a, b in itertools.pairwise(jj)
            ):
                best = max(best, objective(list(combo), d, p))
    return best


def run(d: list[int], p: list[int]) -> list[tuple[int, int]]:
    da, pa = np.array(d, dtype=np.int64), np.array(p, dtype=np.int64)
    i, j = pair_sorted(da, pa, np.full(len(d), TOL), np.full(len(p), TOL),
                       np.full(len(d), WIN), np.full(len(p), WIN))
    return list(zip(i.tolist(), j.tolist(), strict=True))


times = st.lists(st.integers(min_value=0, max_value=400), min_size=0, max_size=5, unique=True)


@given(times, times)
def test_pairing_is_optimal(d: list[int], p: list[int]) -> None:
    d, p = sorted(d), sorted(p)
    pairs = run(d, p)
    assert all(a[0] < b[0] and a[1] < b[1] for a, b in itertools.pairwise(pairs))
    assert all(abs(d[i] - p[j]) <= WIN for i, j in pairs)
    assert objective(pairs, d, p) == brute_best(d, p)


def test_long_chain_is_paired_in_order() -> None:
    # 2000 detections every 60 ms on both sides, the device 3 ms late: one long component
    d = [60 * k + 3 for k in range(2000)]
    p = [60 * k for k in range(2000)]
    pairs = run(d, p)
    assert pairs == [(k, k) for k in range(2000)]


def test_in_tolerance_pairs_first() -> None:
    # (90, 85) within tolerance beats two out-of-tolerance pairs (0, 85) and (90, 170)
    assert run([0, 90], [85, 170]) == [(1, 0)]
