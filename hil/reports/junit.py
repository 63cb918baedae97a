"""JUnit XML, the format CI servers read: one test case per scenario and per monitor.

IDs travel as properties inside each test case (the form Jenkins, GitLab and most JUnit readers
show), each kind under its own name (:func:`id_properties`): the specification's rules
(``docs/assumptions.md``, ``A-n``) as ``spec_rule``, hazards (``HAZ-<name>``) as ``hazard``, and
any other ID (a firmware team's own, ``SRS-PMT-3``, or the bench's ``RT-deadlines``) as
``requirement``. The device and its firmware travel as ``device.*`` properties
(:func:`device_properties`); measurements as further properties. See ``docs/junit.md``.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: An ID of the specification's rules (docs/assumptions.md): ``A-`` and a number.
SPEC_RULE = re.compile(r"A-\d+")
#: A hazard ID: ``HAZ-`` and the hazard's name.
HAZARD = re.compile(r"HAZ-\w+")

#: The identity fields a run's device carries into JUnit, in order (``device.<field>``).
DEVICE_FIELDS = ("spec", "url", "kind", "model", "serial", "firmware_version", "firmware_hash",
                 "fault")


def id_kind(rid: str) -> str:
    """The property name an ID travels under: ``spec_rule``, ``hazard`` or ``requirement``."""
    if SPEC_RULE.fullmatch(rid):
        return "spec_rule"
    if HAZARD.fullmatch(rid):
        return "hazard"
    return "requirement"


def id_properties(ids: Sequence[str]) -> list[tuple[str, str]]:
    """``(kind, id)`` for each ID (:func:`id_kind`), in order, without repeats."""
    seen = dict.fromkeys(r.strip() for r in ids if r.strip())
    return [(id_kind(r), r) for r in seen]


def device_properties(device: dict[str, Any]) -> list[tuple[str, str]]:
    """``device.<field>`` pairs of a device identity (``DeviceIdentity.to_dict()``): spec, URL,
    kind, model, serial, firmware version and hash, seeded fault; absent or empty fields left
    out."""
    return [(f"device.{k}", str(device[k])) for k in DEVICE_FIELDS
            if device.get(k) not in (None, "")]


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
                for kind, rid in id_properties(case.requirements):
                    ET.SubElement(props, "property", name=kind, value=_clean(rid))
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
