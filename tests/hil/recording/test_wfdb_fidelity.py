"""WFDB records other tools trust: pacing artefacts stored whole, header comments that say what
ran, and the start date and time, all read back by the ``wfdb`` package."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import wfdb
from hypothesis import given, settings
from hypothesis import strategies as st

from devicetwin.pacemaker import PARAMETERS, Programming
from hil.recording import RecordWriter, SignalSpec
from hil.recording.provenance import programming_sha256, record_comments, scenario_sha256
from hil.recording.reader import read_record
from hil.recording.wfdb_writer import DIGITAL_MAX, RecordingError
from hil.scenarios import load_scenario, parse_scenario, resolve
from hil.session.recorder import RECORD_FORMAT, SessionRecorder
from hil.session.runner import run_scenario

SPECS = [SignalSpec("EGM_A"), SignalSpec("EGM_V"), SignalSpec("ECG_II", gain_adu_per_unit=2000.0)]


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.floats(-8000.0, 8000.0, allow_nan=False), min_size=3, max_size=300),
       fmt=st.sampled_from([24, 32]))
def test_wide_formats_read_back_by_wfdb_to_the_quantum(values: list[float], fmt: int,
                                                       tmp_path_factory: pytest.TempPathFactory
                                                       ) -> None:
    out = tmp_path_factory.mktemp("fmt")
    n = len(values) // 3
    data = np.array(values[: 3 * n]).reshape(n, 3) * np.array([1.0, 1.0, 0.5])
    with RecordWriter(out, "w", 1000, SPECS, fmt=fmt) as rec:
        rec.write(data[: n // 2])
        rec.write(data[n // 2:])
    got = wfdb.rdrecord(str(out / "w"))
    assert got.fmt == [str(fmt)] * 3
    # 1 uV quantum for the EGMs, 0.5 uV for the ECG: rounding is at most half of it
    err = np.abs(got.p_signal - data)
    assert np.max(err[:, :2], initial=0.0) <= 0.5e-3 + 1e-9
    assert np.max(err[:, 2], initial=0.0) <= 0.25e-3 + 1e-9
    assert np.array_equal(read_record(out, "w").signals, got.p_signal)
    assert not any("clipped" in c for c in got.comments)


def test_format_16_saturation_is_written_down_with_the_true_value(tmp_path: Path) -> None:
    data = np.zeros((10, 3))
    data[3, 1] = 1400.0  # a 3.5 V, 0.4 ms ventricular pace seen on its own lead
    data[7, 1] = -40.0
    with RecordWriter(tmp_path, "s", 1000, SPECS) as rec:
        rec.write(data)
    got = wfdb.rdrecord(str(tmp_path / "s"))
    assert got.p_signal[3, 1] == pytest.approx(32.767)
    assert got.comments == ["clipped EGM_V: 2 samples beyond +-32.767 mV (largest 1400.000 mV)"]


def test_header_comments_and_start_read_by_wfdb(tmp_path: Path) -> None:
    start = datetime(2026, 3, 4, 5, 6, 7)
    comments = ["scenario demo sha256(file) ab12", "seed 7"]
    with RecordWriter(tmp_path, "h", 1000, SPECS, fmt=24, comments=comments,
                      start=start) as rec:
        rec.write(np.ones((5, 3)))
    got = wfdb.rdheader(str(tmp_path / "h"))
    assert got.comments == comments
    assert got.base_datetime == start
    ours = read_record(tmp_path, "h")
    assert ours.start == start and ours.comments == tuple(comments) and ours.fmt == 24


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"fmt": 12}, "format 12"),
    ({"comments": ["two\nlines"]}, "one line of ASCII"),
    ({"comments": ["caf\u00e9"]}, "one line of ASCII"),
])
def test_bad_format_or_comment_is_refused(tmp_path: Path, kwargs: dict[str, object],
                                          message: str) -> None:
    with pytest.raises(RecordingError, match=message):
        RecordWriter(tmp_path, "b", 1000, SPECS, **kwargs)  # type: ignore[arg-type]


def test_the_largest_programmable_pace_fits_the_session_record() -> None:
    # specification: amplitudes up to 7.0 V; a pulse of 1 ms or more fills a 1 ms sample, and
    # the pacing lead sees its own pulse whole (coupling 1): 7000 mV at 1000 adu/mV
    top_v = max(v for v in PARAMETERS["ventricular_amplitude_v"].values if v is not None)
    top_a = max(v for v in PARAMETERS["atrial_amplitude_v"].values if v is not None)
    assert max(top_v, top_a) == 7.0
    assert max(top_v, top_a) * 1000 * SignalSpec("EGM_V").gain_adu_per_unit \
        <= DIGITAL_MAX[RECORD_FORMAT]


_VOO = """
name = "voo_big_pace"
description = "asynchronous ventricular pacing at the top of the amplitude range"
requirements = ["A-1"]
duration_s = 2.5
seed = 3

