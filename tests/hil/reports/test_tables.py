"""The report tables (outcome, signed timing) and how console, JUnit and HTML show them, with
not-applicable criteria as N/A / skipped. One short emulated run, its device events moved by a
known 3 ms so every number is known beforehand."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import junitparser
import pytest

from devicetwin.conformance import Limits, Measurement, SignedStats, judge
from devicetwin.outcomes import UNITS
from devicetwin.pacemaker import DeviceState, MarkerEvent, MarkerKind
from hil.devices import Capabilities
from hil.reports.console import run_summary
from hil.reports.evidence import junit_cases, junit_suite_properties
from hil.reports.html import render_report
from hil.reports.junit import JUnitSuite, write_junit
from hil.reports.tables import (
    TimingGroup,
    TimingRow,
    format_value,
    outcome_rows,
    stats_properties,
    timing_lines,
    timing_rows,
)
from hil.results import RunResult
from hil.scenarios import parse_scenario
from hil.session.runner import _judge_run, run_scenario

SCENARIO = """
name = "tables"
description = "DDD, sinus rhythm tracked"
duration_s = 6
seed = 5
[patient]
condition = "bench_patient"
[device]
mode = "DDD"
"""

EARLY_US = -3000


@pytest.fixture(scope="module")
def run() -> RunResult:
    """The run with its device 3 ms early against the twin, and two outcome limits: one the
    patient meets, one it does not."""
    scenario = parse_scenario(SCENARIO)
    r = run_scenario(scenario)
    early = [MarkerEvent(e.t_us + EARLY_US, e.chamber, e.kind, e.amplitude_mv, e.width_us,
                         e.flags) for e in r.loop.device_events]
    r = _judge_run(scenario, r.programming, r.device,
                   dataclasses.replace(r.loop, device_events=early), None,  # type: ignore[arg-type]
                   [], DeviceState.PERMANENT, Capabilities(), None, None, 0.0)
    values = r.outcomes.values()
    extra = [judge(Measurement("outcome.ventricular_paced_percent", "A-2",
                               values["ventricular_paced_percent"], "%", Limits(high=50),
                               "ventricular pacing")),
             judge(Measurement("outcome.pauses", "A-2", values["pauses"], "",
                               Limits(0, 0), "pauses"))]
    assert extra[0].failed and extra[1].passed
    return dataclasses.replace(r, criteria=[*r.criteria, *extra])


def test_format_value_hand_cases() -> None:
    assert [format_value(x) for x in (None, 7, 0.0, 71.1111, 100.0, 11760.4, 0.28333, 4.5,
                                      0.001234, True)] == [
        "-", "7", "0", "71.1", "100", "11760", "0.283", "4.5", "0.00123", "yes"]


def test_outcome_rows_hold_every_value_with_unit_limit_and_verdict(run: RunResult) -> None:
    rows = outcome_rows(run)
    values = run.outcomes.values()
    assert [r.name for r in rows] == list(values)
    by = {r.name: r for r in rows}
    paced = by["ventricular_paced_percent"]
    assert (paced.value, paced.unit, paced.limit, paced.verdict) == (
        format_value(values["ventricular_paced_percent"]), "%", "<= 50", "fail")
    assert (by["pauses"].limit, by["pauses"].verdict) == ("== 0", "pass")
    rate = by["atrial_rate_mean_bpm"]
    assert (rate.unit, rate.limit, rate.verdict) == (UNITS["atrial_rate_mean_bpm"], "", "")


def test_timing_line_format() -> None:
    st = SignedStats.of([-3000] * 52, "twin")
    assert st is not None
    assert TimingRow(TimingGroup.KIND, "VP", st).line() == (
        "VP  n=52  bias -3.0 ms (mean -3.0)  p5..p95 -3.0..-3.0  max 3.0")
    # 0.1 ms resolution, no negative zero; an interval row names what it is measured against
    st2 = SignedStats.of([-40, 1260, -2960], "LRI 1000 ms")
    assert st2 is not None
    line = TimingRow(TimingGroup.INTERVAL, "lower_rate.x_ms", st2).line()
    # sorted -2960 -40 1260: median -40 us; mean -580; p5 at rank 0.1: -2960 + 0.1 * 2920;
    # p95 at rank 1.9: -40 + 0.9 * 1300
    assert line == ("lower_rate.x_ms  n=3  bias 0.0 ms (mean -0.6)  p5..p95 -2.7..1.1  "
                    "max 3.0  vs LRI 1000 ms")


def test_stats_properties_name_their_unit() -> None:
    st = SignedStats.of([-3000, -2000, -1000, 500], "twin")
    assert st is not None
    # mean -5500 / 4 = -1375; median -1500; p5 rank 0.15: -3000 + 150; p95 rank 2.85: -1000 + 1275
    assert stats_properties("VP", st) == [
        ("signed_error_us.VP.n", "4"), ("signed_error_us.VP.median", "-1500"),
        ("signed_error_us.VP.mean", "-1375"), ("signed_error_us.VP.p5", "-2850"),
        ("signed_error_us.VP.p95", "275"), ("signed_error_us.VP.max_abs", "3000"),
        ("signed_error_us.VP.reference", "twin")]
    assert stats_properties("", st)[0] == ("signed_error_us.n", "4")


def test_console_prints_the_bias_of_each_kind_and_the_outcome_table(run: RunResult) -> None:
    rows = timing_rows(run)
    kinds = [r for r in rows if r.group is TimingGroup.KIND]
    assert [r.label for r in kinds] == ["AS", "VP"]
    assert all(r.stats.median_us == EARLY_US for r in kinds)
    text = run_summary(run)
    lines = text.splitlines()
    for line in timing_lines(kinds):
        assert "  " + line in lines
        assert "bias -3.0 ms (mean -3.0)  p5..p95 -3.0..-3.0  max 3.0" in line
    assert "signed timing, device - twin, ms:" in lines
    assert any(ln.startswith("criteria: ") and " N/A" in ln for ln in lines)
    table = [ln for ln in lines if ln.startswith("ventricular_paced_percent")]
    assert len(table) == 1 and table[0].split()[-2:] == ["50", "fail"]


def test_junit_skips_not_applicable_and_carries_statistics_and_outcomes(
        run: RunResult, tmp_path: Path) -> None:
    cases = junit_cases(run)
    path = write_junit(tmp_path / "junit.xml",
                       [JUnitSuite(run.scenario.name, cases, junit_suite_properties(run))])
    xml = junitparser.JUnitXml.fromfile(str(path))
    suite = next(iter(xml)) if isinstance(xml, junitparser.JUnitXml) else xml
    na = [c for c in run.criteria if not c.applicable]
    assert na and suite.skipped == len(na)
    assert suite.failures == 1  # the outcome limit the patient misses
    got = {c.name: c for c in suite}
    skipped = got["monitor.noise_reversion.longest_gap_ms"]
    assert skipped.is_skipped
    assert "not applicable" in (skipped.result[0].message or "")
    skipped_props = {(p.name, p.value) for p in skipped.child(junitparser.Properties)}
    assert {("measured", "n/a"), ("status", "not_applicable")} <= skipped_props
    conf = {(p.name, p.value)
            for p in got["conformance.timing_error_max_ms"].child(junitparser.Properties)}
    assert ("signed_error_us.VP.median", "-3000") in conf
    assert ("signed_error_us.AS.max_abs", "3000") in conf
    assert ("status", "pass") in conf
    monitor = {p.name: p.value for p in
               got["monitor.av_delay.max_sensed_av_error_ms"].child(junitparser.Properties)}
    assert monitor["signed_error_us.median"] == "0"
    assert monitor["signed_error_us.reference"].startswith("expected VP")
    root = ET.parse(path).getroot()
    props = {p.get("name"): p.get("value") or ""
             for p in root.findall("./testsuite/properties/property")}
    assert props["outcome.ventricular_paced_percent"].endswith("(limit <= 50: fail)")
    assert props["outcome.atrial_rate_mean_bpm"].endswith(" bpm")


def test_html_shows_na_signed_timing_and_outcomes(run: RunResult) -> None:
    page = render_report(run)  # no out_dir: no strips, only the tables
    assert '<span class="na">N/A</span>' in page
    assert "Signed timing" in page and "Patient outcome" in page
    n_vp = sum(e.kind is MarkerKind.VP for e in run.loop.device_events)
    assert (f"<tr><td>VP</td><td>{n_vp}</td><td>-3.0</td><td>-3.0</td><td>-3.0</td><td>-3.0</td>"
            "<td>3.0</td><td>twin</td></tr>") in page
    assert ("<td>ventricular_paced_percent</td>" in page
            and '<td>&lt;= 50</td><td><span class="fail">FAIL</span></td>' in page)
