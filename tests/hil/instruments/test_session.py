"""The bench session through the instruments (``--via visa``) and its pulse detector."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from devicetwin.pacemaker import MarkerKind, Mode, Programming
from firmware_bridge.wire import ParamId
from hil.devices import DeviceError
from hil.instruments.session import detect_pulses
from hil.scenarios import parse_scenario
from hil.session.realtime import RealtimeOptions
from hil.session.runner import run_scenario

# The suite shares 2 cores with other jobs: run 200 ms ahead and judge deadlines with slack
# (the defaults, hil.session.realtime.VISA_REALTIME, are for an unloaded bench).
TEST_OPTIONS = RealtimeOptions(window_ms=10, lead_ms=200, late_threshold_ms=15.0,
                               max_late_fraction=0.1, twin_margin_ms=400)

SCENARIO = """
name = "visa_complete_block"
description = "DDD tracks sinus rhythm through complete AV block, through AWG and scope"
duration_s = 5
seed = 3
[patient]
condition = "complete_av_block"
[device]
mode = "DDD"
"""


def test_detect_pulses_by_hand() -> None:
    dt = 10e-6
    v = np.zeros(1000)
    v[100:140] = 3.0  # 0.4 ms at 3 V from sample 100
    v[500:600] = 1.0  # 1 ms at 1 V
    v[990:] = 2.0  # runs past the end: not complete, not reported
    got = detect_pulses(v, 0.5, dt, threshold_v=0.2)
    assert len(got) == 2
    (t1, a1, w1), (t2, a2, w2) = got
    # threshold 0.2 V on a one-sample step from 0 to 3 V: 0.2/3 of a sample after sample 99
    assert t1 == pytest.approx(0.5 + (99 + 0.2 / 3) * dt)
    assert a1 == 3.0 and a2 == 1.0
    assert w1 == pytest.approx(40 * dt)  # half-amplitude crossings half a sample from each edge
    assert w2 == pytest.approx(100 * dt)
    assert t2 == pytest.approx(0.5 + (499 + 0.2) * dt)


def test_nothing_below_threshold() -> None:
    assert detect_pulses(np.full(100, 0.1), 0.0, 1e-5, 0.2) == []


@pytest.mark.slow
def test_session_via_visa_passes_and_sees_the_programmed_pulses(tmp_path: Path) -> None:
    result = run_scenario(parse_scenario(SCENARIO), "emulated", out_dir=tmp_path, via="visa",
                          realtime_options=TEST_OPTIONS)
    summary = json.loads((tmp_path / "summary.json").read_text())
    failed = [c for c in summary["criteria"] if not c["passed"]]
    assert summary["verdict"] == "pass", failed
    assert summary["device"]["spec"] == "visa:emulated"
    events = result.loop.device_events
    assert events, "no pace seen on the scope"
    assert all(e.kind in (MarkerKind.AP, MarkerKind.VP) for e in events)
    # the reference programming: 3.5 V, 0.4 ms in both chambers
    wire = result.programming.to_wire_units()
    for e in events:
        chamber = "atrial" if e.kind is MarkerKind.AP else "ventricular"
        amp_mv = wire[f"{chamber}_amplitude_mv"]
        width_us = wire[f"{chamber}_pulse_width_us"]
        assert e.amplitude_mv == pytest.approx(amp_mv, rel=0.12)
        assert e.width_us == pytest.approx(width_us, abs=200)
    # the twin's paces are matched one for one
    assert summary["matched_events"] == summary["device_events"]


SENSED = """
name = "visa_vvi_sensed"
description = "VVI over a conducted rhythm faster than the lower rate: no pace is due"
duration_s = 6
seed = 5
[patient]
condition = "bench_patient"
overrides = { retrograde = false }
[device]
mode = "VVI"
parameters = { lower_rate_ppm = 60 }
"""


@pytest.mark.slow
def test_session_via_visa_catches_a_device_that_ignores_senses() -> None:
    # a sense restarts the escape interval; the seeded fault does not, so it paces
    # although the patient's conducted beats come faster than 60 per minute
    result = run_scenario(parse_scenario(SENSED), "emulated", via="visa",
                          fault="LRL_NOT_RESET_BY_SENSE", realtime_options=TEST_OPTIONS)
    failed = {c.name for c in result.criteria if c.failed}
    assert not result.passed
    assert "conformance.precision" in failed
    assert any(e.kind is MarkerKind.VP for e in result.loop.device_events)


def test_cli_takes_the_instrument_options() -> None:
    from hil.cli import build_parser

    args = build_parser().parse_args(["run", "voo_async", "--via", "visa", "--awg",
                                      "TCPIP::10.0.0.5::5025::SOCKET"])
    assert args.via == "visa"
    assert args.awg == "TCPIP::10.0.0.5::5025::SOCKET"
    assert args.scope is None and args.analyzer is None


def test_connection_programs_interrogates_and_gets_refusals() -> None:
    from hil.instruments.session import VisaDeviceConnection

    with VisaDeviceConnection("emulated") as dev:
        assert dev.identity.spec == "visa:emulated"
        assert dev.identity.max_window_samples == 100
        dev.program(Programming.nominal(Mode.VVI).replace(lower_rate_ppm=70))
        params = {ParamId(p).name.lower(): v for p, v in dev.interrogate().params}
        assert params["lower_rate_ppm"] == 70
        # A-18 rule 1: an upper rate below the lower rate is refused
        nack = dev.program_raw({"lower_rate_ppm": 100, "upper_rate_ppm": 90})
        assert nack is not None
        with pytest.raises(DeviceError, match="lock-step"):
            dev.tick(0, np.zeros(1, np.int16), np.zeros(1, np.int16), np.zeros(1, np.int16))


