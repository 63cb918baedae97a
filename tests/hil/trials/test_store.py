"""The results folder: parts written whole, read back once per (patient, arm), owned by one
trial."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from devicetwin.outcomes import OUTCOME_NAMES
from hil.errors import ConfigError
from hil.trials.store import ResultStore, read_table, write_table


def _row(pid: int, arm: str, vp: float | None) -> dict[str, object]:
    return {"patient_id": pid, "arm": arm, "ventricular_paced_percent": vp, "wall_s": 0.1}


def test_parts_are_read_back_once_per_key_first_written_wins(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.open("abc", "t")
    store.write_batch([_row(1, "a", 90.0), _row(0, "b", None)])
    store.write_batch([_row(1, "a", 12.0), _row(0, "a", 5.0)])  # (1, a) again: a re-run batch
    table = store.read()
    assert table.column_names == ["patient_id", "arm", *OUTCOME_NAMES, "wall_s"]
    rows = table.to_pylist()
    assert [(r["patient_id"], r["arm"]) for r in rows] == [(0, "a"), (0, "b"), (1, "a")]
    assert rows[2]["ventricular_paced_percent"] == 90.0
    assert math.isnan(rows[1]["ventricular_paced_percent"])  # no value: NaN, not a crash
    assert store.done_keys() == {(0, "a"), (0, "b"), (1, "a")}
    assert not list((tmp_path / "results").glob(".*.tmp"))


def test_a_folder_of_another_trial_is_refused(tmp_path: Path) -> None:
    ResultStore(tmp_path).open("abc", "t")
    ResultStore(tmp_path).open("abc", "t")  # the same trial resumes
    with pytest.raises(ConfigError, match="holds results of another trial") as info:
        ResultStore(tmp_path).open("def", "t")
    assert info.value.source == "--out"


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_tables_round_trip(tmp_path: Path, suffix: str) -> None:
    rows = [{"patient_id": 0, "indication": "snd", "retrograde": True, "av_delay_ms": 201.5},
            {"patient_id": 1, "indication": "chb", "retrograde": False, "av_delay_ms": 176.0}]
    path = write_table(tmp_path / f"p{suffix}", rows)
    assert read_table(path).to_pylist() == rows


def test_a_table_needs_a_known_suffix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"must end in \.parquet or \.csv"):
        write_table(tmp_path / "p.xlsx", [{"a": 1}])
