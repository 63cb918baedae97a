"""Summaries: bootstrap intervals cover what they should; paired differences; upper-rate
arithmetic against the pacing brief's closed forms; comparison verdicts."""

from __future__ import annotations

import numpy as np
import pytest

from devicetwin.pacemaker.programming import Programming
from hil.trials.spec import Comparison
from hil.trials.summary import (
    Estimate,
    arm_timing,
    bootstrap_interval,
    compare,
    paired_difference,
)


def test_median_interval_covers_the_true_median_about_as_often_as_it_says() -> None:
    # 95 % intervals of the median of 60 draws of an exponential (true median ln 2):
    # coverage over 120 repetitions within binomial noise of the nominal level
    rng = np.random.default_rng(7)
    hits = 0
    for k in range(120):
        x = rng.exponential(1.0, 60)
        _, lo, hi = bootstrap_interval(x, "median", 0.95, 400, k)
        hits += lo <= np.log(2) <= hi
    assert 0.85 <= hits / 120 <= 1.0


def test_degenerate_and_tiny_samples() -> None:
    assert bootstrap_interval(np.full(10, 99.0), "median", 0.95, 200, 1) == (99.0, 99.0, 99.0)
    v, lo, hi = bootstrap_interval(np.array([3.0]), "mean", 0.95, 200, 1)
    assert v == 3.0 and np.isnan(lo) and np.isnan(hi)
    v, lo, _ = bootstrap_interval(np.array([np.nan, np.nan]), "mean", 0.95, 200, 1)
    assert np.isnan(v)


def test_paired_difference_of_a_constant_shift_is_exact() -> None:
    base = np.random.default_rng(3).normal(50.0, 10.0, 80)
    d, lo, hi, n = paired_difference(base + 5.0, base, "median", 0.95, 500, 2)
    # resampling patients with both arms together: every resample differs by exactly 5
    assert n == 80 and d == pytest.approx(5.0) and (lo, hi) == pytest.approx((5.0, 5.0))


def test_paired_difference_leaves_out_patients_missing_either_arm() -> None:
    a = np.array([1.0, 2.0, np.nan, 4.0])
    b = np.array([0.0, np.nan, 3.0, 1.0])
    d, _, _, n = paired_difference(a, b, "mean", 0.95, 200, 1)
    assert n == 2 and d == pytest.approx((1 + 4) / 2 - (0 + 1) / 2)


def test_pairing_narrows_the_interval() -> None:
    rng = np.random.default_rng(11)
    patient = rng.normal(100.0, 30.0, 100)  # large between-patient spread
    base, arm = patient + rng.normal(0, 1, 100), patient + 2 + rng.normal(0, 1, 100)
    _, lo, hi, _ = paired_difference(arm, base, "mean", 0.95, 1000, 4)
    # the within-patient noise is sd sqrt(2); unpaired the spread would be ~30 sqrt(2)
    assert lo > 1.0 and hi < 3.0


def test_arm_timing_matches_the_pacing_brief() -> None:
    # nominal: SAV 150 + PVARP 250 = TARP 400 ms -> 2:1 at 150 bpm, Wenckebach from 120 ppm
    t = arm_timing("nominal", Programming.from_plain("DDD", {}))
    assert (t.tarp_ms, t.two_to_one_bpm, t.wenckebach) == (400, 150.0, True)
    t = arm_timing("long", Programming.from_plain("DDD", {"fixed_av_delay_ms": 300,
                                                          "pvarp_ms": 200}))
    assert (t.tarp_ms, t.two_to_one_bpm, t.wenckebach) == (500, 120.0, False)  # sudden 2:1
    t = arm_timing("vvi", Programming.from_plain("VVI", {}))
    assert t.tarp_ms is None and t.two_to_one_bpm is None


def _est(arm: str, v: float) -> Estimate:
    return Estimate("ventricular_paced_percent", "all", arm, 10, v, v, v)


def test_comparison_with_a_published_result() -> None:
    c = Comparison("ventricular_paced_percent", "median", "SAVE PACe",
                   {"ddd": 99.0, "long": 9.1}, {"ddd": 90.0}, {"long": 20.0})
    ok = compare(c, {"ddd": _est("ddd", 99.5), "long": _est("long", 3.0)})
    assert ok.passed and ok.direction_reproduced and ok.within_bounds
    wrong_way = compare(c, {"ddd": _est("ddd", 5.0), "long": _est("long", 15.0)})
    assert not wrong_way.passed and wrong_way.direction_reproduced is False
    too_big = compare(c, {"ddd": _est("ddd", 99.5), "long": _est("long", 40.0)})
    assert too_big.direction_reproduced and not too_big.within_bounds
    assert any("above 20" in f for f in too_big.failures)
