"""The runner's tolerances in microseconds, signed timing statistics and not-applicable
criteria: one short emulated run, re-judged with its device events shifted by known amounts."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from devicetwin.conformance import Limits, Verdict, VerdictStatus
from devicetwin.pacemaker import DeviceState, MarkerEvent, MarkerKind
from hil.devices import Capabilities
from hil.reports.console import run_summary
from hil.results import Criterion, RunResult
from hil.scenarios import parse_scenario
from hil.session.runner import _judge_run, run_scenario, timing_limits

SCENARIO = """
name = "signed"
description = "DDD, sinus rhythm tracked: AS and VP only"
duration_s = 6
seed = 5
tolerance_ms = {tolerance_ms}
[patient]
condition = "bench_patient"
[device]
mode = "DDD"
"""


@pytest.fixture(scope="module")
def clean() -> RunResult:
    """A clean 6 s run at the default 8 ms tolerance."""
    return run_scenario(parse_scenario(SCENARIO.format(tolerance_ms=8)))


def rejudged(run: RunResult, tolerance_ms: float, shift_us: int) -> RunResult:
    """``run`` judged again under ``tolerance_ms`` with every device event moved by
    ``shift_us`` (the twin's events stay where they were)."""
    assert min(e.t_us for e in run.loop.device_events) + shift_us >= 0
    moved = [MarkerEvent(e.t_us + shift_us, e.chamber, e.kind, e.amplitude_mv, e.width_us,
                         e.flags) for e in run.loop.device_events]
    output = dataclasses.replace(run.loop, device_events=moved)
    scenario = parse_scenario(SCENARIO.format(tolerance_ms=tolerance_ms))
    return _judge_run(scenario, run.programming, run.device, output, None,  # type: ignore[arg-type]
                      [], DeviceState.PERMANENT, Capabilities(), None, None, 0.0)


def test_clean_run_matches_everything(clean: RunResult) -> None:
    assert clean.passed and clean.conformance.matched == len(clean.loop.device_events) > 8
    kinds = {e.kind for e in clean.loop.device_events}
    assert kinds == {MarkerKind.AS, MarkerKind.VP}


def test_device_3ms_early_passes_at_8ms_and_shows_the_bias(clean: RunResult) -> None:
    r = rejudged(clean, 8, -3000)
    assert r.passed
    n_vp = sum(e.kind is MarkerKind.VP for e in r.loop.device_events)
    by_kind = r.summary()["timing_statistics_us"]["by_kind"]
    assert set(by_kind) == {"AS", "VP"}
    assert by_kind["VP"] == {"n": n_vp, "median_us": -3000.0, "mean_us": -3000.0,
                             "p5_us": -3000.0, "p95_us": -3000.0, "max_abs_us": 3000.0,
                             "reference": "twin"}
    # the console line, n padded to the widest count of its group (AS and VP)
    n_width = max(len(str(by_kind[k]["n"])) for k in by_kind)
    lines = [ln.strip() for ln in run_summary(r).splitlines()]
    assert (f"VP  {('n=' + str(n_vp)).ljust(n_width + 2)}  bias -3.0 ms (mean -3.0)  "
            "p5..p95 -3.0..-3.0  max 3.0") in lines
    # the conformance criterion carries the per-kind statistics
    crit = next(c for c in r.criteria if c.name == "conformance.timing_error_max_ms")
    stats = dict(crit.statistics)
    assert stats["VP"].median_us == -3000.0 and stats["AS"].mean_us == -3000.0


def test_device_3ms_early_fails_at_2ms_and_still_shows_the_bias(clean: RunResult) -> None:
    r = rejudged(clean, 2, -3000)
    assert not r.passed
    failed = {c.name for c in r.criteria if c.status is VerdictStatus.FAIL}
    assert {"conformance.recall", "conformance.precision"} <= failed
    assert r.conformance.matched == 0
    assert r.summary()["timing_statistics_us"]["by_kind"]["VP"]["median_us"] == -3000.0


@pytest.mark.parametrize(("shift_us", "agrees"), [(-2400, True), (-2500, True), (2500, True),
                                                  (-2600, False), (2501, False)])
def test_a_2_5ms_scenario_tolerance_is_2500_us(clean: RunResult, shift_us: int,
                                               agrees: bool) -> None:
    # rounded to 2 ms the 2.4 ms shifts would fail; rounded to 3 ms the 2.6 ms ones would pass
    r = rejudged(clean, 2.5, shift_us)
    assert r.passed is agrees
    assert r.conformance.matched == (len(r.loop.device_events) if agrees else 0)


def test_monitor_limits_carry_the_tolerance_in_us(clean: RunResult) -> None:
    lim = timing_limits(clean.programming, 2500)
    assert lim.tolerance_us == 2500
    r = rejudged(clean, 2.5, 0)
    v = r.monitors.verdict("lower_rate.longest_interval_ms")
    assert v.limits.high == clean.programming.lri_ms + 2.5
    assert r.monitors.verdict("upper_rate.min_interval_ms").limits.low == (
        clean.programming.uri_ms - 2.5)


def test_not_applicable_monitors_are_criteria_that_neither_pass_nor_fail(
        clean: RunResult, tmp_path: Path) -> None:
    na = [c for c in clean.criteria if c.status is VerdictStatus.NOT_APPLICABLE]
    names = {c.name for c in na}
    # DDD tracking sinus rhythm: no AP, so no paced AV delay; no noise
    assert {"monitor.av_delay.max_paced_av_error_ms",
            "monitor.noise_reversion.longest_gap_ms"} <= names
    # neither a pass nor a failure, nothing measured
    assert all(not c.passed and not c.failed and not c.applicable and c.value is None
               for c in na)
    assert clean.passed  # N/A does not fail the run
    summary = clean.summary()
    entries = {c["name"]: c for c in summary["criteria"]}
    assert entries["monitor.noise_reversion.longest_gap_ms"]["status"] == "not_applicable"
    # "passed" in summary.json: the criterion lets the run pass (N/A does)
    assert entries["monitor.noise_reversion.longest_gap_ms"]["passed"] is True
    assert entries["conformance.recall"]["status"] == "pass"
    by_monitor = summary["timing_statistics_us"]["by_monitor"]
    assert by_monitor["av_delay.max_sensed_av_error_ms"]["median_us"] == 0.0
    json.dumps(summary)


def test_the_runs_criteria_are_conformance_verdicts_declared_with_unit_limits_and_ids(
        clean: RunResult) -> None:
    assert Criterion is Verdict
    by_name = {c.name: c for c in clean.criteria}
    exp = clean.scenario.expect
    timing = by_name["conformance.timing_error_max_ms"]
    assert timing.unit == "ms" and timing.limits == Limits(high=exp.max_timing_error_ms)
    assert timing.required == f"<= {exp.max_timing_error_ms:g} ms"
    assert timing.requirement_ids == clean.scenario.requirements
    recall = by_name["conformance.recall"]
    assert recall.limits.low == exp.min_recall and recall.value == round(
        clean.conformance.recall, 4)
    # a monitor's verdict is the monitors' own, renamed
    v = clean.monitors.verdict("lower_rate.longest_interval_ms")
    assert by_name["monitor.lower_rate.longest_interval_ms"] == v.renamed(
        "monitor.lower_rate.longest_interval_ms")
