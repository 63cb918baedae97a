"""Everything a run leaves behind: summary.json, junit.xml, report.html and manifest.json."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from devicetwin.conformance import VerdictStatus
from hil.recording.manifest import write_manifest
from hil.reports.html import write_report
from hil.reports.junit import JUnitCase, JUnitSuite, device_properties, write_junit
from hil.reports.tables import format_value, outcome_rows, stats_properties
from hil.results import RunResult, write_summary


def junit_cases(result: RunResult) -> list[JUnitCase]:
    """One test case per criterion (conformance, each monitor verdict, each expected hazard,
    each outcome limit). A criterion with nothing to judge is a skipped case with the reason;
    signed timing statistics travel as properties (microseconds)."""
    sc = result.scenario
    classname = f"devicetwin.{sc.name}"
    cases = []
    for c in result.criteria:
        reqs = c.requirement_ids
        na = c.status is VerdictStatus.NOT_APPLICABLE
        props = [("measured", "n/a" if na else format_value(c.value)), ("unit", c.unit),
                 ("required", c.required), ("status", c.status.value)]
        for label, stats in c.statistics:
            props += stats_properties(label, stats)
        cases.append(JUnitCase(
            classname, c.name, 0.0, reqs or sc.requirements, tuple(props),
            # the verdict's sentence gives what was measured against what limit, or why not
            failure=c.sentence if c.failed else None,
            skipped=c.sentence if na else None,
        ))
    if result.loop.interrupted:
        cases.append(JUnitCase(classname, "run", result.wall_s, sc.requirements,
                               error=f"run cut short: {result.loop.interrupted}"))
    return cases


def junit_suite_properties(result: RunResult) -> tuple[tuple[str, str], ...]:
    """The run's device and firmware (``device.*``, :func:`hil.reports.junit.device_properties`)
    and outcome table as suite properties: ``outcome.<name>`` = value and unit, with the
    scenario's limit and verdict when it sets one."""
    props = device_properties(result.device.to_dict())
    for row in outcome_rows(result):
        text = f"{row.value} {row.unit}".strip()
        if row.limit:
            text += f" (limit {row.limit}: {row.verdict})"
        props.append((f"outcome.{row.name}", text))
    return tuple(props)


def write_evidence(result: RunResult, written: Sequence[Path] = ()) -> None:
    """Write the run's artefacts into ``result.out_dir`` (``summary.json`` unless ``written``
    holds it, ``junit.xml``, ``report.html``, ``manifest.json`` over them and ``written``, the
    run's record) and list them all in ``result.artefacts``. A
    :data:`hil.results.EvidenceWriter`, given to ``run_scenario(evidence=...)``."""
    out = result.out_dir
    if out is None:
        raise ValueError(f"run of {result.scenario.name!r} has no output folder")
    summary = next((p for p in written if p.name == "summary.json"), None)
    if summary is None:
        summary = write_summary(result)
    junit = write_junit(out / "junit.xml", [JUnitSuite(result.scenario.name, junit_cases(result),
                                                       junit_suite_properties(result))])
    report = write_report(result, out / "report.html")
    files: list[Path] = [*(p for p in written if p != summary), summary, junit, report]
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
