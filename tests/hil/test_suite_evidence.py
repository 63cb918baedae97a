"""A suite's (and a mutant table's) combined evidence: one JUnit read back by junitparser, one
summary, one index page linking every run; progress lines on stderr when it is not a terminal."""

from __future__ import annotations

import json
import pickle
from html.parser import HTMLParser
from pathlib import Path

import junitparser
import pytest

from hil.cli import main
from hil.reports.index import junit_suites, write_suite_evidence
from hil.results import SuiteEntry
from hil.suite import run_one

HASH = "c0ffee" * 10 + "abcd"
DEVICE = (("spec", "emulated"), ("url", "tcp://127.0.0.1:4000"), ("kind", "binary"),
          ("model", "DT-REF"), ("firmware_version", "1.0.0"), ("firmware_hash", HASH))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def links(path: Path) -> list[str]:
    parser = _Links()
    parser.feed(path.read_text())
    return parser.hrefs


def _entry(tmp: Path, scenario: str, verdict: str, fault: str | None = None,
           **kw: object) -> SuiteEntry:
    folder = tmp / (fault or "clean") / scenario
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("<html></html>")
    base: dict[str, object] = {
        "failed": (), "realtime_factor": 50.0, "wall_s": 2.0,
        "requirements": ("A-2", "HAZ-pmt", "SRS-7"), "device": DEVICE, "out_dir": str(folder)}
    base.update(kw)
    return SuiteEntry(scenario, fault, verdict, **base)  # type: ignore[arg-type]


def _props(case: junitparser.TestCase) -> list[tuple[str, str]]:
    return [(p.name, p.value) for p in case.child(junitparser.Properties)]


def test_combined_junit_summary_and_index_for_a_suite(tmp_path: Path) -> None:
    entries = [
        _entry(tmp_path, "a_pass", "pass"),
        _entry(tmp_path, "b_fail", "fail", failed=("conformance.recall", "hazard.pmt"),
               failures=("share of the twin's events ... OUTSIDE", "hazard pmt ...")),
        _entry(tmp_path, "c_error", "error", error="DeviceError: no HELLO", exit_code=3),
        _entry(tmp_path, "d_na", "n/a", error="device 'x' cannot take a magnet"),
    ]
    written = write_suite_evidence(tmp_path, entries, kind="suite", device="emulated",
                                   exit_code=3)
    assert set(written) == {"junit.xml", "summary.json", "index.html"}
    xml = junitparser.JUnitXml.fromfile(str(written["junit.xml"]))
    (suite,) = list(xml)
    assert suite.name == "suite.clean"
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (4, 1, 1, 1)
    cases = {c.name: c for c in suite}
    assert list(cases) == ["a_pass", "b_fail", "c_error", "d_na"]
    assert cases["a_pass"].is_passed
    failure = cases["b_fail"].result[0]
    assert isinstance(failure, junitparser.Failure)
    assert failure.message == "2 criteria failed: conformance.recall, hazard.pmt"
    assert isinstance(cases["c_error"].result[0], junitparser.Error)
    assert cases["d_na"].is_skipped
    props = _props(cases["a_pass"])
    # each ID under the name of its kind, never mixed
    assert ("spec_rule", "A-2") in props and ("hazard", "HAZ-pmt") in props
    assert ("requirement", "SRS-7") in props
    assert not {("requirement", "A-2"), ("requirement", "HAZ-pmt")} & set(props)
    assert ("device.spec", "emulated") in props and ("device.firmware_hash", HASH) in props
    assert ("device.kind", "binary") in props
    assert ("report", "clean/a_pass/report.html") in props
    summary = json.loads(written["summary.json"].read_text())
    assert summary["counts"] == {"pass": 1, "fail": 1, "error": 1, "interrupted": 0, "n/a": 1}
    assert summary["exit_code"] == 3 and summary["runs"] == 4
    assert [e["scenario"] for e in summary["entries"]] == ["a_pass", "b_fail", "c_error", "d_na"]
    assert summary["entries"][1]["report"] == "clean/b_fail/report.html"
    hrefs = links(written["index.html"])
    assert {"junit.xml", "summary.json"} <= set(hrefs)
    runs = [h for h in hrefs if h.endswith("report.html")]
    assert sorted(runs) == [f"clean/{n}/report.html" for n in ("a_pass", "b_fail", "c_error",
                                                                "d_na")]
    assert all((tmp_path / h).is_file() for h in runs)


def test_a_mutant_is_caught_by_a_failing_run_and_undetected_fails_its_detected_case(
        tmp_path: Path) -> None:
    entries = [
        _entry(tmp_path, "s1", "pass"), _entry(tmp_path, "s2", "pass"),
        _entry(tmp_path, "s1", "fail", "F_CAUGHT", failed=("x",)),
        _entry(tmp_path, "s2", "pass", "F_CAUGHT"),
        _entry(tmp_path, "s1", "pass", "F_MISSED"), _entry(tmp_path, "s2", "n/a", "F_MISSED"),
    ]
    suites = {s.name: s for s in junit_suites(entries, tmp_path, "mutants")}
    assert list(suites) == ["mutants.clean", "mutants.F_CAUGHT", "mutants.F_MISSED"]
    caught = {c.name: c for c in suites["mutants.F_CAUGHT"].cases}
    # the failing run caught the fault: not a test failure
    assert caught["s1"].failure is None and ("caught", "true") in caught["s1"].properties
    assert ("caught", "false") in caught["s2"].properties
    assert caught["detected"].failure is None
    assert ("caught_by", "s1") in caught["detected"].properties
    missed = {c.name: c for c in suites["mutants.F_MISSED"].cases}
    assert missed["detected"].failure == "seeded fault F_MISSED was caught by none of 2 scenarios"
    assert missed["s2"].skipped is not None
    with pytest.raises(ValueError, match="kind 'other'"):
        junit_suites(entries, tmp_path, "other")


