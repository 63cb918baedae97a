"""The pytest plugin: a firmware team's test runs a scenario on the device, requirement IDs land
in JUnit, and a failing run fails the test."""

from __future__ import annotations

import re
import socket
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

def test_stops_early(bench):
    assert bench.device == "emulated"
"""


def test_plugin_runs_a_scenario_and_reports_requirements(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", plugin_vvi=SCENARIO)
    pytester.makepyfile(test_firmware=TEST_FILE)
    result = pytester.runpytest_subprocess("--junitxml=junit.xml", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    root = ET.parse(pytester.path / "junit.xml").getroot()
    case = next(c for c in root.iter("testcase") if c.get("name") == "test_vvi_paces")
    props = {(p.get("name"), p.get("value")) for p in case.iter("property")}
    assert ("requirement", "SRS-BRADY-1") in props
    # the specification's rule under its own name, not mixed with the team's requirements
    assert ("spec_rule", "A-2") in props and ("requirement", "A-2") not in props
    assert ("scenario", "plugin_vvi") in props
    assert ("verdict", "pass") in props
    named = dict(props)
    assert named["device.spec"] == "emulated" and named["device.kind"] == "binary"
    assert named["device.url"]
    # the emulated firmware's hash as the build reports it (64 hex digits of SHA-256)
    assert re.fullmatch(r"[0-9a-f]{64}", named["device.firmware_hash"] or "")
    # every bench test names the device, even one that stops before its first run
    early = next(c for c in root.iter("testcase") if c.get("name") == "test_stops_early")
    early_props = {p.get("name"): p.get("value") for p in early.iter("property")}
    assert early_props["device.firmware_hash"] == named["device.firmware_hash"]


def test_a_failing_expectation_fails_the_test(pytester: pytest.Pytester) -> None:
    # the same patient, but the scenario wrongly expects a PMT: the run must fail
    pytester.makefile(".toml", plugin_vvi=SCENARIO + "[expect.hazards]\npmt = true\n")
    pytester.makepyfile(test_firmware=TEST_FILE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "vvi")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*hazard.pmt*"])


PLAIN_TEST = """
def test_runs(bench):
    assert bench.run("plugin_vvi.toml").passed
"""


def refused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"socket://127.0.0.1:{s.getsockname()[1]}"


def test_an_unreachable_device_is_an_error_not_a_failure(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", plugin_vvi=SCENARIO)
    pytester.makepyfile(test_firmware=PLAIN_TEST)
    url = refused_url()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--device-url", url)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*device '{url}' unreachable*"])


def test_an_unreachable_device_skips_when_asked(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", plugin_vvi=SCENARIO)
    pytester.makepyfile(test_firmware=PLAIN_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs", "--device-url",
                                           refused_url(), "--skip-unreachable")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*unreachable*"])


def test_a_configuration_error_fails_with_its_message_and_no_traceback(
        pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", plugin_vvi=SCENARIO.replace('mode = "VVI"', 'mode = "VOOO"'))
    pytester.makepyfile(test_firmware=PLAIN_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*configuration error: *plugin_vvi.toml:*VOOO*"])
    assert "Traceback" not in result.stdout.str()


EVENTS_TEST = """
def test_vvi_on_the_event_device(bench):
    assert bench.run("plugin_vvi.toml").passed

def test_hysteresis_does_not_apply(bench):
    bench.run("vvi_hysteresis")
"""


def test_the_event_level_device_from_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", plugin_vvi=SCENARIO)
    pytester.makepyfile(test_firmware=EVENTS_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs",
                                           "--device-url", "events+emulated")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*not applicable*hysteresis_rate_ppm*"])
