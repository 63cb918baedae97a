"""WFDB records written progressively are read back exactly by the ``wfdb`` package."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import wfdb
from hypothesis import given
from hypothesis import strategies as st

from hil.recording import AnnotationWriter, RecordWriter, SignalSpec, WfdbLabel
from hil.recording.wfdb_writer import RecordingError

SPECS = [SignalSpec("EGM_A"), SignalSpec("EGM_V"), SignalSpec("ECG_II", gain_adu_per_unit=2000.0)]


def _signals(n: int) -> np.ndarray:
    t = np.arange(n) / 1000.0
    return np.column_stack(
        [1.5 * np.sin(2 * np.pi * t), -12.25 * np.cos(2 * np.pi * 3 * t), 0.8 * np.sin(t)]
    )


def test_blocks_read_back_to_the_quantum(tmp_path: Path) -> None:
    data = _signals(2500)
    with RecordWriter(tmp_path, "run", 1000, SPECS) as rec:
        for start in range(0, 2500, 700):  # uneven blocks
            rec.write(data[start : start + 700])
    got = wfdb.rdrecord(str(tmp_path / "run"))
    assert got.fs == 1000
    assert got.sig_name == ["EGM_A", "EGM_V", "ECG_II"]
    assert got.units == ["mV", "mV", "mV"]
    assert got.p_signal.shape == (2500, 3)
    # quantum is 1/gain: 1 uV for EGMs, 0.5 uV for the ECG; rounding error at most half of it
    assert np.max(np.abs(got.p_signal[:, :2] - data[:, :2])) <= 0.5e-3 + 1e-12
    assert np.max(np.abs(got.p_signal[:, 2] - data[:, 2])) <= 0.25e-3 + 1e-12


def test_checksum_and_initial_value_match_the_wfdb_definition(tmp_path: Path) -> None:
    data = np.array([[1.0, -2.0, 0.0], [30.0, 40.0, 1.0], [-0.001, 0.0, -1.0]])
    with RecordWriter(tmp_path, "c", 500, SPECS) as rec:
        rec.write(data)
    lines = (tmp_path / "c.hea").read_text().splitlines()
    sig_lines = [ln for ln in lines if not ln.startswith("#")][1:]
    # column 1 saturates: 40 mV * 1000 = 40000 adu > 32767 (and a comment line says so)
    digital = [[1000, 30000, -1], [-2000, 32767, 0], [0, 2000, -2000]]
    for line, column in zip(sig_lines, digital, strict=True):
        fields = line.split()
        expected_sum = sum(column) & 0xFFFF
        expected_sum = expected_sum - 0x10000 if expected_sum >= 0x8000 else expected_sum
        assert int(fields[5]) == column[0]
        assert int(fields[6]) == expected_sum


@given(
    st.lists(
        st.tuples(
            st.integers(0, 200_000),
            st.sampled_from(list(WfdbLabel)),
            st.integers(0, 2),
            st.text(alphabet="ABCPVSRTN_[]|", max_size=20),
        ),
        max_size=40,
    )
)
def test_annotations_round_trip(
    tmp_path_factory: pytest.TempPathFactory, items: list[tuple[int, WfdbLabel, int, str]]
) -> None:
    # WFDB reserves NOTE at sample 0 for definitions (tested separately below)
    items = sorted(
        [(s if s or lab != WfdbLabel.NOTE else 1, lab, c, a) for s, lab, c, a in items],
        key=lambda x: x[0],
    )
    d = tmp_path_factory.mktemp("ann")
    with RecordWriter(d, "r", 1000, SPECS[:1]) as rec:
        rec.write(np.zeros((10, 1)))
    with AnnotationWriter(d, "r", "dev") as ann:
        for sample, label, chan, aux in items:
            ann.add(sample, label, chan, aux)
    if not items:
        assert (d / "r.dev").read_bytes() == b"\x00\x00"
        return
    got = wfdb.rdann(str(d / "r"), "dev")
    assert list(got.sample) == [s for s, *_ in items]
    assert list(got.symbol) == [wfdb.io.annotation.ann_label_table.set_index("label_store")
                                .loc[int(lab), "symbol"] for _, lab, _, _ in items]
    assert list(got.chan) == [c for _, _, c, _ in items]
    assert [a or "" for a in got.aux_note] == [a for *_, a in items]


def test_note_at_sample_zero_is_rejected(tmp_path: Path) -> None:
    with AnnotationWriter(tmp_path, "r", "dev") as ann, pytest.raises(
        RecordingError, match="NOTE annotation at sample 0 is reserved"
    ):
        ann.add(0, WfdbLabel.NOTE, 2, "ATR_DUR")


def test_out_of_order_annotation_is_rejected(tmp_path: Path) -> None:
    with AnnotationWriter(tmp_path, "r", "dev") as ann:
        ann.add(100, WfdbLabel.PACE)
        with pytest.raises(RecordingError, match="sample 99 comes before the previous one at 100"):
            ann.add(99, WfdbLabel.PACE)


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (np.zeros((3, 2)), r"block shape \(3, 2\) does not fit"),
        (np.array([[0.0, np.nan, 0.0]]), "block contains nan"),
    ],
)
def test_bad_blocks_are_rejected(tmp_path: Path, block: np.ndarray, message: str) -> None:
    rec = RecordWriter(tmp_path, "b", 1000, SPECS)
    with pytest.raises(RecordingError, match=message):
        rec.write(block)
    rec.close()


def test_bad_names_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="record name 'a b' is not a valid WFDB name"):
        RecordWriter(tmp_path, "a b", 1000, SPECS)
    with pytest.raises(RecordingError, match="sampling frequency 0 Hz must be positive"):
        RecordWriter(tmp_path, "ok", 0, SPECS)


def test_a_killed_writer_leaves_a_readable_record(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, numpy as np
        from hil.recording import AnnotationWriter, RecordWriter, SignalSpec, WfdbLabel
        rec = RecordWriter({str(tmp_path)!r}, "live", 1000, [SignalSpec("EGM_V")])
        ann = AnnotationWriter({str(tmp_path)!r}, "live", "dev")
        block = 0
        while True:
            rec.write(np.full((100, 1), float(block % 7)))
            ann.add(block * 100 + 50, WfdbLabel.PACE, 1, "VP")
            block += 1
            if block == 30:
                print("ready", flush=True)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.05)  # let it write more blocks; the kill lands mid-write at any point
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    rec = wfdb.rdrecord(str(tmp_path / "live"))
    n = rec.sig_len
    assert n >= 3000 and n % 100 == 0
    expected = np.repeat(np.arange(n // 100) % 7, 100).astype(float)
    assert np.array_equal(rec.p_signal[:, 0], expected)
    ann = wfdb.rdann(str(tmp_path / "live"), "dev")
    assert len(ann.sample) >= 30
    assert list(ann.sample) == [b * 100 + 50 for b in range(len(ann.sample))]
    assert set(ann.aux_note) == {"VP"}
