"""Running trials: an interrupted trial resumes without re-running or duplicating anyone; the
reference trial reproduces the direction and size of SAVE PACe on a small cohort."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from hil.executor import SYNCHRONOUS, Executor
from hil.trials.runner import run_trial
from hil.trials.spec import LIBRARY_DIR, load_trial, trial_from_text

TRIAL = f"""
name = "resume_test"
population = "{LIBRARY_DIR / 'bradycardia_mix.toml'}"
patients = 6
seed = 9
duration_s = 120
endpoints = ["ventricular_paced_percent", "pmt_burden"]
strata = ["indication"]
[[arms]]
name = "ddd"
mode = "DDD"
[[arms]]
name = "vvi"
mode = "VVI"
"""


class _Stop(KeyboardInterrupt):
    pass


def test_an_interrupted_trial_resumes_where_it_stopped(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(TRIAL)
    spec = trial_from_text(TRIAL, path)
    total = spec.patients * 2

    def stop_after_two_batches(done: int, _total: int) -> None:
        if done >= 4:
            raise _Stop

    with Executor(SYNCHRONOUS) as ex:
        with pytest.raises(_Stop):
            run_trial(spec, tmp_path / "out", ex, batch_size=2,
                      on_progress=stop_after_two_batches)
        seen: list[int] = []
        resumed = run_trial(spec, tmp_path / "out", ex, batch_size=2,
                            on_progress=lambda d, t: seen.append(d))
        fresh = run_trial(spec, tmp_path / "fresh", ex)
    assert (resumed.resumed, resumed.computed) == (4, total - 4)
    # progress starts from the earlier run's results, then counts on
    assert seen[:2] == [4, 6] and seen[-1] == total
    parts = [pq.read_table(p) for p in (tmp_path / "out" / "results").glob("part-*.parquet")]
    assert sum(t.num_rows for t in parts) == total  # nobody ran twice
    got = pq.read_table(tmp_path / "out" / "results.parquet").drop(["wall_s"])
    assert got.equals(pq.read_table(tmp_path / "fresh" / "results.parquet").drop(["wall_s"]))
    assert resumed.summary.to_dict()["estimates"] == fresh.summary.to_dict()["estimates"]
    # per-indication strata: the levels are the indications the six patients drew
    patients = pq.read_table(tmp_path / "out" / "patients.parquet").column("indication")
    assert fresh.summary.strata == {"indication": sorted(set(patients.to_pylist()))}
    assert {e.stratum for e in fresh.summary.estimates} == {
        "all", *(f"indication={i}" for i in set(patients.to_pylist()))}


def test_the_reference_trial_reproduces_save_pace_on_a_small_cohort(tmp_path: Path) -> None:
    spec = dataclasses.replace(load_trial("save_pace"), patients=16, duration_s=600.0,
                               bootstrap_resamples=500)
    with Executor(SYNCHRONOUS) as ex:
        run = run_trial(spec, tmp_path, ex)
    s = run.summary
    vp = "ventricular_paced_percent"
    # SAVE PACe: median ventricular pacing 99 % with conventional DDD, 9.1 % minimised
    assert s.estimate(vp, "nominal_ddd").value > 90.0
    assert s.estimate(vp, "long_av").value < 20.0
    assert s.estimate(vp, "long_av_short_pvarp").value < 20.0
    diff = s.difference(vp, "long_av")
    assert diff.value < -70.0 and diff.high < 0.0 and diff.baseline == "nominal_ddd"
    assert s.passed and s.comparisons[0].direction_reproduced
    # what the long AV delay costs at the upper rate: 2:1 at 60000 / TARP
    timing = {t.arm: t for t in s.timing}
    assert timing["nominal_ddd"].two_to_one_bpm == pytest.approx(60000 / 400)
    assert timing["long_av"].two_to_one_bpm == pytest.approx(60000 / 550)
    assert timing["long_av_short_pvarp"].pvarp_ms == 200
    # PMT exposure is reported for patients with retrograde conduction, and only they have any
    assert s.estimate("pmt_burden", "nominal_ddd", "retrograde=False").value == 0.0
    assert {e.stratum for e in s.estimates} == {"all", "retrograde=False", "retrograde=True"}
    html = (tmp_path / "report.html").read_text()
    assert "SAVE PACe" in html and "reproduced" in html and "2:1 point" in html
    assert html.count("<svg") >= 2  # distributions and forest plot, inline
    assert not re.search(r"""(src|href)=["']?(https?:|/)""", html)  # self-contained
    for name in ("patients.parquet", "results.parquet", "summary.json", "manifest.json"):
        assert (tmp_path / name).exists()
