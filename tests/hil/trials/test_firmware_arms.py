"""Firmware arms: the reference C firmware and its seeded-fault variants as trial arms.

Judged against the reference pacemaker model (the firmware implements the same specification:
paired per-patient differences must vanish) and the specification's rules (without PMT
termination, A-14, patients with retrograde conduction spend longer in PMT, in fewer episodes).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from hil.errors import ConfigError
from hil.executor import SYNCHRONOUS, Executor
from hil.trials.runner import run_trial
from hil.trials.spec import LIBRARY_DIR, load_trial, trial_from_text

POP = LIBRARY_DIR / "av_block_retrograde.toml"


def _text(arm_b: str, heart: str = "fast") -> str:
    return f"""name = "t"
population = "{POP}"
patients = 4
duration_s = 60
heart = "{heart}"
[[arms]]
name = "a"
device = "firmware"
[[arms]]
name = "b"
{arm_b}
"""


def _fails(tmp_path: Path, text: str, *fragments: str) -> None:
    path = tmp_path / "t.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        trial_from_text(text, path)
    for f in fragments:
        assert f in str(info.value), str(info.value)


def test_the_library_firmware_trial_reads() -> None:
    spec = load_trial("firmware_check")
    assert [(a.device, a.fault) for a in spec.arms] == [
        ("firmware", None), ("reference", None), ("firmware", "PMT_NOT_TERMINATED"),
        ("firmware", "PVARP_SHORT_20MS")]
    assert spec.arms[2].device_label == "firmware (PMT_NOT_TERMINATED)"


def test_bad_firmware_arms_name_the_field(tmp_path: Path) -> None:
    _fails(tmp_path, _text('device = "reference"\nfault = "PVARP_SHORT_20MS"'),
           "t.toml", "arms.1.fault", "device = 'firmware'")
    _fails(tmp_path, _text('device = "firmware"\nfault = "PVARP_SHORT_20"'),
           "arms.1.fault", "PVARP_SHORT_20MS")  # the closest name
    _fails(tmp_path, _text('device = "firmwear"'), "arms.1.device", "firmware")
    _fails(tmp_path, _text('device = "reference"', heart="cells"), "arms.0.device",
           "heart = 'fast'")


def test_the_firmware_agrees_with_the_model_and_the_faults_show(tmp_path: Path) -> None:
    spec = dataclasses.replace(load_trial("firmware_check"), patients=8, duration_s=300.0,
                               bootstrap_resamples=300)
    with Executor(SYNCHRONOUS) as ex:
        run = run_trial(spec, tmp_path, ex)
    s = run.summary
    rows = pq.read_table(tmp_path / "results.parquet").to_pylist()
    by = {(r["patient_id"], r["arm"]): r for r in rows}
    patients = {r["patient_id"] for r in rows}
    assert len(rows) == 8 * 4
    # same patient, same rules: the firmware's outcomes are the reference model's
    for p in patients:
        fw, model = by[(p, "firmware")], by[(p, "reference_model")]
        assert fw["ventricular_paced_percent"] == pytest.approx(
            model["ventricular_paced_percent"], abs=2.0)
        assert fw["pmt_burden"] == pytest.approx(model["pmt_burden"], abs=0.02)
    # A-14 missing: more time in PMT overall, never less for any patient, in fewer episodes
    assert s.difference("pmt_burden", "no_pmt_termination").value > 0.0
    for p in patients:
        assert by[(p, "no_pmt_termination")]["pmt_burden"] >= by[(p, "firmware")]["pmt_burden"]
    assert s.estimate("pmt_episodes", "no_pmt_termination").value < \
        s.estimate("pmt_episodes", "firmware").value
    html = (tmp_path / "report.html").read_text()
    assert "firmware (PMT_NOT_TERMINATED)" in html and "firmware (PVARP_SHORT_20MS)" in html
