"""The pytest plugin: a firmware team's test runs a scenario on the device, requirement IDs land
in JUnit, and a failing run fails the test."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

SCENARIO = """
name = "plugin_vvi"
description = "VVI 60 in complete heart block: the device paces every 1000 ms."
requirements = ["A-2"]
duration_s = 4
seed = 3
[patient]
condition = "complete_av_block"
[device]
mode = "VVI"
"""

TEST_FILE = """
import pytest

@pytest.mark.requirement("SRS-BRADY-1")
def test_vvi_paces(bench, device_url):
    assert device_url == "emulated"
    result = bench.run("plugin_vvi.toml")
    assert result.passed, result.explain()
    paces = [e.t_us for e in result.loop.device_events if e.kind.name == "VP"]
    # VVI 60 ppm from session start with no conducted beats: 1000, 2000, 3000, 4000 ms
    assert paces[:3] == [1_000_000, 2_000_000, 3_000_000]

def test_scenario_loader(scenario):
    assert scenario("plugin_vvi.toml").mode == "VVI"
"""


def test_plugin_runs_a_scenario_and_reports_requirements(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", plugin_vvi=SCENARIO)
    pytester.makepyfile(test_firmware=TEST_FILE)
    result = pytester.runpytest_subprocess("--junitxml=junit.xml", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    root = ET.parse(pytester.path / "junit.xml").getroot()
    case = next(c for c in root.iter("testcase") if c.get("name") == "test_vvi_paces")
    props = {(p.get("name"), p.get("value")) for p in case.iter("property")}
    assert ("requirement", "SRS-BRADY-1") in props
    assert ("requirement", "A-2") in props
    assert ("scenario", "plugin_vvi") in props
    assert ("verdict", "pass") in props


def test_a_failing_expectation_fails_the_test(pytester: pytest.Pytester) -> None:
    # the same patient, but the scenario wrongly expects a PMT: the run must fail
    pytester.makefile(".toml", plugin_vvi=SCENARIO + "[expect.hazards]\npmt = true\n")
    pytester.makepyfile(test_firmware=TEST_FILE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "vvi")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*hazard.pmt*"])
