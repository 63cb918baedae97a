"""JUnit XML, the format CI servers read: one test case per scenario and per monitor.

Requirement IDs travel as ``<property name="requirement" value="..."/>`` inside each test case
(the form Jenkins, GitLab and most JUnit readers show), and measurements as further properties.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True, slots=True)
class JUnitCase:
    """One test case.

    ``failure`` is the failure message (None when the case passed); ``error`` marks a case that
    could not be judged (the device crashed, the link dropped); ``time_s`` is wall time.
    """

    classname: str
    name: str
    time_s: float = 0.0
    requirements: tuple[str, ...] = ()
    properties: tuple[tuple[str, str], ...] = ()
    failure: str | None = None
    error: str | None = None
    skipped: str | None = None
    details: str = ""
    stdout: str = ""


@dataclass(frozen=True, slots=True)
class JUnitSuite:
    """A named group of cases (one bench run or one suite of runs)."""

    name: str
    cases: Sequence[JUnitCase]
    properties: tuple[tuple[str, str], ...] = ()
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))


def _clean(text: str) -> str:
    """Drop characters XML 1.0 cannot hold."""
    return "".join(ch for ch in text if ch in "\t\n\r" or _xml_char(ord(ch)))


def _xml_char(code: int) -> bool:
    return 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


def to_xml(suites: Sequence[JUnitSuite]) -> ET.ElementTree:
    """Build the ``<testsuites>`` document."""
    root = ET.Element("testsuites")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    host = socket.gethostname()
    for suite in suites:
        el = ET.SubElement(root, "testsuite", name=_clean(suite.name))
        counts = {
            "tests": len(suite.cases),
            "failures": sum(c.failure is not None for c in suite.cases),
            "errors": sum(c.error is not None for c in suite.cases),
            "skipped": sum(c.skipped is not None for c in suite.cases),
        }
        suite_time = sum(c.time_s for c in suite.cases)
        for key, count in counts.items():
            el.set(key, str(count))
            totals[key] += count
        el.set("time", f"{suite_time:.3f}")
        el.set("timestamp", suite.timestamp.isoformat(timespec="seconds"))
        el.set("hostname", host)
        total_time += suite_time
        if suite.properties:
            props = ET.SubElement(el, "properties")
            for name, value in suite.properties:
                ET.SubElement(props, "property", name=_clean(name), value=_clean(value))
        for case in suite.cases:
            cel = ET.SubElement(
                el, "testcase", classname=_clean(case.classname), name=_clean(case.name),
                time=f"{case.time_s:.3f}",
            )
            if case.requirements or case.properties:
                props = ET.SubElement(cel, "properties")
                for req in case.requirements:
                    ET.SubElement(props, "property", name="requirement", value=_clean(req))
                for name, value in case.properties:
                    ET.SubElement(props, "property", name=_clean(name), value=_clean(value))
            if case.error is not None:
                err = ET.SubElement(cel, "error", message=_clean(case.error), type="error")
                err.text = _clean(case.details)
            elif case.failure is not None:
                fail = ET.SubElement(cel, "failure", message=_clean(case.failure), type="failure")
                fail.text = _clean(case.details)
            elif case.skipped is not None:
                ET.SubElement(cel, "skipped", message=_clean(case.skipped))
            if case.stdout:
                ET.SubElement(cel, "system-out").text = _clean(case.stdout)
    for key, total in totals.items():
        root.set(key, str(total))
    root.set("time", f"{total_time:.3f}")
    tree = ET.ElementTree(root)
    ET.indent(tree)
    return tree


def write_junit(path: Path | str, suites: Sequence[JUnitSuite]) -> Path:
    """Write the JUnit XML file and return its path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    to_xml(suites).write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(out)
    return out
