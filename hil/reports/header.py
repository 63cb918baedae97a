"""The report's header: everything needed to reproduce and audit a run.

The scenario (file, SHA-256, seed, patient), the full programming table (value, unit, nominal,
whether the device defined it and whether it applies in the mode), the device's identity and
firmware hash, the tool's version, the host (the bench station), the run's date and time (the
record's start, UTC) and a count of criteria passed. Nothing here is judged; it is all facts.
"""

from __future__ import annotations

import enum
import html
import platform
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from devicetwin import __version__
from devicetwin.conformance import VerdictStatus
from devicetwin.pacemaker import PARAMETERS, Programming
from hil.recording.provenance import programming_sha256, scenario_sha256
from hil.results import RunResult


def plain_text(value: Any) -> str:
    """A parameter value as a programmer prints it: Off for None, On/Off for flags, enum names
    by their value, numbers without trailing zeros."""
    if value is None:
        return "Off"
    if isinstance(value, bool):
        return "On" if value else "Off"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True, slots=True)
class ParameterRow:
    """One row of the programming table."""

    name: str
    value: str
    unit: str
    nominal: str
    changed: bool
    applies: bool
    device_defined: bool
    setting: bool


def programming_rows(programming: Programming) -> list[ParameterRow]:
    """Every parameter of ``programming`` in table order (the mode first)."""
    rows = []
    for name, spec in PARAMETERS.items():
        value = programming.value(name)
        rows.append(ParameterRow(
            name=name, value=plain_text(value), unit=spec.unit, nominal=plain_text(spec.nominal),
            changed=value != spec.nominal, applies=programming.mode in spec.modes,
            device_defined=programming.device_defined, setting=spec.setting))
    return rows


@dataclass(frozen=True, slots=True)
class CriteriaCount:
    """How many criteria passed, failed and could not be judged."""

    passed: int
    failed: int
    not_applicable: int

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.not_applicable

    def text(self) -> str:
        """``12 of 14 criteria passed, 1 failed, 1 not applicable``."""
        return (f"{self.passed} of {self.total} criteria passed, {self.failed} failed, "
                f"{self.not_applicable} not applicable")


def criteria_count(result: RunResult) -> CriteriaCount:
    """The run's criteria counted by status."""
    status = [c.status for c in result.criteria]
    return CriteriaCount(status.count(VerdictStatus.PASS), status.count(VerdictStatus.FAIL),
                         status.count(VerdictStatus.NOT_APPLICABLE))


def audit_facts(result: RunResult, started: datetime | None) -> list[tuple[str, str]]:
    """``(fact, value)`` pairs of the header, as plain text (the HTML escapes them)."""
    sc = result.scenario
    dev = result.device
    digest, of = scenario_sha256(sc)
    overrides = ", ".join(f"{k}={v}" for k, v in sc.condition_overrides.items())
    made = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    prog = result.programming
    if prog.device_defined:
        defined = "device-defined" + (f", profile {result.profile.name}" if result.profile
                                      else "")
    else:
        defined = "programmed by the bench"
    cut = f" (cut short: {result.loop.interrupted})" if result.loop.interrupted else ""
    facts = [
        ("scenario", f"{sc.name} ({sc.source})" if sc.source else sc.name),
        (f"scenario SHA-256 ({'of the file' if of == 'file' else 'of its content'})", digest),
        ("requirements", ", ".join(sc.requirements)),
        ("patient", (f"{sc.patient_twin}: " if sc.patient_twin else "") + sc.condition
         + (f" with {overrides}" if overrides else "")),
        ("seeds", f"heart {sc.seed}"),
        ("duration", f"{sc.duration_us / 1e6:g} s programmed, {result.loop.end_us / 1e6:g} s "
                     f"run{cut}"),
        ("device", f"{dev.model} serial {dev.serial}, firmware {dev.firmware_version}, "
                   f"protocol v{dev.protocol_version}, kind {dev.kind}"),
        ("device URL", f"{dev.spec} ({dev.url})" if dev.url and dev.url != dev.spec else dev.spec),
        ("firmware SHA-256", dev.firmware_hash),
        ("seeded fault", str(dev.fault) if dev.fault else "none"),
        ("programming", f"{prog.mode.name}, SHA-256 {programming_sha256(prog)} ({defined})"),
        ("run started", f"{started.isoformat(timespec='seconds')} UTC" if started
         else "unknown (no record)"),
        ("report written", f"{made} UTC"),
        ("station (host)", f"{platform.node()} ({platform.platform()})"),
        ("tool", f"devicetwin {__version__}, Python {sys.version.split()[0]}"),
        ("speed", f"{result.realtime_factor:.1f}x real time, {result.wall_s:.1f} s wall"),
        ("criteria", criteria_count(result).text()),
    ]
    return facts


def header_html(result: RunResult, started: datetime | None) -> str:
    """The audit table and the programming table as HTML."""
    facts = "".join(f"<tr><th>{html.escape(k)}</th><td>{_code(k, v)}</td></tr>"
                    for k, v in audit_facts(result, started))
    rows = []
    for r in programming_rows(result.programming):
        cls = " class='changed'" if r.changed else (" class='inert'" if not r.applies else "")
        rows.append(
            f"<tr{cls}><td>{html.escape(r.name)}</td><td>{html.escape(r.value)}</td>"
            f"<td>{html.escape(r.unit)}</td><td>{html.escape(r.nominal)}</td>"
            f"<td>{'yes' if r.changed else ''}</td><td>{'' if r.applies else 'no'}</td>"
            f"<td>{'device' if r.device_defined else 'bench'}</td>"
            f"<td>{'setting' if r.setting else 'parameter'}</td></tr>")
    return (
        f"<table class='audit'>{facts}</table>"
        "<details open><summary>Programming: every parameter (changed from nominal in bold; "
        "greyed where it does not apply to the mode)</summary>"
        "<table class='prog'><tr><th>parameter</th><th>value</th><th>unit</th><th>nominal</th>"
        "<th>changed</th><th>applies</th><th>defined by</th><th>kind</th></tr>"
        + "".join(rows) + "</table></details>"
    )


def _code(key: str, value: str) -> str:
    text = html.escape(value)
    return f"<code>{text}</code>" if "SHA-256" in key else text
