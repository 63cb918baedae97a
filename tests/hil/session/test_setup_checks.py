"""Checks a scenario makes before the loop: invalid programmings refused (A-18), and a corrupt
parameter store leading to power-on reset (A-15). Each is shown to catch its seeded fault."""

from __future__ import annotations

import itertools
import re

import pytest

from hil.errors import HilError
from hil.scenarios import ScenarioError, load_scenario, parse_scenario, resolve
from hil.session.runner import run_scenario

BASE = """
name = "t"
description = "t"
duration_s = 2
[patient]
condition = "normal_sinus"
[device]
mode = "DDD"
"""


def _failed(result: object) -> list[str]:
    return [c.name for c in result.criteria if c.failed]  # type: ignore[attr-defined]


def test_refusals_pass_on_the_clean_firmware_and_catch_a_missing_range_check() -> None:
    sc = load_scenario(resolve("programming_refused"))
    clean = run_scenario(sc)
    refusals = [c for c in clean.criteria if c.name.startswith("programming.refused")]
    assert len(refusals) == len(sc.must_refuse) == 4
    assert all(c.passed and c.value == "NACK" and "(reason " in c.sentence for c in refusals)
    assert all(c.requirement_id == "A-18" and c.limits.allowed == ("NACK",) for c in refusals)
    faulty = run_scenario(sc, fault="PROGRAM_NO_RANGE_CHECK")
    assert [c.value for c in faulty.criteria if c.name.startswith("programming.refused")] \
        == ["ACK"] * 4
    assert not faulty.passed


def test_corrupt_store_gives_power_on_reset_and_catches_an_ignored_crc() -> None:
    sc = load_scenario(resolve("power_on_reset_corrupt_store"))
    clean = run_scenario(sc)
    assert clean.passed, clean.explain()
    # power-on reset is VVI 65 ppm: interval_ms(65) = floor((60000 + 32) / 65) = 923 ms
    vp = [e.t_us for e in clean.loop.device_events if e.kind.name == "VP"]
    assert {b - a for a, b in itertools.pairwise(vp)} == {923_000}
    assert {e.amplitude_mv for e in clean.loop.device_events if e.kind.name == "VP"} == {5000}
    faulty = run_scenario(sc, fault="STORE_CRC_IGNORED")
    assert "device.power_on_reset_after_corrupt_store" in _failed(faulty)


def test_a_refusal_the_specification_allows_is_a_scenario_error() -> None:
    sc = parse_scenario(BASE + "must_refuse = [{ lower_rate_ppm = 70 }]\n")
    with pytest.raises(HilError, match="expects the device to refuse lower_rate_ppm=70, but the "
                                       "specification allows it"):
        run_scenario(sc)


@pytest.mark.parametrize(
    ("line", "words"),
    [('start = "cold"', "unknown start 'cold'"),
     ("must_refuse = [1]", "entry 0 (1) is not a table")],
)
def test_bad_setup_fields_name_the_field(line: str, words: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(words)):
        parse_scenario(BASE + line + "\n", "s.toml")
