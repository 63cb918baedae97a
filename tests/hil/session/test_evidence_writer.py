"""The runner writes the record and ``summary.json``; the rest of the evidence is written by
the writer its caller hands it (the runner imports no report)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from hil.recording.manifest import verify_manifest
from hil.reports.evidence import write_evidence
from hil.results import RunResult
from hil.scenarios import parse_scenario
from hil.session.runner import run_scenario

SCENARIO = """
name = "evidence_vvi"
description = "VVI 60 in complete heart block."
requirements = ["A-2"]
duration_s = 2
seed = 1
[patient]
condition = "complete_av_block"
[device]
mode = "VVI"
"""

RECORD = {"run.hea", "run.dat"}


def test_without_a_writer_the_run_leaves_its_record_and_summary_only(tmp_path: Path) -> None:
    result = run_scenario(parse_scenario(SCENARIO), out_dir=tmp_path)
    names = {p.name for p in tmp_path.iterdir()}
    assert names >= RECORD and "summary.json" in names
    assert not {"junit.xml", "report.html", "manifest.json"} & names
    assert set(result.artefacts) == names
    assert json.loads((tmp_path / "summary.json").read_text())["verdict"] == result.verdict


def test_the_writer_gets_the_judged_result_and_the_files_written_so_far(tmp_path: Path) -> None:
    seen: list[tuple[RunResult, list[str]]] = []

    def writer(result: RunResult, written: Sequence[Path]) -> None:
        seen.append((result, [p.name for p in written]))

    result = run_scenario(parse_scenario(SCENARIO), out_dir=tmp_path, evidence=writer)
    ((got, names),) = seen
    assert got is result and got.out_dir == tmp_path
    assert set(names) >= RECORD and names[-1] == "summary.json"


def test_write_evidence_adds_junit_report_and_a_manifest_over_everything(tmp_path: Path) -> None:
    result = run_scenario(parse_scenario(SCENARIO), out_dir=tmp_path, evidence=write_evidence)
    names = {p.name for p in tmp_path.iterdir()}
    assert {"junit.xml", "report.html", "manifest.json", "summary.json"} | RECORD <= names
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert {"junit.xml", "report.html", "summary.json"} | RECORD <= set(manifest["artefacts"])
    assert verify_manifest(tmp_path) == []
    assert set(result.artefacts) >= {"junit.xml", "report.html", "manifest.json"}
