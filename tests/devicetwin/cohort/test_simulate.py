"""simulate_patient: the closed loop against the programming's closed-form timing and against
the cell-network heart driven through the same loop."""

from __future__ import annotations

import numpy as np
import pytest

from devicetwin.cohort import CohortError, PatientRun, simulate_patient
from devicetwin.heart import get_condition
from devicetwin.heart.events import Origin
from devicetwin.pacemaker import Mode, Programming
from devicetwin.pacemaker.markers import Chamber, MarkerKind


def _times(run: PatientRun, kind: MarkerKind) -> list[int]:
    return [m.t_us for m in run.markers if m.kind is kind]


def test_complete_block_vvi_paces_at_the_lower_rate() -> None:
    prog = Programming.nominal(Mode.VVI, lower_rate_ppm=60)
    run = simulate_patient("complete_av_block", prog, 20_000_000)
    vp = _times(run, MarkerKind.VP)
    # escape 35 bpm < 60 ppm: every beat paced, 1000 ms apart (the lower-rate interval)
    assert set(np.diff(vp).tolist()) == {1_000_000}
    assert run.outcomes.values()["ventricular_paced_percent"] == pytest.approx(100.0)
    assert all(a.captured for a in run.activations if a.origin is Origin.PACED)


def test_av_block_ddd_tracks_the_sinus_after_the_sensed_av_delay() -> None:
    cond = get_condition("complete_av_block").with_changes(sinus_rate_bpm=80.0, sinus_jitter=0.0)
    prog = Programming.nominal(Mode.DDD)
    run = simulate_patient(cond, prog, 20_000_000)
    a_s = _times(run, MarkerKind.AS)
    vp = _times(run, MarkerKind.VP)
    pairs = [(a, min(v for v in vp if v > a)) for a in a_s[1:-1]]
    # every P tracked after the programmed sensed AV delay, at the sinus rate
    assert prog.sensed_av_offset_ms is None  # nominal: the sensed AV delay is the fixed one
    assert {v - a for a, v in pairs} == {prog.fixed_av_delay_ms * 1000}
    assert np.median(np.diff(vp)) == pytest.approx(60e6 / 80, abs=400)


def test_normal_conduction_vvi_never_paces() -> None:
    run = simulate_patient("normal_sinus", Programming.nominal(Mode.VVI), 20_000_000)
    assert _times(run, MarkerKind.VP) == []
    assert run.outcomes.values()["ventricular_paced_percent"] == 0.0
    # every conducted beat sensed: 70 bpm over 20 s
    assert abs(len(_times(run, MarkerKind.VS)) - 70 * 20 / 60) <= 1


def test_result_fields_agree() -> None:
    run = simulate_patient("bench_patient", Programming.nominal(Mode.DDD), 10_000_000, seed=4)
    assert run.duration_us == 10_000_000 == run.outcomes.settings.duration_us
    assert list(run.activations) == sorted(run.activations, key=lambda a: a.t_us)
    assert list(run.markers) == sorted(run.markers, key=lambda m: m.t_us)
    paced = [a for a in run.activations if a.origin is Origin.PACED and a.chamber is Chamber.V]
    assert {a.t_us for a in paced} == set(_times(run, MarkerKind.VP))


def test_same_seed_same_run_other_seed_other_run() -> None:
    prog = Programming.nominal(Mode.DDD)
    a = simulate_patient("pvcs", prog, 30_000_000, seed=1)
    b = simulate_patient("pvcs", prog, 30_000_000, seed=1)
    c = simulate_patient("pvcs", prog, 30_000_000, seed=2)
    assert a.activations == b.activations and a.markers == b.markers
    assert a.activations != c.activations


