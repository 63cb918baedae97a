"""A device whose event times leave the window it answered (a wrapped 32-bit microsecond counter,
a clock of its own) ends the run with a failed, partial verdict naming the bad time; the bench
does not crash and the twin is not fed events out of order."""

from __future__ import annotations

import dataclasses

import pytest

from devicetwin.pacemaker import MarkerEvent
from hil.devices.binary import BinaryDevice
from hil.scenarios import parse_scenario
from hil.session.runner import run_scenario

SCENARIO = """
name = "t"
description = "test"
duration_s = 5
seed = 3
[patient]
condition = "complete_av_block"
[device]
mode = "VVI"
"""

#: 2^32 us: where a 32-bit microsecond counter wraps (71.6 min).
WRAP_US = 1 << 32


def test_event_times_outside_the_window_fail_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    real_tick = BinaryDevice.tick

    def wrapped_tick(self, t0_us, a, v, act):  # type: ignore[no-untyped-def]
        events, k = real_tick(self, t0_us, a, v, act)
        # the device reports times as if its counter had wrapped 2 s before the session start
        shifted: list[MarkerEvent] = [dataclasses.replace(e, t_us=(e.t_us + WRAP_US - 2_000_000)
                                                          % WRAP_US) for e in events]
        return shifted, k

    monkeypatch.setattr(BinaryDevice, "tick", wrapped_tick)
    result = run_scenario(parse_scenario(SCENARIO), "emulated")
    assert result.verdict == "fail"
    assert result.loop.interrupted is not None
    # VVI 60 ppm from the timing start: the first VP is due at 1000 ms, reported at
    # 1000 - 2000 + 2^32 ms-equivalent us = 4294967296 - 1000000 us
    assert f"t_us={WRAP_US - 1_000_000}" in result.loop.interrupted
    assert result.loop.end_us < 5_000_000
    assert result.loop.device_events == []
