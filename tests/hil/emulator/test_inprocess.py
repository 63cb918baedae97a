"""The in-process device: the firmware's C code linked into the bench, ticked without a wire.

Judged against what was written apart from it: the Python reference model (every cross-check
scenario and random programmings with random electrograms, marker for marker), the escape
intervals of A-1 computed here from the rates, the firmware behind its pseudo-terminal (the same
sources over the real link), and the protocol's refusals.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from devicetwin.heart import Heart
from devicetwin.pacemaker import Chamber, MarkerEvent, MarkerKind, Mode, PacemakerModel, Programming
from firmware_bridge.wire import NackReason, ParamId
from hil.devices.contract import DeviceError
from hil.devices.registry import DeviceOptions
from hil.emulator.crosscheck import (
    SCENARIOS,
    Scenario,
    _key,
    _programming,
    firmware_markers,
    random_case,
    wire_program,
)
from hil.emulator.inprocess import (
    FULL_EVENTS,
    MAX_EVENTS_PER_TICK,
    InProcessDevice,
    marker_from_raw,
    open_device,
)
from hil.errors import ConfigError
from hil.session.lockstep import LockstepLoop

Signal = npt.NDArray[np.int16]


def run_all(dev: InProcessDevice, a: Signal, v: Signal, x: Signal,
            window: int | None = None) -> list[tuple[int, str, str, int, int, int]]:
    """Every marker of the device over the whole signals, windows cut at paces (as a lock-step
    loop does) or at ``window`` samples."""
    out: list[tuple[int, str, str, int, int, int]] = []
    pos = 0
    n = len(a)
    while pos < n:
        end = n if window is None else min(n, pos + window)
        markers, consumed = dev.tick(dev.time_us, a[pos:end], v[pos:end], x[pos:end])
        assert 1 <= consumed <= end - pos
        out.extend(_key(m) for m in markers)
        pos += consumed
    return out


def model_keys(prog: Programming, a: Signal, v: Signal, x: Signal
               ) -> list[tuple[int, str, str, int, int, int]]:
    end_us = 1000 * len(a)
    return [_key(m) for m in PacemakerModel(prog).process_samples(0, a, v, x) if m.t_us < end_us]


def programmed(prog: Programming) -> InProcessDevice:
    dev = InProcessDevice()
    dev.program(prog)
    return dev


def _scenario_programming(s: Scenario) -> Programming:

    prog: Programming = _programming(s)
    return prog


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_agrees_with_reference_model(scenario: Scenario) -> None:
    prog = _scenario_programming(scenario)
    a, v, x = scenario.signals()
    want = model_keys(prog, a, v, x)
    assert want, f"{scenario.name}: the model shows no markers"
    with programmed(prog) as dev:
        got = [k for k in run_all(dev, a, v, x) if k[0] < 1000 * len(a)]
    assert got == want


@pytest.mark.parametrize("seed", range(40))
def test_random_programmings_agree_with_reference_model(seed: int) -> None:
    prog, a, v, x = random_case(seed)
    with programmed(prog) as dev:
        got = [k for k in run_all(dev, a, v, x) if k[0] < 1000 * len(a)]
    assert got == model_keys(prog, a, v, x), f"seed {seed}: {prog.mode.name}"


def test_window_size_does_not_change_the_markers() -> None:
    prog, a, v, x = random_case(7)
    with programmed(prog) as whole, programmed(prog) as small:
        assert run_all(whole, a, v, x) == run_all(small, a, v, x, window=37)


@pytest.mark.parametrize(("mode", "rate_ppm"), [(Mode.VVI, 70), (Mode.VVI, 45), (Mode.AAI, 90)])
def test_escape_pacing_at_the_programmed_rate(mode: Mode, rate_ppm: int) -> None:
    """No signal: paces every interval_ms(rate) = floor((60000 + rate/2) / rate) (A-1), the
    first one interval after the start."""
    interval_ms = (60_000 + rate_ppm // 2) // rate_ppm
    z = np.zeros(10_000, np.int16)
    with programmed(Programming.nominal(mode, lower_rate_ppm=rate_ppm)) as dev:
        markers: list[MarkerEvent] = []
        pos = 0
        while pos < len(z):
            got, consumed = dev.tick(dev.time_us, z[pos:], z[pos:], z[pos:])
            markers.extend(got)
            pos += consumed
    chamber = Chamber.A if mode is Mode.AAI else Chamber.V
    assert [m.t_us for m in markers] == [1000 * interval_ms * k
                                         for k in range(1, 10_000 // interval_ms + 1)]
    assert {(m.chamber, m.kind.is_pace) for m in markers} == {(chamber, True)}


def test_early_stop_ends_the_window_at_the_pace_sample() -> None:
    """DDD nominal (60 ppm, AV 150 ms): the first AP is due at 1000 - 150 = 850 ms; the window
    stops right after sample 850, and the next one runs on to the VP 150 ms later."""
    z = np.zeros(2000, np.int16)
    with programmed(Programming.nominal(Mode.DDD)) as dev:
        first, consumed = dev.tick(0, z, z, z)
        assert consumed == 851
        assert [(m.t_us, m.kind) for m in first] == [(850_000, MarkerKind.AP)]
        second, consumed2 = dev.tick(851_000, z[851:], z[851:], z[851:])
        assert [(m.t_us, m.kind) for m in second] == [(1_000_000, MarkerKind.VP)]
        assert consumed2 == 1000 - 851 + 1
        assert dev.time_us == 1_001_000


def test_a_full_event_buffer_stops_the_window_without_losing_markers() -> None:
    """A noise burst with detections every 60 ms in VVI, run without early stop: more markers
    than one window holds."""
    n = 30_000
    a = np.zeros(n, np.int16)
    v = np.zeros(n, np.int16)
    for t in range(100, n - 20, 60):
        v[t:t + 3] = (4000, 8000, 4000)
    x = np.zeros(n, np.int16)
    prog = Programming.nominal(Mode.VVI)
    with programmed(prog) as dev:
        raw, consumed = dev.tick_raw(0, a, v, x, early_stop=False)
        markers = [marker_from_raw(e) for e in raw]
        assert consumed < n
        assert FULL_EVENTS < len(markers) <= MAX_EVENTS_PER_TICK
        assert any(m.kind.is_pace for m in markers[:-1])  # it ran on past paces
        got = [_key(m) for m in markers] + run_all(dev, a[consumed:], v[consumed:],
                                                  x[consumed:])
    assert got == model_keys(prog, a, v, x)


def test_same_markers_as_the_firmware_behind_its_pty() -> None:
    """The in-process build against the host build over the real link (100-sample TICKs)."""

    scenario = next(s for s in SCENARIOS if s.name == "ddd_pmt")
    a, v, x = scenario.signals()
    with programmed(_scenario_programming(scenario)) as dev:
        got = [k for k in run_all(dev, a, v, x) if k[0] < 1000 * len(a)]
    assert got == firmware_markers(scenario)


def test_refused_programming_comes_back_as_the_firmware_nack() -> None:
    with InProcessDevice() as dev:
        nack = dev.program_raw({"lower_rate_ppm": 7})
        assert nack is not None
        assert nack.reason is NackReason.PARAM_OUT_OF_RANGE
        assert nack.param_id == ParamId.LOWER_RATE_PPM
        assert dev.program_raw({"lower_rate_ppm": 70}) is None
        assert dev.interrogate().active_mode == Mode.DDD.wire_code


def test_program_and_interrogate_round_trip() -> None:
    prog = Programming.nominal(Mode.VDD, lower_rate_ppm=55, upper_rate_ppm=110)
    with programmed(prog) as dev:
        got = dict(dev.interrogate().params)
    assert got[ParamId.MODE] == Mode.VDD.wire_code
    assert got[ParamId.LOWER_RATE_PPM] == 55
    assert got[ParamId.UPPER_RATE_PPM] == 110


def test_magnet_paces_asynchronously_at_the_battery_rate() -> None:
    """Magnet at beginning of life: DOO at 100 ppm (A-15), pacing through sinus senses."""
    with programmed(Programming.nominal(Mode.DDD)) as dev:
        dev.set_magnet(True)
        a = np.zeros(3000, np.int16)
        for t in range(100, 2900, 400):
            a[t:t + 3] = (1000, 2000, 1000)
        z = np.zeros(3000, np.int16)
        paces = [m for m in run_all(dev, a, z, z) if m[2] == "AP"]
    assert [p[0] for p in paces] == [1000 * (600 * k - 150) for k in range(1, 6)]


def test_corrupt_store_boots_power_on_reset() -> None:
    with InProcessDevice(corrupt_store=True) as dev:
        assert any("corrupt" in r for r in dev.boot_reports)
        assert dev.interrogate().active_mode == Mode.VVI.wire_code
    with InProcessDevice() as clean:
        assert clean.boot_reports == []


def test_window_at_the_wrong_time_is_refused_with_the_device_time() -> None:
    z = np.zeros(10, np.int16)
    with InProcessDevice() as dev:
        dev.tick(0, z, z, z)
        with pytest.raises(DeviceError, match=r"t0_us=0.*10000 us"):
            dev.tick(0, z, z, z)


def test_samples_of_the_wrong_type_are_refused() -> None:
    f = np.zeros(10, np.float64)
    z = np.zeros(10, np.int16)
    with InProcessDevice() as dev, pytest.raises(ConfigError, match=r"atrial_uv.*float64"):
        dev.tick(0, f, z, z)  # type: ignore[arg-type]


def test_registry_entry_runs_seeded_faults_and_refuses_other_targets() -> None:
    with open_device("emulated", DeviceOptions(fault="PVARP_SHORT_20MS")) as faulty:
        assert faulty.identity.fault == "PVARP_SHORT_20MS"
    with pytest.raises(ConfigError, match="'socket://x'"):
        open_device("socket://x", DeviceOptions())
    with open_device("emulated", DeviceOptions()) as dev:
        assert dev.identity.kind == "inprocess"
        assert not dev.capabilities.realtime


def test_wire_program_of_the_crosscheck_is_what_program_sends() -> None:
    """The device programs with the same (id, value) pairs as the cross-check's PROGRAM."""
    prog = Programming.nominal(Mode.DDDR, lower_rate_ppm=65)
    pairs = dict(wire_program(prog.to_wire_units()).params)
    with programmed(prog) as dev:
        got = dict(dev.interrogate().params)
    assert {k: got[k] for k in pairs if k in got} == {k: v for k, v in pairs.items() if k in got}


