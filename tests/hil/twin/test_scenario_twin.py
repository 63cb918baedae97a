"""``[patient] twin = "..."``: a scenario runs a twin file's condition as its patient."""

from __future__ import annotations

from pathlib import Path

import pytest

from devicetwin.heart import PRESETS
from devicetwin.twin import Provenance, Twin, save_twin
from hil.reports.header import audit_facts
from hil.scenarios import load_scenario
from hil.scenarios.toml_reader import ScenarioError
from hil.session.runner import build_heart, run_scenario

PROV = Provenance("csv", {"csv": "b" * 64}, None, "per-import", (), "0.1.0")
SCENARIO = """name = "twin_patient"
description = "The twin's patient under DDD"
duration_s = 2
[patient]
{patient}
[device]
mode = "DDD"
"""


def _write(tmp_path: Path, patient: str) -> Path:
    cond = PRESETS["retrograde_va"].with_changes(va_conduction_ms=300.0, sinus_rate_bpm=64.0)
    save_twin(Twin("twin-7", cond, PROV), tmp_path / "twins" / "p.twin.json")
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO.format(patient=patient))
    return path


def test_scenario_runs_the_twin(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, 'twin = "twins/p.twin.json"'))
    cond = build_heart(scenario).condition
    assert cond.av_conduction == "blocked" and cond.retrograde
    assert cond.va_conduction_ms == 300.0 and cond.sinus_rate_bpm == 64.0
    assert cond.name == "twin-7"
    # the run's evidence names the twin, not only the preset it is expressed on
    assert scenario.patient_twin == "twin twin-7 (twins/p.twin.json)"
    result = run_scenario(scenario, "inprocess+emulated")
    facts = dict(audit_facts(result, None))
    assert facts["patient"].startswith("twin twin-7 (twins/p.twin.json): ")


def test_overrides_apply_on_top_of_the_twin(tmp_path: Path) -> None:
    scenario = load_scenario(_write(
        tmp_path, 'twin = "twins/p.twin.json"\noverrides = { va_conduction_ms = 240.0 }'))
    cond = build_heart(scenario).condition
    assert cond.va_conduction_ms == 240.0 and cond.retrograde and cond.sinus_rate_bpm == 64.0


@pytest.mark.parametrize(("patient", "message", "line"), [
    ('condition = "normal_sinus"\ntwin = "twins/p.twin.json"', "either condition or twin", 5),
    ('twin = "twins/none.twin.json"', "cannot read twin file", 5),
    ("twin = 3", "twin", 5),
])
def test_bad_twin_keys(tmp_path: Path, patient: str, message: str, line: int) -> None:
    with pytest.raises(ScenarioError, match=message) as info:
        load_scenario(_write(tmp_path, patient))
    assert f"s.toml:{line}" in str(info.value)
