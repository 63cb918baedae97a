"""The firmware's own C unit tests, compiled with ASan + UBSan and run from pytest.

They check the A-16 front end bit for bit against hand-computed values and a naive formula, the
A-1 rounding and the A-18 rules, the CRC store's fallback, and the timing rules with numbers
derived by hand (LRL escape, Wenckebach 5:4 at P-P 470 ms, 2:1 at 390 ms, PVARP, safety pacing,
PVC + extension, noise reversion, hysteresis, smoothing, dynamic AV, magnet and POR).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

FIRMWARE = Path(__file__).resolve().parents[3] / "hil" / "firmware"

pytestmark = pytest.mark.needs_tools("gcc", "make")


def test_c_unit_tests_pass_under_sanitizers() -> None:
    proc = subprocess.run(["make", "-s", "-C", str(FIRMWARE), "test"], capture_output=True,
                          text=True, check=False, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    m = re.search(r"fw_tests: (\d+) checks, (\d+) failures", out)
    assert m is not None, out
    assert int(m.group(1)) >= 100
    assert int(m.group(2)) == 0


def test_c_unit_tests_catch_a_seeded_fault(tmp_path: Path) -> None:
    """The same tests fail on a firmware built with URL_NOT_ENFORCED: they can fail."""
    src = sorted(p for p in (FIRMWARE / "src").glob("*.c") if p.name != "fw_main.c")
    bridge = FIRMWARE.parents[1] / "firmware_bridge" / "c"
    exe = tmp_path / "fw_tests_fault"
    cmd = ["gcc", "-std=c99", "-O1", f"-I{FIRMWARE / 'src'}", f"-I{bridge}",
           f"-I{FIRMWARE / 'tests'}", "-DFAULT_URL_NOT_ENFORCED=1",
           *map(str, src), str(bridge / "fb_protocol.c"), str(bridge / "fb_sha256.c"),
           *map(str, sorted((FIRMWARE / "tests").glob("*.c"))), "-o", str(exe)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    proc = subprocess.run([str(exe)], capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode != 0
    assert "wenckebach_5_4: markers differ" in proc.stderr
