"""Importers: the bench's own records, any WFDB record, a CSV marker log; what passes and what
does not."""

from __future__ import annotations

import hashlib
import hmac
import json
import tempfile
from datetime import date, time
from pathlib import Path

import numpy as np
import pytest
import wfdb
from hypothesis import given
from hypothesis import strategies as st

from devicetwin.pacemaker import Chamber, MarkerEvent, MarkerKind, Mode, PaceFlag, Programming
from hil.cli import main
from hil.recording import AnnotationWriter, RecordWriter, SignalSpec, WfdbLabel
from hil.recording.manifest import write_manifest
from hil.twin.command import import_source
from hil.twin.store import load_session

SALT_HEX = "00112233445566778899aabbccddeeff" * 2


def _salt_file(tmp_path: Path) -> Path:
    path = tmp_path / "salt.hex"
    path.write_text(SALT_HEX + "\n")
    return path


def _hmac(serial: str) -> str:
    return "sn-" + hmac.new(bytes.fromhex(SALT_HEX), serial.encode(), hashlib.sha256
                            ).hexdigest()[:16]


def _bench_record(folder: Path) -> Programming:
    with RecordWriter(folder, "doe_jane", 1000, [SignalSpec("EGM_A"), SignalSpec("EGM_V")]) as rw:
        rw.write(np.zeros((3000, 2)))
    with AnnotationWriter(folder, "doe_jane", "dev") as dev:
        dev.add(100, WfdbLabel.PWAVE, 0, "AS")
        dev.add(250, WfdbLabel.PACE, 1, "VP")
        dev.add(1100, WfdbLabel.PACE, 0, "AP[HYSTERESIS]")
        dev.add(1280, WfdbLabel.NORMAL, 1, "VS")
    with AnnotationWriter(folder, "doe_jane", "heart") as heart:
        heart.add(100, WfdbLabel.PWAVE, 0, "sinus")
    programming = Programming.nominal(Mode.DDD, pvarp_ms=300, fixed_av_delay_ms=180)
    write_manifest(folder, {"programming": programming.to_wire_units(), "mode": "DDD",
                            "device": {"serial": "PM-998877", "model": "emulated"},
                            "scenario_file": str(folder / "jane_doe_followup.toml")}, [])
    return programming


def test_bench_record(tmp_path: Path) -> None:
    programming = _bench_record(tmp_path / "run")
    out = tmp_path / "out"
    assert main(["twin", "import", str(tmp_path / "run"), "--out", str(out),
                 "--salt-file", str(_salt_file(tmp_path))]) == 0
    session, signals = load_session(out)
    assert session.markers == (
        MarkerEvent(100_000, Chamber.A, MarkerKind.AS),
        MarkerEvent(250_000, Chamber.V, MarkerKind.VP),
        MarkerEvent(1_100_000, Chamber.A, MarkerKind.AP, flags=PaceFlag.HYSTERESIS),
        MarkerEvent(1_280_000, Chamber.V, MarkerKind.VS),
    )  # the heart annotator (simulation truth) is not an observation
    assert session.duration_us == 3_000_000 and signals is not None
    assert [s.name for s in session.signals] == ["EGM_A", "EGM_V"]
    assert session.programming is not None
    assert Programming.from_plain(session.programming["mode"],
                                  session.programming["parameters"]) == programming
    assert session.provenance.source_format == "bench"
    assert session.provenance.device_pseudonym == _hmac("PM-998877")
    assert session.provenance.salt == "salt-file"
    assert main(["twin", "report", str(out), "--out", str(tmp_path / "report.html")]) == 0
    report = (tmp_path / "report.html").read_text()
    assert _hmac("PM-998877") in report and "<h2>Battery longevity</h2>" in report
    for text in ((out / "session.json").read_text(), report):
        for needle in ("PM-998877", "998877", "doe_jane", "jane_doe", "written_utc"):
            assert needle not in text


