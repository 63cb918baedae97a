"""The event-level device as an emulated device: build cache, start-up with its programming on
the console, refused programmings, faults, crash diagnosis, and the real-time build's byte mode
on the wall clock."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from firmware_bridge.errors import LinkTimeoutError
from firmware_bridge.eventcodec import EventByteStream, EventLevelDevice, Pace
from firmware_bridge.links import open_link
from firmware_bridge.wire import WireChamber
from hil.emulator import DeviceCrashedError, DeviceStartError, EmulatedDevice, UnknownFaultError
from hil.emulator.event_device import (
    build_event_firmware,
    event_fault_names,
    event_variant_dir,
    start_event_device,
)

pytestmark = pytest.mark.needs_tools("gcc", "make")


def test_build_is_cached_per_variant() -> None:
    exe = build_event_firmware(None)
    mtime = exe.stat().st_mtime_ns
    assert build_event_firmware(None) == exe
    assert exe.stat().st_mtime_ns == mtime
    assert exe.parent == event_variant_dir(None)
    assert build_event_firmware(None, realtime=True).parent.name == "realtime-clean"


def test_fault_variant_builds_into_its_own_directory_and_names_itself() -> None:
    fault = event_fault_names()[0]
    exe = build_event_firmware(fault)
    assert exe.parent.name == f"lockstep-{fault}"
    out = subprocess.run([str(exe), "--fault-name"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == fault
    with pytest.raises(UnknownFaultError, match="NOT_A_FAULT"):
        build_event_firmware("NOT_A_FAULT")


def test_starts_with_its_programming_printed() -> None:
    args = ("--mode", "VVI", "--lri-ms", "857", "--uri-ms", "600", "--v-width-us", "5000")
    with start_event_device(programming_args=args) as dev:
        assert isinstance(dev, EmulatedDevice) and dev.url.startswith("/dev/pts/")
        console = dev.console_output()
        assert "lockstep build, fault=none" in console
        assert "programming: VVI lri=857ms uri=600ms av=150ms" in console
        assert "V=3500mV/5000us" in console
        with open_link(dev.url, timeout_s=5.0) as link:
            ev = EventLevelDevice(link, timeout_s=5.0)
            assert ev.advance(900_000) == [Pace(WireChamber.V, 857_000, 3500, 5000)]
    assert not dev.running()


@pytest.mark.parametrize(("args", "quoted"), [
    (("--lri-ms", "5"), "lri-ms: expected 100..10000"),
    (("--mode", "AAI"), "expected DDD or VVI"),
    (("--uri-ms", "1200"), "URL >= LRL"),
    (("--bogus", "1"), "unknown flag"),
])
def test_refused_programming_is_a_start_error(args: tuple[str, ...], quoted: str) -> None:
    with pytest.raises(DeviceStartError, match=quoted):
        start_event_device(programming_args=args)


def test_timing_fault_inside_the_tolerance_is_still_a_different_device() -> None:
    """ESCAPE_5MS_SHORT passes the specification's 8 ms tolerance; only exact timing sees it."""
    with start_event_device("ESCAPE_5MS_SHORT") as dev, open_link(dev.url) as link:
        ev = EventLevelDevice(link, timeout_s=5.0)
        ev.reset()
        assert ev.advance(1_000_000) == [Pace(WireChamber.A, 845_000, 3500, 400)]


def test_a_killed_device_is_diagnosed_as_crashed() -> None:
    with start_event_device() as dev:
        os.kill(dev.pid, signal.SIGKILL)
        err = dev.diagnose(LinkTimeoutError("no answer"))
        assert isinstance(err, DeviceCrashedError)


def test_realtime_build_paces_and_senses_on_the_wall_clock() -> None:
    """VVI, LRI 600 ms, VRP 200 ms. After R the device paces at 600 ms and 1200 ms of its clock;
    a sense 350 ms after a pace (outside VRP, before the next pace) restarts the escape: the next
    pace comes 600 ms after the sense, not 250 ms after it.

    The bench stamps a pace when it reads it and a sense before it writes it, and the device's
    clock starts after the bench's (it reads R later), so scheduling delays only make paces
    later: the lower bounds are exact to 1 ms (a device pacing 5 ms early fails them), the upper
    bounds leave 200 ms for a loaded host."""
    args = ("--mode", "VVI", "--lri-ms", "600", "--uri-ms", "600", "--vrp-ms", "200")
    early_us, late_us = 1_000, 200_000
    with start_event_device(realtime=True, programming_args=args) as dev, \
            open_link(dev.url, timeout_s=2.0) as link:
        assert "realtime build" in dev.console_output()
        stream = EventByteStream(link)
        stream.reset()
        paces: list[Pace] = []
        while len(paces) < 2:
            got = stream.read_paces(2.0)
            assert got, "no pace within 2 s"
            paces += got
        assert all(p.chamber is WireChamber.V for p in paces)
        for n, p in enumerate(paces, start=1):
            assert n * 600_000 - early_us <= p.t_us <= n * 600_000 + late_us, (n, p)
        wait_s = max(0.0, 0.35 - (stream.now_us() - paces[-1].t_us) / 1e6)
        assert stream.read_paces(wait_s) == []
        sensed_us = stream.sense(WireChamber.V)
        nxt = stream.read_paces(2.0)
        assert len(nxt) == 1
        assert sensed_us + 600_000 - early_us <= nxt[0].t_us <= sensed_us + 600_000 + late_us
        dev.check()
