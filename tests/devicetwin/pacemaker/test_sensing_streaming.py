"""The Cython front end against the NumPy reference, and streaming invariance (A-16).

Any split of a recording into blocks must give exactly the detections of the reference
implementation run over the whole recording.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from devicetwin.pacemaker.markers import Chamber
from devicetwin.pacemaker.sensing import (
    SensingFrontEnd,
    SensingState,
    quantize_uv,
    reference_detections,
)

Signal = npt.NDArray[np.int16]


def run_in_blocks(
    front_end: SensingFrontEnd, atrial: Signal, ventricular: Signal, cuts: list[int], t0_us: int
) -> tuple[list[int], list[int]]:
    """Process the recording split at ``cuts``; return all detection times and channels."""
    bounds = [0, *sorted(set(c for c in cuts if 0 < c < atrial.shape[0])), atrial.shape[0]]
    times: list[int] = []
    channels: list[int] = []
    for start, stop in itertools.pairwise(bounds):
        found = front_end.process(atrial[start:stop], ventricular[start:stop], t0_us + 1000 * start)
        times.extend(found.t_us.tolist())
        channels.extend(found.chamber.tolist())
    return times, channels


def expected(
    atrial: Signal, ventricular: Signal, a_uv: int, v_uv: int, dead_ms: int, t0_us: int
) -> tuple[list[int], list[int]]:
    sample, channel = reference_detections(atrial, ventricular, a_uv, v_uv, dead_ms)
    return (sample * 1000 + t0_us).tolist(), channel.tolist()


def synthetic_egm(seconds: float, seed: int) -> tuple[Signal, Signal]:
    """Two 1 kHz channels with P waves, far-field and near-field R waves, T waves, noise, PVCs."""
    rng = np.random.default_rng(seed)
    n = int(seconds * 1000)
    t = np.arange(n)
    atrial = rng.normal(0.0, 0.03, n)
    ventricular = rng.normal(0.0, 0.05, n) + 0.3 * np.sin(2 * np.pi * 0.25 * t / 1000)
    beat_ms = 0.0
    while beat_ms < n:
        p = int(beat_ms)
        r = p + int(rng.integers(120, 220))
        for centre, amp, width, chan in (
            (p, rng.uniform(0.5, 4.0), 8.0, atrial),  # P wave, near field
            (r, rng.uniform(0.1, 0.8), 10.0, atrial),  # far-field R on the atrial lead
            (r, rng.uniform(4.0, 15.0), 6.0, ventricular),  # R wave
            (r + 280, rng.uniform(0.5, 2.0), 40.0, ventricular),  # T wave, slow
        ):
            span = np.arange(max(0, centre - 200), min(n, centre + 200))
            shape = np.exp(-0.5 * ((span - centre) / width) ** 2)
            sign = rng.choice((-1.0, 1.0))
            chan[span] += sign * amp * shape * (1 - ((span - centre) / width) ** 2 * 0.3)
        beat_ms += rng.uniform(350.0, 1300.0)
    return quantize_uv(atrial), quantize_uv(ventricular)


@st.composite
def recordings(draw: st.DrawFn) -> tuple[Signal, Signal, list[int]]:
    n = draw(st.integers(0, 400))
    scale = draw(st.sampled_from([100, 1000, 5000, 32767]))
    elements = st.integers(-scale, scale)
    atrial = draw(hnp.arrays(np.int16, n, elements=elements))
    ventricular = draw(hnp.arrays(np.int16, n, elements=elements))
    cuts = draw(st.lists(st.integers(0, max(n, 1)), max_size=12))
    return atrial, ventricular, cuts


@given(
    recording=recordings(),
    a_uv=st.integers(1, 32767),
    v_uv=st.integers(1, 32767),
    dead_ms=st.integers(1, 120),
    t0_us=st.integers(0, 10**12),
)
def test_random_blocks_match_the_reference(
    recording: tuple[Signal, Signal, list[int]], a_uv: int, v_uv: int, dead_ms: int, t0_us: int
) -> None:
    atrial, ventricular, cuts = recording
    front_end = SensingFrontEnd(a_uv, v_uv, dead_time_ms=dead_ms)
    got = run_in_blocks(front_end, atrial, ventricular, cuts, t0_us)
    assert got == expected(atrial, ventricular, a_uv, v_uv, dead_ms, t0_us)
    assert front_end.next_t_us == t0_us + 1000 * atrial.shape[0]


@given(
    seed=st.integers(0, 2**32 - 1),
    cuts=st.lists(st.integers(0, 20_000), max_size=40),
    a_uv=st.sampled_from([250, 500, 750, 1000, 2000]),
    v_uv=st.sampled_from([1000, 2500, 5000, 10000]),
)
def test_physiological_signals_in_random_blocks_match_the_reference(
    seed: int, cuts: list[int], a_uv: int, v_uv: int
) -> None:
    atrial, ventricular = synthetic_egm(20.0, seed)
    front_end = SensingFrontEnd(a_uv, v_uv)
    got = run_in_blocks(front_end, atrial, ventricular, cuts, 0)
    want = expected(atrial, ventricular, a_uv, v_uv, 50, 0)
    assert got == want
    assert len(want[0]) > 0


def test_one_sample_blocks_match_one_block() -> None:
    atrial, ventricular = synthetic_egm(6.0, 7)
    whole = SensingFrontEnd(750, 2500).process(atrial, ventricular, 3_000)
    streamed = run_in_blocks(
        SensingFrontEnd(750, 2500), atrial, ventricular, list(range(atrial.shape[0])), 3_000
    )
    assert streamed == (whole.t_us.tolist(), whole.chamber.tolist())
    # And both equal the reference, which sees real beats on both channels.
    assert streamed == expected(atrial, ventricular, 750, 2500, 50, 3_000)
    assert {0, 1} <= set(streamed[1])


def test_detections_are_in_time_order_with_the_atrium_first() -> None:
    atrial, ventricular = synthetic_egm(30.0, 11)
    found = SensingFrontEnd(250, 1000).process(atrial, ventricular, 0)
    keys = list(zip(found.t_us.tolist(), found.chamber.tolist(), strict=True))
    assert keys == sorted(keys)
    assert found.t_us.dtype == np.int64
    assert found.chamber.dtype == np.uint8
    assert not found.t_us.flags.writeable
    events = found.events()
    assert [(t, int(c)) for t, c in events] == keys
    assert {c.chamber for _, c in events} == {Chamber.A, Chamber.V}


@given(split=st.integers(0, 5000), seed=st.integers(0, 1000))
def test_restoring_a_snapshot_replays_the_rest_identically(split: int, seed: int) -> None:
    atrial, ventricular = synthetic_egm(5.0, seed)
    front_end = SensingFrontEnd(500, 2500)
    head = front_end.process(atrial[:split], ventricular[:split], 0)
    snapshot = front_end.state()
    assert isinstance(snapshot, SensingState)
    tail = front_end.process(atrial[split:], ventricular[split:], split * 1000)
    # Rewind after a reprogramming: the snapshot brings the old sensitivity back too.
    front_end.set_sensitivity(1, 9000)
    front_end.restore(snapshot)
    again = front_end.process(atrial[split:], ventricular[split:], split * 1000)
    assert again.t_us.tolist() == tail.t_us.tolist()
    assert again.chamber.tolist() == tail.chamber.tolist()
    # A fresh front end restored from the snapshot continues the same stream.
    other = SensingFrontEnd(1000, 1000)
    other.restore(snapshot)
    assert other.state() == snapshot
    moved = other.process(atrial[split:], ventricular[split:], split * 1000)
    assert moved.t_us.tolist() == tail.t_us.tolist()
    whole = expected(atrial, ventricular, 500, 2500, 50, 0)
    assert head.t_us.tolist() + tail.t_us.tolist() == whole[0]


def test_state_reports_history_oldest_first() -> None:
    front_end = SensingFrontEnd(750, 2500)
    ramp = np.arange(1, 21, dtype=np.int16)
    front_end.process(ramp, -ramp, 0)
    state = front_end.state()
    assert state.atrial_history_uv == tuple(range(5, 21))
    assert state.ventricular_history_uv == tuple(-x for x in range(5, 21))
    assert state.samples_seen == 20
    assert state.next_t_us == 20_000
    fresh = SensingFrontEnd(750, 2500).state()
    assert fresh.atrial_history_uv == (0,) * 16
    assert fresh.next_t_us is None
