"""Recommendation worked examples (issue 17) and the search's rules, on the fast heart."""

from __future__ import annotations

import pytest

from devicetwin.cohort.simulate import simulate_patient
from devicetwin.heart.conditions import get_condition
from devicetwin.pacemaker.modes import Mode
from devicetwin.pacemaker.parameters import interval_ms
from devicetwin.pacemaker.programming import Programming
from devicetwin.twin.calibration_validation import fast_outcomes
from devicetwin.twin.errors import TwinError
from devicetwin.twin.recommend import (
    Candidate,
    RecommendSettings,
    allowed_upper_rate,
    challenge_condition,
    choose,
    is_grid_programming,
    pareto_front,
    recommend,
    two_to_one_bpm,
)

NOMINAL = Programming.nominal(Mode.DDD)
SETTINGS = RecommendSettings(trials=30, duration_us=40_000_000, seed=3)


def _check_run(condition_name: str, programming: Programming, seed: int, **changes: float
               ) -> dict[str, float | int | None]:
    """An independent confirmation: a longer run with another seed than the search used."""
    cond = get_condition(condition_name).with_changes(**changes)
    run = simulate_patient(challenge_condition(cond, 120_000_000), programming, 120_000_000,
                           seed=seed, heart="fast")
    return run.outcomes.values()


def test_retrograde_300_at_pvarp_250_gets_a_programming_without_pmt() -> None:
    # complete AV block, retrograde VA 300 ms at the leads (> PVARP 250 ms): the nominal
    # programming runs into PMT; the recommendation must not, and must keep 2:1 above 120 bpm.
    patient = dict(va_conduction_ms=300.0, sinus_rate_bpm=60.0)
    cond = get_condition("retrograde_va").with_changes(**patient)
    before = _check_run("retrograde_va", NOMINAL, 11, **patient)
    assert int(before["pmt_episodes"] or 0) >= 1
    rec = recommend(cond, NOMINAL, fast_outcomes, SETTINGS)
    assert rec.current.pmt_episodes >= 1
    assert rec.recommended.pmt_episodes == 0
    assert rec.recommended.feasible
    assert two_to_one_bpm(rec.recommended.programming) >= SETTINGS.highest_sinus_bpm
    assert is_grid_programming(rec.recommended.programming)
    after = _check_run("retrograde_va", rec.recommended.programming, 11, **patient)
    assert after["pmt_episodes"] == 0


def test_sinus_node_disease_with_intact_conduction_stops_ventricular_pacing() -> None:
    # sinus bradycardia 45 bpm, AV conduction 176 ms at the leads: the nominal DDD (60 ppm,
    # AV delay 150 ms) paces the atrium and then the ventricle before conduction arrives.
    before = _check_run("sinus_bradycardia", NOMINAL, 12)
    assert float(before["ventricular_paced_percent"] or 0) > 90.0
    rec = recommend(get_condition("sinus_bradycardia"), NOMINAL, fast_outcomes, SETTINGS)
    assert rec.current.ventricular_paced_percent > 90.0
    assert rec.recommended.ventricular_paced_percent < 10.0
    after = _check_run("sinus_bradycardia", rec.recommended.programming, 12)
    assert float(after["ventricular_paced_percent"] or 0) < 10.0


def test_upper_rate_is_lowered_to_what_the_tarp_allows() -> None:
    # TARP 150 + 350 = 500 ms fits an upper-rate interval of 500 ms (120 ppm) but not 125 ppm
    assert allowed_upper_rate(150, 500) == 120
    assert interval_ms(allowed_upper_rate(175, 430)) >= 430
    assert allowed_upper_rate(100, 300) == 100


def test_front_and_choice_follow_the_stated_priorities() -> None:
    p = NOMINAL
    a = Candidate(p, 50.0, 0.0, 0, 8.0, 150.0, True, 1)
    b = Candidate(p, 49.0, 0.0, 0, 7.0, 150.0, True, 2)   # within 2 pp of a, shorter life
    c = Candidate(p, 10.0, 0.2, 3, 9.0, 150.0, True, 3)   # less pacing but PMT
    d = Candidate(p, 5.0, 0.0, 0, 9.5, 110.0, False, 4)   # infeasible
    e = Candidate(p, 60.0, 0.0, 0, 7.5, 150.0, True, 5)   # dominated by a
    front = pareto_front([a, b, c, d, e])
    assert {x.trial for x in front} == {1, 2, 3}
    assert choose(front, p).trial == 1  # no PMT first, then VP within 2 pp, then longevity
    with pytest.raises(TwinError, match="no feasible programming"):
        choose([], p)


def test_settings_and_modes_are_checked() -> None:
    with pytest.raises(TwinError, match="highest_sinus_bpm 300"):
        RecommendSettings(highest_sinus_bpm=300.0)
    with pytest.raises(TwinError, match="duration_us 1000"):
        RecommendSettings(duration_us=1000)
    with pytest.raises(TwinError, match="mode VVI is not searched"):
        recommend(get_condition("normal_sinus"), Programming.nominal(Mode.VVI), fast_outcomes,
                  SETTINGS)
