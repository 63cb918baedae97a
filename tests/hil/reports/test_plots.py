"""The report's interval plot is a real PNG image of the expected size."""

from __future__ import annotations

import pytest

from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind
from hil.reports.plots import intervals_png

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_intervals_is_a_png() -> None:
    events = [MarkerEvent(i * 800_000, Chamber.V, MarkerKind.VP, 3500, 400) for i in range(5)]
    iv = intervals_png(events, limits_ms={"LRI": 1000})
    assert iv.startswith(PNG_MAGIC)
    assert _size(iv)[0] == 990  # 11 in at 90 dpi


@pytest.mark.parametrize("n_events", [0, 1, 2, 3])
def test_few_events_draw_without_warnings(n_events: int) -> None:
    # the suite turns warnings into errors: a layout warning here would fail short runs
    events = [MarkerEvent(i * 700_000, Chamber.V, MarkerKind.VP, 3500, 400)
              for i in range(n_events)]
    assert intervals_png(events, limits_ms={"LRI": 1000, "URI": 500}).startswith(PNG_MAGIC)