# wfdb.wrann calls DataFrame.drop(inplace=True), deprecated by pandas 3.1; not ours
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.drop is deprecated")
def test_wfdb_record_with_comments_dates_and_free_text(tmp_path: Path) -> None:
    wfdb.wrsamp("rec", fs=250, units=["mV", "mV"], sig_name=["II", "Mrs Doe"],
                p_signal=np.zeros((2500, 2)), fmt=["16", "16"],
                comments=["Jane Doe, 1942-03-01, warfarin"], base_date=date(2025, 1, 2),
                base_time=time(10, 11, 12), write_dir=str(tmp_path))
    wfdb.wrann("rec", "atr", np.array([100, 300, 500, 700]), symbol=["+", "N", '"', "/"],
               aux_note=["(AFIB", "", "Jane called", ""], write_dir=str(tmp_path))
    session = import_source(tmp_path / "rec").session
    assert [s.name for s in session.signals] == ["II", "signal1"]
    assert [(b.t_us, b.symbol) for b in session.beats] == [(1_200_000, "N"),
                                                            (2_800_000, "/")]
    assert [(r.t_us, r.code) for r in session.rhythms] == [(400_000, "AFIB")]
    text = json.dumps(session.to_dict())
    for needle in ("Jane", "1942", "warfarin", "2025", "10:11", "Mrs", "rec."):
        assert needle not in text
    assert any("base date" in r for r in session.provenance.removed)
    assert session.provenance.device_pseudonym is None


CSV = """# Patient: Jane Doe, DOB 1942-03-01
# serial: PM1234567
time,marker,comment
2025-01-02T10:00:00.000,AS,feels dizzy
2025-01-02T10:00:00.150,VP,
2025-01-02T10:00:01.000,(AS),
2025-01-02T10:00:01.250,VP[HYSTERESIS],
"""


def test_csv_marker_log(tmp_path: Path) -> None:
    (tmp_path / "jane.csv").write_text(CSV)
    out = tmp_path / "out"
    assert main(["twin", "import", str(tmp_path / "jane.csv"), "--out", str(out),
                 "--salt-file", str(_salt_file(tmp_path))]) == 0
    session, signals = load_session(out)
    assert signals is None
    assert [(m.t_us, m.kind, m.flags) for m in session.markers] == [
        (0, MarkerKind.AS, PaceFlag.NONE), (150_000, MarkerKind.VP, PaceFlag.NONE),
        (1_000_000, MarkerKind.AR, PaceFlag.NONE), (1_250_000, MarkerKind.VP,
                                                    PaceFlag.HYSTERESIS)]
    assert session.provenance.device_pseudonym == _hmac("PM1234567")
    text = (out / "session.json").read_text()
    for needle in ("Jane", "1942", "2025", "10:00", "dizzy", "PM1234567", "jane.csv"):
        assert needle not in text


@pytest.mark.parametrize(("row", "message"), [
    ("2025-01-02T10:00:02,XX,", "jane.csv:8: marker 'XX' is not a marker code"),
    ("yesterday,AS,", "jane.csv:8: time 'yesterday' is not an ISO 8601 date-time"),
])
def test_csv_errors_name_file_line_and_value(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             row: str, message: str) -> None:
    (tmp_path / "jane.csv").write_text(CSV + row + "\n")
    code = main(["twin", "import", str(tmp_path / "jane.csv"), "--out", str(tmp_path / "o")])
    assert code == 2
    assert message in capsys.readouterr().err


def test_missing_record_and_bad_salt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["twin", "import", str(tmp_path / "nothing"), "--out", str(tmp_path)]) == 2
    assert "no WFDB header 'nothing.hea'" in capsys.readouterr().err
    (tmp_path / "salt").write_text("abc\n")
    (tmp_path / "x.csv").write_text("t_ms,marker\n0,AS\n")
    assert main(["twin", "import", str(tmp_path / "x.csv"), "--out", str(tmp_path / "o"),
                 "--salt-file", str(tmp_path / "salt")]) == 2
    assert "not at least 32 hex digits" in capsys.readouterr().err


_KINDS = ["AS", "AP", "(AS)", "AT", "VS", "VP", "(VS)", "PVC", "VP[HYSTERESIS]", "AP[SENSOR]"]


@given(st.lists(st.tuples(st.integers(0, 5_000_000), st.sampled_from(_KINDS)), min_size=1,
                max_size=40),
       st.integers(0, 10**12),
       st.text(st.characters(codec="ascii", exclude_characters="\r\n"), min_size=8,
               max_size=40))
def test_csv_times_are_relative_and_comments_never_pass(rows: list[tuple[int, str]],
                                                        offset_us: int, comment: str) -> None:
    rows = sorted(rows)
    text = "# " + comment + "\nt_us,marker,note\n" + "".join(
        f"{offset_us + t},{k},{comment.replace(',', ' ')}\n" for t, k in rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.csv"
        path.write_text(text)
        session = import_source(path).session
    assert [m.t_us for m in session.markers] == [t - rows[0][0] for t, _ in rows]
    assert session.duration_us >= session.markers[-1].t_us
    dumped = json.dumps(session.to_dict())
    if len(comment.strip()) >= 8 and not comment.strip().isdigit():
        assert comment.strip() not in dumped
