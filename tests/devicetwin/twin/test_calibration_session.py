"""Calibration from a session under one programming: the summaries against hand-built marker
streams, and synthetic patients recorded on the fast heart whose hidden parameters the posterior
must cover where the programming shows them and leave at the prior where it cannot."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devicetwin.heart.conditions import Condition
from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind
from devicetwin.pacemaker.modes import Mode
from devicetwin.pacemaker.programming import Programming
from devicetwin.twin.calibration import fast_segment
from devicetwin.twin.calibration_abc import AbcSettings
from devicetwin.twin.calibration_session import (
    SessionCalibration,
    calibrate_session,
    check_session,
    session_summaries,
    session_summary_names,
)
from devicetwin.twin.errors import TwinError

#: The priors' 90 % widths, from the priors documented in docs/twin.md (uniform: 0.9 x range).
PRIOR_90 = {"sinus_rate_bpm": 0.9 * (100 - 40), "av_delay_ms": 0.9 * (300 - 130),
            "va_conduction_ms": 0.9 * (450 - 120)}
SESSION_US = 120_000_000
SETTINGS = AbcSettings(population=100, first_batch=1000, batch=300, generations=2)
#: How far outside the 90 % interval the truth may lie: the summaries' resolution (5 ms for
#: times; for the sinus rate 1 bpm, a third of the issue's 3 % goal). The AV time needs it: under
#: one programming at one rate the PR is the conduction time minus the lead offset (8 ms) plus a
#: decrement term >= 0 that one rate cannot separate, so the conduction time is at most PR + 8
#: ms, and a patient whose decrement term is zero (as here) sits on that edge of the posterior,
#: where even an exact posterior's 95th percentile lies just below the truth.
TOLERANCE = {"sinus_rate_bpm": 1.0, "av_delay_ms": 5.0, "va_conduction_ms": 5.0}
#: Intact conduction 180 ms at the leads, sinus 66 bpm, a little ectopy.
INTACT = Condition().with_changes(sinus_rate_bpm=66.0, sinus_jitter=0.03, av_delay_ms=180.0,
                                  pac_rate_per_min=1.0, pvc_rate_per_min=1.0)
#: Complete AV block with retrograde conduction, VA 300 ms at the leads.
RETROGRADE = Condition().with_changes(sinus_rate_bpm=62.0, av_conduction="blocked",
                                      retrograde=True, va_conduction_ms=300.0,
                                      pac_rate_per_min=1.0, pvc_rate_per_min=1.0)
CASES = {
    "intact_av250": (INTACT, Programming.nominal(Mode.DDD, fixed_av_delay_ms=250)),
    "intact_av150": (INTACT, Programming.nominal(Mode.DDD, fixed_av_delay_ms=150)),
    "retro_ddd": (RETROGRADE, Programming.nominal(Mode.DDD, pvarp_ms=350)),
    "retro_vvi": (RETROGRADE, Programming.nominal(Mode.VVI)),
}


@pytest.fixture(scope="module")
def calibrated() -> dict[str, SessionCalibration]:
    """Each case's patient recorded on the fast heart for 3 minutes, then calibrated."""
    out = {}
    for k, (name, (cond, prog)) in enumerate(CASES.items()):
        markers = fast_segment(cond, prog, SESSION_US, 100 + k)
        out[name] = calibrate_session(markers, SESSION_US, prog, settings=SETTINGS, seed=k,
                                      check_draws=8)
    return out


def _covers(cal: SessionCalibration, name: str, truth: float) -> bool:
    est = cal.estimate(name)
    return est.low90 - TOLERANCE[name] <= truth <= est.high90 + TOLERANCE[name]


def _summary(markers: list[MarkerEvent], duration_us: int) -> dict[str, float]:
    return dict(zip(session_summary_names(), session_summaries(markers, duration_us).tolist(),
                    strict=True))


@settings(max_examples=30, deadline=None)
@given(cycle_ms=st.integers(600, 1400), pr_ms=st.integers(120, 280), beats=st.integers(10, 60))
def test_sensed_rhythm_summaries_are_the_stream_s_numbers(cycle_ms: int, pr_ms: int,
                                                           beats: int) -> None:
    # AS every cycle, VS a PR later: all conducted, nothing paced
    markers = []
    for i in range(beats):
        t = 1000 + i * cycle_ms * 1000
        markers += [MarkerEvent(t, Chamber.A, MarkerKind.AS),
                    MarkerEvent(t + pr_ms * 1000, Chamber.V, MarkerKind.VS)]
    duration_us = beats * cycle_ms * 1000 + 1000
    s = _summary(markers, duration_us)
    assert s["sinus_cycle_ms"] == cycle_ms
    assert s["sinus_cv"] == 0.0
    assert s["pr_ms"] == pr_ms and s["av_any_ms"] == pr_ms
    assert s["conducted_fraction"] == 1.0 and s["av_any_conducted_fraction"] == 1.0
    assert s["ventricular_paced_fraction"] == 0.0 and s["atrial_paced_fraction"] == 0.0
    assert s["atrial_events_per_min"] == pytest.approx(beats / (duration_us / 60e6))
    assert s["ventricular_events_per_min"] == pytest.approx(beats / (duration_us / 60e6))
    assert s["ventricular_sensed_cycle_ms"] == cycle_ms
    assert s["retro_fraction"] == 0.0  # no ventricular pace: nothing to conduct back


