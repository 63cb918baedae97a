"""The validation's replay prediction and headline figures, on hand-built draws and results
whose figures follow by arithmetic."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devicetwin.heart.conditions import Condition
from devicetwin.twin.calibration import (
    BINARY_PRIORS,
    CONTINUOUS_PRIORS,
    Calibration,
    fast_segment,
)
from devicetwin.twin.calibration_abc import AbcPosterior, AbcSettings
from devicetwin.twin.calibration_protocol import recording_protocol
from devicetwin.twin.calibration_summaries import (
    intrinsic_summaries,
    pacing_summaries,
    summary_names,
)
from devicetwin.twin.calibration_validation import (
    PatientResult,
    ReplayPrediction,
    ReplayTruth,
    matching_draws,
    summarise_replay,
    validation_figures,
)
from devicetwin.twin.errors import TwinError


def test_split_posterior_predicts_the_heavier_mode_not_the_mean() -> None:
    # 7 of 12 draws conduct through the replay's AV delay (0-2 % pacing), 5 are paced (97-100 %):
    # the mean (about 41 %) is near neither outcome; the median lies in the heavier mode
    vps = [0.0, 1.0, 2.0, 0.5, 1.5, 0.0, 1.0, 97.0, 98.0, 99.0, 100.0, 100.0]
    pred = summarise_replay(vps, [False] * 12)
    # sorted: 0, 0, 0.5, 1, 1, 1.5, 2, 97, ...: the median is (1.5 + 2) / 2
    assert pred.ventricular_paced_percent == 1.75
    assert pred.pmt_probability == 0.0 and not pred.pmt
    assert pred.ventricular_paced_low90 == pytest.approx(0.0)
    assert pred.ventricular_paced_high90 == pytest.approx(100.0)
    # the other way round: 7 paced, 5 conducting
    pred = summarise_replay([100.0 - v for v in vps], [True] * 6 + [False] * 6)
    # sorted: 0, 0, 1, 2, 3, 98, 98.5, 99, ...: (98 + 98.5) / 2
    assert pred.ventricular_paced_percent == 98.25
    assert pred.pmt_probability == 0.5 and pred.pmt


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.0, 100.0), min_size=1, max_size=60))
def test_the_prediction_minimises_the_mean_absolute_error_over_the_draws(
        vps: list[float]) -> None:
    # the median minimises sum |v - c| over c: no other candidate (the mean, the draws
    # themselves) does better
    med = summarise_replay(vps, [False] * len(vps)).ventricular_paced_percent

    def loss(c: float) -> float:
        return sum(abs(v - c) for v in vps)

    for c in [sum(vps) / len(vps), *vps]:
        assert loss(med) <= loss(c) + 1e-7


def test_draws_must_pair_up() -> None:
    with pytest.raises(TwinError, match="2 pacing figures and 1 PMT flags"):
        summarise_replay([1.0, 2.0], [True])
    with pytest.raises(TwinError, match="0 pacing figures"):
        summarise_replay([], [])


def _result(rate: float, rate_est: tuple[float, float, float], av: float,
            av_est: tuple[float, float, float], va: float, va_est: tuple[float, float, float],
            *, retrograde: bool, block: bool, p_retro: float, vp: tuple[float, float],
            pmt: tuple[bool, float], secs: float) -> PatientResult:
    truth: dict[str, float | bool] = {"sinus_rate_bpm": rate, "av_delay_ms": av,
                                      "va_conduction_ms": va, "retrograde": retrograde,
                                      "complete_block": block}
    return PatientResult(truth, {"sinus_rate_bpm": rate_est, "av_delay_ms": av_est,
                                 "va_conduction_ms": va_est}, p_retro,
                         ReplayTruth(vp[0], pmt[0]), ReplayPrediction(vp[1], pmt[1]), secs)


def test_headline_figures_by_hand() -> None:
    results = [
        # conducting, retrograde: every figure counts
        _result(60.0, (63.0, 58.0, 66.0), 200.0, (210.0, 190.0, 205.0), 300.0,
                (290.0, 280.0, 310.0), retrograde=True, block=False, p_retro=0.9,
                vp=(100.0, 96.0), pmt=(True, 0.75), secs=10.0),
        # complete block, no retrograde conduction: neither AV nor VA time is scored
        _result(80.0, (78.0, 70.0, 79.0), 150.0, (250.0, 140.0, 290.0), 200.0,
                (400.0, 100.0, 450.0), retrograde=False, block=True, p_retro=0.6,
                vp=(0.0, 10.0), pmt=(False, 0.25), secs=30.0),
        # conducting, no retrograde conduction
        _result(50.0, (50.0, 45.0, 55.0), 250.0, (244.0, 240.0, 260.0), 150.0,
                (150.0, 100.0, 200.0), retrograde=False, block=False, p_retro=0.1,
                vp=(50.0, 47.0), pmt=(False, 0.0), secs=20.0),
    ]
    f = validation_figures(results)
    assert f["patients"] == 3
    assert f["av_mae_ms"] == pytest.approx((10.0 + 6.0) / 2, abs=1e-3)
    assert f["va_mae_ms"] == pytest.approx(10.0, abs=1e-3)
    # patient 2's retrograde probability 0.6 calls retrograde conduction that is absent
    assert f["retrograde_accuracy"] == pytest.approx(2 / 3, abs=1e-3)
    assert f["sinus_rate_error_pct"] == pytest.approx((5.0 + 2.5 + 0.0) / 3, abs=1e-3)
    # pairs: rates 60 in [58, 66], 80 not in [70, 79], 50 in [45, 55]; AV 200 in [190, 205],
    # 250 in [240, 260]; VA 300 in [280, 310]: 5 of 6 covered
    assert f["coverage_90"] == pytest.approx(5 / 6, abs=1e-3)
    assert f["replay_vpace_error_pp"] == pytest.approx((4.0 + 10.0 + 3.0) / 3, abs=1e-3)
    assert f["replay_pmt_accuracy"] == pytest.approx(1.0)
    assert f["calibrate_s_median"] == 20.0


def test_no_patients_give_nan_figures() -> None:
    f = validation_figures([])
    assert f["patients"] == 0
    assert math.isnan(f["av_mae_ms"]) and math.isnan(f["calibrate_s_median"])


def test_replay_draws_reproduce_the_recorded_conduction_time() -> None:
    # a posterior split evenly between an AV time of 190 ms and 215 ms (either side of the
    # replay's 200 ms AV delay); the recording's PR and 90-ppm AV time are those of 215 ms:
    # every replay draw kept must be a 215 ms one (their PR differs by 25 ms = 5 resolutions)
    base = Condition().with_changes(sinus_rate_bpm=70.0, av_decrement_ms=50.0)
    names = summary_names()
    segs = {s.name: s for s in recording_protocol()}
    truth = base.with_changes(av_delay_ms=215.0)
    intr, pace = segs["intrinsic"], segs["atrial_pacing_90"]
    observed = [0.0] * len(names)
    observed[names.index("pr_ms")] = intrinsic_summaries(
        fast_segment(truth, intr.programming, intr.duration_us, 1), intr.duration_us)[2]
    observed[names.index("paced_av_ms_90")] = pacing_summaries(
        fast_segment(truth, pace.programming, pace.duration_us, 2))[0]
    m = 40
    x = np.array([[getattr(base, p.name) for p in CONTINUOUS_PRIORS] for _ in range(m)],
                 dtype=np.float64)
    av_j = [p.name for p in CONTINUOUS_PRIORS].index("av_delay_ms")
    x[:, av_j] = np.where(np.arange(m) % 2 == 0, 190.0, 215.0)
    post = AbcPosterior(CONTINUOUS_PRIORS, BINARY_PRIORS, x, x.copy(),
                        np.zeros((m, len(BINARY_PRIORS)), dtype=bool), np.full(m, 1.0 / m),
                        np.zeros(m), np.zeros((m, len(names))), (1.0,), np.ones(len(names)))
    cal = Calibration(base, (), {}, tuple(observed), (), post, 0.0, AbcSettings(), 0.5)
    kept = matching_draws(cal, 8, 0, fast_segment)
    assert len(kept) == 8
    assert {c.av_delay_ms for c in kept} == {215.0}
