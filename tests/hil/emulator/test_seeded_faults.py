"""Every seeded fault is a real, detectable defect.

Timing faults: at least one cross-check scenario (hil.emulator.crosscheck) makes the faulty
firmware disagree with the reference model, while the clean firmware agrees on all of them
(test_model_crosscheck.py). The other faults are shown where they act: PROGRAM without range
checks acknowledges an off-grid value; a 32-bit microsecond counter and an ignored store CRC
make the firmware's own C unit tests fail.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from firmware_bridge.messages import Ack, Nack
from hil.emulator import fault_names, start_device
from hil.emulator.crosscheck import SCENARIOS, compare
from hil.emulator.faults import FIRMWARE_DIR
from hil.emulator.probe import ProbeClient

NOT_TIMING = {"PROGRAM_NO_RANGE_CHECK", "US_COUNTER_OVERFLOW", "STORE_CRC_IGNORED"}
TIMING_FAULTS = [f for f in fault_names() if f not in NOT_TIMING]

pytestmark = pytest.mark.needs_tools("gcc", "make")


@pytest.mark.slow
@pytest.mark.parametrize("fault", TIMING_FAULTS)
def test_timing_fault_is_caught_by_a_scenario(fault: str) -> None:
    for scenario in SCENARIOS:
        if compare(scenario, "host", fault) is not None:
            return
    pytest.fail(f"no cross-check scenario tells {fault} from the reference model")


def test_program_without_range_check_accepts_off_grid_values() -> None:
    for fault, expected in ((None, Nack), ("PROGRAM_NO_RANGE_CHECK", Ack)):
        with start_device("host", fault) as dev, ProbeClient(dev.url) as c:
            c.hello()
            assert isinstance(c.program({"lower_rate_ppm": 33}), expected)


def _c_tests_with(fault: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    src = sorted(p for p in (FIRMWARE_DIR / "src").glob("*.c") if p.name != "fw_main.c")
    bridge = FIRMWARE_DIR.parents[1] / "firmware_bridge" / "c"
    exe = tmp_path / f"fw_tests_{fault}"
    cmd = ["gcc", "-std=c99", "-O2", f"-I{FIRMWARE_DIR / 'src'}", f"-I{bridge}",
           f"-I{FIRMWARE_DIR / 'tests'}", f"-DFAULT_{fault}=1", *map(str, src),
           str(bridge / "fb_protocol.c"), str(bridge / "fb_sha256.c"),
           *map(str, sorted((FIRMWARE_DIR / "tests").glob("*.c"))), "-o", str(exe)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return subprocess.run([str(exe)], capture_output=True, text=True, check=False, timeout=120)


@pytest.mark.slow
def test_microsecond_overflow_breaks_long_sessions(tmp_path: Path) -> None:
    proc = _c_tests_with("US_COUNTER_OVERFLOW", tmp_path)
    assert proc.returncode != 0
    assert "4296000000" in proc.stderr


def test_ignored_store_crc_keeps_corrupt_parameters(tmp_path: Path) -> None:
    proc = _c_tests_with("STORE_CRC_IGNORED", tmp_path)
    assert proc.returncode != 0
    assert "fw_store_read" in proc.stderr
