"""The manifest hashes every artefact so that a changed file is detected."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from devicetwin import __version__
from hil.recording.manifest import verify_manifest, write_manifest


def test_manifest_hashes_and_detects_tampering(tmp_path: Path) -> None:
    (tmp_path / "a.dat").write_bytes(b"\x01\x02" * 1000)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "report.html").write_text("<html></html>")
    path = write_manifest(
        tmp_path,
        {"scenario": "pmt", "seeds": {"heart": 3}, "device": {"firmware_hash": "ab" * 32}},
        [tmp_path / "a.dat", Path("sub/report.html")],
    )
    doc = json.loads(path.read_text())
    assert doc["tool"]["version"] == __version__
    assert doc["scenario"] == "pmt"
    assert doc["artefacts"]["a.dat"]["sha256"] == hashlib.sha256(b"\x01\x02" * 1000).hexdigest()
    assert doc["artefacts"]["a.dat"]["bytes"] == 2000
    assert doc["artefacts"]["sub/report.html"]["sha256"] == hashlib.sha256(
        b"<html></html>").hexdigest()
    assert verify_manifest(tmp_path) == []
    (tmp_path / "a.dat").write_bytes(b"changed")
    assert verify_manifest(tmp_path) == ["a.dat"]


def test_relative_out_dir_paths_are_stored_relative_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = Path("runs/demo")
    out.mkdir(parents=True)
    (out / "junit.xml").write_text("<x/>")
    doc = json.loads(write_manifest(out, {}, [out / "junit.xml"]).read_text())
    assert list(doc["artefacts"]) == ["junit.xml"]
