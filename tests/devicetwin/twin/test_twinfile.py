"""The twin file: round trip, validation, posterior sampling, free text kept out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from devicetwin.heart import PRESETS
from devicetwin.longevity import Battery
from devicetwin.twin import (
    Posterior,
    Provenance,
    Recommendation,
    Twin,
    TwinError,
    condition_changes,
    load_twin,
    save_twin,
)

PROV = Provenance("csv", {"csv": "a" * 64}, "sn-0123456789abcdef", "salt-file",
                  ("2 comment line(s)",), "0.1.0")


def _twin() -> Twin:
    cond = PRESETS["normal_sinus"].with_changes(
        name="Jane Doe", description="84 F on digoxin", retrograde=True, va_conduction_ms=300.0,
        sinus_rate_bpm=64.0)
    post = Posterior(("sinus_rate_bpm", "retrograde"),
                     np.array([[63.0, 1.0], [65.0, 0.0], [64.0, 1.0]]), "ABC-SMC")
    rec = Recommendation({"mode": "DDD", "parameters": {"pvarp_ms": 250}},
                         {"mode": "DDD", "parameters": {"pvarp_ms": 350}},
                         {"pmt_burden": 0.3}, {"pmt_burden": 0.0}, "optuna NSGA-II",
                         ({"pmt_burden": 0.0, "ventricular_paced_percent": 40.0},))
    return Twin("twin-1", cond, PROV, observed={"atrial_rate_bpm": 64.0},
                predicted={"atrial_rate_bpm": 63.5}, posterior=post,
                programming={"mode": "DDD", "parameters": {}}, recommendation=rec,
                battery=Battery(capacity_ah=1.2))


def test_round_trip(tmp_path: Path) -> None:
    twin = _twin()
    path = save_twin(twin, tmp_path / "p.twin.json")
    back = load_twin(path)
    assert back.condition == twin.condition
    assert back.posterior is not None and twin.posterior is not None
    np.testing.assert_array_equal(back.posterior.samples, twin.posterior.samples)
    assert back.recommendation == twin.recommendation
    assert back.battery == Battery(capacity_ah=1.2)
    assert back.provenance == PROV
    assert back.observed == {"atrial_rate_bpm": 64.0}


def test_free_text_of_the_condition_never_reaches_the_file(tmp_path: Path) -> None:
    text = save_twin(_twin(), tmp_path / "p.twin.json").read_text()
    assert "Jane" not in text and "digoxin" not in text
    assert json.loads(text)["condition"]["name"] == "twin-1"


def test_condition_changes_rebuild_the_condition() -> None:
    twin = _twin()
    changes = condition_changes(twin.condition)
    assert changes["va_conduction_ms"] == 300.0 and changes["retrograde"] is True
    assert "av_delay_ms" not in changes  # unchanged from the preset
    assert PRESETS["normal_sinus"].with_changes(**changes) == twin.condition


def test_sample_conditions_follow_the_posterior() -> None:
    conds = _twin().sample_conditions(200, seed=3)
    rates = {c.sinus_rate_bpm for c in conds}
    assert rates == {63.0, 64.0, 65.0}
    # retrograde is 1 in the samples at 63 and 64 bpm, 0 at 65
    assert all(c.retrograde == (c.sinus_rate_bpm != 65.0) for c in conds)


@pytest.mark.parametrize(("edit", "message"), [
    ({"format": "other"}, "not a devicetwin twin file"),
    ({"condition": {"sinus_rate_bpm": 500.0}}, "sinus_rate_bpm"),
    ({"condition": {"heart_rate": 60}}, "heart_rate"),
    ({"posterior": {"names": ["shoe_size"], "samples": [[1.0]], "method": "x"}}, "shoe_size"),
])
def test_bad_files_name_the_file_and_the_value(tmp_path: Path, edit: dict[str, object],
                                               message: str) -> None:
    doc = _twin().to_dict()
    doc.update(edit)
    path = tmp_path / "bad.twin.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(TwinError, match=message) as info:
        load_twin(path)
    assert str(path) in str(info.value)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(TwinError, match="cannot read twin file"):
        load_twin(tmp_path / "missing.twin.json")
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(TwinError, match="not a JSON twin file"):
        load_twin(tmp_path / "x.json")


@pytest.mark.parametrize("twin_id", ["", "Jane Doe", "twin/1", "ťwin", "-x"])
def test_twin_ids_are_plain(twin_id: str) -> None:
    with pytest.raises(TwinError, match="twin id"):
        Twin(twin_id, PRESETS["normal_sinus"], PROV)