@settings(max_examples=30, deadline=None)
@given(cycle_ms=st.integers(700, 1200), va_ms=st.integers(150, 450), beats=st.integers(10, 60))
def test_retrograde_summaries_after_paces(cycle_ms: int, va_ms: int, beats: int) -> None:
    # VP every cycle with a refractory atrial sense a VA later (retrograde), nothing sensed
    markers = []
    for i in range(beats):
        t = 1000 + i * cycle_ms * 1000
        markers += [MarkerEvent(t, Chamber.V, MarkerKind.VP),
                    MarkerEvent(t + va_ms * 1000, Chamber.A, MarkerKind.AR)]
    s = _summary(markers, beats * cycle_ms * 1000 + 1000)
    assert s["retro_fraction"] == 1.0
    assert s["retro_va_ms"] == va_ms and s["retro_iqr_ms"] == 0.0
    assert s["ventricular_paced_fraction"] == 1.0
    assert s["ventricular_sensed_cycle_ms"] == -100.0  # no sensed cycle: the MISSING value


def test_intact_conduction_under_a_long_av_delay_is_informed(
        calibrated: dict[str, SessionCalibration]) -> None:
    cal = calibrated["intact_av250"]
    for name, truth in (("sinus_rate_bpm", 66.0), ("av_delay_ms", 180.0)):
        est = cal.estimate(name)
        assert _covers(cal, name, truth), (name, est)
        assert est.high90 - est.low90 < 0.5 * PRIOR_90[name], (name, est)
        assert name in cal.informed
    assert cal.probabilities["complete_block"] < 0.05  # every P wave conducted
    # no ventricular pace ever: retrograde conduction after a pace cannot show
    assert 0.2 <= cal.probabilities["retrograde"] <= 0.8
    assert "retrograde" in cal.prior_only and "va_conduction_ms" in cal.prior_only
    assert cal.info("retrograde").ratio > 0.8  # entropy still near the prior's


def test_conduction_under_a_short_av_delay_stays_near_the_prior(
        calibrated: dict[str, SessionCalibration]) -> None:
    # the same patient paced at AV 150 ms before its 180 ms conduction arrives: the sinus rate
    # shows, the conduction time does not (beyond "longer than the AV delay")
    cal = calibrated["intact_av150"]
    sinus = cal.estimate("sinus_rate_bpm")
    assert _covers(cal, "sinus_rate_bpm", 66.0), sinus
    assert sinus.high90 - sinus.low90 < 0.5 * PRIOR_90["sinus_rate_bpm"]
    av = cal.estimate("av_delay_ms")
    assert _covers(cal, "av_delay_ms", 180.0), av
    assert av.high90 - av.low90 > 0.6 * PRIOR_90["av_delay_ms"], av
    assert "av_delay_ms" in cal.prior_only
    assert av.low90 >= 140.0  # what it does show: conduction no shorter than the AV delay


def test_retrograde_conduction_shows_after_paces_under_ddd(
        calibrated: dict[str, SessionCalibration]) -> None:
    cal = calibrated["retro_ddd"]
    assert cal.probabilities["retrograde"] > 0.9
    assert cal.probabilities["complete_block"] > 0.9
    va = cal.estimate("va_conduction_ms")
    assert _covers(cal, "va_conduction_ms", 300.0), va
    assert va.high90 - va.low90 < 0.5 * PRIOR_90["va_conduction_ms"]
    assert "va_conduction_ms" in cal.informed and "retrograde" in cal.informed
    # complete block: no conduction time to see
    assert cal.info("av_delay_ms").ratio > 0.6 and "av_delay_ms" in cal.prior_only


def test_retrograde_conduction_cannot_show_under_vvi(
        calibrated: dict[str, SessionCalibration]) -> None:
    # VVI senses no atrium: the same patient's retrograde P waves leave no marker
    cal = calibrated["retro_vvi"]
    assert 0.25 <= cal.probabilities["retrograde"] <= 0.75
    assert "retrograde" in cal.prior_only and "va_conduction_ms" in cal.prior_only
    assert "sinus_rate_bpm" in cal.prior_only  # paced throughout, atrium unseen


def test_the_twin_data_says_what_was_informed(calibrated: dict[str, SessionCalibration]) -> None:
    data = calibrated["intact_av250"].to_dict()
    assert set(data["informed"]) | set(data["prior_only"]) == set(data["information"])
    assert data["information"]["av_delay_ms"]["informed"] is True
    assert len(data["observed_summaries"]) == len(session_summary_names())
    assert len(data["predictive_checks"]) == len(session_summary_names())


def test_sessions_that_cannot_be_calibrated_are_refused() -> None:
    prog = Programming.nominal(Mode.VVI)
    with pytest.raises(TwinError, match="no device markers"):
        check_session([], SESSION_US, prog)
    atrial_paces = [MarkerEvent(1000 * i, Chamber.A, MarkerKind.AP) for i in range(1, 5)]
    with pytest.raises(TwinError, match="VVI") as err:
        check_session(atrial_paces, SESSION_US, prog)
    assert err.value.value == "VVI"
    with pytest.raises(TwinError, match="shorter than"):
        check_session(atrial_paces, 5_000_000, Programming.nominal(Mode.DDD))
