"""Free-running time base: STREAM windows in, time-stamped unsolicited EVENTS out.

Event times are the device's own clock (1 kHz timer), so they do not depend on the wall clock:
nominal DDD on a quiet signal still paces A at 850 ms and V at 1000 ms of device time.
"""

from __future__ import annotations

import pytest
from toolchain import QEMU_TOOLS

from firmware_bridge.messages import Events, Stream
from firmware_bridge.wire import WireKind
from hil.emulator import start_device
from hil.emulator.probe import ProbeClient


@pytest.mark.parametrize("target", ["host", pytest.param("qemu", marks=[
    pytest.mark.qemu, pytest.mark.needs_tools(*QEMU_TOOLS)])])
def test_stream_gives_streamed_events_on_the_device_clock(target: str) -> None:
    with start_device(target) as dev, ProbeClient(dev.url, timeout_s=5.0) as c:  # type: ignore[arg-type]
        c.hello()
        for k in range(10):
            c.send(Stream(100_000 * k, (0,) * 100, (0,) * 100, (0,) * 100))
        markers = []
        while len(markers) < 2:
            frame = c.receive()
            assert isinstance(frame.message, Events), frame
            assert frame.message.streamed
            markers.extend(frame.message.events)
        assert [(e.t_us, e.kind) for e in markers[:2]] == [(850_000, WireKind.AP),
                                                           (1_000_000, WireKind.VP)]
        dev.check()
