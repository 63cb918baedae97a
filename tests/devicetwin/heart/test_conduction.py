"""Rhythms and conduction disorders that must emerge from the tissue and the AV path.

Expected values come from the clinical definitions (e.g. Josephson, Clinical Cardiac
Electrophysiology; ACC/AHA/HRS 2018 bradycardia guideline): Wenckebach = progressive PR
prolongation before a non-conducted P; Mobitz II = non-conducted P with constant PR; complete
block = AV dissociation with an escape rhythm of 20-45 bpm (ventricular/low junctional escape).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest

from devicetwin.heart import Activation, Heart, Origin, Pace
from devicetwin.pacemaker.markers import Chamber


def _run(heart: Heart, ms: int, paces: list[Pace] | None = None) -> list[Activation]:
    return heart.advance(ms * 1000, paces or []).events


def _times(events: list[Activation], chamber: Chamber, *origins: Origin) -> list[int]:
    return [
        e.t_us
        for e in events
        if e.chamber is chamber and (not origins or e.origin in origins) and e.captured is not False
    ]


def _atrial_pacing(rate_bpm: int, beats: int) -> tuple[list[Activation], list[int]]:
    heart = Heart("normal_sinus", seed=0)
    heart.apply(sinus_rate_bpm=25.0, sinus_jitter=0.0)
    heart.advance(900_000)  # after the first sinus beat has cleared the AV node
    cycle_us = round(60_000 / rate_bpm) * 1000
    amp = 2.0 * heart.threshold_v("RA", 400)
    paces = [Pace(900_000 + k * cycle_us, "RA", amp, 400) for k in range(beats)]
    events = heart.advance(beats * cycle_us + 300_000, paces).events
    return events, [p.t_us for p in paces]


def _conducted_after(events: list[Activation], paces_us: list[int]) -> list[int | None]:
    """For each atrial pace, the AV interval (us) of the ventricular activation that followed it
    before the next pace, or None."""
    v = _times(events, Chamber.V, Origin.CONDUCTED)
    out: list[int | None] = []
    for k, t in enumerate(paces_us):
        nxt = paces_us[k + 1] if k + 1 < len(paces_us) else t + 10**9
        hits = [tv - t for tv in v if t < tv <= nxt + 40_000 and tv - t > 60_000]
        out.append(hits[0] if hits else None)
    return out


@pytest.mark.parametrize("rate_bpm", [80, 100, 120])
def test_atrial_pacing_conducts_one_to_one_at_moderate_rates(rate_bpm: int) -> None:
    events, paces = _atrial_pacing(rate_bpm, 12)
    av = _conducted_after(events, paces)
    assert all(x is not None for x in av)


def test_wenckebach_appears_as_the_atrial_rate_rises() -> None:
    events, paces = _atrial_pacing(150, 16)
    captured = [e for e in events if e.origin is Origin.PACED]
    assert all(e.captured for e in captured)  # the atrium follows 150 bpm
    av = _conducted_after(events, paces)
    dropped = [k for k, x in enumerate(av) if x is None]
    assert dropped, "some atrial beats must block in the AV node"
    # before each dropped beat (after the first cycle), the AV interval lengthened beat by beat
    checked = 0
    for k in dropped:
        run: list[int] = []
        j = k - 1
        while j >= 0 and (interval := av[j]) is not None:
            run.insert(0, interval)
            j -= 1
        if len(run) >= 2 and j >= 0:
            assert all(b > a for a, b in itertools.pairwise(run))
            checked += 1
    assert checked >= 1


def test_mobitz_one_preset_has_progressive_pr_then_a_dropped_p() -> None:
    heart = Heart("mobitz_1", seed=2)
    events = _run(heart, 9000)
    a = _times(events, Chamber.A, Origin.SINUS)
    v = _times(events, Chamber.V, Origin.CONDUCTED)
    pr: list[int | None] = []
    for k, ta in enumerate(a):
        nxt = a[k + 1] if k + 1 < len(a) else ta + 10**9
        hits = [tv - ta for tv in v if ta < tv < nxt + 150_000 and tv - ta < 600_000]
        hits = [h for h in hits if not any(ta < a2 < ta + h for a2 in a)]
        pr.append(hits[0] if hits else None)
    drops = [k for k, x in enumerate(pr) if x is None]
    assert len(drops) >= 2
    k = drops[1]
    run = [x for x in pr[drops[0] + 1 : k] if x is not None]
    assert len(run) >= 2 and all(b > a for a, b in itertools.pairwise(run))
    assert run[0] >= 120_000


def test_mobitz_two_blocks_without_pr_prolongation() -> None:
    heart = Heart("mobitz_2", seed=5)
    events = _run(heart, 20_000)
    a = _times(events, Chamber.A, Origin.SINUS)
    v = _times(events, Chamber.V, Origin.CONDUCTED)
    pr = []
    blocked = 0
    for k, ta in enumerate(a[:-1]):
        hits = [tv - ta for tv in v if ta < tv < a[k + 1]]
        if hits:
            pr.append(hits[0])
        else:
            blocked += 1
    assert blocked >= 2
    assert max(pr) - min(pr) <= 10_000  # constant PR (within the sinus variability)


def test_two_to_one_block() -> None:
    events = _run(Heart("av_block_2_1", seed=1), 12_000)
    a = _times(events, Chamber.A, Origin.SINUS)
    v = _times(events, Chamber.V, Origin.CONDUCTED)
    assert len(v) / len(a) == pytest.approx(0.5, abs=0.07)


def test_complete_block_gives_an_independent_escape_rhythm() -> None:
    heart = Heart("complete_av_block", seed=3)
    heart.apply(sinus_rate_bpm=75.0)  # not a multiple of the escape rate
    events = _run(heart, 15_000)
    v = _times(events, Chamber.V)
    a = _times(events, Chamber.A, Origin.SINUS)
    assert v and all(e.origin is Origin.ESCAPE for e in events if e.chamber is Chamber.V)
    rate = 60e6 / float(np.mean(np.diff(v)))
    assert 20 <= rate <= 45
    # dissociation: the interval from the preceding P wanders
    pv = [tv - max(ta for ta in a if ta < tv) for tv in v if any(ta < tv for ta in a)]
    assert max(pv) - min(pv) > 150_000


@pytest.mark.parametrize("va_ms", [150, 250, 320])
def test_retrograde_p_leaves_the_av_node_in_time_to_reach_the_ra_lead(
    va_ms: int, quiet_heart: Callable[..., Heart]
) -> None:
    # va_conduction_ms is at the leads (test_timing_at_leads.py measures it there); the ground
    # truth stamps the retrograde P where it first activates the atrium, at the AV-nodal entry,
    # which is the atrial conduction from there to the RA lead earlier
    heart = quiet_heart(retrograde=True, va_conduction_ms=float(va_ms))
    heart.advance(500_000)
    events = heart.advance(600_000, [Pace(500_000, "RV", 3.0, 400)]).events
    v_pace = [e for e in events if e.origin is Origin.PACED]
    retro = _times(events, Chamber.A, Origin.RETROGRADE)
    assert v_pace[0].captured
    assert len(retro) == 1
    # the entry-to-lead conduction: ~36 mm of atrium at 0.5-1.3 m/s (test_physiology's range)
    entry_to_lead_us = heart.lead_timing.av_entry_to_ra_lead_us
    assert 25_000 <= entry_to_lead_us <= 75_000
    expected_us = va_ms * 1000 - entry_to_lead_us
    assert abs((retro[0] - v_pace[0].t_us) - expected_us) <= 1_000


def test_no_retrograde_conduction_when_disabled(quiet_heart: Callable[..., Heart]) -> None:
    heart = quiet_heart(retrograde=False)
    heart.advance(500_000)
    events = heart.advance(600_000, [Pace(500_000, "RV", 3.0, 400)]).events
    assert not _times(events, Chamber.A, Origin.RETROGRADE)


def test_retrograde_wave_blocks_in_a_refractory_atrium(quiet_heart: Callable[..., Heart]) -> None:
    # an atrial beat 100 ms before the retrograde wave arrives leaves the atrium refractory
    heart = quiet_heart(retrograde=True, va_conduction_ms=250.0)
    heart.advance(500_000)
    paces = [Pace(500_000, "RV", 3.0, 400), Pace(650_000, "RA", 3.0, 400)]
    events = heart.advance(600_000, paces).events
    assert not _times(events, Chamber.A, Origin.RETROGRADE)


@pytest.mark.parametrize("seed", [0, 1, 2, 7])
def test_atrial_fibrillation_is_irregular_and_filtered_by_the_av_node(seed: int) -> None:
    # irregularly irregular: RR coefficient of variation well above sinus rhythm's few percent
    # (AF RR CV is typically 0.15-0.35; e.g. Tateno & Glass, Med Biol Eng Comput 2001)
    events = _run(Heart("atrial_fibrillation", seed=seed), 15_000)
    a = _times(events, Chamber.A)
    v = _times(events, Chamber.V)
    rr = np.diff(v)
    assert len(a) > 2 * len(v)
    assert float(np.std(rr) / np.mean(rr)) > 0.15
    assert 40 <= 60e6 / float(np.mean(rr)) <= 150


def test_atrial_flutter_is_regular_with_av_block() -> None:
    events = _run(Heart("atrial_flutter", seed=1), 8000)
    a = _times(events, Chamber.A, Origin.ECTOPIC)
    v = _times(events, Chamber.V)
    assert np.allclose(np.diff(a[2:]), 200_000, atol=2_000)
    assert len(v) <= len(a) / 2


def test_pvc_and_pac_at_given_times() -> None:
    heart = Heart("normal_sinus", seed=0)
    heart.apply(pac_times_ms=(1300.0,), pvc_times_ms=(2000.0,), sinus_jitter=0.0)
    events = _run(heart, 4000)
    pac = [e for e in events if e.chamber is Chamber.A and e.origin is Origin.ECTOPIC]
    pvc = [e for e in events if e.chamber is Chamber.V and e.origin is Origin.ECTOPIC]
    assert len(pac) == 1 and abs(pac[0].t_us - 1_300_000) <= 5_000
    assert len(pvc) == 1 and abs(pvc[0].t_us - 2_000_000) <= 5_000
    # the PAC reset the sinus node: the next sinus P comes about one cycle after the PAC
    nxt = min(t for t in _times(events, Chamber.A, Origin.SINUS) if t > pac[0].t_us)
    assert 700_000 <= nxt - pac[0].t_us <= 1_000_000


def test_exercise_raises_the_sinus_rate() -> None:
    heart = Heart("normal_sinus", seed=0)
    heart.apply(
        exercise_profile=((0.0, 0.0), (5.0, 0.0), (10.0, 1.0)), exercise_time_constant_s=5.0
    )
    events = _run(heart, 30_000)
    a = _times(events, Chamber.A, Origin.SINUS)
    v = _times(events, Chamber.V, Origin.CONDUCTED)
    early = 60e6 / float(np.mean(np.diff([t for t in a if t < 5_000_000])))
    late = 60e6 / float(np.mean(np.diff([t for t in a if t > 25_000_000])))
    assert early < 80 and late > 140
    assert len([t for t in v if t > 25_000_000]) >= len([t for t in a if t > 25_000_000]) - 1


def test_sick_sinus_pauses_and_chronotropic_incompetence() -> None:
    heart = Heart("sick_sinus", seed=1)
    heart.apply(sinus_pause_probability=0.3, exercise_profile=((0.0, 1.0),))
    events = _run(heart, 30_000)
    a = _times(events, Chamber.A, Origin.SINUS)
    gaps = np.diff(a)
    assert gaps.max() >= 2_500_000
    fastest = 60e6 / float(np.min(gaps))
    assert fastest <= 90 * 1.03


def test_bench_patient_alternates_conduction_and_block() -> None:
    events = _run(Heart("bench_patient", seed=0), 20_000)
    v_cond = _times(events, Chamber.V, Origin.CONDUCTED)
    v_esc = _times(events, Chamber.V, Origin.ESCAPE)
    assert v_cond and max(v_cond) < 10_500_000  # conducts during the first half period
    assert v_esc and min(v_esc) > 10_000_000  # escape rhythm in the blocked half


def test_bench_patient_sustains_a_pacemaker_mediated_loop_when_tracked() -> None:
    # A naive tracking device (no PVARP): a ventricular pace 150 ms after every atrial
    # activation (ground truth). In the blocked half of the bench patient's period each paced
    # beat conducts back to the atria, reaching the RA lead va_conduction_ms (280 ms) after the
    # pace and the AV-nodal entry, where the ground truth stamps it, the atrial conduction
    # between them earlier; the device tracks it again: the endless-loop (PMT) mechanism the
    # bench's hazard monitor must catch.
    heart = Heart("bench_patient", seed=0)
    heart.advance(11_000_000)  # into the blocked half
    due: list[int] = []
    events: list[Activation] = []
    for _ in range(4000):
        t = heart.now_us
        paces = [Pace(d, "RV", 3.0, 400) for d in due if t <= d < t + 1000]
        due = [d for d in due if d >= t + 1000]
        out = heart.advance(1000, paces)
        for e in out.events:
            events.append(e)
            if e.chamber is Chamber.A:
                due.append(-(-(e.t_us + 150_000) // 1000) * 1000)
    retro = _times(events, Chamber.A, Origin.RETROGRADE)
    vp = [e.t_us for e in events if e.origin is Origin.PACED and e.captured]
    assert len(retro) >= 5
    expected_us = 280_000 - heart.lead_timing.av_entry_to_ra_lead_us
    for ta in retro:
        va = ta - max(t for t in vp if t < ta)
        assert abs(va - expected_us) <= 10_000
