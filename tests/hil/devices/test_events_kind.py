"""Event-level devices in the closed loop: the bench senses, the device paces, the run is judged
on what the device shows (paces) and on the patient."""

from __future__ import annotations

import itertools

import pytest

from devicetwin.pacemaker import MarkerKind
from firmware_bridge.serve import TcpServer
from hil.devices import DeviceOptions, open_device
from hil.devices.events import MISSING_FEATURES
from hil.errors import NotApplicableError
from hil.scenarios import load_scenario, parse_scenario, resolve
from hil.session.runner import run_scenario

VVI = """
name = "ev_vvi"
description = "VVI in complete AV block on the event-level device."
requirements = ["A-2"]
duration_s = 10
seed = 4
[patient]
condition = "complete_av_block"
[device]
mode = "VVI"
"""


def test_vvi_closed_loop_paces_at_the_lower_rate_and_is_judged_on_paces() -> None:
    result = run_scenario(parse_scenario(VVI), "events+emulated")
    assert result.passed, result.explain()
    vps = [e.t_us for e in result.loop.device_events if e.kind is MarkerKind.VP]
    # VVI 60 ppm in complete block with no conducted beat faster: VP every 1000 ms
    assert all(b - a == 1_000_000 for a, b in itertools.pairwise(vps)) and len(vps) >= 8
    assert result.summary()["judged_kinds"] == ["AP", "VP"]
    lower_rate = [c for c in result.criteria if c.name.startswith("monitor.lower_rate")]
    assert lower_rate and all(not c.applicable for c in lower_rate)
    assert result.device.kind == "events" and result.device.model == "devicetwin-ev"


def test_ddd_default_scenario_runs_in_windows_with_early_stop() -> None:
    result = run_scenario(load_scenario(resolve("bench_default")), "events+emulated")
    assert result.passed, result.explain()
    assert result.device.max_window_samples == 100
    # windows of up to 100 ms, cut at paces: far fewer round trips than simulated milliseconds
    assert result.loop.stats.windows < 30_000 // 20
    # the device runs without the features it lacks, and the twin with it
    assert result.programming.pmt_termination == MISSING_FEATURES["pmt_termination"]


def test_a_timing_fault_inside_the_tolerance_shows_as_a_bias() -> None:
    result = run_scenario(parse_scenario(VVI), "events+emulated", fault="ESCAPE_5MS_SHORT")
    vp = dict(result.conformance.timing_by_kind)[MarkerKind.VP]
    assert vp.median_us == -5000


def test_a_p_wave_exactly_at_the_end_of_pvarp_is_tracked_and_the_off_by_one_fault_is_caught(
) -> None:
    """``ddd_pvarp_boundary`` sweeps P waves 1 ms a beat across the end of PVARP (340 ms): the
    clean device tracks the one that lands on the end (A-21: PVARP is half-open), the fault that
    closes PVARP at its end leaves it untracked and the run fails."""
    scenario = load_scenario(resolve("ddd_pvarp_boundary"))
    clean = run_scenario(scenario, "events+emulated")
    assert clean.passed, clean.explain()
    vps = [e.t_us for e in clean.loop.device_events if e.kind is MarkerKind.VP]
    senses = [e.t_us for e in clean.loop.twin_events if e.kind is MarkerKind.AS]
    after_vp = {s - max(v for v in vps if v < s) for s in senses if any(v < s for v in vps)}
    assert 340_000 in after_vp  # a P wave sensed exactly at the end of PVARP, and tracked
    faulty = run_scenario(scenario, "events+emulated", fault="PVARP_OFF_BY_ONE")
    assert not faulty.passed


def test_a_feature_the_device_lacks_makes_the_scenario_not_applicable() -> None:
    with pytest.raises(NotApplicableError, match="hysteresis_rate_ppm"):
        run_scenario(load_scenario(resolve("vvi_hysteresis")), "events+emulated")


def base_device(data: bytes) -> bytes:
    """A device of the base protocol: it answers every time mark with no pace, ignores R."""
    return b"".join(b".\n" for line in data.split(b"\n") if line.startswith(b"T "))


def test_a_base_protocol_device_is_driven_one_millisecond_at_a_time() -> None:
    with TcpServer(base_device) as server, \
            open_device(f"events+{server.url}", DeviceOptions(timeout_s=0.5)) as dev:
        assert dev.identity.max_window_samples == 1
        assert dev.identity.model == "event-level device"


def test_the_twin_served_over_the_line_protocol_answers_a_session() -> None:
    """The reference model as an event-level device starts a session on R and says who it is;
    with no early stop the bench drives it one millisecond at a time, and a VVI run passes."""
    from devicetwin.pacemaker import Mode, Programming
    from hil.vectors.twindevice import TwinEventDevice

    twin = TwinEventDevice(Programming.nominal(Mode.VVI))
    with TcpServer(twin.handle) as server:
        result = run_scenario(parse_scenario(VVI.replace("duration_s = 10", "duration_s = 4")),
                              f"events+{server.url}")
    assert result.device.model == "devicetwin-twin" and result.device.max_window_samples == 1
    assert result.passed, result.explain()
