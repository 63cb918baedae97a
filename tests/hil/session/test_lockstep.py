"""The lock-step session: same result as stepping one millisecond at a time, deterministic,
resynchronising, and leaving a readable partial result when interrupted or when the device dies."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import wfdb

from devicetwin.conformance import DiscrepancyClass
from devicetwin.pacemaker import MarkerKind, PacemakerModel
from hil.devices.binary import BinaryDevice
from hil.scenarios import parse_scenario
from hil.session.lockstep import LockstepLoop, LoopOutput
from hil.session.mapping import programming_from
from hil.session.runner import build_heart, run_scenario

PATIENT = """
name = "t"
description = "test"
duration_s = {duration}
seed = 5
[patient]
condition = "{condition}"
[device]
mode = "{mode}"
"""


def _scenario(duration: float = 8, condition: str = "bench_patient", mode: str = "DDD",
              extra: str = ""):  # type: ignore[no-untyped-def]
    return parse_scenario(PATIENT.format(duration=duration, condition=condition, mode=mode)
                          + extra)


def _loop_run(max_window: int, duration_us: int = 6_000_000) -> LoopOutput:
    sc = _scenario()
    prog = programming_from(sc.mode, sc.parameters)
    with BinaryDevice("emulated") as dev:
        dev.program(prog)
        loop = LockstepLoop(build_heart(sc), dev, PacemakerModel(prog, follower=True),
                            max_window_samples=max_window)
        return loop.run_until(duration_us)


def _streams(out: LoopOutput) -> tuple[list[object], list[object], list[object]]:
    return (out.device_events, sorted(out.twin_events, key=lambda e: (e.t_us, e.chamber.value)),
            out.heart_events)


@pytest.mark.slow
def test_windows_give_the_same_result_as_one_millisecond_steps() -> None:
    stepped = _loop_run(max_window=1)
    windowed = _loop_run(max_window=100)
    assert stepped.stats.windows == 6000
    assert windowed.stats.windows < 600  # the windows really were long
    assert any(e.kind is MarkerKind.VP for e in stepped.device_events)
    assert _streams(windowed) == _streams(stepped)


def test_runs_are_deterministic() -> None:
    a = run_scenario(_scenario(6))
    b = run_scenario(_scenario(6))
    assert a.loop.device_events == b.loop.device_events
    assert a.loop.heart_events == b.loop.heart_events
    assert a.summary()["timing_error_ms"] == b.summary()["timing_error_ms"]


def test_one_wrong_pace_is_one_discrepancy_not_a_cascade() -> None:
    # VVI 60 under sinus rhythm at ~70 bpm. With the seeded fault LRL_NOT_RESET_BY_SENSE the
    # device paces every 1000 ms whatever it senses. A VVI pace is wrong exactly when a
    # ventricular sense came within the LRI (1000 ms) before it (A-2: a sense restarts the
    # escape). The twin follows each pace, so each wrong pace is one 'extra pace' discrepancy,
    # and right paces (after a paced beat, no sense for 1000 ms) and every sense still match.
    result = run_scenario(_scenario(10, "normal_sinus", "VVI"), fault="LRL_NOT_RESET_BY_SENSE")
    dev = result.loop.device_events
    vs = [e.t_us for e in dev if e.kind is MarkerKind.VS]
    vp = [e.t_us for e in dev if e.kind is MarkerKind.VP]
    wrong = [t for t in vp if any(t - 1_000_000 < s < t for s in vs)]
    assert len(wrong) >= 5 and len(wrong) < len(vp)
    disc = result.conformance.discrepancies
    assert [(d.cls, d.t_us) for d in disc] == [(DiscrepancyClass.EXTRA_PACE, t) for t in wrong]
    assert result.conformance.matched == len(dev) - len(wrong)
    assert not result.passed


def test_clean_device_summary_has_the_documented_fields(tmp_path: Path) -> None:
    result = run_scenario(_scenario(5), out_dir=tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    for key in ("verdict", "device_events", "predicted_events", "matched_events", "hazards",
                "realtime_factor"):
        assert key in summary
    assert set(summary["timing_error_ms"]) == {"p50", "p95", "max"}
    assert summary["verdict"] == "pass" == result.verdict
    assert summary["matched_events"] == summary["device_events"] > 0
    # the record holds exactly the simulated time: 5 s at 1 kHz plus the pre-roll sample
    assert wfdb.rdrecord(str(tmp_path / "run")).sig_len == 5001


def test_interrupted_run_leaves_a_readable_record_and_a_partial_verdict(tmp_path: Path) -> None:
    def stop(t_us: int) -> None:
        if t_us >= 3_000_000:
            raise KeyboardInterrupt

    result = run_scenario(_scenario(20), out_dir=tmp_path, progress=stop)
    assert result.loop.interrupted == "interrupted by SIGINT"
    assert result.verdict == "fail"
    rec = wfdb.rdrecord(str(tmp_path / "run"))
    assert 3000 <= rec.sig_len <= 3200
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["interrupted"] == "interrupted by SIGINT"
    assert summary["duration_s"] == pytest.approx(rec.sig_len / 1000, abs=0.002)
    ann = wfdb.rdann(str(tmp_path / "run"), "dev")
    assert len(ann.sample) > 0 and ann.sample.max() <= rec.sig_len


def test_a_crashed_device_gives_a_partial_result_naming_the_crash(
    tmp_path: Path, firmware_pids: Callable[[], list[int]]
) -> None:
    killed: list[int] = []

    def kill_device(t_us: int) -> None:
        if t_us >= 2_000_000 and not killed:
            for pid in firmware_pids():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

    result = run_scenario(_scenario(10), out_dir=tmp_path, progress=kill_device)
    assert killed
    assert result.loop.interrupted is not None
    # the diagnosis names the exit (SIGKILL = -9) and quotes the firmware's last console output
    assert "stopped with status -9" in result.loop.interrupted
    assert "devicetwin-fw host ready" in result.loop.interrupted
    assert result.verdict == "fail"
    rec = wfdb.rdrecord(str(tmp_path / "run"))
    assert 2000 <= rec.sig_len < 10_000
    assert np.isfinite(rec.p_signal).all()
