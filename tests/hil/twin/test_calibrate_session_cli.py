"""``devicetwin twin calibrate`` on sessions recorded under one programming, end to end: a bench
run (cell-network heart, reference firmware) imported and calibrated under the programming its
manifest states; a CSV marker log calibrated under the programming the command line gives; and
the refusals of a missing or bad programming."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from devicetwin.heart.conditions import Condition
from devicetwin.pacemaker.modes import Mode
from devicetwin.pacemaker.programming import Programming
from devicetwin.twin import load_twin
from devicetwin.twin.calibration import fast_segment
from hil.cli import main
from hil.exitcodes import ExitCode

#: The bench patient: normal sinus rhythm 70 bpm (the preset), AV conduction 180 ms at the leads,
#: recorded under DDD with an AV delay of 250 ms, longer than the conduction.
SCENARIO = """\
name = "one_programming_session"
description = "a patient with intact conduction under DDD, AV delay 250 ms"
duration_s = 60.0
seed = 4

[patient]
condition = "normal_sinus"
overrides = { av_delay_ms = 180.0 }

[device]
mode = "DDD"
parameters = { fixed_av_delay_ms = 250, pvarp_ms = 230 }
"""


def _last_json(out: str) -> dict[str, Any]:
    doc = json.loads(out.strip().splitlines()[-1])
    assert isinstance(doc, dict)
    return doc


@pytest.fixture(scope="module")
def bench_session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 60 s bench run of :data:`SCENARIO`, imported by ``twin import``."""
    folder = tmp_path_factory.mktemp("bench")
    scenario = folder / "one_programming.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    assert main(["run", str(scenario), "--out", str(folder / "run")]) == ExitCode.PASSED
    assert main(["twin", "import", str(folder / "run"), "--out",
                 str(folder / "session")]) == ExitCode.PASSED
    return folder / "session"


def test_bench_run_calibrates_under_its_own_programming(
        bench_session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    twin_path = tmp_path / "p.twin.json"
    code = main(["twin", "calibrate", str(bench_session), "--out", str(twin_path), "--budget",
                 "quick", "--json"])
    out = capsys.readouterr().out
    assert code == ExitCode.PASSED, out
    figures = _last_json(out)
    assert twin_path.is_file()
    twin = load_twin(twin_path)
    # the programming is the scenario's, taken from the bench record's manifest
    assert twin.programming is not None
    assert twin.programming["mode"] == "DDD"
    assert twin.programming["parameters"]["fixed_av_delay_ms"] == 250
    assert twin.programming["parameters"]["pvarp_ms"] == 230
    est = figures["estimates"]
    assert isinstance(est, dict)
    # the scenario's hidden truths (70 bpm; 180 ms, within the summaries' 5 ms resolution)
    assert est["sinus_rate_bpm"]["low90"] - 1.0 <= 70.0 <= est["sinus_rate_bpm"]["high90"] + 1.0
    assert est["av_delay_ms"]["low90"] - 5.0 <= 180.0 <= est["av_delay_ms"]["high90"] + 5.0
    # what this programming shows, and what it cannot (no ventricular pace: no retrograde test)
    assert "sinus_rate_bpm" in figures["informed"]
    assert "retrograde" in figures["prior_only"]
    calibration = (twin.analysis or {})["calibration"]
    assert calibration["data"] == "a session under one programming"
    assert set(calibration["informed"]) == set(figures["informed"])
    assert twin.posterior is not None and "informed by the session" in twin.posterior.method
    # the report says it too
    report = tmp_path / "twin.html"
    assert main(["twin", "report", str(twin_path), "--session", str(bench_session), "--out",
                 str(report)]) == ExitCode.PASSED
    assert "at or near the prior" in report.read_text(encoding="utf-8")


def _marker_csv(path: Path) -> None:
    """Three minutes of a fast-heart patient (intact conduction 180 ms) under DDD AV 250 ms,
    written as a plain marker log (no programming in it)."""
    patient = Condition().with_changes(sinus_rate_bpm=75.0, av_delay_ms=180.0)
    markers = fast_segment(patient, Programming.nominal(Mode.DDD, fixed_av_delay_ms=250),
                           180_000_000, 9)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        fh.write("# interrogation export\n")
        writer.writerow(["t_ms", "marker"])
        for m in markers:
            writer.writerow([m.t_us / 1000.0, m.kind.value])


def test_csv_log_calibrates_under_the_programming_given(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.csv"
    _marker_csv(log)
    session = tmp_path / "session"
    assert main(["twin", "import", str(log), "--out", str(session)]) == ExitCode.PASSED
    capsys.readouterr()
    twin_path = tmp_path / "csv.twin.json"
    # a marker log does not state its programming: the command line must
    code = main(["twin", "calibrate", str(session), "--out", str(twin_path)])
    err = capsys.readouterr().err
    assert code == ExitCode.CONFIG
    assert "--mode" in err and not twin_path.exists()
    code = main(["twin", "calibrate", str(session), "--out", str(twin_path), "--budget", "quick",
                 "--mode", "DDD", "--set", "fixed_av_delay_ms=250", "--json"])
    out = capsys.readouterr().out
    assert code == ExitCode.PASSED, out
    figures = _last_json(out)
    twin = load_twin(twin_path)
    assert twin.programming is not None
    assert twin.programming["parameters"]["fixed_av_delay_ms"] == 250
    assert twin.programming["parameters"]["lower_rate_ppm"] == 60  # nominal, not given
    est = figures["estimates"]
    assert isinstance(est, dict)
    assert est["sinus_rate_bpm"]["low90"] - 1.0 <= 75.0 <= est["sinus_rate_bpm"]["high90"] + 1.0
    assert "av_delay_ms" in figures["informed"]


@pytest.mark.parametrize(("options", "named"), [
    (["--mode", "DDD", "--set", "fixed_av_delay_ms=999"], "999"),
    (["--mode", "DDD", "--set", "fixed_av_delay=250"], "fixed_av_delay"),
    (["--mode", "DDD", "--set", "pvarp_ms"], "pvarp_ms"),
    (["--mode", "XYZ"], "XYZ"),
    (["--mode", "VVI"], "VVI"),  # the session holds atrial senses, which VVI never makes
])
def test_bad_programming_is_exit_2_naming_the_value(
        bench_session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        options: list[str], named: str) -> None:
    capsys.readouterr()
    out = tmp_path / "x.twin.json"
    code = main(["twin", "calibrate", str(bench_session), "--out", str(out), "--budget",
                 "quick", *options])
    err = capsys.readouterr().err
    assert code == ExitCode.CONFIG
    assert named in err
    assert "Traceback" not in err
    assert not out.exists()


def test_mode_with_a_protocol_source_is_refused(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["twin", "calibrate", "preset:normal_sinus", "--out",
                 str(tmp_path / "x.twin.json"), "--mode", "DDD"])
    assert code == ExitCode.CONFIG
    assert "--mode/--set" in capsys.readouterr().err
