"""The C event-level device against the reference model (``devicetwin.pacemaker``), written apart
from one contract (docs/assumptions.md): the same sense streams, the same paces to the
microsecond. The device is driven the way a closed loop drives it: R, then windows of senses
with one T each, early stop at each pace and the senses after it sent again.

The model runs the nominal programming with PMT termination off (the device does not implement
it); the streams keep each channel's senses more than 100 ms apart (no noise reversion, which the
device does not implement either).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devicetwin.pacemaker import Chamber, Mode, PacemakerModel, Programming
from firmware_bridge.eventcodec import EventLevelDevice
from firmware_bridge.links import open_link
from firmware_bridge.wire import WireChamber
from hil.emulator.device import EmulatedDevice
from hil.emulator.event_device import start_event_device

pytestmark = pytest.mark.needs_tools("gcc", "make")

END_US = 20_000_000
WINDOW_US = 500_000
Sense = tuple[int, Chamber]


def sinus_with_ectopy(seed: int) -> list[Sense]:
    """Atrial beats every 400-1300 ms, conducted after 80-300 ms (sometimes with a T wave
    oversensed 200-300 ms later) or not at all, PVCs, and retrograde P waves 150-300 ms after a
    PVC: whole milliseconds, A before V at one time."""
    rng = random.Random(seed)
    out: list[Sense] = []
    t = rng.randrange(100, 900)
    while t < END_US // 1000 - 1500:
        r = rng.random()
        if r < 0.15:  # PVC, often with a retrograde P
            out.append((t, Chamber.V))
            if rng.random() < 0.6:
                out.append((t + rng.randrange(150, 300), Chamber.A))
        else:
            out.append((t, Chamber.A))
            if r < 0.8:
                conducted = t + rng.randrange(80, 300)
                out.append((conducted, Chamber.V))
                if rng.random() < 0.3:  # its T wave oversensed, inside VRP
                    out.append((conducted + rng.randrange(200, 300), Chamber.V))
        t += rng.randrange(400, 1300)
    out.sort(key=lambda s: (s[0], s[1] is Chamber.V))
    return [(ms * 1000, ch) for ms, ch in out]


def model_paces(senses: list[Sense]) -> list[tuple[int, Chamber]]:
    """The reference model's paces for the stream, open loop."""
    model = PacemakerModel(Programming.nominal(Mode.DDD, pmt_termination=False))
    for t_us, ch in senses:
        model.detect(t_us, ch)
    return [(m.t_us, m.chamber) for m in model.advance_to(END_US) if m.kind.is_pace]


_WIRE = {Chamber.A: WireChamber.A, Chamber.V: WireChamber.V}
_BACK = {WireChamber.A: Chamber.A, WireChamber.V: Chamber.V}


def device_paces(dev: EventLevelDevice, senses: list[Sense]) -> list[tuple[int, Chamber]]:
    """The device's paces: windows of senses ahead of one T; after an early stop at t_p the
    senses after t_p are sent again with the next window."""
    assert dev.reset() is not None and dev.early_stop
    out: list[tuple[int, Chamber]] = []
    i = 0
    while dev.clock_us < END_US:
        mark = min(END_US, dev.clock_us + WINDOW_US)
        window = [s for s in senses[i:] if s[0] <= mark]
        for t_us, ch in window:
            dev.sense(_WIRE[ch], t_us)
        out += [(p.t_us, _BACK[p.chamber]) for p in dev.advance(mark)]
        while i < len(senses) and senses[i][0] <= dev.clock_us:
            i += 1  # handled (at or before the stop); the rest goes again
    return out


@pytest.mark.parametrize("seed", range(6))
def test_device_paces_like_the_model(seed: int) -> None:
    senses = sinus_with_ectopy(seed)
    want = model_paces(senses)
    with start_event_device() as emulated, open_link(emulated.url, timeout_s=5.0) as link:
        got = device_paces(EventLevelDevice(link, timeout_s=5.0), senses)
        emulated.check()
    assert got == want
    assert len(want) > 10


@pytest.fixture(scope="module")
def clean_device() -> Iterator[EmulatedDevice]:
    with start_event_device() as emulated:
        yield emulated


def _channel(gaps_ms: list[int], chamber: Chamber) -> list[Sense]:
    t_ms, out = 0, []
    for gap in gaps_ms:
        t_ms += gap
        out.append((t_ms * 1000, chamber))
    return out


gaps = st.lists(st.integers(101, 1000), max_size=24)


@given(gaps, gaps)
def test_any_stream_paces_like_the_model(clean_device: EmulatedDevice, a_gaps: list[int],
                                         v_gaps: list[int]) -> None:
    """Any two sense channels (each more than 100 ms between senses): the same paces."""
    senses = sorted(_channel(a_gaps, Chamber.A) + _channel(v_gaps, Chamber.V),
                    key=lambda s: (s[0], s[1] is Chamber.V))
    senses = [s for s in senses if s[0] < END_US]
    with open_link(clean_device.url, timeout_s=5.0) as link:
        got = device_paces(EventLevelDevice(link, timeout_s=5.0), senses)
    assert got == model_paces(senses)


@pytest.mark.parametrize("fault", ["ESCAPE_FROM_ATRIAL_EVENT", "ESCAPE_5MS_SHORT",
                                   "NO_UPPER_RATE_LIMIT", "VRP_ONLY_AFTER_PACE",
                                   "NO_PVARP_AFTER_PVC"])
def test_seeded_faults_disagree_with_the_model(fault: str) -> None:
    """The cross-check can fail: each of these faults changes a pace on some stream.
    (PVARP_OFF_BY_ONE needs a P wave at exactly the end of PVARP and NO_SAFETY_PACING a V sense
    in the 70 ms safety window: random streams miss them, the C unit tests do not.)"""
    with start_event_device(fault) as emulated, open_link(emulated.url, timeout_s=5.0) as link:
        dev = EventLevelDevice(link, timeout_s=5.0)
        assert any(device_paces(dev, sinus_with_ectopy(seed)) != model_paces(
            sinus_with_ectopy(seed)) for seed in range(6))