[patient]
condition = "complete_av_block"

[device]
mode = "VOO"
parameters = {{ lower_rate_ppm = 60, ventricular_amplitude_v = {amp}, \
ventricular_pulse_width_ms = {width} }}
"""


@pytest.mark.parametrize(("amp_v", "width_ms"), [(7.0, 1.0), (5.0, 0.4)])
def test_recorded_pace_artefact_is_what_the_heart_produced(tmp_path: Path, amp_v: float,
                                                           width_ms: float) -> None:
    scenario = parse_scenario(_VOO.format(amp=amp_v, width=width_ms), "voo.toml")
    result = run_scenario(scenario, out_dir=tmp_path)
    paces = [e for e in result.loop.device_events if e.kind.is_pace]
    assert len(paces) >= 2
    rec = wfdb.rdrecord(str(tmp_path / "run"))
    egm_v = rec.p_signal[:, rec.sig_name.index("EGM_V")]
    # closed form: amplitude (mV) times the part of the 1 ms sample the pulse fills, on the
    # pacing lead itself (coupling 1); record sample i + 1 covers session time i to i + 1 ms
    expected_mv = amp_v * 1000 * min(width_ms, 1.0)
    for pace in paces:
        assert pace.t_us % 1000 == 0  # VOO paces start on the millisecond in lock-step
        i = pace.t_us // 1000
        assert egm_v[i + 1] == pytest.approx(expected_mv, abs=0.001)
    assert egm_v.max() == pytest.approx(expected_mv, abs=0.01)
    assert not any("clipped" in c for c in rec.comments)


def test_library_run_header_names_scenario_programming_and_start(tmp_path: Path) -> None:
    scenario = load_scenario(resolve("vvi_escape_precision"))
    before = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    result = run_scenario(scenario, out_dir=tmp_path)
    header = wfdb.rdheader(str(tmp_path / "run"))
    assert scenario.source is not None
    file_hash = hashlib.sha256(Path(scenario.source).read_bytes()).hexdigest()
    text = "\n".join(header.comments)
    assert f"scenario {scenario.name} sha256(file) {file_hash}" in text
    assert programming_sha256(result.programming) in text
    assert f"seed {scenario.seed}" in text
    assert before <= header.base_datetime <= datetime.now(UTC).replace(tzinfo=None)


def test_programming_hash_tells_programmings_apart() -> None:
    p = Programming.nominal()
    assert programming_sha256(p) == programming_sha256(Programming.nominal())
    assert programming_sha256(p) != programming_sha256(p.replace(lower_rate_ppm=61))


def test_content_hash_of_a_scenario_without_file_follows_its_content() -> None:
    text = _VOO.format(amp=5.0, width=0.4)
    a = parse_scenario(text, "not-a-file.toml")
    b = parse_scenario(text.replace("seed = 3", "seed = 4"), "not-a-file.toml")
    assert scenario_sha256(a)[1] == "content"
    assert scenario_sha256(a) != scenario_sha256(b)
    assert scenario_sha256(a) == scenario_sha256(parse_scenario(text, "not-a-file.toml"))
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    lines = record_comments(a, Programming.nominal(), start)
    assert lines[-1] == "start 2026-01-02T03:04:05+00:00 (UTC)"


def test_session_recorder_uses_the_wide_format(tmp_path: Path) -> None:
    rec = SessionRecorder(tmp_path)
    rec.samples([0.0, 2000.0], [-7000.0, 1.0], [0.1, 0.2])
    rec.close()
    got = wfdb.rdrecord(str(tmp_path / "run"))
    assert got.fmt == [str(RECORD_FORMAT)] * 3
    assert got.p_signal[1, 0] == pytest.approx(2000.0) and got.p_signal[0, 1] == -7000.0
