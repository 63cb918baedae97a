"""Invariants of the timing engine over random programmings and random detection sequences.

Each property restates a rule of docs/assumptions.md independently of the engine's code and
checks it on the marker stream alone.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from devicetwin.pacemaker import (
    PARAMETERS,
    Chamber,
    LowerRateTiming,
    MarkerEvent,
    MarkerKind,
    Mode,
    PaceFlag,
    PacemakerModel,
    Programming,
    ProgrammingError,
    interval_ms,
)
from devicetwin.pacemaker.modes import PERMANENT_MODES

K = MarkerKind
V_EVENT_SENSES = (K.VS, K.PVC)
MODES = [m for m in PERMANENT_MODES if m is not Mode.OFF]
RELAX = settings(suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
                 deadline=None)


@st.composite
def programmings(
    draw: st.DrawFn,
    modes: list[Mode] = MODES,
    hysteresis: bool = True,
    extras: bool = True,
    atrial_timing: bool = True,
) -> Programming:
    mode = draw(st.sampled_from(modes))
    lrl = draw(st.sampled_from([40, 50, 55, 60, 70, 80, 90, 100]))
    url = draw(st.sampled_from([u for u in range(50, 176, 5) if u >= lrl]))
    values: dict[str, Any] = {
        "lower_rate_ppm": lrl,
        "upper_rate_ppm": url,
        "max_sensor_rate_ppm": draw(st.sampled_from([u for u in range(50, 176, 5) if u >= lrl])),
        "fixed_av_delay_ms": draw(st.sampled_from(range(70, 301, 10))),
        "pvarp_ms": draw(st.sampled_from(range(150, 360, 10))),
        "vrp_ms": draw(st.sampled_from(range(150, 410, 10))),
        "arp_ms": draw(st.sampled_from(range(150, 410, 10))),
        "sensed_av_offset_ms": draw(st.sampled_from([None, -10, -50, -100])),
        "dynamic_av_delay": draw(st.booleans()) if extras else False,
        "min_dynamic_av_delay_ms": draw(st.sampled_from(range(50, 101, 10))),
        "ventricular_blanking_ms": draw(st.sampled_from([30, 40])),
        "pvab_ms": draw(st.sampled_from([50, 100, 150])),
        "pvarp_extension_ms": draw(st.sampled_from([None, 50, 150, 400])) if extras else None,
        "rate_smoothing_pct": draw(st.sampled_from([None, 3, 12, 25])) if extras else None,
        "atr_mode": draw(st.booleans()) if extras else False,
        "atr_duration_cycles": 10,
        "safety_pacing": draw(st.booleans()),
        "pmt_termination": draw(st.booleans()),
        "lower_rate_timing": (draw(st.sampled_from(list(LowerRateTiming))) if atrial_timing
                              else LowerRateTiming.VENTRICULAR),
    }
    if hysteresis:
        values["hysteresis_rate_ppm"] = draw(st.sampled_from([None, 30, 35, 50]))
    values = {k: v for k, v in values.items() if PARAMETERS[k].applies_to(mode)}
    try:
        return Programming.nominal(mode, **values)
    except ProgrammingError:
        assume(False)
        raise


def detections(max_gap_ms: int = 1500, min_gap_ms: int = 0) -> st.SearchStrategy[
        list[tuple[int, Chamber]]]:
    gap = st.one_of(st.integers(min_gap_ms, max_gap_ms),
                    st.sampled_from([g for g in (0, 1, 50, 60) if g >= min_gap_ms]))
    step = st.tuples(gap, st.sampled_from([Chamber.A, Chamber.V]))

    def cumulate(steps: list[tuple[int, Chamber]]) -> list[tuple[int, Chamber]]:
        t, out = 0, []
        for gap, ch in steps:
            t += gap
            out.append((t * 1000, ch))
        return out

    return st.lists(step, max_size=60).map(cumulate)


def spaced_detections() -> st.SearchStrategy[list[tuple[int, Chamber]]]:
    """Per channel at least 100 ms apart: never noisy (A-11), even with some removed."""
    gaps = st.lists(st.integers(100, 1400), max_size=30)

    def merge(a: list[int], v: list[int]) -> list[tuple[int, Chamber]]:
        ta = list(itertools.accumulate(a))
        tv = [t + 37 for t in itertools.accumulate(v)]
        both = [(t * 1000, Chamber.A) for t in ta] + [(t * 1000, Chamber.V) for t in tv]
        return sorted(both, key=lambda d: d[0])

    return st.builds(merge, gaps, gaps)


def simulate(prog: Programming, dets: list[tuple[int, Chamber]]) -> list[MarkerEvent]:
    end = (dets[-1][0] if dets else 0) + 3_000_000
    return PacemakerModel(prog).run_detections(dets, end)


def crosstalk_senses(out: list[MarkerEvent]) -> set[int]:
    """Indices of VS markers that only started a safety pace (A-7): between an AP and the
    SAFETY VP that follows it."""
    found: set[int] = set()
    pending: list[int] = []
    for i, m in enumerate(out):
        if m.kind is K.AP:
            pending = []
        elif m.kind is K.VS:
            pending.append(i)
        elif m.kind is K.VP:
            if m.flags & PaceFlag.SAFETY:
                found.update(pending)
            pending = []
    return found


def ventricular_events(out: list[MarkerEvent]) -> list[MarkerEvent]:
    skip = crosstalk_senses(out)
    return [m for i, m in enumerate(out)
            if (m.kind is K.VP or m.kind in V_EVENT_SENSES) and i not in skip]


@RELAX
@given(programmings(), detections())
def test_no_vp_sooner_than_uri_after_a_ventricular_event(
    prog: Programming, dets: list[tuple[int, Chamber]]
) -> None:
    out = simulate(prog, dets)
    uri = 1000 * interval_ms(prog.upper_rate_ppm)
    events = ventricular_events(out)
    last_vp: MarkerEvent | None = None
    for prev, cur in itertools.pairwise(events):
        if cur.kind is K.VP:
            if cur.flags & PaceFlag.TRIGGERED:  # measured from the previous pace
                assert last_vp is None or cur.t_us - last_vp.t_us >= uri
            else:
                assert cur.t_us - prev.t_us >= uri, (prev, cur)
        if prev.kind is K.VP:
            last_vp = prev


@RELAX
@given(programmings(hysteresis=False, atrial_timing=False), detections())
def test_escape_never_longer_than_lri(prog: Programming, dets: list[tuple[int, Chamber]]) -> None:
    # No hysteresis, no activity epochs (the sensor stays at LRL): the pacing chamber's events
    # are never further apart than LRI (the spec's +8 ms tolerance is not even needed).
    out = simulate(prog, dets)
    lri = 1000 * interval_ms(prog.lower_rate_ppm)
    mode = prog.mode
    if mode.paces_ventricle:
        events = ventricular_events(out)
    elif mode.paces_atrium:
        events = [m for m in out if m.kind in (K.AP, K.AS, K.AT)]
    else:
        return
    for prev, cur in itertools.pairwise(events):
        assert cur.t_us - prev.t_us <= lri, (prev, cur)


@RELAX
@given(programmings(modes=[Mode.DDD, Mode.DDDR], extras=False), detections())
def test_tracked_as_gives_vp_at_sav_or_uri(prog: Programming, dets: list[tuple[int, Chamber]]
                                            ) -> None:
    # with dynamic AV and smoothing off: SAV = max(30, fixed + offset).
    out = simulate(prog, dets)
    sav = 1000 * max(30, prog.fixed_av_delay_ms + (prog.sensed_av_offset_ms or 0))
    uri = 1000 * interval_ms(prog.upper_rate_ppm)
    last_v: int | None = None
    skip = crosstalk_senses(out)
    for i, m in enumerate(out):
        if (m.kind is K.VP or m.kind in V_EVENT_SENSES) and i not in skip:
            last_v = m.t_us
        if m.kind is not K.AS:
            continue
        nxt = next((n for j, n in enumerate(out[i + 1:], i + 1)
                    if (n.kind is K.VP or n.kind in V_EVENT_SENSES) and j not in skip), None)
        assert nxt is not None
        expected = m.t_us + sav
        held = last_v is not None and last_v + uri > expected
        if held and last_v is not None:
            expected = last_v + uri
        if nxt.kind is K.VP:
            assert nxt.t_us == expected, (m, nxt)
            assert bool(nxt.flags & PaceFlag.UPPER_RATE) == held
        else:  # a ventricular sense came first and inhibited the pace
            assert nxt.t_us <= expected


def _normalise(out: list[MarkerEvent]) -> list[tuple[int, str, str]]:
    kinds = {K.PVC: "VS"}
    return [(m.t_us, m.chamber.value, kinds.get(m.kind, m.kind.value)) for m in out
            if m.kind not in (K.AR, K.VR)]


@RELAX
@given(programmings(atrial_timing=False), spaced_detections())
def test_refractory_senses_never_inhibit_or_trigger(
    prog: Programming, dets: list[tuple[int, Chamber]]
) -> None:
    # An AR does count as an atrial event for the PVC definition, and a PVC differs from a
    # VS in its PVARP extension and, with atrial-based timing, in restarting VA. Without those
    # and without ATR (which counts AR), removing every detection that was classified
    # refractory changes nothing but those markers.
    assume(not prog.atr_mode and prog.pvarp_extension_ms is None)
    end = (dets[-1][0] if dets else 0) + 3_000_000
    full = PacemakerModel(prog).run_detections(dets, end)
    refractory = {(m.t_us, m.chamber) for m in full if m.kind in (K.AR, K.VR)}
    kept = [d for d in dets if d not in refractory]
    reduced = PacemakerModel(prog).run_detections(kept, end)
    assert _normalise(reduced) == _normalise(full)


@RELAX
@given(programmings(), detections(max_gap_ms=400))
def test_at_most_one_marker_per_channel_per_millisecond(
    prog: Programming, dets: list[tuple[int, Chamber]]
) -> None:
    out = simulate(prog, dets)
    keys = [(m.t_us // 1000, m.chamber) for m in out]
    assert len(keys) == len(set(keys))
    assert [m.t_us for m in out] == sorted(m.t_us for m in out)


@RELAX
@given(programmings(modes=[Mode.DDD, Mode.VDD, Mode.DDDR]), detections(max_gap_ms=900))
def test_pvarp_extension_never_in_consecutive_cycles(
    prog: Programming, dets: list[tuple[int, Chamber]]
) -> None:
    out = simulate(prog, dets)
    ext_times = {m.t_us for m in out if m.kind is K.PVARP_EXT}
    events = ventricular_events(out)
    assert ext_times <= {m.t_us for m in events}
    flags = [m.t_us in ext_times for m in events]
    assert not any(a and b for a, b in itertools.pairwise(flags))


@RELAX
@given(programmings(), detections())
def test_snapshot_restore_is_exact(prog: Programming, dets: list[tuple[int, Chamber]]) -> None:
    half = len(dets) // 2
    model = PacemakerModel(prog)
    end = (dets[-1][0] if dets else 0) + 2_000_000
    first = model.run_detections(dets[:half], dets[half - 1][0] if half else 0)
    snap = model.snapshot()
    a = model.run_detections(dets[half:], end)
    model.restore(snap)
    b = model.run_detections(dets[half:], end)
    assert a == b
    assert first + a == PacemakerModel(prog).run_detections(dets, end)


@RELAX
@given(programmings(modes=[Mode.AAI, Mode.VVI, Mode.VDD, Mode.DDI, Mode.DDD], extras=False,
                    atrial_timing=False), detections())
def test_hysteresis_escape_never_longer_than_hri(
    prog: Programming, dets: list[tuple[int, Chamber]]
) -> None:
    # with hysteresis the escape is HRI or LRI, so no pacing-chamber gap exceeds HRI, and
    # a pace flagged HYSTERESIS comes exactly HRI after the event before it in its chamber.
    assume(prog.hysteresis_rate_ppm is not None)
    out = simulate(prog, dets)
    hri = 1000 * interval_ms(prog.hysteresis_rate_ppm or 0)
    if prog.mode is Mode.AAI:
        events = [m for m in out if m.kind in (K.AP, K.AS)]
    else:
        events = ventricular_events(out)
    for prev, cur in itertools.pairwise(events):
        assert cur.t_us - prev.t_us <= hri
        if cur.flags & PaceFlag.HYSTERESIS and prog.mode in (Mode.AAI, Mode.VVI, Mode.VDD):
            assert cur.t_us - prev.t_us == hri
