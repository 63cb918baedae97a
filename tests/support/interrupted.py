"""What a run interrupted by a signal must leave: its summary says so, every artefact is written
and the record and its annotators open in ``wfdb`` (shared by the CLI's and the suite's tests)."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import wfdb


def check_interrupted_evidence(out: Path, signum: int, long_s: float) -> dict[str, Any]:
    """Check the evidence in ``out`` of a run of ``long_s`` seconds cut short by ``signum``;
    return its summary."""
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    name = signal.Signals(signum).name
    assert summary["signal"] == name
    assert summary["interrupted"] == f"interrupted by {name}"
    assert summary["verdict"] == "fail"
    assert 0 < summary["duration_s"] < long_s
    for artefact in ("junit.xml", "report.html", "manifest.json"):
        assert (out / artefact).stat().st_size > 0, artefact
    record = wfdb.rdrecord(str(out / "run"))
    assert record.sig_len >= 1000 * int(summary["duration_s"]) - 1000
    for annotator in ("heart", "dev", "twin"):
        wfdb.rdann(str(out / "run"), annotator)
    return summary
