"""Outcome measures against hand-built hearts: each expected number is worked out by hand in the
test's docstring or comments, from the definitions in ``devicetwin.outcomes``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devicetwin.heart.events import Activation, Origin
from devicetwin.outcomes import (
    OutcomeSettings,
    PmtEnd,
    UpperRateCause,
    compute_outcomes,
    ground_truth,
)
from devicetwin.outcomes.charge import delivered_charge
from devicetwin.pacemaker import Chamber, MarkerEvent, MarkerKind

A, V = Chamber.A, Chamber.V
MS = 1000


def act(t_ms: float, chamber: Chamber, origin: Origin, captured: bool | None = None
        ) -> Activation:
    site = None if origin is not Origin.PACED else ("RA" if chamber is A else "RV")
    return Activation(round(t_ms * MS), chamber, origin, captured, site)


def vp(t_ms: float, captured: bool = True) -> Activation:
    return act(t_ms, V, Origin.PACED, captured)


def settings(duration_ms: float, lri_ms: float = 1000, uri_ms: float = 500) -> OutcomeSettings:
    return OutcomeSettings(round(duration_ms * MS), lri_ms, uri_ms, pause_limit_ms=lri_ms + 8)


def pmt_loop(start_ms: float, cycles: int, va_ms: float = 300, av_ms: float = 200
             ) -> tuple[list[Activation], float]:
    """A VP at ``start_ms`` conducts back (VA), the retrograde P is tracked (AV), ``cycles``
    times; returns the records and the time of the last tracked VP."""
    out = [vp(start_ms)]
    t = start_ms
    for _ in range(cycles):
        out.append(act(t + va_ms, A, Origin.RETROGRADE))
        t += va_ms + av_ms
        out.append(vp(t))
    return out, t


def test_a_pmt_the_device_breaks() -> None:
    """Sinus P at 0, VP at 150; five retrograde-tracked cycles of 500 ms (VPs at 650..2650); a
    sixth retrograde P at 2950 is not tracked (the next VP comes at the lower rate, 3650)."""
    records = [act(0, A, Origin.SINUS)]
    loop, last = pmt_loop(150, 5)
    records += loop
    records += [act(last + 300, A, Origin.RETROGRADE), vp(last + 1000)]
    o = compute_outcomes(records, [], settings(10_000))
    assert o.pmt.cycles == 5
    (episode,) = o.pmt.episodes
    assert (episode.onset_us, episode.end_us) == (150 * MS, 2650 * MS)
    assert episode.cycles == 5 and episode.ended_by is PmtEnd.DEVICE
    assert o.pmt.burden == pytest.approx(2.5 / 10)
    # five 500 ms V-V intervals at the upper rate, each ended by a pace tracking a retrograde P
    assert o.upper_rate_us[UpperRateCause.RETROGRADE] == 2500 * MS
    assert o.upper_rate_fraction == pytest.approx(0.25)
    assert o.ventricular_rate.max_bpm == pytest.approx(120)


def test_a_pmt_that_stops_by_itself_and_short_runs() -> None:
    """Four cycles then retrograde block (no P after the last VP): spontaneous. A later run of two
    cycles counts as cycles but not as an episode (fewer than three)."""
    first, last = pmt_loop(0, 4)
    second, _ = pmt_loop(last + 1000, 2)
    o = compute_outcomes(first + second, [], settings(10_000))
    assert o.pmt.cycles == 6
    assert [(e.cycles, e.ended_by) for e in o.pmt.episodes] == [(4, PmtEnd.SPONTANEOUS)]


def test_a_loop_at_the_lower_rate_is_not_pmt() -> None:
    """VA 600 + AV 400 = 1000 ms, the lower-rate interval: the pace is an escape, not triggered."""
    records, _ = pmt_loop(0, 5, va_ms=600, av_ms=400)
    assert compute_outcomes(records, [], settings(10_000)).pmt.cycles == 0


def test_the_run_ending_inside_an_episode() -> None:
    records, _ = pmt_loop(0, 3)
    (episode,) = compute_outcomes(records, [], settings(2_000)).pmt.episodes
    assert episode.ended_by is PmtEnd.RUN_END


def test_upper_rate_causes() -> None:
    """Three 500 ms V-V intervals: ended by a VP tracking sinus (P 200 ms before), by a VP with no
    P since the last V beat (sensor), and by a conducted beat (intrinsic); one 800 ms interval is
    not near the upper rate (URI 500 ms, near = within 5 %: up to 525 ms)."""
    records = [vp(0), act(300, A, Origin.SINUS), vp(500), vp(1000),
               act(1500, V, Origin.CONDUCTED), vp(2300)]
    o = compute_outcomes(records, [], settings(3_000))
    assert o.upper_rate_us[UpperRateCause.SINUS] == 500 * MS
    assert o.upper_rate_us[UpperRateCause.SENSOR] == 500 * MS
    assert o.upper_rate_us[UpperRateCause.INTRINSIC] == 500 * MS
    assert sum(o.upper_rate_us.values()) == 1500 * MS


def test_pacing_burden_fusion_and_pseudo_fusion() -> None:
    """Ten V beats at 1 s spacing. Beats 0-3 paced; beat 4 conducted with a captured VP 30 ms
    later (fusion: one beat, paced); beat 5 conducted with a VP 40 ms later that did not capture
    (pseudo-fusion); beats 6-9 conducted. Paced: 5 of 10 beats."""
    records = [vp(t) for t in (0, 1000, 2000, 3000)]
    records += [act(4000, V, Origin.CONDUCTED), vp(4030)]
    records += [act(5000, V, Origin.CONDUCTED), vp(5040, captured=False)]
    records += [act(t, V, Origin.CONDUCTED) for t in (6000, 7000, 8000, 9000)]
    b = compute_outcomes(records, [], settings(10_000)).ventricular_pacing
    assert (b.beats, b.paced_beats, b.pulses) == (10, 5, 6)
    assert b.paced_percent == pytest.approx(50.0)
    assert (b.fusion, b.pseudo_fusion, b.pulses_without_capture) == (1, 1, 1)


def test_a_pace_and_a_conducted_beat_a_fraction_of_a_ms_apart_are_one_beat() -> None:
    records = [vp(0), vp(1000), act(1000.2, V, Origin.CONDUCTED), vp(2000)]
    o = compute_outcomes(records, [], settings(3_000))
    assert o.ventricular_rate.beats == 3
    assert o.ventricular_rate.max_bpm == pytest.approx(60)


def test_pauses() -> None:
    """V beats at 0, 1000, 3500, 4500: one interval (2500 ms) above the 1008 ms limit."""
    records = [vp(0), vp(1000), act(3500, V, Origin.ESCAPE), vp(4500)]
    p = compute_outcomes(records, [], settings(5_000)).pauses
    assert (p.count, p.longest_ms, p.first_at_us) == (1, 2500.0, 1000 * MS)


def test_r_on_t() -> None:
    """A conducted beat at 1000 after one at 0: RR 1 s, Fridericia QT = 400 ms, vulnerable period
    0.77 x 400 = 308 ms to 400 ms after it. Pulses at 1200 (refractory), 1350 (vulnerable),
    1450 (after T) after it, each the first pulse after a fresh pair of conducted beats."""
    base = [act(0, V, Origin.CONDUCTED), act(1000, V, Origin.CONDUCTED)]
    for delay, expected in ((200, 0), (350, 1), (450, 0), (308, 1), (400, 1)):
        records = [*base, vp(1000 + delay, captured=False)]
        assert compute_outcomes(records, [], settings(3_000)).r_on_t == expected, delay


def test_competitive_atrial_pacing() -> None:
    """Sinus P at 0, 2000 and 4000; atrial pulses at 250 (100-300 ms after: competitive), 2350
    (after 300 ms: not) and 4030 (on the P wave itself, a triggered pace: not)."""
    records = [act(0, A, Origin.SINUS), act(250, A, Origin.PACED, False),
               act(2000, A, Origin.SINUS), act(2350, A, Origin.PACED, True),
               act(4000, A, Origin.SINUS), act(4030, A, Origin.PACED, False)]
    assert compute_outcomes(records, [], settings(5_000)).competitive_atrial_pacing == 1


def test_the_pause_limit_of_a_programming() -> None:
    """LRL 60 (1000 ms) with hysteresis 50 ppm (1200 ms): limit 1200 + 120 margin + 8 ms."""
    from devicetwin.pacemaker import Mode, Programming

    p = Programming.nominal(Mode.VVI).replace(hysteresis_rate_ppm=50)
    assert OutcomeSettings.for_programming(p, 10**6).pause_limit_ms == 1328


def test_delivered_charge() -> None:
    """3.5 V, 0.4 ms into 500 ohm: Q = 3.5 / 500 x 0.4e-3 = 2.8 uC, E = 3.5^2 / 500 x 0.4e-3 =
    9.8 uJ per pulse; five pulses in one hour."""
    pulses = [MarkerEvent(i * 1_000_000, V, MarkerKind.VP, 3500, 400) for i in range(5)]
    pulses.append(MarkerEvent(500_000, A, MarkerKind.AP, 2500, 400))
    c = delivered_charge(pulses, V, 3_600_000_000)
    assert c.pulses == 5
    assert c.charge_uc == pytest.approx(14.0)
    assert c.energy_uj == pytest.approx(49.0)
    assert c.charge_uc_per_h == pytest.approx(14.0)


@given(st.lists(st.tuples(st.integers(0, 60_000), st.sampled_from(list(Origin)),
                          st.sampled_from([A, V]), st.booleans()), max_size=200))
def test_invariants_of_any_heart(raw: list[tuple[int, Origin, Chamber, bool]]) -> None:
    records = [act(t, c, o, cap if o is Origin.PACED else None) for t, o, c, cap in raw]
    o = compute_outcomes(records, [], settings(61_000))
    assert 0 <= o.pmt.burden <= 1
    assert 0 <= o.upper_rate_fraction <= 1
    assert sum(e.cycles for e in o.pmt.episodes) <= o.pmt.cycles
    for b in (o.atrial_pacing, o.ventricular_pacing):
        assert 0 <= b.paced_percent <= 100
        assert b.paced_beats <= b.beats and b.pulses_without_capture <= b.pulses
    truth = ground_truth(records)
    for beats in (truth.atrial, truth.ventricular):
        assert all(d >= 100 * MS for d in (beats.t_us[1:] - beats.t_us[:-1]).tolist())


def test_every_headline_value_has_a_unit_and_a_name() -> None:
    from devicetwin.outcomes import OUTCOME_NAMES

    o = compute_outcomes([vp(0), vp(1000)], [], settings(2_000))
    assert tuple(o.values()) == OUTCOME_NAMES


def test_outcome_limits() -> None:
    from devicetwin.outcomes import OutcomeLimit

    assert OutcomeLimit("pmt_burden", high=0.05).holds(0.05)
    assert not OutcomeLimit("pmt_burden", high=0.05).holds(0.051)
    assert OutcomeLimit("pmt_episodes", low=1).holds(1)
    assert not OutcomeLimit("pmt_episodes", low=1).holds(0)
    assert not OutcomeLimit("ventricular_rate_max_bpm", high=130).holds(None)
    assert OutcomeLimit("x", 1, 5).text == "1..5"


def test_the_pmt_hazard_is_read_off_the_outcome_and_joins_the_monitors() -> None:
    from devicetwin.conformance.hazards import Hazard, HazardFinding
    from devicetwin.outcomes import merge_findings, outcome_hazards

    records, _ = pmt_loop(0, 4)
    found = outcome_hazards(compute_outcomes(records, [], settings(10_000)))[Hazard.PMT]
    assert found.detected and found.evidence_t_us == (0,)
    quiet = HazardFinding(Hazard.PMT, False, (), True, "pmt not detected.")
    merged = merge_findings({Hazard.PMT: quiet}, {Hazard.PMT: found})[Hazard.PMT]
    assert merged.detected and "1 episode" in merged.sentence
    assert merge_findings({Hazard.PMT: quiet})[Hazard.PMT].detected is False