@pytest.mark.parametrize(("condition", "mode", "params"), [
    ("bench_patient", Mode.DDD, {"pvarp_ms": 300}),
    ("bench_patient", Mode.DDD, {"pvarp_ms": 250, "pmt_termination": False}),
    ("mobitz_1", Mode.DDD, {}),
    ("sick_sinus", Mode.AAI, {}),
])
def test_fast_and_cell_hearts_give_the_same_closed_loop(condition: str, mode: Mode,
                                                        params: dict[str, object]) -> None:
    """Through the same loop, with the cell heart's draws, the two hearts give the same
    markers (within 2 ms) and the same outcome measures (pacing within 2 points)."""
    prog = Programming.nominal(mode, **params)
    fast = simulate_patient(condition, prog, 15_000_000, seed=3, heart="fast", draws="cells")
    cells = simulate_patient(condition, prog, 15_000_000, seed=3, heart="cells")
    fm = [(m.t_us, m.chamber, m.kind) for m in fast.markers]
    cm = [(m.t_us, m.chamber, m.kind) for m in cells.markers]
    assert [x[1:] for x in fm] == [x[1:] for x in cm]
    assert max(abs(x[0] - y[0]) for x, y in zip(fm, cm, strict=True)) <= 2000
    fv, cv = fast.outcomes.values(), cells.outcomes.values()
    for key in ("ventricular_paced_percent", "atrial_paced_percent"):
        assert abs(float(fv[key] or 0) - float(cv[key] or 0)) <= 2.0, key
    assert abs(float(fv["pmt_burden"] or 0) - float(cv["pmt_burden"] or 0)) <= 0.02


def test_bad_arguments_are_named() -> None:
    prog = Programming.nominal(Mode.DDD)
    with pytest.raises(CohortError, match="heart"):
        simulate_patient("normal_sinus", prog, 1_000_000, heart="tissue")
    with pytest.raises(CohortError, match="duration_us"):
        simulate_patient("normal_sinus", prog, 0)
    with pytest.raises(CohortError, match="seed"):
        simulate_patient("normal_sinus", prog, 1_000_000, seed=-2)
    with pytest.raises(CohortError, match="programming"):
        simulate_patient("normal_sinus", "DDD", 1_000_000)  # type: ignore[arg-type]
    with pytest.raises(CohortError, match="draws"):
        simulate_patient("normal_sinus", prog, 1_000_000, draws="random")


def test_rate_adaptive_pacing_follows_the_workload() -> None:
    """VVIR in complete block through the exercise preset: the lower rate at rest, the
    programmed maximal sensor rate at a workload of 0.8 (the sensor saturates there)."""
    cond = get_condition("exercise").with_changes(av_conduction="blocked")
    prog = Programming.nominal(Mode.VVIR)
    run = simulate_patient(cond, prog, 200_000_000)
    vp = np.array(_times(run, MarkerKind.VP))
    rate = 60e6 / np.diff(vp)
    rest = rate[vp[1:] < 9_000_000]
    peak = rate[(vp[1:] > 160_000_000) & (vp[1:] < 200_000_000)]
    assert np.allclose(rest, prog.lower_rate_ppm, atol=0.5)
    assert np.allclose(peak, prog.max_sensor_rate_ppm, atol=0.5)


def test_condition_changes_run_the_same_on_both_hearts() -> None:
    """A scenario-like timeline (sinus rate steps past the upper rate, a PVC): the same markers
    on both hearts, and the upper-rate behaviour the programming implies."""
    cond = get_condition("complete_av_block").with_changes(sinus_rate_bpm=100.0,
                                                           sinus_jitter=0.005)
    changes: list[tuple[int, dict[str, object]]] = [
        (8_000_000, {"sinus_rate_bpm": 128.0}), (5_600_000, {"pvc_times_ms": (0.0,)}),
        (16_000_000, {"sinus_rate_bpm": 155.0})]
    prog = Programming.nominal(Mode.DDD)
    runs = [simulate_patient(cond, prog, 24_000_000, 14, h, draws="cells", changes=changes)
            for h in ("fast", "cells")]
    keys = [[(m.t_us // 1000, m.kind) for m in r.markers] for r in runs]
    assert len(keys[0]) == len(keys[1])
    assert all(a[1] == b[1] and abs(a[0] - b[0]) <= 2 for a, b in zip(*keys, strict=True))
    vp = np.array(_times(runs[0], MarkerKind.VP))
    # above the upper rate the ventricle is never paced faster than the upper-rate interval
    assert np.diff(vp).min() >= prog.uri_ms * 1000 - 1000


def test_bad_changes_are_named() -> None:
    prog = Programming.nominal(Mode.DDD)
    with pytest.raises(CohortError, match="changes"):
        simulate_patient("normal_sinus", prog, 5_000_000, changes=[(1_000_500, {})])
    with pytest.raises(CohortError, match="changes"):
        simulate_patient("normal_sinus", prog, 5_000_000, changes=[(6_000_000, {})])
    with pytest.raises(Exception, match="sinus_rate_bpm"):
        simulate_patient("normal_sinus", prog, 5_000_000,
                         changes=[(1_000_000, {"sinus_rate_bpm": 900.0})])
