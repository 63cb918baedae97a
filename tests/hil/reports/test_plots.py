"""The report's figures are real PNG images of the expected size."""

from __future__ import annotations

import numpy as np
import pytest

from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind
from hil.reports.plots import intervals_png, strip_png

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_strip_and_intervals_are_pngs() -> None:
    events = [MarkerEvent(i * 800_000, Chamber.V, MarkerKind.VP, 3500, 400) for i in range(5)]
    strip = strip_png(0, 1000, {"EGM V": np.zeros(3000)}, {"device": events}, width_in=10)
    assert strip.startswith(PNG_MAGIC)
    assert _size(strip)[0] == 900  # 10 in at 90 dpi
    iv = intervals_png(events, limits_ms={"LRI": 1000})
    assert iv.startswith(PNG_MAGIC)


@pytest.mark.parametrize("n_events", [0, 1, 2, 3])
def test_few_events_draw_without_warnings(n_events: int) -> None:
    # the suite turns warnings into errors: a layout warning here would fail short runs
    events = [MarkerEvent(i * 700_000, Chamber.V, MarkerKind.VP, 3500, 400)
              for i in range(n_events)]
    assert intervals_png(events, limits_ms={"LRI": 1000, "URI": 500}).startswith(PNG_MAGIC)
    assert strip_png(0, 1000, {"EGM V": np.zeros(1)}, {"device": events}).startswith(PNG_MAGIC)
