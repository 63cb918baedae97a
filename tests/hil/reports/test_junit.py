"""JUnit XML is read back by junitparser (an independent reader used by CI tooling)."""

from __future__ import annotations

from pathlib import Path

import junitparser

from hil.reports.junit import JUnitCase, JUnitSuite, write_junit


def test_cases_failures_errors_and_requirements_read_back(tmp_path: Path) -> None:
    cases = [
        JUnitCase("scenario.pmt", "conformance", 1.5, ("REQ-1",), (("recall", "1.0"),)),
        JUnitCase("scenario.pmt", "monitor.upper_rate", 0.25, ("REQ-URL", "A-3"),
                  failure="V-V 480 ms < URI 500 ms - 8 ms at t=12.345 s", details="first at 12 s"),
        JUnitCase("scenario.pmt", "device", 0.0, error="device crashed: HardFault"),
        JUnitCase("scenario.pmt", "skipped one", skipped="no hardware"),
        JUnitCase("scenario.pmt", "bad \x01 chars & <xml>", stdout="log\x00line"),
    ]
    path = write_junit(tmp_path / "junit.xml", [JUnitSuite("devicetwin", cases)])
    xml = junitparser.JUnitXml.fromfile(str(path))
    suites = list(xml) if isinstance(xml, junitparser.JUnitXml) else [xml]
    assert len(suites) == 1
    suite = suites[0]
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (5, 1, 1, 1)
    got = list(suite)
    assert [c.name for c in got] == [
        "conformance", "monitor.upper_rate", "device", "skipped one", "bad  chars & <xml>",
    ]
    assert got[0].is_passed
    assert got[1].result[0].message == "V-V 480 ms < URI 500 ms - 8 ms at t=12.345 s"
    assert isinstance(got[2].result[0], junitparser.Error)
    assert got[3].is_skipped
    props = {(p.name, p.value) for p in got[1].child(junitparser.Properties)}
    assert props == {("requirement", "REQ-URL"), ("requirement", "A-3")}
    assert abs(suite.time - 1.75) < 1e-9
