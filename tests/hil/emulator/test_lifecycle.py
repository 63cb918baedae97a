"""The emulated device's lifecycle: build, start, URL, stop, crash and hang diagnosis, faults."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from toolchain import QEMU_TOOLS

from firmware_bridge.messages import DeviceError, TelemetryRequest
from firmware_bridge.wire import ErrorCode
from hil.emulator import (
    DeviceCrashedError,
    DeviceHungError,
    ToolchainMissingError,
    UnknownFaultError,
    build_firmware,
    fault_names,
    seeded_faults,
    start_device,
)
from hil.emulator.build import require_tool
from hil.emulator.device import EXIT_GRACE_S, EmulatedDevice, _start_qemu
from hil.emulator.probe import ProbeClient

ROOT = Path(__file__).resolve().parents[3]


def test_list_faults_prints_one_name_per_line() -> None:
    out = subprocess.run([sys.executable, "-m", "hil.emulator", "--list-faults"],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    names = out.split()
    assert out.splitlines() == names
    assert len(names) >= 12
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]+", n) for n in names)
    assert tuple(names) == fault_names()


def test_every_fault_is_documented_with_its_requirement() -> None:
    doc = (ROOT / "docs" / "firmware.md").read_text()
    for f in seeded_faults():
        assert re.match(r"A-\d+", f.requirement), f
        row = [line for line in doc.splitlines() if f"`{f.name}`" in line]
        assert row, f"{f.name} missing from docs/firmware.md"
        assert f.requirement.split("/")[0] in row[0]


def test_unknown_fault_is_rejected() -> None:
    with pytest.raises(UnknownFaultError, match="NOT_A_FAULT"):
        start_device("host", fault="NOT_A_FAULT")


def test_missing_toolchain_names_the_debian_package(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainMissingError, match="gcc-arm-none-eabi"):
        require_tool("arm-none-eabi-gcc")
    with pytest.raises(ToolchainMissingError, match="qemu-system-arm"):
        require_tool("qemu-system-arm")


def test_build_is_cached() -> None:
    exe = build_firmware("host")
    mtime = exe.stat().st_mtime_ns
    assert build_firmware("host") == exe
    assert exe.stat().st_mtime_ns == mtime


def test_host_device_url_hello_and_stop() -> None:
    with start_device("host") as dev:
        assert dev.url.startswith("/dev/pts/")
        with ProbeClient(dev.url) as c:
            hello = c.hello()
        assert hello.model == "devicetwin-ref"
        assert hello.serial == "host"
        assert "ready, fault=none" in dev.console_output()
        dev.check()
    assert not dev.running()
    dev.stop()  # twice is fine


def test_crash_is_reported_with_console_output() -> None:
    dev = start_device("host")
    try:
        with ProbeClient(dev.url) as c:
            c.hello()
        os.kill(dev.pid, signal.SIGSEGV)
        deadline = time.monotonic() + 5
        while dev.running() and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(DeviceCrashedError) as info:
            dev.check()
        assert "HARDFAULT" in str(info.value)
        assert "ready, fault=none" in str(info.value)
        assert info.value.value == 70
    finally:
        dev.stop()


def test_hang_is_told_apart_from_a_crash() -> None:
    dev = start_device("host")
    try:
        with ProbeClient(dev.url) as c:
            c.hello()
        os.kill(dev.pid, signal.SIGSTOP)
        with ProbeClient(dev.url, timeout_s=0.3) as c, pytest.raises(DeviceHungError) as info:
            c.hello()
        err = dev.diagnose(info.value)
        assert isinstance(err, DeviceHungError)
        assert "ready, fault=none" in str(err)
        os.kill(dev.pid, signal.SIGCONT)
        os.kill(dev.pid, signal.SIGSEGV)
        dev._proc.wait(timeout=5)
        assert isinstance(dev.diagnose(info.value), DeviceCrashedError)
    finally:
        dev.stop()


def test_a_process_still_exiting_when_the_link_breaks_is_a_crash(tmp_path: Path) -> None:
    # The kernel closes a dying process's pty before its exit status can be collected, so the
    # link error can arrive first; the diagnosis must wait for the exit, not call it a hang.
    log = tmp_path / "console.log"
    log.write_bytes(b"devicetwin-fw host ready, fault=none\n")
    proc = subprocess.Popen(["sh", "-c", f"sleep {EXIT_GRACE_S / 4}; exit 3"])
    dev = EmulatedDevice("host", None, Path("sh"), proc, "/dev/null", log, None)
    try:
        err = dev.diagnose(OSError("read failed: device disconnected"))
        assert isinstance(err, DeviceCrashedError)
        assert "stopped with status 3" in str(err)
        assert "ready, fault=none" in str(err)
    finally:
        dev.stop()


def test_fault_variant_builds_into_its_own_directory() -> None:
    exe = build_firmware("host", "URL_NOT_ENFORCED")
    assert exe.parent.name == "host-URL_NOT_ENFORCED"
    out = subprocess.run([str(exe), "--fault-name"], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "URL_NOT_ENFORCED"
    clean = subprocess.run([str(build_firmware("host")), "--fault-name"], capture_output=True,
                           text=True, check=True).stdout.strip()
    assert clean == "none"


@pytest.mark.qemu
@pytest.mark.needs_tools(*QEMU_TOOLS)
def test_qemu_hardfault_reports_on_uart_and_console_and_exits_nonzero(tmp_path: Path) -> None:
    """A test-only image traps on TELEMETRY_REQ: the HardFault handler sends ERROR(HARDFAULT) on
    the UART, prints its report through semihosting and exits QEMU with status 1."""
    firmware = ROOT / "hil" / "firmware"
    subprocess.run(["make", "-s", "-C", str(firmware), "qemu", "VARIANT=crashtest",
                    "EXTRA_DEFS=-DFW_TEST_CRASH=1"], check=True, capture_output=True, timeout=300)
    program = firmware / "build" / "qemu-crashtest" / "fw_lm3s6965.elf"
    dev = _start_qemu(program, None, tmp_path / "console.log")
    try:
        with ProbeClient(dev.url, timeout_s=5.0) as c:
            c.hello()
            c.send(TelemetryRequest())
            frame = c.receive()
        assert isinstance(frame.message, DeviceError)
        assert frame.message.code == ErrorCode.HARDFAULT
        assert frame.message.text.startswith("HARDFAULT")
        dev._proc.wait(timeout=10)
        assert dev._proc.returncode == 1
        with pytest.raises(DeviceCrashedError, match="HARDFAULT exc=0x00000003"):
            dev.check()
    finally:
        dev.stop()
