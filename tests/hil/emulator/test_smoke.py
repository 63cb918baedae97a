"""Smoke scenario on both targets: DDD nominal, 10 s of sinus rhythm, the marker channel.

The electrogram generator is here: a P wave on the atrial channel every 800 ms and an R wave a
fixed 120 ms later on the ventricular channel, each a triangle (2 ms rise, 13 ms fall). The
first sample of a pulse is half its peak; the filter's output there is 16 x (A-16, nothing
before it), so a pulse is detected at its first sample when half its peak reaches the
sensitivity: P 2.0 mV peak (1.0 >= 0.75 mV), R 8.0 mV peak (4.0 >= 2.5 mV).
"""

from __future__ import annotations

import pytest
from toolchain import QEMU_TOOLS

from firmware_bridge.messages import Ack, Event
from firmware_bridge.wire import WireChamber, WireKind, WirePaceFlag
from hil.emulator import start_device
from hil.emulator.probe import ProbeClient

DURATION_MS = 10_000
FIRST_P_MS = 400
PP_MS = 800
PR_MS = 120


def _triangle(signal: list[int], start: int, peak_uv: int) -> None:
    shape = [peak_uv // 2, peak_uv] + [peak_uv * (13 - k) // 13 for k in range(1, 13)]
    for k, v in enumerate(shape):
        if start + k < len(signal):
            signal[start + k] = v


def sinus(with_ventricle: bool) -> tuple[list[int], list[int], list[int]]:
    """Atrial and ventricular electrograms (uV) and a quiet activity channel (milli-g)."""
    a = [0] * DURATION_MS
    v = [0] * DURATION_MS
    for p in p_times():
        _triangle(a, p, 2000)
        if with_ventricle:
            _triangle(v, p + PR_MS, 8000)
    return a, v, [0] * DURATION_MS


def p_times() -> list[int]:
    return list(range(FIRST_P_MS, DURATION_MS - 200, PP_MS))


def run_scenario(target: str, with_ventricle: bool) -> tuple[Event, ...]:
    with start_device(target) as dev, ProbeClient(dev.url) as client:
        client.hello()
        assert isinstance(client.program({"mode": 10}), Ack)  # DDD, nominal otherwise
        a, v, act = sinus(with_ventricle)
        result = client.run(a, v, act)
        dev.check()
        return result.events


def targets() -> list[object]:
    qemu = [pytest.mark.qemu, pytest.mark.needs_tools(*QEMU_TOOLS)]
    return ["host", pytest.param("qemu", marks=qemu)]


@pytest.fixture(scope="module")
def runs() -> dict[tuple[str, bool], tuple[Event, ...]]:
    return {}


def _get(runs: dict[tuple[str, bool], tuple[Event, ...]], target: str,
         with_ventricle: bool) -> tuple[Event, ...]:
    key = (target, with_ventricle)
    if key not in runs:
        runs[key] = run_scenario(target, with_ventricle)
    return runs[key]


@pytest.mark.parametrize("target", targets())
def test_sinus_rhythm_is_sensed_not_paced(target: str,
                                          runs: dict[tuple[str, bool], tuple[Event, ...]]
                                          ) -> None:
    events = _get(runs, target, True)
    expected = []
    for p in p_times():
        expected.append((p * 1000, WireChamber.A, WireKind.AS))
        expected.append(((p + PR_MS) * 1000, WireChamber.V, WireKind.VS))
    got = [(e.t_us, e.chamber, e.kind) for e in events]
    assert got == expected


@pytest.mark.parametrize("target", targets())
def test_without_ventricle_every_as_is_tracked_at_sav(
        target: str, runs: dict[tuple[str, bool], tuple[Event, ...]]) -> None:
    events = _get(runs, target, False)
    expected = []
    for p in p_times():
        expected.append((p * 1000, WireChamber.A, WireKind.AS, WirePaceFlag.NONE, 0, 0))
        # SAV 150 ms (nominal AV delay, sensed offset off), 3.5 V, 0.4 ms
        expected.append(((p + 150) * 1000, WireChamber.V, WireKind.VP, WirePaceFlag.NONE,
                         3500, 400))
    got = [(e.t_us, e.chamber, e.kind, e.flags, e.amplitude_mv, e.width_us) for e in events]
    assert got == expected


@pytest.mark.qemu
@pytest.mark.needs_tools(*QEMU_TOOLS)
@pytest.mark.parametrize("with_ventricle", [True, False])
def test_host_and_qemu_agree_event_for_event(
        with_ventricle: bool, runs: dict[tuple[str, bool], tuple[Event, ...]]) -> None:
    assert _get(runs, "host", with_ventricle) == _get(runs, "qemu", with_ventricle)
