"""JUnit XML is read back by junitparser (an independent reader used by CI tooling)."""

from __future__ import annotations

from pathlib import Path

import junitparser
import pytest

from hil.reports.junit import (
    JUnitCase,
    JUnitSuite,
    device_properties,
    id_kind,
    id_properties,
    write_junit,
)


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
    # a team's requirement and the specification's rule under distinct names
    assert props == {("requirement", "REQ-URL"), ("spec_rule", "A-3")}
    assert abs(suite.time - 1.75) < 1e-9


@pytest.mark.parametrize(("rid", "kind"), [
    ("A-1", "spec_rule"), ("A-21", "spec_rule"), ("HAZ-pmt", "hazard"),
    ("HAZ-noise_reversion", "hazard"), ("SRS-PMT-3", "requirement"),
    ("RT-deadlines", "requirement"),
    # only the whole ID counts: these are not the specification's A-n
    ("A-", "requirement"), ("A-3b", "requirement"), ("XA-3", "requirement"),
])
def test_each_id_travels_under_the_name_of_its_kind(rid: str, kind: str) -> None:
    assert id_kind(rid) == kind


def test_id_properties_keep_order_and_drop_repeats_and_blanks() -> None:
    assert id_properties(["A-2", "SRS-1", " ", "A-2", "HAZ-pmt"]) == [
        ("spec_rule", "A-2"), ("requirement", "SRS-1"), ("hazard", "HAZ-pmt")]


def test_device_properties_name_the_device_and_its_firmware() -> None:
    identity = {"spec": "qemu", "url": "socket://127.0.0.1:5000", "kind": "binary",
                "model": "DT-1", "serial": "", "firmware_version": "1.2.0",
                "firmware_hash": "ab" * 32, "fault": None, "protocol_version": 3}
    assert device_properties(identity) == [
        ("device.spec", "qemu"), ("device.url", "socket://127.0.0.1:5000"),
        ("device.kind", "binary"), ("device.model", "DT-1"),
        ("device.firmware_version", "1.2.0"), ("device.firmware_hash", "ab" * 32)]
