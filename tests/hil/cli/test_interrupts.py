"""SIGINT, SIGTERM and SIGHUP end a run the same way: the evidence is closed and readable, the
exit code is 128 + the signal (hil.exitcodes), and no firmware or QEMU process survives the bench.

Each test starts ``devicetwin run`` as a user would (a subprocess), waits until the loop is
running (the record holds samples: it is created once the device answered and flushed every
simulated second), signals it, and then
checks what a user finds in ``--out``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import wfdb
from interrupted import check_interrupted_evidence
from processes import children, wait_for, wait_gone
from toolchain import QEMU_TOOLS

from hil.scenarios import resolve

#: Long enough that no run ends before the signal reaches it.
LONG_S = 600


def long_scenario(tmp_path: Path) -> Path:
    """The default scenario, lasting ``LONG_S`` simulated seconds."""
    text = resolve("bench_default").read_text()
    path = tmp_path / "long.toml"
    path.write_text(text.replace("duration_s = 30", f"duration_s = {LONG_S}"))
    assert f"duration_s = {LONG_S}" in path.read_text()
    return path


def start_run(tmp_path: Path, device: str, out: Path,
              command: str = "run") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hil.cli", command, str(long_scenario(tmp_path)),
         "--device", device, "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def signal_when_running(proc: subprocess.Popen[str], record: Path, signum: int,
                        firmware: str) -> tuple[int, list[int], str]:
    """Wait for the record, note the device processes, signal; (exit code, their pids, stderr)."""
    try:
        assert wait_for(record, 90.0), "the run never started its record"
        device_pids = [pid for pid, name in children(proc.pid).items() if firmware in name]
        assert device_pids, f"no {firmware} child of the bench: {children(proc.pid)}"
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, device_pids, err


def check_evidence(out: Path, signum: int) -> dict[str, object]:
    summary = check_interrupted_evidence(out, signum, LONG_S)
    name = signal.Signals(signum).name
    assert "run cut short: interrupted by " + name in (out / "junit.xml").read_text()
    return summary


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP],
                         ids=["SIGTERM", "SIGINT", "SIGHUP"])
def test_a_signal_keeps_the_evidence_and_stops_the_firmware(tmp_path: Path, signum: int) -> None:
    out = tmp_path / "out"
    proc = start_run(tmp_path, "emulated", out)
    code, device_pids, err = signal_when_running(proc, out / "run.dat", signum, "fw_host")
    assert code == 128 + signum, err
    assert "Traceback" not in err
    check_evidence(out, signum)
    assert wait_gone(device_pids) == [], "the host firmware outlived the bench"


@pytest.mark.qemu
@pytest.mark.needs_tools(*QEMU_TOOLS)
def test_sigterm_to_a_qemu_run_leaves_no_qemu_behind(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = start_run(tmp_path, "qemu", out)
    code, device_pids, err = signal_when_running(proc, out / "run.dat", signal.SIGTERM,
                                                 "qemu-system-arm")
    assert code == 143, err
    check_evidence(out, signal.SIGTERM)
    assert wait_gone(device_pids) == [], "qemu-system-arm outlived the bench"


def test_a_killed_bench_takes_its_firmware_with_it(tmp_path: Path) -> None:
    """SIGKILL runs no Python code: the kernel's parent-death signal ends the device process."""
    out = tmp_path / "out"
    proc = start_run(tmp_path, "emulated", out)
    code, device_pids, _ = signal_when_running(proc, out / "run.dat", signal.SIGKILL, "fw_host")
    assert code == -signal.SIGKILL
    assert wait_gone(device_pids) == [], "the host firmware outlived a killed bench"
    # the record flushed each simulated second stays readable
    assert wfdb.rdrecord(str(out / "run")).sig_len > 0


def test_sigterm_to_a_suite_ends_every_run_with_its_evidence(tmp_path: Path) -> None:
    out = tmp_path / "suite"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hil.cli", "suite", str(long_scenario(tmp_path)),
         "--jobs", "1", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    record = out / "clean" / "long" / "run.dat"
    try:
        assert wait_for(record, 90.0), "the suite's run never started"
        workers = list(children(proc.pid))
        firmware = [pid for w in workers for pid, name in children(w).items() if "fw_host" in name]
        assert firmware, "no firmware under the suite's worker"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, err
    check_evidence(out / "clean" / "long", signal.SIGTERM)
    assert wait_gone(workers + firmware) == []
