"""Our record reader agrees with the wfdb package, including on a partial (truncated) record."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import wfdb

from hil.recording import RecordWriter, SignalSpec
from hil.recording.reader import read_record


def test_reader_matches_wfdb(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = rng.normal(0, 5, size=(1234, 2))
    with RecordWriter(tmp_path, "r", 1000, [SignalSpec("EGM_A"), SignalSpec("ECG_II")]) as rec:
        rec.write(data)
    ours = read_record(tmp_path, "r")
    ref = wfdb.rdrecord(str(tmp_path / "r"))
    assert ours.names == ("EGM_A", "ECG_II")
    assert ours.fs_hz == 1000
    assert np.array_equal(ours.signals, ref.p_signal)
    first, rows = ours.window(100_000, 200_000)
    assert first == 100 and rows.shape == (100, 2)


def test_reader_ignores_a_half_written_trailing_frame(tmp_path: Path) -> None:
    with RecordWriter(tmp_path, "p", 1000, [SignalSpec("A"), SignalSpec("V")]) as rec:
        rec.write(np.ones((10, 2)))
    with open(tmp_path / "p.dat", "ab") as f:
        f.write(b"\x01\x00\x02")  # a crash mid-write: 1.5 samples beyond the header's count
    assert read_record(tmp_path, "p").signals.shape == (10, 2)
