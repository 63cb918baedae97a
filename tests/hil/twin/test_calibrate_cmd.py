"""``devicetwin twin calibrate`` and ``recommend`` end to end on a fast-heart protocol recording,
and their refusals of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devicetwin.heart.conditions import Condition
from devicetwin.twin import load_twin
from devicetwin.twin.calibration import fast_segment, simulate_recording
from devicetwin.twin.calibration_protocol import recording_protocol, recording_to_dict
from hil.cli import main
from hil.exitcodes import ExitCode


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A retrograde patient (VA 300 ms) recorded through the protocol on the fast heart."""
    patient = Condition().with_changes(sinus_rate_bpm=58.0, av_delay_ms=190.0, retrograde=True,
                                       va_conduction_ms=300.0)
    rec = simulate_recording(patient, recording_protocol(), 7, fast_segment)
    path = tmp_path_factory.mktemp("rec") / "protocol.json"
    path.write_text(json.dumps(recording_to_dict(rec)), encoding="utf-8")
    return path


def test_calibrate_then_recommend(recording: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    twin_path = tmp_path / "p.twin.json"
    code = main(["twin", "calibrate", str(recording), "--out", str(twin_path), "--budget",
                 "quick", "--prior-cache", str(tmp_path / "cache"), "--json"])
    out = capsys.readouterr().out
    assert code == ExitCode.PASSED, out
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["probabilities"]["retrograde"] > 0.9
    va = figures["estimates"]["va_conduction_ms"]
    assert va["low90"] - 25.0 <= 300.0 <= va["high90"] + 25.0
    twin = load_twin(twin_path)
    assert twin.condition.retrograde
    assert twin.posterior is not None and len(twin.posterior.samples) == 400
    assert "calibration" in (twin.analysis or {})
    assert list(tmp_path.joinpath("cache").glob("prior-*.npz"))
    # the twin's retrograde time exceeds the nominal PVARP: the recommendation must end PMT
    code = main(["twin", "recommend", str(twin_path), "--trials", "16", "--duration-s", "30",
                 "--json"])
    out = capsys.readouterr().out
    assert code == ExitCode.PASSED, out
    rec = json.loads(out.strip().splitlines()[-1])
    assert rec["recommended"]["pmt_episodes"] == 0
    saved = load_twin(twin_path).recommendation
    assert saved is not None and saved.recommended["mode"] in ("DDD", "DDDR")


def test_bad_inputs_are_config_errors(recording: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    session = tmp_path / "session.json"
    session.write_text(json.dumps({"format": "devicetwin-session"}), encoding="utf-8")
    code = main(["twin", "calibrate", str(session), "--out", str(tmp_path / "x.json")])
    assert code == ExitCode.CONFIG
    assert "--protocol-session" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    code = main(["twin", "calibrate", str(bad), "--out", str(tmp_path / "x.json")])
    assert code == ExitCode.CONFIG
    assert "bad.json" in capsys.readouterr().err
    code = main(["twin", "recommend", str(recording), "--set", "pvarp=250"])
    assert code == ExitCode.CONFIG
