"""Evidence of the measurement suite: JUnit cases, the HTML section, the CLI subcommand."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from devicetwin.conformance import Limits, Measurement, judge
from hil.cli import main
from hil.instruments.interfaces import Waveform
from hil.measure.report import html_section, junit_cases, write_measure_report
from hil.measure.waveform import first_pulse

PASSING = Measurement("ventricular.pulse_width_ms", "SPEC-PULSE-WIDTH", 0.41, "ms",
                      Limits(0.2, 0.6), "ventricular pulse width")
FAILING = Measurement("magnet.rate_ppm", "A-15", 90.0, "ppm", Limits(98.7, 101.3),
                      "magnet rate")
MISSING = Measurement("av.paced_av_interval_ms", "A-3", math.nan, "ms", Limits(142, 158),
                      "paced AV interval")


def test_one_junit_case_per_measurement_with_requirement_and_limits(tmp_path: Path) -> None:
    files = write_measure_report([PASSING, FAILING, MISSING], tmp_path)
    root = ET.parse(files["junit"]).getroot()
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == [PASSING.name, FAILING.name, MISSING.name]
    assert root.get("failures") == "2"
    props = {p.get("name"): p.get("value") for p in cases[1].iter("property")}
    # the specification's rule travels as spec_rule (docs/junit.md)
    assert props["spec_rule"] == "A-15" and "requirement" not in props
    assert props["measured"] == "90" and props["low"] == "98.7" and props["high"] == "101.3"
    failure = cases[1].find("failure")
    assert failure is not None and "OUTSIDE" in (failure.get("message") or "")
    assert cases[0].find("failure") is None
    data = json.loads(files["json"].read_text())
    assert data[2]["value"] is None and data[2]["passed"] is False


def test_html_section_has_the_table_and_the_pulse_plot() -> None:
    t = np.arange(2000) * 1e-6
    v = np.where((t >= 500e-6) & (t < 900e-6), -3.5, 0.0)
    wf = Waveform(0.0, 1e-6, v, 2, 0.0)
    page = html_section([judge(PASSING), judge(FAILING)], (wf, first_pulse(wf)))
    assert page.count("<tr>") == 3
    assert 'class="fail">FAIL' in page and 'class="pass">PASS' in page
    assert "data:image/png;base64," in page


def test_cases_without_a_failure_are_clean() -> None:
    (case,) = junit_cases([PASSING])
    assert case.failure is None and case.requirements == ("SPEC-PULSE-WIDTH",)


def test_cli_measure_on_the_simulated_bench(tmp_path: Path, capsys: object) -> None:
    code = main(["measure", "--simulated", "--lrl", "100", "--out", str(tmp_path)])
    assert code == 0
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert int(root.get("tests") or 0) >= 15 and root.get("failures") == "0"
    assert (tmp_path / "report.html").read_text().count("data:image/png") == 1
