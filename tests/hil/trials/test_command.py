"""``devicetwin population`` and ``devicetwin trial`` from the command line."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from devicetwin.population import load_population, sample_patients
from hil.cli import main
from hil.trials.spec import LIBRARY_DIR
from hil.trials.store import ResultStore


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_population_sample_writes_the_patients_as_rows(tmp_path: Path, suffix: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"pop{suffix}"
    assert main(["population", "sample", "bradycardia_mix", "--n", "25", "--seed", "4",
                 "--out", str(out)]) == 0
    table = pq.read_table(out) if suffix == ".parquet" else pacsv.read_csv(out)
    expected = sample_patients(load_population(LIBRARY_DIR / "bradycardia_mix.toml"), 25, 4)
    rows = table.to_pylist()
    assert [r["patient_id"] for r in rows] == list(range(25))
    assert [r["indication"] for r in rows] == [p.indication for p in expected]
    assert [r["av_delay_ms"] for r in rows] == pytest.approx(
        [p.parameters["av_delay_ms"] for p in expected])
    assert "wrote 25 patients of bradycardia_mix" in capsys.readouterr().out


def test_bad_population_requests_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    assert main(["population", "sample", "snd_intact_avv", "--n", "3",
                 "--out", str(tmp_path / "p.csv")]) == 2
    assert "did you mean snd_intact_av" in capsys.readouterr().err
    assert main(["population", "sample", "snd_intact_av", "--n", "0",
                 "--out", str(tmp_path / "p.csv")]) == 2
    assert "--n 0" in capsys.readouterr().err
    assert main(["population", "sample", "snd_intact_av", "--n", "2",
                 "--out", str(tmp_path / "p.json")]) == 2
    assert ".parquet or .csv" in capsys.readouterr().err


def test_trial_list_and_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trial", "list"]) == 0
    assert "save_pace" in capsys.readouterr().out
    out = tmp_path / "run"
    code = main(["trial", "run", "save_pace", "--patients", "6", "--scheduler", "synchronous",
                 "--out", str(out)])
    text = capsys.readouterr()
    assert code == 0, text.err
    assert "median ventricular_paced_percent" in text.out and "reproduced" in text.out
    assert "executor: synchronous" in text.err and "ETA" in text.err
    assert pq.read_table(out / "results.parquet").num_rows == 6 * 3
    # run again: everything is already there
    assert main(["trial", "run", "save_pace", "--patients", "6", "--scheduler", "synchronous",
                 "--out", str(out)]) == 0
    assert "(0 run now, 18 from an earlier run)" in capsys.readouterr().out
    # another trial into the same folder is refused
    assert main(["trial", "run", "save_pace", "--patients", "7", "--scheduler", "synchronous",
                 "--out", str(out)]) == 2
    assert "holds results of another trial" in capsys.readouterr().err


def test_bad_trial_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trial", "run", "save_pace", "--scheduler", "http://x:1",
                 "--out", str(tmp_path)]) == 2
    assert "is not a Dask scheduler address" in capsys.readouterr().err
    assert main(["trial", "run", "no_such_trial", "--out", str(tmp_path)]) == 2
    assert "no trial file or library trial named 'no_such_trial'" in capsys.readouterr().err


def test_sigint_keeps_the_results_written_and_the_next_run_resumes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "hil.cli", "trial", "run", "save_pace", "--patients", "12",
           "--scheduler", "synchronous", "--batch-size", "1", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(list((out / "results").glob("part-*.parquet"))) < 3:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    kept = ResultStore(out).done_keys()
    assert 3 <= len(kept) < 36
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert f"({36 - len(kept)} run now, {len(kept)} from an earlier run)" in done.stdout
    rows = pq.read_table(out / "results.parquet")
    keys = list(zip(rows.column("patient_id").to_pylist(), rows.column("arm").to_pylist(),
                    strict=True))
    assert len(keys) == len(set(keys)) == 36
