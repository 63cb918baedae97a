"""Issue 17: import MIT-BIH record 102 and find none of its header comment lines in any output
(the session, the waveform file, a twin file, the HTML report, the console, the log)."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pytest

from devicetwin.heart import PRESETS
from devicetwin.twin import Twin, analyse_beat_labels, save_twin
from hil.cli import main
from hil.twin.store import load_session

MITDB = Path("/work/shared/data/mitdb")


def _comment_lines() -> list[str]:
    """The header's comment lines, read straight from the file (not through the importer)."""
    lines = (MITDB / "102.hea").read_text(encoding="ascii").splitlines()
    comments = [ln.lstrip("#").strip() for ln in lines if ln.startswith("#")]
    assert len(comments) == 3  # age/sex line, medication, rhythm description
    return comments


def _needles() -> list[str]:
    """Each comment line, and each of its words of four or more letters (a medication name
    must not leak even alone)."""
    lines = _comment_lines()
    words = {w for ln in lines for w in re.findall(r"[A-Za-z]{4,}", ln)}
    common = {"with", "rhythm", "paced", "demand", "pacemaker", "multiform", "PVCs", "The"}
    return lines + sorted(words - common)


def test_record_102_leaves_nothing_identifying(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # the record under a name that is a name, to show the record name is dropped as well
    src = tmp_path / "src"
    src.mkdir()
    for ext in ("hea", "dat", "atr"):
        text = (MITDB / f"102.{ext}").read_bytes()
        if ext == "hea":
            text = text.replace(b"102 2 360", b"doe_jane 2 360").replace(b"102.dat",
                                                                          b"doe_jane.dat")
        (src / f"doe_jane.{ext}").write_bytes(text)
    out = tmp_path / "out"
    assert main(["twin", "import", str(src / "doe_jane"), "--out", str(out / "session")]) == 0
    assert main(["twin", "report", str(out / "session"), "--out",
                 str(out / "session_report.html")]) == 0
    session, signals = load_session(out / "session")
    assert signals is not None and signals.shape == (650000, 2)
    analysis = analyse_beat_labels(session.beats)
    twin = Twin("twin-102", PRESETS["normal_sinus"], session.provenance,
                analysis=analysis.to_dict())
    save_twin(twin, out / "p.twin.json")
    assert main(["twin", "report", str(out / "p.twin.json"), "--session", str(out / "session"),
                 "--out", str(out / "twin_report.html")]) == 0
    captured = capsys.readouterr()
    outputs = {p.name: p.read_bytes().decode("latin-1") for p in out.rglob("*") if p.is_file()}
    outputs["stdout"] = captured.out
    outputs["stderr"] = captured.err
    outputs["log"] = caplog.text
    assert {"session.json", "signals.npz", "p.twin.json", "session_report.html",
            "twin_report.html"} <= set(outputs)
    for needle in [*_needles(), "doe_jane", "Jane"]:
        for name, text in outputs.items():
            assert needle.casefold() not in text.casefold(), f"{needle!r} found in {name}"
    # the provenance keeps the source's hashes (the README's published SHA-256 of each file)
    readme = (MITDB / "README.md").read_text()
    for ext, role in (("atr", "annotations:atr"), ("dat", "signals")):
        digest = re.search(rf"102\.{ext} ([0-9a-f]{{64}})", readme)
        assert digest is not None
        assert session.provenance.source_sha256[role] == digest.group(1)
    assert "3 header comment line(s)" in session.provenance.removed
    shutil.rmtree(src)