def test_runs_the_bench_lockstep_loop_with_the_cell_heart() -> None:
    """The in-process device behind the bench's own lock-step loop (cell-network heart, the twin
    shadowing): complete AV block in DDD, every device event predicted by the twin, each VP one
    AV delay (150 ms) after its AS."""

    prog = Programming.nominal(Mode.DDD)
    with programmed(prog) as dev:
        twin = PacemakerModel(prog, follower=True)
        out = LockstepLoop(Heart("complete_av_block", seed=1), dev, twin).run_until(6_000_000)
    got = [(m.t_us, m.kind) for m in out.device_events]
    assert got == [(m.t_us, m.kind) for m in out.twin_events]
    senses = [t for t, k in got if k is MarkerKind.AS]
    assert len(senses) >= 5
    assert [t for t, k in got if k is MarkerKind.VP] == [t + 150_000 for t in senses
                                                         if t + 150_000 <= 6_000_000]


def test_telemetry_counts_what_the_direct_ticks_delivered() -> None:
    """Windows that skip the wire still drive the firmware's own counters and clock: after
    10 s of DDD at 60 ppm with no signal, 10 APs (850 ms + k s) and 9 VPs (k s, k = 1..9);
    the lead impedances are the emulated loads (480 / 520 ohm, reported in 50 ohm steps)."""
    z = np.zeros(10_000, np.int16)
    with programmed(Programming.nominal(Mode.DDD)) as dev:
        run_all(dev, z, z, z)
        telemetry = dev.client.telemetry()
    assert telemetry.time_us == 10_000_000
    assert (telemetry.ap_count, telemetry.vp_count) == (10, 9)
    assert (telemetry.atrial_impedance_ohm, telemetry.ventricular_impedance_ohm) == (450, 500)
    assert telemetry.nacks_sent == 0
