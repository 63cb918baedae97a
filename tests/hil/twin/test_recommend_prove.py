"""``devicetwin twin recommend --prove``: the recommendation run in closed loop on the cell-network
heart with the reference firmware, checked against the issue's worked example (a sinus node
disease patient with intact conduction goes from over 90 % ventricular pacing under the nominal
DDD to under 10 %) and recounted from the proof's own evidence files."""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from pathlib import Path

import pytest
import wfdb

from devicetwin.heart.conditions import get_condition
from devicetwin.twin import Provenance, Twin, load_twin, save_twin
from hil.cli import main
from hil.exitcodes import ExitCode


def _notes(record: Path, annotator: str) -> Counter[str]:
    ann = wfdb.rdann(str(record), annotator)
    return Counter(ann.aux_note or [])


def _ventricular_paced_percent(dev: Counter[str]) -> float:
    """VP markers (any flags) over all ventricular markers, from the record's 'dev' annotator."""
    paced = sum(n for note, n in dev.items() if note.startswith("VP"))
    sensed = sum(n for note, n in dev.items() if note.startswith(("VS", "PVC")))
    return 100.0 * paced / (paced + sensed)


def test_prove_sinus_node_disease_pacing_from_above_90_to_below_10_percent(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # sinus bradycardia 45 bpm with AV conduction 176 ms at the leads; no programming known, so
    # the current one is the nominal DDD (60 ppm, AV delay 150 ms: paced before conduction)
    twin_path = tmp_path / "snd.twin.json"
    save_twin(Twin(twin_id="snd-example", condition=get_condition("sinus_bradycardia"),
                   provenance=Provenance("bench", {}, None, "per-import", (), "test")),
              twin_path)
    code = main(["twin", "recommend", str(twin_path), "--trials", "12", "--duration-s", "30",
                 "--prove", "--prove-duration-s", "30", "--json"])
    out = capsys.readouterr().out
    assert code == ExitCode.PASSED, out
    printed = json.loads(out.strip().splitlines()[-1])
    evidence = printed["evidence"]
    assert evidence["device"] == "emulated" and evidence["heart"] == "cell network"
    # the figures, as the bench measured them
    assert evidence["current: ventricular_paced_percent"] > 90.0
    assert evidence["recommended: ventricular_paced_percent"] < 10.0
    assert evidence["current: conformance"] == "pass"
    assert evidence["recommended: conformance"] == "pass"
    # stored with the twin's recommendation
    saved = load_twin(twin_path).recommendation
    assert saved is not None
    assert saved.evidence["recommended: ventricular_paced_percent"] == pytest.approx(
        evidence["recommended: ventricular_paced_percent"])
    proof = tmp_path / "snd.proof"
    for label in ("current", "recommended"):
        # the scenario it ran: this twin, under that programming
        scenario = tomllib.loads((proof / evidence[f"{label}: scenario"]).read_text("utf-8"))
        assert Path(scenario["patient"]["twin"]) == twin_path.resolve()
        assert scenario["device"]["mode"] == printed[label]["programming"]["mode"]
        assert scenario["duration_s"] == 30.0
        summary = json.loads((proof / evidence[f"{label}: summary"]).read_text("utf-8"))
        assert summary["outcomes"]["ventricular_paced_percent"] == pytest.approx(
            evidence[f"{label}: ventricular_paced_percent"])
        record = proof / evidence[f"{label}: record"]
        header = wfdb.rdheader(str(record))
        assert header.sig_len / header.fs == pytest.approx(30.0, abs=0.01)
    # recounted from the records: the device's markers ...
    dev_current = _notes(proof / evidence["current: record"], "dev")
    dev_recommended = _notes(proof / evidence["recommended: record"], "dev")
    vp_current = _ventricular_paced_percent(dev_current)
    vp_recommended = _ventricular_paced_percent(dev_recommended)
    assert vp_current > 90.0 and vp_recommended < 10.0
    assert vp_current == pytest.approx(evidence["current: ventricular_paced_percent"], abs=5.0)
    assert vp_recommended == pytest.approx(evidence["recommended: ventricular_paced_percent"],
                                           abs=5.0)
    # ... and the cell heart's own truth: under the recommendation the ventricles are activated
    # by conduction, not by the pacemaker; under the nominal DDD the paces capture them
    heart_current = _notes(proof / evidence["current: record"], "heart")
    heart_recommended = _notes(proof / evidence["recommended: record"], "heart")
    cycles_current = heart_current["RA captured"] + heart_current["sinus"]
    cycles_recommended = heart_recommended["RA captured"] + heart_recommended["sinus"]
    assert heart_current["RV captured"] >= 0.85 * cycles_current
    assert heart_recommended["RV captured"] <= 0.10 * cycles_recommended
    assert heart_recommended["conducted"] >= 0.90 * cycles_recommended
