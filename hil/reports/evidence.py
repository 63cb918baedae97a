"""Everything a run leaves behind: summary.json, junit.xml, report.html and manifest.json."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from devicetwin.conformance import VerdictStatus
from hil.recording.manifest import write_manifest
from hil.reports.html import write_report
from hil.reports.junit import JUnitCase, JUnitSuite, write_junit
from hil.reports.tables import outcome_rows, stats_properties

if TYPE_CHECKING:
    from hil.session.recorder import SessionRecorder
    from hil.session.runner import RunResult


def junit_cases(result: RunResult) -> list[JUnitCase]:
    """One test case per criterion (conformance, each monitor verdict, each expected hazard,
    each outcome limit). A criterion with nothing to judge is a skipped case with the reason;
    signed timing statistics travel as properties (microseconds)."""
    sc = result.scenario
    classname = f"devicetwin.{sc.name}"
    cases = []
    for c in result.criteria:
        reqs = tuple(r for r in c.requirement.split(",") if r)
        na = c.status is VerdictStatus.NOT_APPLICABLE
        props = [("measured", "n/a" if na else str(c.measured)), ("required", c.required),
                 ("status", c.status.value)]
        for label, stats in c.statistics:
            props += stats_properties(label, stats)
        cases.append(JUnitCase(
            classname, c.name, 0.0, reqs or sc.requirements, tuple(props),
            failure=(f"{c.name}: measured {c.measured}, required {c.required}"
                     if c.status is VerdictStatus.FAIL else None),
            # a monitor's "required" is its verdict's sentence, which gives the reason
            skipped=c.required if na else None,
        ))
    if result.loop.interrupted:
        cases.append(JUnitCase(classname, "run", result.wall_s, sc.requirements,
                               error=f"run cut short: {result.loop.interrupted}"))
    return cases


def junit_suite_properties(result: RunResult) -> tuple[tuple[str, str], ...]:
    """The run's outcome table as suite properties: ``outcome.<name>`` = value and unit, with
    the scenario's limit and verdict when it sets one."""
    props = []
    for row in outcome_rows(result):
        text = f"{row.value} {row.unit}".strip()
        if row.limit:
            text += f" (limit {row.limit}: {row.verdict})"
        props.append((f"outcome.{row.name}", text))
    return tuple(props)


def write_evidence(result: RunResult, recorder: SessionRecorder) -> None:
    """Write the run's artefacts into ``result.out_dir`` and list them in ``result.artefacts``."""
    out = result.out_dir
    assert out is not None
    from hil.session.runner import summary_json

    summary = out / "summary.json"
    summary.write_text(summary_json(result))
    junit = write_junit(out / "junit.xml", [JUnitSuite(result.scenario.name, junit_cases(result),
                                                       junit_suite_properties(result))])
    report = write_report(result, out / "report.html")
    files: list[Path] = [*recorder.paths, summary, junit, report]
    manifest = write_manifest(out, {
        "scenario": result.scenario.name,
        "scenario_file": str(result.scenario.source) if result.scenario.source else None,
        "requirements": list(result.scenario.requirements),
        "programming": result.programming.to_wire_units(),
        "mode": result.programming.mode.name,
        "device": result.device.to_dict(),
        "seeds": {"heart": result.scenario.seed},
        "verdict": result.verdict,
        "criteria": result.summary()["criteria"],
    }, files)
    result.artefacts = {p.name: p for p in [*files, manifest]}
