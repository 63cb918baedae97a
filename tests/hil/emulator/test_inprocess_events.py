"""The reference model's event path against the C firmware, on random detection streams.

The model is driven at event level (``detect`` / ``advance_to``, its front end bypassed), as a
cohort drives it; the firmware, written apart from it, gets the same detections as electrograms:
one 16 mV spike per detection, which its front end detects at that very sample and never again
(the spike's filter tail stays under any sensitivity). Detections on one channel are kept
further apart than the programmed dead time, so the firmware's front end sees each one. The
marker streams must be identical.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from devicetwin.pacemaker import (
    PARAMETERS,
    Chamber,
    MarkerEvent,
    Mode,
    PacemakerModel,
    Programming,
    ProgrammingError,
)
from hil.emulator.inprocess import InProcessDevice

#: Permanent modes the firmware runs (wire codes 1..18: everything but Off).
MODES = [m for m in Mode if 1 <= m.wire_code <= 18]
SPIKE_UV = 16_000
Key = tuple[int, str, str, int | None, int | None, int]


@st.composite
def cases(draw: st.DrawFn) -> tuple[Programming, list[tuple[int, Chamber]]]:
    mode = draw(st.sampled_from(MODES))
    names = sorted(n for n, spec in PARAMETERS.items() if n != "mode" and spec.applies_to(mode))
    chosen = draw(st.lists(st.sampled_from(names), max_size=5, unique=True))
    changes: dict[str, Any] = {n: draw(st.sampled_from(PARAMETERS[n].values)) for n in chosen}
    try:
        prog = Programming.nominal(mode, **changes)
    except ProgrammingError:
        assume(False)
        raise AssertionError("unreachable") from None
    min_gap_ms = prog.detection_dead_time_ms + 2
    dets: list[tuple[int, Chamber]] = []
    for ch in (Chamber.A, Chamber.V):
        t_ms = draw(st.integers(0, 1500))
        for gap in draw(st.lists(st.integers(0, 1400), max_size=40)):
            if t_ms > 14_000:
                break
            dets.append((t_ms, ch))
            t_ms += min_gap_ms + gap
    dets.sort(key=lambda d: (d[0], d[1] is Chamber.V))
    return prog, [(1000 * t, ch) for t, ch in dets]


def key(m: MarkerEvent) -> Key:
    return (m.t_us, m.chamber.value, m.kind.value, m.amplitude_mv or 0, m.width_us or 0,
            int(m.flags))


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(cases())
def test_model_event_path_equals_firmware(case: tuple[Programming, list[tuple[int, Chamber]]]
                                          ) -> None:
    prog, dets = case
    n = 17_000
    a = np.zeros(n, np.int16)
    v = np.zeros(n, np.int16)
    for t_us, ch in dets:
        (a if ch is Chamber.A else v)[t_us // 1000] = SPIKE_UV
    x = np.zeros(n, np.int16)

    model = PacemakerModel(prog)
    for t_us, ch in dets:
        model.detect(t_us, ch)
    want = [key(m) for m in model.advance_to(1000 * (n - 1))]

    got: list[Key] = []
    with InProcessDevice() as dev:
        dev.program(prog)
        pos = 0
        while pos < n:
            markers, consumed = dev.tick(dev.time_us, a[pos:], v[pos:], x[pos:])
            got += [key(m) for m in markers]
            pos += consumed
    assert got == want
