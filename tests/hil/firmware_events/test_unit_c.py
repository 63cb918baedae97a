"""The event-level device's C unit tests (ASan + UBSan) run from pytest, and each seeded fault
caught by them: the hand-worked timing cases fail on every faulty build, each on the case that
exercises the rule it breaks."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from hil.emulator.event_device import EVENT_FIRMWARE_DIR, event_fault_names, event_seeded_faults

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.needs_tools("gcc", "make")

#: fault -> a hand-worked case of tests/test_pacer.c that must fail on it
CAUGHT_BY = {
    "ESCAPE_FROM_ATRIAL_EVENT": "ddd_conducted_sense_restarts_va",
    "ESCAPE_5MS_SHORT": "vvi_escape_at_lri",
    "NO_UPPER_RATE_LIMIT": "ddd_upper_rate_limit",
    "VRP_ONLY_AFTER_PACE": "vvi_vrp_after_sense",
    "PVARP_OFF_BY_ONE": "ddd_upper_rate_limit",
    "NO_PVARP_AFTER_PVC": "ddd_pvc_starts_pvarp",
    "NO_SAFETY_PACING": "ddd_safety_pacing",
}


def _make_test(fault: str | None) -> subprocess.CompletedProcess[str]:
    args = ["make", "-s", "-C", str(EVENT_FIRMWARE_DIR), "test"]
    if fault:
        args.append(f"FAULT={fault}")
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=300)


def test_c_unit_tests_pass_under_sanitizers() -> None:
    proc = _make_test(None)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    m = re.search(r"ev_tests: (\d+) checks, (\d+) failures", out)
    assert m is not None, out
    assert int(m.group(1)) >= 100
    assert int(m.group(2)) == 0


def test_every_fault_has_a_catching_case() -> None:
    assert set(CAUGHT_BY) == set(event_fault_names())
    assert len(event_fault_names()) >= 6


@pytest.mark.parametrize("fault", sorted(CAUGHT_BY))
def test_c_unit_tests_catch_the_seeded_fault(fault: str) -> None:
    proc = _make_test(fault)
    assert proc.returncode != 0, proc.stdout
    assert f"{CAUGHT_BY[fault]}: paces differ" in proc.stderr


def test_make_faults_lists_the_header() -> None:
    out = subprocess.run(["make", "-s", "-C", str(EVENT_FIRMWARE_DIR), "faults"],
                         capture_output=True, text=True, check=True).stdout
    assert tuple(out.split()) == event_fault_names()


def test_every_fault_is_documented_with_its_rule() -> None:
    doc = (ROOT / "docs" / "firmware_events.md").read_text()
    for f in event_seeded_faults():
        assert re.fullmatch(r"A-\d+", f.requirement), f
        row = [line for line in doc.splitlines() if line.startswith(f"| `{f.name}`")]
        assert row, f"{f.name} missing from docs/firmware_events.md"
        assert f.requirement in row[0]


def test_unknown_fault_is_refused_by_make() -> None:
    proc = subprocess.run(["make", "-s", "-C", str(EVENT_FIRMWARE_DIR), "lockstep",
                           "FAULT=NOT_A_FAULT"], capture_output=True, text=True, check=False)
    assert proc.returncode != 0
    assert "unknown FAULT=NOT_A_FAULT" in proc.stderr
