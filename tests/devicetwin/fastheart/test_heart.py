"""The event-level heart: closed-form timing, its AV node against an independent recurrence,
its randomness, and beat-by-beat agreement with the cell-network heart on short runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from devicetwin.fastheart import TARGETS, FastHeart, conduction_table
from devicetwin.fastheart.timing import SOURCES
from devicetwin.heart import Heart, HeartError, Pace, get_condition
from devicetwin.heart.events import Activation, Origin
from devicetwin.pacemaker.markers import Chamber

STEP_US = 200
#: The slowest sinus node and escape focus (3 s and 4 s): nothing else beats in a probe.
QUIET = {"sinus_rate_bpm": 20.0, "max_sinus_rate_bpm": 40.0, "escape_rate_bpm": 15.0}


def _d(source: str, target: str) -> int:
    return int(conduction_table()[SOURCES.index(source), TARGETS.index(target)])


def _arrivals(heart: FastHeart, target: str, source: str | None = None) -> list[int]:
    """When ``target`` was reached (by waves from ``source``, or any)."""
    log = heart.kernel.arrival_log or []
    j = TARGETS.index(target)
    return [t for t, k, s in log if k == j and (source is None or SOURCES[s] == source)]


def _paced(heart: FastHeart, times_us: list[int], end_us: int, site: str = "RA") -> None:
    for t in times_us:
        while heart.next_sense(t) is not None:
            pass
        heart.pace(t, site, 5.0, 400)
    while heart.next_sense(end_us) is not None:
        pass


def test_sinus_period_is_the_rate_on_kernel_steps() -> None:
    cond = get_condition("normal_sinus").with_changes(sinus_jitter=0.0)
    acts = FastHeart(cond).run_open_loop(20_000_000)
    a = [x.t_us for x in acts if x.chamber is Chamber.A]
    # 60000 / 70 ms rounded to 200 us steps
    period = round(60000 / 70 * 5) * STEP_US
    assert set(np.diff(a).tolist()) == {period}
    assert a[0] == 1000 + _d("sinus", "sinus")


@pytest.mark.parametrize("av_delay_ms", [130.0, 176.0, 296.0, 450.0])
def test_av_time_at_rest_is_the_condition_s_at_the_leads(av_delay_ms: float) -> None:
    """An RA pace on rested tissue reaches the RV lead ``av_delay_ms`` later (the condition's
    definition), to the kernel step."""
    cond = get_condition("normal_sinus").with_changes(av_delay_ms=av_delay_ms, **QUIET)
    heart = FastHeart(cond)
    heart.kernel.arrival_log = []
    _paced(heart, [1_500_000], 2_500_000)
    rv = [t for t in _arrivals(heart, "rv") if t > 1_500_000]
    assert abs(rv[0] - 1_500_000 - av_delay_ms * 1000) <= STEP_US


@pytest.mark.parametrize("va_ms", [120.0, 250.0, 400.0])
def test_va_time_at_the_leads(va_ms: float) -> None:
    cond = get_condition("retrograde_va").with_changes(va_conduction_ms=va_ms, **QUIET)
    heart = FastHeart(cond)
    heart.kernel.arrival_log = []
    _paced(heart, [1_500_000], 2_500_000, site="RV")
    ra = [t for t in _arrivals(heart, "ra") if t > 1_500_000]
    assert abs(ra[0] - 1_500_000 - va_ms * 1000) <= STEP_US


def test_escape_interval_is_the_escape_rate() -> None:
    acts = FastHeart("complete_av_block", seed=3).run_open_loop(120_000_000)
    esc = [x.t_us for x in acts if x.origin is Origin.ESCAPE]
    gaps = np.diff(esc) / 1000.0
    cycle = 60000.0 / 35.0
    # each cycle is the rate's with +-3 % jitter (Heart's escape clock); none conducted
    assert np.all(gaps >= cycle * 0.97 - 0.2) and np.all(gaps <= cycle * 1.03 + 0.2)
    assert abs(np.median(gaps) - cycle) < 0.01 * cycle
    assert not any(x.origin is Origin.CONDUCTED for x in acts)


def _node_recurrence(pp_ms: float, n: int, node_ms: float, dec_ms: float, rec_ms: float,
                     erp_ms: float, conceal: float) -> list[bool]:
    """Which of ``n`` equally spaced entries into the AV node conduct: the Penn-style node
    written out here from its definition (docs/heart.md, "AV node"), independently of the
    kernel."""
    out = []
    last_exit: float | None = None
    for k in range(n):
        t = k * pp_ms
        if last_exit is not None:
            r = t - last_exit
            if r < erp_ms:
                if r >= conceal * erp_ms:
                    last_exit = t
                out.append(False)
                continue
            delay = node_ms + dec_ms * math.exp(-(r - erp_ms) / rec_ms)
        else:
            delay = node_ms
        last_exit = t + delay
        out.append(True)
    return out


@pytest.mark.parametrize("rate_bpm", [70.0, 100.0, 115.0, 125.0, 135.0, 150.0])
def test_wenckebach_on_constant_pp_follows_the_node_recurrence(rate_bpm: float) -> None:
    """RA pacing at a constant P-P below and above the node's 1:1 limit: the beats that
    conduct are the recurrence's (the atrial conduction is equal for every beat, so the entries
    stay equally spaced)."""
    cond = get_condition("mobitz_1").with_changes(**QUIET)
    pp_us = round(60e6 / rate_bpm / STEP_US) * STEP_US
    n = 24
    paces = [1_000_000 + k * pp_us for k in range(n)]
    heart = FastHeart(cond)
    heart.kernel.arrival_log = []
    _paced(heart, paces, paces[-1] + 2_000_000)
    his = _arrivals(heart, "his", "ante_exit")
    got = [any(p < h <= p + 1_000_000 and not any(p < q < h for q in paces) for h in his)
           for p in paces]
    node = cond.av_delay_ms - (_d("ra_pace", "av_entry") + _d("ante_exit", "rv")) / 1000
    want = _node_recurrence(pp_us / 1000, n, node, cond.av_decrement_ms, cond.av_recovery_ms,
                            cond.av_erp_ms, cond.av_concealment_fraction)
    # the first entries see rested atria (a little faster); compare from the 4th beat
    assert got[4:] == want[4:]
    if rate_bpm <= 70:
        assert all(want)  # 1:1 below the limit
    if rate_bpm >= 125:
        assert not all(want[4:])  # Wenckebach above it


def test_hash_draws_are_uniform() -> None:
    """Sinus cycles with 20 % jitter and no pauses are uniform on [0.8, 1.2] x the cycle."""
    cond = get_condition("normal_sinus").with_changes(sinus_jitter=0.2, sinus_rate_bpm=60.0)
    acts = FastHeart(cond, seed=11).run_open_loop(2_500_000_000)
    a = np.array([x.t_us for x in acts if x.chamber is Chamber.A and x.origin is Origin.SINUS])
    u = (np.diff(a) / 1e6 - 0.8) / 0.4
    assert len(u) > 2000
    assert stats.kstest(u, "uniform").pvalue > 1e-3


def _key(acts: list[Activation] | tuple[Activation, ...]) -> list[tuple[int, str, str]]:
    return [(a.t_us, a.chamber.value, a.origin.value) for a in acts]


@pytest.mark.parametrize("name", ["normal_sinus", "sick_sinus", "mobitz_1", "mobitz_2",
                                  "av_block_2_1", "complete_av_block", "atrial_flutter",
                                  "pvcs"])
def test_agrees_with_the_cell_heart_beat_by_beat(name: str) -> None:
    """With the cell heart's draws, 10 s of each preset give the same beats, of the same
    origins, within a millisecond (restitution and kernel steps)."""
    fast = FastHeart(name, seed=5, draws="cells").run_open_loop(10_000_000)
    cells = Heart(name, 5, sample_rate_hz=5000, leads=(), ecg=False, noise=False
                  ).advance(10_000_000).events
    f, c = _key(fast), _key(sorted(cells, key=lambda e: e.t_us))
    assert [x[1:] for x in f] == [x[1:] for x in c]
    assert max(abs(x[0] - y[0]) for x, y in zip(f, c, strict=True)) <= 1000


def test_paces_capture_by_the_strength_duration_law() -> None:
    cond = get_condition("complete_av_block").with_changes(**QUIET)
    thr = cond.rheobase("RV") * (1 + cond.chronaxie("RV") * 1000 / 400)
    heart = FastHeart(cond)
    _paced(heart, [500_000], 1_500_000, site="RV")
    assert heart.pace(1_500_000, "RV", thr * 0.99, 400) is False
    while heart.next_sense(2_500_000) is not None:
        pass
    assert heart.pace(2_500_000, "RV", thr * 1.01, 400) is True
    heart.run_open_loop(3_000_000)
    paces = [a for a in heart.activations() if a.origin is Origin.PACED]
    assert [(p.t_us, p.captured) for p in paces] == [(500_000, True), (1_500_000, False),
                                                    (2_500_000, True)]


def test_a_pace_into_refractory_ventricle_does_not_capture() -> None:
    heart = FastHeart("complete_av_block")
    _paced(heart, [500_000, 600_000], 700_000, site="RV")  # 100 ms < ventricular ERP
    paces = [a for a in heart.activations() if a.origin is Origin.PACED]
    assert [p.captured for p in paces] == [True, False]


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(1, 9_999_999), max_size=12, unique=True))
def test_running_in_pieces_gives_the_same_beats(cuts: list[int]) -> None:
    whole = FastHeart("bench_patient", seed=2).run_open_loop(10_000_000)
    heart = FastHeart("bench_patient", seed=2)
    for t in sorted(cuts):
        while heart.next_sense(t) is not None:
            pass
    assert heart.run_open_loop(10_000_000) == whole


def test_bad_input_is_named() -> None:
    with pytest.raises(HeartError, match="condition"):
        FastHeart("no_such_condition")
    with pytest.raises(HeartError, match="seed"):
        FastHeart("normal_sinus", seed=-1)
    with pytest.raises(HeartError, match="draws"):
        FastHeart("normal_sinus", draws="numpy")
    heart = FastHeart("normal_sinus")
    with pytest.raises(HeartError, match="LV"):
        heart.pace(0, "LV", 5.0, 400)
    heart.run_open_loop(1_000_000)
    with pytest.raises(HeartError, match="t_us"):
        heart.pace(10, "RA", 5.0, 400)
    with pytest.raises(HeartError, match="duration_us"):
        heart.run_open_loop(0)


def test_pace_record_matches_the_cell_heart_for_a_captured_ra_pace() -> None:
    """Same pace, same records (onset time, captured, site) on both hearts."""
    cond = get_condition("sinus_bradycardia")
    fast = FastHeart(cond, seed=1, draws="cells")
    _paced(fast, [700_000], 2_000_000)
    cells = Heart(cond, 1, sample_rate_hz=5000, leads=(), ecg=False, noise=False)
    events = cells.advance(2_000_000, [Pace(700_000, "RA", 5.0, 400)]).events
    want = [(e.t_us, e.captured, e.site) for e in events if e.origin is Origin.PACED]
    got = [(e.t_us, e.captured, e.site) for e in fast.activations() if e.origin is Origin.PACED]
    assert got == want == [(700_000, True, "RA")]


def test_a_condition_change_takes_effect_at_its_time() -> None:
    cond = get_condition("normal_sinus").with_changes(sinus_jitter=0.0)
    heart = FastHeart(cond)
    while heart.next_sense(5_000_000 - 1) is not None:
        pass
    heart.apply(5_000_000, sinus_rate_bpm=120.0, pvc_times_ms=(300.0,))
    acts = heart.run_open_loop(12_000_000)
    a = [x.t_us for x in acts if x.chamber is Chamber.A and x.t_us > 6_000_000]
    assert set(np.diff(a).tolist()) == {500_000}  # the new rate's cycle
    pvc = [x.t_us for x in acts if x.origin is Origin.ECTOPIC and x.chamber is Chamber.V]
    # the PVC focus fires 300 ms after the change; its cells cross a step later
    assert pvc == [5_300_000 + _d("pvc", "pvc")]
    with pytest.raises(HeartError, match="t_us"):
        heart.apply(1_000_000, sinus_rate_bpm=60.0)
