"""Strips like a printout: fixed speed and gain, intervals and flags on the marker channel, and
labels that never overlap (checked on the rendered figure)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.text import Text

from devicetwin.pacemaker import Chamber, MarkerEvent, MarkerKind, PaceFlag
from hil.errors import ConfigError
from hil.reports.episodes import Episode, EpisodeKind
from hil.reports.strips import (
    Interval,
    Paper,
    StripLayout,
    assign_lanes,
    marker_intervals,
    marker_text,
    page_figure,
    page_png,
)


def _ev(t_ms: float, kind: MarkerKind, flags: PaceFlag = PaceFlag.NONE) -> MarkerEvent:
    chamber = {"A": Chamber.A, "V": Chamber.V, "P": Chamber.V}.get(kind.value[0], Chamber.X)
    if kind in (MarkerKind.ATR_DUR, MarkerKind.ATR_FB, MarkerKind.ATR_END,
                MarkerKind.PVARP_EXT, MarkerKind.TN):
        chamber = Chamber.X
    return MarkerEvent(round(t_ms * 1000), chamber, kind, flags=flags)


def test_marker_text_as_printed() -> None:
    assert marker_text(_ev(0, MarkerKind.VP, PaceFlag.UPPER_RATE)) == "VP[UR]"
    assert marker_text(_ev(0, MarkerKind.VP, PaceFlag.SAFETY | PaceFlag.TRIGGERED)) \
        == "VP[TR,SAFE]"
    assert marker_text(_ev(0, MarkerKind.AR)) == "(AS)"
    assert marker_text(_ev(0, MarkerKind.PVARP_EXT)) == "PVARP_EXT"


def test_intervals_of_a_ddd_sequence() -> None:
    # AP-VP at 150 ms, then a sensed atrial beat 650 ms after the VP, tracked at 120 ms, a PVC
    events = [_ev(0, MarkerKind.AP), _ev(150, MarkerKind.VP), _ev(800, MarkerKind.AS),
              _ev(820, MarkerKind.AR), _ev(920, MarkerKind.VP), _ev(1300, MarkerKind.PVC),
              _ev(1400, MarkerKind.PVARP_EXT), _ev(2000, MarkerKind.AS)]
    got = [(i.kind, i.ms) for i in marker_intervals(events)]
    assert got == [("AV", 150), ("VA", 650), ("AV", 120), ("VV", 770), ("VV", 380),
                   ("VA", 700)]
    assert Interval("VV", 0, 857_499).ms == 857


def _depth(spans: list[tuple[float, float]], gap: float) -> int:
    """Most spans that any one point (widened by the gap) lies in: a sweep line."""
    points = sorted([(a, 1) for a, _ in spans] + [(b + gap, -1) for _, b in spans],
                    key=lambda p: (p[0], p[1]))
    best = depth = 0
    for _, step in points:
        depth += step
        best = max(best, depth)
    return best


@settings(max_examples=200)
@given(st.lists(st.tuples(st.floats(0, 500), st.floats(0.1, 30)), max_size=40),
       st.sampled_from([0.0, 0.6]))
def test_lanes_never_overlap_and_are_as_few_as_possible(raw: list[tuple[float, float]],
                                                        gap: float) -> None:
    spans = [(x, x + w) for x, w in raw]
    lanes = assign_lanes(spans, gap)
    for i, j in itertools.combinations(range(len(spans)), 2):
        if lanes[i] == lanes[j]:
            (a0, a1), (b0, b1) = spans[i], spans[j]
            assert a1 + gap <= b0 or b1 + gap <= a0
    # interval graphs are coloured optimally by left edge: lanes equal the deepest overlap
    assert (max(lanes) + 1 if lanes else 0) == _depth(spans, gap)


def _dense_events() -> list[MarkerEvent]:
    # the case: AS and PVARP_EXT together, plus a crowd of senses and flagged paces
    out = [_ev(4100, MarkerKind.AS), _ev(4100, MarkerKind.PVARP_EXT),
           _ev(4105, MarkerKind.AR), _ev(4110, MarkerKind.ATR_DUR)]
    for k in range(40):
        t = 100 + k * 240
        out += [_ev(t, MarkerKind.AS), _ev(t + 30, MarkerKind.VP, PaceFlag.UPPER_RATE),
                _ev(t + 60, MarkerKind.VR), _ev(t + 90, MarkerKind.TN)]
    return sorted(out, key=lambda e: e.t_us)


def test_rendered_labels_do_not_collide() -> None:
    events = _dense_events()
    paper = Paper()
    layout = StripLayout.build(paper, ["EGM_A", "EGM_V", "ECG_II"], 10_000_000, events, events,
                               [Episode(EpisodeKind.PMT, 1_000_000, 4_000_000, "PMT, 9 cycles"),
                                Episode(EpisodeKind.DISCREPANCY, 1_200_000, 1_200_000, "d")])
    signals = {n: np.zeros(10_001) for n in layout.names}
    fig = page_figure(layout, 0, 10_000_000, signals, 1000.0)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in fig.findobj(Text)
             if t.get_text() and t.get_visible()]
    assert len(boxes) > 300
    for (ta, a), (tb, b) in itertools.combinations(boxes, 2):
        overlap_x = min(a.x1, b.x1) - max(a.x0, b.x0)
        overlap_y = min(a.y1, b.y1) - max(a.y0, b.y0)
        assert overlap_x <= 0.5 or overlap_y <= 0.5, f"{ta!r} overlaps {tb!r}"


def test_paper_speed_and_gain_are_fixed() -> None:
    paper = Paper(speed_mm_per_s=25.0, gain_mm_per_mv={"ECG_II": 10.0})
    layout = StripLayout.build(paper, ["ECG_II"], 10_000_000, [], [])
    step = np.zeros(10_001)
    step[5000:5200] = 1.0  # a 1 mV, 200 ms calibration pulse
    fig = page_figure(layout, 0, 10_000_000, {"ECG_II": step}, 1000.0)
    (line,) = [ln for ln in fig.axes[0].get_lines() if np.size(ln.get_xdata()) > 1000]
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    assert y.max() - y.min() == pytest.approx(10.0)  # 10 mm for 1 mV
    high = x[y > y.min() + 5]
    assert high.max() - high.min() == pytest.approx(199 / 1000 * 25.0)  # 200 ms is 5 mm
    png = page_png(layout, 0, 10_000_000, {"ECG_II": step}, 1000.0)
    width_px = int.from_bytes(png[16:20], "big")
    assert width_px == 10 * 25 * 4  # 10 s at 25 mm/s and 4 px/mm
    fast = Paper(speed_mm_per_s=50.0)
    assert fast.x_mm(1_000_000) == 50.0


@pytest.mark.parametrize("speed", [10.0, 100.0])
def test_only_printout_speeds_are_allowed(speed: float) -> None:
    with pytest.raises(ConfigError, match="25 or 50"):
        Paper(speed_mm_per_s=speed)


def test_pages_abut_and_share_one_height() -> None:
    events = _dense_events()
    layout = StripLayout.build(Paper(), ["EGM_A"], 25_000_000, events, events)
    assert layout.page_starts_us() == [0, 10_000_000, 20_000_000]
    signals = {"EGM_A": np.zeros(25_001)}
    heights = set()
    for start in layout.page_starts_us():
        png = page_png(layout, start, min(start + 10_000_000, 25_000_000), signals, 1000.0)
        heights.add(int.from_bytes(png[20:24], "big"))
    assert len(heights) == 1
