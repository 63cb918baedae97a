"""The heart's API contract: determinism, chunking invariance, snapshot/restore, validation,
condition presets and files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devicetwin.errors import DeviceTwinError
from devicetwin.heart import (
    Condition,
    Heart,
    HeartError,
    HeartOutput,
    IonicModel,
    Origin,
    Pace,
    get_condition,
    list_conditions,
    load_condition,
)
from devicetwin.pacemaker.markers import Chamber

REQUIRED = {
    "normal_sinus",
    "sinus_bradycardia",
    "sick_sinus",
    "av_block_1",
    "mobitz_1",
    "mobitz_2",
    "av_block_2_1",
    "complete_av_block",
    "atrial_flutter",
    "atrial_fibrillation",
    "pacs",
    "pvcs",
    "retrograde_va",
    "exercise",
    "rising_threshold",
    "bench_patient",
}


def _busy_heart() -> Heart:
    heart = Heart("atrial_fibrillation", seed=11, leads=("RA", "RV", "LV"), ecg=("I", "II"))
    heart.apply(mains_mv=0.3, myopotential_mv=0.2, pvc_rate_per_min=20.0, retrograde=True)
    heart.schedule(1_500_000, "bench_patient", exercise_profile=((0.0, 0.5),))
    return heart


def _paces(t0: int, t1: int) -> list[Pace]:
    out = []
    for t in range(0, t1, 700_000):
        for site, dt in (("RV", 300), ("RA", 250_700), ("LV", 300)):
            if t0 <= t + dt < t1:
                out.append(Pace(t + dt, site, 2.5, 400))
    return out


def _concat(outputs: list[HeartOutput]) -> tuple[dict[str, np.ndarray], list[object]]:
    sig = {}
    for key in ("RA", "RV", "LV"):
        sig[key] = np.concatenate([o.egm_mv[key] for o in outputs])
    for key in ("I", "II"):
        sig["ecg" + key] = np.concatenate([o.ecg_mv[key] for o in outputs])
    sig["activity"] = np.concatenate([o.activity_milli_g for o in outputs])
    return sig, [e for o in outputs for e in o.events]


def test_one_ms_chunks_equal_one_long_call_bit_for_bit() -> None:
    total = 3_000_000
    one = _busy_heart()
    long_sig, long_events = _concat([one.advance(total, _paces(0, total))])
    chunked = _busy_heart()
    outs = [chunked.advance(1000, _paces(t, t + 1000)) for t in range(0, total, 1000)]
    short_sig, short_events = _concat(outs)
    assert long_events == short_events
    assert any(e.origin is Origin.PACED and e.captured for e in long_events)
    for key, arr in long_sig.items():
        assert np.array_equal(arr, short_sig[key]), key
    assert one.now_us == chunked.now_us == total
    assert [o.t0_us for o in outs[:3]] == [0, 1000, 2000]


def _quiet_heart(sample_rate_hz: int = 1000) -> Heart:
    """Noise-free, so that most 1 ms windows take the compiled fast path of advance()."""
    heart = Heart(
        "pvcs",
        seed=3,
        sample_rate_hz=sample_rate_hz,
        leads=("RA", "RV", "LV"),
        ecg=("I", "II"),
        noise=False,
    )
    heart.schedule(1_900_000, pvc_rate_per_min=0.0, sinus_rate_bpm=95.0, retrograde=True)
    heart.schedule(3_600_000, "mobitz_1")
    return heart


@pytest.mark.parametrize("sample_rate_hz", [1000, 5000])
def test_quiet_one_ms_chunks_equal_one_long_call_with_paces_and_changes(
    sample_rate_hz: int,
) -> None:
    # 5 s: more 1 ms outputs than the fast path's buffer holds (4096 samples at 1 kHz), all kept
    # until the end, so an output overwritten by a later call would show here
    total = 5_000_000
    one = _quiet_heart(sample_rate_hz)
    long_sig, long_events = _concat([one.advance(total, _paces(0, total))])
    chunked = _quiet_heart(sample_rate_hz)
    outs = [chunked.advance(1000, _paces(t, t + 1000)) for t in range(0, total, 1000)]
    short_sig, short_events = _concat(outs)
    assert long_events == short_events
    paced = [e for e in long_events if e.origin is Origin.PACED]
    assert any(e.captured for e in paced) and any(not e.captured for e in paced)
    assert sum(e.chamber is Chamber.V for e in long_events) >= 5
    for key, arr in long_sig.items():
        assert arr.shape == (total // 1_000_000 * sample_rate_hz,), key
        assert np.array_equal(arr, short_sig[key]), key
    assert [o.t0_us for o in outs] == list(range(0, total, 1000))
    assert chunked.condition == one.condition == get_condition("mobitz_1")


def test_outputs_of_later_calls_do_not_change_earlier_ones() -> None:
    heart = _quiet_heart()
    outs = [heart.advance(1000) for _ in range(300)]
    copies = [(o.samples_mv.copy(), o.activity_milli_g.copy()) for o in outs]
    for _ in range(5000):
        heart.advance(1000)
    for o, (samples, act) in zip(outs, copies, strict=True):
        assert np.array_equal(o.samples_mv, samples)
        assert np.array_equal(o.activity_milli_g, act)
    out = heart.advance(1000)
    assert out.egm_mv["RV"].flags.writeable and not out.activity_milli_g.flags.writeable
    assert dataclasses.is_dataclass(out) and isinstance(out, HeartOutput)
    with pytest.raises(dataclasses.FrozenInstanceError):
        out.t0_us = 0  # type: ignore[misc]


def test_samples_matrix_rows_are_the_named_channels_in_order() -> None:
    heart = _quiet_heart()
    # 1 ms windows (mostly the compiled path) and a window with a pace (the general path)
    outs = [heart.advance(1000) for _ in range(50)]
    outs.append(heart.advance(4000, [Pace(heart.now_us + 1000, "RV", 2.5, 400)]))
    for out in outs:
        n = out.activity_milli_g.shape[0]
        assert out.egm_sites == ("RA", "RV", "LV") and out.ecg_leads == ("I", "II")
        assert out.samples_mv.shape == (5, n) and out.samples_mv.dtype == np.float64
        names = [*out.egm_sites, *out.ecg_leads]
        views = {**out.egm_mv, **out.ecg_mv}
        assert list(views) == names
        for row, name in enumerate(names):
            assert np.array_equal(out.samples_mv[row], views[name])
    assert outs[-1].samples_mv.shape[1] == 4


def test_a_heart_is_freed_without_the_cycle_collector() -> None:
    # the compiled fast path refers back to its heart only weakly: no reference cycle
    import gc
    import weakref

    heart = _quiet_heart()
    heart.advance(50_000)
    ref = weakref.ref(heart)
    enabled = gc.isenabled()
    gc.disable()
    try:
        del heart
        assert ref() is None
    finally:
        if enabled:
            gc.enable()


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=120), min_size=1, max_size=12))
def test_any_chunking_gives_the_same_output(chunks_ms: list[int]) -> None:
    total = sum(chunks_ms) * 1000
    ref = Heart("pvcs", seed=5)
    ref.apply(pvc_rate_per_min=30.0)
    expected = ref.advance(total)
    heart = Heart("pvcs", seed=5)
    heart.apply(pvc_rate_per_min=30.0)
    outs = [heart.advance(ms * 1000) for ms in chunks_ms]
    got = np.concatenate([o.egm_mv["RV"] for o in outs])
    assert np.array_equal(got, expected.egm_mv["RV"])
    assert [e for o in outs for e in o.events] == expected.events


def test_compiled_windows_hand_over_mid_window_and_stay_exact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a noise-free window that starts with no action due takes the compiled path; when a
    # crossing inside it makes an action due before its end (the atrial wave reaching the AV
    # node schedules the AV-node exit ~100 ms later) the rest of the window goes to the general
    # path. Windows of 150 ms starting just after an atrial activation provoke that in most beats.
    handovers: list[int] = []
    general = Heart._run_window

    def spy(self: Heart, step0: int, duration_us: int, buf: np.ndarray, col0: int,
            events: list[object]) -> object:
        if buf.shape[1] == 4096:  # the compiled path's arena (a general window's is its own)
            handovers.append(step0)
        return general(self, step0, duration_us, buf, col0, events)  # type: ignore[arg-type]

    monkeypatch.setattr(Heart, "_run_window", spy)

    def heart() -> Heart:
        return Heart("normal_sinus", seed=3, leads=("RA", "RV", "LV"), ecg=("I", "II"), noise=False)

    chunked = heart()
    outs: list[HeartOutput] = []
    while chunked.now_us < 8_000_000:
        out = chunked.advance(1000)
        outs.append(out)
        if any(e.chamber is Chamber.A for e in out.events):
            outs.append(chunked.advance(150_000))
    assert len(handovers) >= 3
    one = heart()
    long_sig, long_events = _concat([one.advance(chunked.now_us)])
    short_sig, short_events = _concat(outs)
    assert long_events == short_events
    for key, arr in long_sig.items():
        assert np.array_equal(arr, short_sig[key]), key


def test_same_seed_same_output_and_different_seed_differs() -> None:
    a = _busy_heart().advance(2_000_000)
    b = _busy_heart().advance(2_000_000)
    assert a.events == b.events
    assert np.array_equal(a.egm_mv["RA"], b.egm_mv["RA"])
    other = Heart("atrial_fibrillation", seed=12).advance(2_000_000)
    assert other.events != a.events


def test_snapshot_and_restore_replay_exactly() -> None:
    heart = _busy_heart()
    heart.advance(1_200_000)
    snap = heart.snapshot()
    first = heart.advance(800_000, _paces(1_200_000, 2_000_000))
    heart.restore(snap)
    assert heart.now_us == 1_200_000
    again = heart.advance(800_000, _paces(1_200_000, 2_000_000))
    assert first.events == again.events
    for site in ("RA", "RV", "LV"):
        assert np.array_equal(first.egm_mv[site], again.egm_mv[site])
    assert np.array_equal(first.activity_milli_g, again.activity_milli_g)
    heart.restore(snap)  # the snapshot itself was not changed by the replay
    third = heart.advance(800_000, _paces(1_200_000, 2_000_000))
    assert third.events == first.events
    assert np.array_equal(third.egm_mv["RV"], first.egm_mv["RV"])
    with pytest.raises(HeartError):
        heart.restore("not a snapshot")  # type: ignore[arg-type]


def test_speculation_with_a_different_pace_then_rollback() -> None:
    heart = Heart("complete_av_block", seed=1)
    heart.advance(500_000)
    snap = heart.snapshot()
    paced = heart.advance(100_000, [Pace(500_000, "RV", 3.0, 400)])
    heart.restore(snap)
    unpaced = heart.advance(100_000)
    assert any(e.origin is Origin.PACED for e in paced.events)
    assert not any(e.origin is Origin.PACED for e in unpaced.events)


def test_sample_rate_and_output_shapes() -> None:
    heart = Heart(sample_rate_hz=500, leads=("RV",), ecg=False)
    out = heart.advance(10_000)
    assert set(out.egm_mv) == {"RV"} and out.ecg_mv == {}
    assert out.egm_mv["RV"].shape == (5,) and out.egm_mv["RV"].dtype == np.float64
    assert out.activity_milli_g.shape == (5,)
    with pytest.raises(HeartError):
        heart.advance(1_000)  # half a sample at 500 Hz


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"condition": "no_such_rhythm"}, "condition"),
        ({"sample_rate_hz": 3000}, "sample_rate_hz"),
        ({"leads": ("RA", "LA")}, "leads"),
        ({"ecg": ("aVR",)}, "ecg"),
        ({"seed": -1}, "seed"),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(HeartError) as err:
        Heart(**kwargs)  # type: ignore[arg-type]
    assert err.value.name == name
    assert repr(err.value.value) in str(err.value)
    assert isinstance(err.value, DeviceTwinError)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("va_conduction_ms", -10.0),
        ("sinus_rate_bpm", 400.0),
        ("escape_rate_bpm", 5.0),
        ("av_conduction", "sometimes"),
        ("atrial_rhythm", "torsades"),
        ("pvc_times_ms", (-5.0,)),
        ("rheobase_v", (("RV", 0.3),)),
    ],
)
def test_out_of_range_parameters_name_value_and_range(field: str, value: object) -> None:
    heart = Heart()
    with pytest.raises(HeartError) as err:
        heart.apply(**{field: value})
    assert field in str(err.value) and "expected" in str(err.value)
    assert err.value.expected


def test_unknown_parameter_and_bad_duration_and_bad_schedule() -> None:
    heart = Heart()
    with pytest.raises(HeartError):
        heart.apply(no_such_field=1)
    for bad in (0, -1000, 1500, 1000.0):
        with pytest.raises(HeartError):
            heart.advance(bad)  # type: ignore[arg-type]
    heart.advance(10_000)
    with pytest.raises(HeartError):
        heart.schedule(5_000, sinus_rate_bpm=80.0)
    with pytest.raises(HeartError):
        heart.schedule(20_500, sinus_rate_bpm=80.0)


def test_errors_pickle_with_their_fields() -> None:
    import pickle

    try:
        get_condition("nope")
    except HeartError as exc:
        back = pickle.loads(pickle.dumps(exc))
        assert isinstance(back, HeartError) and back.value == "nope" and back.expected


def test_presets_cover_the_required_conditions() -> None:
    listed = dict(list_conditions())
    assert set(listed) >= REQUIRED
    assert all(desc and "\n" not in desc for desc in listed.values())


def test_conditions_load_from_toml_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "patient.toml"
    toml.write_text('base = "retrograde_va"\nva_conduction_ms = 310.0\nname = "mine"\n')
    cond = load_condition(toml)
    assert cond.va_conduction_ms == 310.0 and cond.retrograde and cond.name == "mine"
    js = tmp_path / "patient.json"
    js.write_text(json.dumps({"sinus_rate_bpm": 55, "pvc_times_ms": [1000, 2000]}))
    cond2 = load_condition(js)
    assert cond2.sinus_rate_bpm == 55 and cond2.pvc_times_ms == (1000, 2000)
    assert isinstance(cond2, Condition)
    bad = tmp_path / "patient.json"
    bad.write_text(json.dumps({"sinus_rate_bpm": 900}))
    with pytest.raises(HeartError):
        load_condition(bad)
    with pytest.raises(HeartError):
        load_condition(tmp_path / "patient.yaml")


def test_scheduled_change_takes_effect_at_its_time() -> None:
    heart = Heart("normal_sinus", seed=0)
    heart.schedule(3_000_000, "complete_av_block")
    events = heart.advance(8_000_000).events
    conducted = [e.t_us for e in events if e.origin is Origin.CONDUCTED]
    escape = [e.t_us for e in events if e.origin is Origin.ESCAPE]
    assert conducted and max(conducted) < 3_200_000
    assert escape and min(escape) > 3_000_000
    assert heart.condition.name == "complete_av_block"


def test_aliev_panfilov_model_is_selectable_and_conducts() -> None:
    heart = Heart("normal_sinus", seed=0, model=IonicModel.ALIEV_PANFILOV)
    out = heart.advance(3_000_000)
    a = [e for e in out.events if e.chamber is Chamber.A and e.origin is Origin.SINUS]
    v = [e for e in out.events if e.chamber is Chamber.V and e.origin is Origin.CONDUCTED]
    assert len(a) >= 3 and len(v) == len(a)
    assert float(np.ptp(out.egm_mv["RV"])) > 2.0


def test_unrelated_change_keeps_other_time_bases() -> None:
    heart = Heart("normal_sinus", seed=0)
    heart.apply(pvc_times_ms=(500.0,), exercise_profile=((0.0, 0.0), (1.0, 1.0)))
    heart.advance(2_000_000)
    heart.apply(mains_mv=0.1)  # touches neither the PVC times nor the exercise profile
    events = heart.advance(3_000_000).events
    assert not [e for e in events if e.origin is Origin.ECTOPIC]  # the PVC did not fire again
    late = heart.advance(1_000_000).activity_milli_g
    assert float(np.mean(np.abs(late.astype(np.int64)))) > 140  # exercise still at full load


def test_branches_after_restore_do_not_share_signal_caches() -> None:
    heart = Heart("normal_sinus", seed=3)
    heart.advance(300_000)
    snap = heart.snapshot()
    heart.apply(mains_mv=1.0)
    heart.advance(200_000)
    heart.restore(snap)
    heart.apply(mains_mv=2.0)
    branch = heart.advance(200_000).egm_mv["RA"]
    fresh = Heart("normal_sinus", seed=3)
    fresh.advance(300_000)
    fresh.apply(mains_mv=2.0)
    assert np.array_equal(branch, fresh.advance(200_000).egm_mv["RA"])


_RANGED = [
    (f.name, f.metadata["range"]) for f in dataclasses.fields(Condition) if "range" in f.metadata
]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(_RANGED), st.floats(min_value=0.0, max_value=1.0), st.booleans())
def test_every_ranged_parameter_accepts_its_range_and_rejects_outside(
    field_range: tuple[str, tuple[float, float]], frac: float, above: bool
) -> None:
    name, (lo, hi) = field_range
    base = get_condition("normal_sinus").with_changes(max_sinus_rate_bpm=220.0)
    inside = lo + frac * (hi - lo)
    if name == "max_sinus_rate_bpm":
        inside = max(inside, base.sinus_rate_bpm)
    assert getattr(base.with_changes(**{name: inside}), name) == inside
    outside = hi + 1.0 + frac if above else lo - 1.0 - frac
    with pytest.raises(HeartError) as err:
        base.with_changes(**{name: outside})
    assert err.value.name == name and err.value.value == outside


def test_scheduled_changes_accumulate() -> None:
    heart = Heart("normal_sinus", seed=0)
    heart.schedule(1_000_000, exercise_profile=((0.0, 0.5),))
    heart.schedule(2_000_000, pvc_times_ms=(100.0,))
    heart.schedule(3_000_000, "sinus_bradycardia", mains_mv=0.2)
    heart.advance(2_500_000)
    assert heart.condition.exercise_profile == ((0.0, 0.5),)  # kept by the second change
    assert heart.condition.pvc_times_ms == (100.0,)
    heart.advance(1_000_000)
    assert heart.condition.name == "sinus_bradycardia" and heart.condition.mains_mv == 0.2
    assert heart.condition.exercise_profile == ()  # a preset replaces everything
