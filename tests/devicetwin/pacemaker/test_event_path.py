"""The engine's event path (deadline to deadline) equals stepping it a millisecond at a time.

``PacemakerModel`` jumps from one due time to the next; a cohort drives it one heart event at a
time, a Holter replay feeds a day of detections and advances once. A reference loop written
here steps the clock in 1 ms ticks, the way the firmware's timer does (feeding each detection
within its tick, in time order), and the marker streams must be identical for random
programmings and random detection streams: same times, kinds, flags, amplitudes and widths.
"""

from __future__ import annotations

from typing import Any

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
from devicetwin.pacemaker.modes import PERMANENT_MODES

MODES = [m for m in PERMANENT_MODES if m is not Mode.OFF]
Detection = tuple[int, Chamber]
Key = tuple[int, str, str, int | None, int | None, int]


@st.composite
def programmings(draw: st.DrawFn) -> Programming:
    """A permanent mode with up to five applicable parameters anywhere on their grids."""
    mode = draw(st.sampled_from(MODES))
    names = sorted(n for n, spec in PARAMETERS.items() if n != "mode" and spec.applies_to(mode))
    chosen = draw(st.lists(st.sampled_from(names), max_size=5, unique=True))
    changes: dict[str, Any] = {n: draw(st.sampled_from(PARAMETERS[n].values)) for n in chosen}
    try:
        return Programming.nominal(mode, **changes)
    except ProgrammingError:
        assume(False)
        raise AssertionError("unreachable") from None


@st.composite
def detection_streams(draw: st.DrawFn) -> list[Detection]:
    """Up to 80 detections in 20 s at any microsecond, both chambers, bursts included (gaps
    from 0 to 1.5 s, so noise, refractory senses and escapes all occur)."""
    gaps = draw(st.lists(st.integers(0, 1_500_000), max_size=80))
    chambers = draw(st.lists(st.sampled_from([Chamber.A, Chamber.V]), min_size=len(gaps),
                             max_size=len(gaps)))
    out = []
    t = 0
    for gap, ch in zip(gaps, chambers, strict=True):
        t += gap
        out.append((t, ch))
    return out


def key(m: MarkerEvent) -> Key:
    return (m.t_us, m.chamber.value, m.kind.value, m.amplitude_mv, m.width_us, int(m.flags))


def event_path(prog: Programming, dets: list[Detection], end_us: int) -> list[Key]:
    """Detections fed one after another, one advance to the end."""
    model = PacemakerModel(prog)
    for t, ch in dets:
        model.detect(t, ch)
    return [key(m) for m in model.advance_to(end_us)]


def per_event(prog: Programming, dets: list[Detection], end_us: int) -> list[Key]:
    """The closed-loop pattern: after each detection, advance to it and ask for the next pace."""
    model = PacemakerModel(prog)
    out = []
    for t, ch in dets:
        model.detect(t, ch)
        out += model.advance_to(t)
        due = model.next_pace_due_us()
        assert due is None or due >= t
    out += model.advance_to(end_us)
    return [key(m) for m in out]


def stepped(prog: Programming, dets: list[Detection], end_us: int) -> list[Key]:
    """The reference: a 1 ms clock; within each tick the detections of that tick in order,
    then the clock advanced to the tick's end."""
    model = PacemakerModel(prog)
    out = []
    i = 0
    for tick_end in range(999, end_us + 1000, 1000):
        limit = min(tick_end, end_us)
        while i < len(dets) and dets[i][0] <= limit:
            model.detect(*dets[i])
            i += 1
        out += model.advance_to(limit)
    return [key(m) for m in out]


RELAX = settings(max_examples=60, deadline=None,
                 suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


@RELAX
@given(programmings(), detection_streams())
def test_event_path_equals_millisecond_stepping(prog: Programming,
                                                dets: list[Detection]) -> None:
    end_us = (dets[-1][0] if dets else 0) + 3_000_000
    want = stepped(prog, dets, end_us)
    assert event_path(prog, dets, end_us) == want
    assert per_event(prog, dets, end_us) == want


def test_the_stepping_reference_sees_paces() -> None:
    """The reference is not vacuous: with no detections DDD paces A and V every 1000 ms,
    the AP one AV delay (150 ms) before each VP."""
    got = stepped(Programming.nominal(Mode.DDD), [], 3_000_000)
    assert [(t, ch, kind) for t, ch, kind, *_ in got] == [
        (850_000, "A", "AP"), (1_000_000, "V", "VP"), (1_850_000, "A", "AP"),
        (2_000_000, "V", "VP"), (2_850_000, "A", "AP"), (3_000_000, "V", "VP")]
