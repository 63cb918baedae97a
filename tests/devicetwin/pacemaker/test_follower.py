"""Follower mode: the twin predicts paces and adopts the device's, so it resynchronises.

Expectations come from the free-running model (a follower fed the free model's own paces must
reproduce its marker stream exactly) and from interval arithmetic written out in each test.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devicetwin.pacemaker import Chamber, MarkerKind, Mode, ModelError, PacemakerModel, Programming

MODES = [Mode.DDD, Mode.VVI, Mode.AAI, Mode.VDD, Mode.DDI, Mode.VVT, Mode.AAT, Mode.DOO]


def _follow(prog: Programming, detections: list[tuple[int, int]], end_us: int,
            paces: list[tuple[int, Chamber]]) -> list[tuple[int, str, str]]:
    """Run a follower over detections, delivering ``paces`` as the device."""
    model = PacemakerModel(prog, follower=True)
    out = []
    events = sorted([(t, 1, ch) for t, ch in detections] + [(t, 2, ch) for t, ch in paces],
                    key=lambda e: (e[0], e[1]))
    for t, what, ch in events:
        if what == 1:
            model.detect(t, ch)
        else:
            out += model.advance_to(t)  # predictions due up to t come before the pace
            model.device_pace(t, ch)
    out += model.advance_to(end_us)
    return sorted((m.t_us, m.chamber.name, m.kind.name) for m in out)


@given(
    mode=st.sampled_from(MODES),
    raw=st.lists(st.tuples(st.integers(1, 20_000), st.integers(0, 1)), max_size=40),
)
def test_follower_fed_its_own_paces_reproduces_the_free_model(
    mode: Mode, raw: list[tuple[int, int]]
) -> None:
    prog = Programming.nominal(mode)
    detections = sorted({(ms * 1000, ch) for ms, ch in raw})
    end = 22_000_000
    free = PacemakerModel(prog)
    markers = free.run_detections(detections, end)
    paces = [(m.t_us, m.chamber) for m in markers if m.kind.is_pace]
    expected = sorted((m.t_us, m.chamber.name, m.kind.name) for m in markers)
    assert _follow(prog, detections, end, paces) == expected


def test_late_device_pace_is_predicted_on_time_and_timing_restarts_from_the_device() -> None:
    # VVI 60 ppm, no senses: the twin expects VP at 1000 ms; the device paces at 1030 ms.
    # Prediction: VP at 1000; after resync the next escape runs from 1030: VP expected at 2030.
    model = PacemakerModel(Programming.nominal(Mode.VVI), follower=True)
    got = model.advance_to(1_020_000)
    model.device_pace(1_030_000, Chamber.V)
    got += model.advance_to(2_100_000)
    assert [(m.t_us, m.kind) for m in got] == [(1_000_000, MarkerKind.VP),
                                               (2_030_000, MarkerKind.VP)]


def test_early_device_pace_records_the_expected_pace_within_the_window() -> None:
    # The device paces at 980 ms; the twin expected 1000 ms (20 ms later, inside 100 ms):
    # prediction VP at 1000, then the next expected VP at 980 + 1000 = 1980 ms.
    model = PacemakerModel(Programming.nominal(Mode.VVI), follower=True)
    model.device_pace(980_000, Chamber.V)
    got = model.advance_to(2_000_000)
    assert [(m.t_us, m.kind) for m in got] == [(1_000_000, MarkerKind.VP),
                                               (1_980_000, MarkerKind.VP)]


def test_device_pace_far_from_any_expectation_predicts_nothing_for_it() -> None:
    # 500 ms early is beyond the 100 ms window: the twin did not predict this pace at all.
    model = PacemakerModel(Programming.nominal(Mode.VVI), follower=True)
    model.device_pace(500_000, Chamber.V)
    got = model.advance_to(1_400_000)
    assert got == []
    assert model.next_pace_due_us() == 1_500_000


def test_a_missed_pace_stays_predicted_and_a_sense_resolves_it() -> None:
    # The twin predicts VP at 1000 ms; the device never paces; an intrinsic VS at 1200 ms
    # restarts the escape: next expected VP at 2200 ms.
    model = PacemakerModel(Programming.nominal(Mode.VVI), follower=True)
    got = model.advance_to(1_100_000)
    model.detect(1_200_000, Chamber.V)
    got += model.advance_to(2_300_000)
    assert [(m.t_us, m.kind) for m in got] == [(1_000_000, MarkerKind.VP),
                                               (1_200_000, MarkerKind.VS),
                                               (2_200_000, MarkerKind.VP)]


def test_device_pace_needs_follower_mode_and_time_order() -> None:
    with pytest.raises(ModelError, match="follower=True"):
        PacemakerModel(Programming.nominal(Mode.VVI)).device_pace(0, Chamber.V)
    model = PacemakerModel(Programming.nominal(Mode.VVI), follower=True)
    model.advance_to(5000)
    with pytest.raises(ModelError, match="t_us=4000: expected t_us >= 5000"):
        model.device_pace(4000, Chamber.V)
    with pytest.raises(ModelError, match=r"expected Chamber\.A, Chamber\.V"):
        model.device_pace(6000, Chamber.X)