def test_the_per_run_function_takes_and_returns_plain_picklable_values(tmp_path: Path) -> None:
    """What a worker (a process pool today, a Dask worker later) calls."""
    scenario = tmp_path / "short.toml"
    scenario.write_text(SCENARIO.format(name="short", extra=""))
    entry = run_one(str(scenario), "emulated", None, None)
    assert pickle.loads(pickle.dumps(entry)) == entry
    assert entry.verdict == "pass" and entry.requirements == ("A-2",)
    device = dict(entry.device)
    assert device["spec"] == "emulated" and len(device["firmware_hash"]) == 64


SCENARIO = """
name = "{name}"
description = "VVI 60 in complete heart block: the device paces every 1000 ms."
requirements = ["A-2"]
duration_s = 3
seed = 3
[patient]
condition = "complete_av_block"
[device]
mode = "VVI"
{extra}
"""


def test_devicetwin_suite_out_writes_the_combined_evidence_and_progress_lines(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "vvi_ok.toml").write_text(SCENARIO.format(name="vvi_ok", extra=""))
    # the same patient, but the scenario wrongly expects a PMT: the run must fail
    (folder / "vvi_wrong.toml").write_text(SCENARIO.format(
        name="vvi_wrong", extra="[expect.hazards]\npmt = true\n"))
    out = tmp_path / "out"
    code = main(["suite", str(folder), "--jobs", "1", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    # stderr is not a terminal here: one whole line per finished run, no carriage returns
    lines = captured.err.splitlines()
    assert any(ln.startswith("[1/2] ") for ln in lines)
    assert any(ln.startswith("[2/2] ") and ln.count(":") for ln in lines)
    assert "vvi_wrong (clean): fail" in captured.err and "hazard.pmt" in captured.err
    assert "\r" not in captured.err
    xml = junitparser.JUnitXml.fromfile(str(out / "junit.xml"))
    (suite,) = list(xml)
    assert (suite.tests, suite.failures, suite.errors) == (2, 1, 0)
    cases = {c.name: c for c in suite}
    assert cases["vvi_wrong"].result[0].message == "1 criterion failed: hazard.pmt"
    run_summary = json.loads((out / "clean" / "vvi_ok" / "summary.json").read_text())
    props = dict(_props(cases["vvi_ok"]))
    # the device as the run's own summary saw it
    assert props["device.spec"] == "emulated"
    assert props["device.firmware_hash"] == run_summary["device"]["firmware_hash"]
    assert props["spec_rule"] == "A-2" and props["verdict"] == "pass"
    hrefs = links(out / "index.html")
    for name in ("vvi_ok", "vvi_wrong"):
        assert f"clean/{name}/report.html" in hrefs
        assert (out / "clean" / name / "report.html").is_file()
        assert (out / "clean" / name / "junit.xml").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["pass"] == 1 and summary["counts"]["fail"] == 1
    assert summary["exit_code"] == 1


def test_devicetwin_mutants_out_writes_every_run_and_the_combined_evidence(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # one seeded fault keeps this short: a pace that ignores senses, which a patient in complete
    # heart block (no senses at all) cannot reveal
    monkeypatch.setattr("hil.cli.seeded_faults", lambda url: ["LRL_NOT_RESET_BY_SENSE"])
    scenario = tmp_path / "vvi_ok.toml"
    scenario.write_text(SCENARIO.format(name="vvi_ok", extra=""))
    out = tmp_path / "out"
    assert main(["mutants", str(scenario), "--jobs", "1", "--out", str(out)]) == 1
    assert "undetected faults: LRL_NOT_RESET_BY_SENSE" in capsys.readouterr().out
    suites = {s.name: s for s in junitparser.JUnitXml.fromfile(str(out / "junit.xml"))}
    assert list(suites) == ["mutants.clean", "mutants.LRL_NOT_RESET_BY_SENSE"]
    fault = {c.name: c for c in suites["mutants.LRL_NOT_RESET_BY_SENSE"]}
    assert fault["vvi_ok"].is_passed and ("caught", "false") in _props(fault["vvi_ok"])
    assert ("device.fault", "LRL_NOT_RESET_BY_SENSE") in _props(fault["vvi_ok"])
    assert isinstance(fault["detected"].result[0], junitparser.Failure)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kind"] == "mutants" and summary["mutants"]["undetected"] == [
        "LRL_NOT_RESET_BY_SENSE"]
    hrefs = links(out / "index.html")
    for variant in ("clean", "LRL_NOT_RESET_BY_SENSE"):
        assert f"{variant}/vvi_ok/report.html" in hrefs
        assert (out / variant / "vvi_ok" / "report.html").is_file()
    assert (out / "mutants.json").is_file()
