"""Ladder diagrams join causes to effects from the heart's ground truth."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection

from devicetwin.heart import Activation, Origin
from devicetwin.pacemaker import Chamber, MarkerEvent, MarkerKind
from hil.reports.ladder import Link, conduction_links, ladder_figure, ladder_png


def _a(t_ms: int, chamber: Chamber, origin: Origin, captured: bool | None = None) -> Activation:
    return Activation(t_ms * 1000, chamber, origin, captured, "RV" if captured is not None
                      else None)


HEART = [
    _a(0, Chamber.A, Origin.SINUS), _a(160, Chamber.V, Origin.CONDUCTED),   # sinus, conducted
    _a(1000, Chamber.V, Origin.PACED, True), _a(1300, Chamber.A, Origin.RETROGRADE),
    _a(1500, Chamber.V, Origin.CONDUCTED),       # after a retrograde A: not its cause
    _a(2000, Chamber.V, Origin.PACED, False),    # no capture: not a beat
    _a(2100, Chamber.A, Origin.RETROGRADE),      # 600 ms after the last captured V
    _a(3000, Chamber.A, Origin.SINUS), _a(3900, Chamber.V, Origin.CONDUCTED),  # > 700 ms
]


def test_links_follow_the_textbook() -> None:
    assert conduction_links(HEART) == [
        Link(0, 160_000, False), Link(1_000_000, 1_300_000, True),
        Link(1_500_000, 2_100_000, True),
    ]


def test_ladder_draws_one_stroke_per_activation_and_a_cross_per_lost_pace() -> None:
    device = [MarkerEvent(1_000_000, Chamber.V, MarkerKind.VP, 3500, 400),
              MarkerEvent(2_000_000, Chamber.V, MarkerKind.VP, 3500, 400)]
    fig = ladder_figure(HEART, device, device, 0, 4_000_000, highlight_us=[2_000_000])
    (strokes,) = [c for c in fig.axes[0].collections
                  if isinstance(c, LineCollection) and c.get_gid() == "activations"]
    assert len(strokes.get_segments()) == len(HEART) - 1  # the lost pace is a cross instead
    crosses = [ln for ln in fig.axes[0].get_lines() if ln.get_marker() == "x"]
    assert len(crosses) == 1 and np.size(crosses[0].get_xdata()) == 1
    assert ladder_png(HEART, device, [], 0, 4_000_000).startswith(b"\x89PNG")
