"""Vector format version 2: every new field round-trips, the JSON Schema accepts what the
writer writes and rejects what the reader rejects, version 1 still loads, enums as strings."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from devicetwin.pacemaker import Chamber, LowerRateTiming, MarkerKind, PaceFlag
from hil.cli import main
from hil.vectors import (
    Anchor,
    ExpectedPace,
    Stimulus,
    VectorFile,
    VectorFileError,
    generate_vectors,
    parse_vectors,
    read_vectors,
    write_vectors,
)
from hil.vectors.command import parse_params
from hil.vectors.generate import vectors_from_stimuli

SCHEMA = json.loads((Path(__file__).parents[3] / "hil" / "vectors" / "schema"
                     / "vectors-v2.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

FULL = VectorFile(
    name="full", mode="DDD", duration_us=3_000_000,
    stimuli=(Stimulus(100_000, Chamber.A), Stimulus(250_000, Chamber.V)),
    expected=(ExpectedPace(1_000_000, Chamber.A, tolerance_us=2000, rule="A-2", note="escape"),
              ExpectedPace(1_110_000, Chamber.V, flags=PaceFlag.SAFETY | PaceFlag.UPPER_RATE,
                           rule="A-7")),
    parameters={"lower_rate_timing": LowerRateTiming.ATRIAL, "lower_rate_ppm": 70},
    prelude=(Stimulus(300_000, Chamber.A), Stimulus(450_000, Chamber.V)),
    anchor=Anchor((MarkerKind.AP, MarkerKind.VP), 2_000_000, 5_000_000),
    judge_until_us=2_500_000, requirements=("A-7", "SRS-112"))


def test_every_v2_field_round_trips_and_the_schema_accepts_it(tmp_path: Path) -> None:
    p = write_vectors(FULL, tmp_path / "full.json")
    doc = json.loads(p.read_text())
    VALIDATOR.validate(doc)
    assert doc["version"] == 2 and doc["parameters"]["lower_rate_timing"] == "ATRIAL"
    assert doc["expected"][1]["flags"] == ["safety", "upper_rate"]
    back = read_vectors(p)
    assert back.prelude == FULL.prelude and back.anchor == FULL.anchor
    assert back.judge_until_us == 2_500_000 and back.requirements == ("A-7", "SRS-112")
    assert [(e.t_us, e.chamber, e.tolerance_us, e.flags, e.rule, e.note) for e in back.expected] \
        == [(e.t_us, e.chamber, e.tolerance_us, e.flags, e.rule, e.note) for e in FULL.expected]
    assert back.parameters["lower_rate_timing"] is LowerRateTiming.ATRIAL
    # per-expectation tolerance, else the chamber's
    assert [back.window_of(e) for e in back.expected] == [2000, 8000]


@pytest.mark.parametrize("pattern", ["sinus", "retrograde", "safety", "pp_sweep",
                                     "boundary_pvarp:delta_ms=-1"])
def test_generated_files_validate_against_the_schema(pattern: str) -> None:
    v = generate_vectors("DDD", {"lower_rate_timing": "atrial"}, pattern, 3_000_000)
    VALIDATOR.validate(json.loads(v.to_json()))


@pytest.mark.parametrize("value", ["atrial", "ATRIAL", "Atrial"])
def test_lower_rate_timing_as_a_string_in_json_and_param(value: str) -> None:
    text = json.dumps({"format": "devicetwin-vectors", "version": 2, "mode": "DDD",
                       "parameters": {"lower_rate_timing": value}, "duration_us": 2_000_000,
                       "stimuli": [], "expected": []})
    v = parse_vectors(text)
    assert v.parameters["lower_rate_timing"] is LowerRateTiming.ATRIAL
    assert '"lower_rate_timing": "ATRIAL"' in v.to_json()  # an in-memory enum serialises
    assert parse_params([f"lower_rate_timing={value}"]) == {
        "lower_rate_timing": LowerRateTiming.ATRIAL}
    # atrial-based timing: the first AP at t + escape = 1000 ms, not escape - PAV
    assert vectors_from_stimuli("DDD", {"lower_rate_timing": value}, (),
                                1_500_000).expected[0].t_us == 1_000_000
    assert vectors_from_stimuli("DDD", {}, (), 1_500_000).expected[0].t_us == 850_000


def test_version_1_files_still_load() -> None:
    v1 = {"format": "devicetwin-vectors", "version": 1, "mode": "VVI", "duration_us": 2_000_000,
          "stimuli": [], "expected": [{"t_us": 1_000_000, "chamber": "V"}]}
    v = parse_vectors(json.dumps(v1))
    assert v.version == 1 and v.anchor is None and v.judged_until_us == 2_000_000
    # v2 keys are not v1 keys
    with pytest.raises(VectorFileError, match="unknown field 'anchor'"):
        parse_vectors(json.dumps({**v1, "anchor": {"events": ["AP"]}}))


def _v2(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = json.loads(FULL.to_json())
    base.update(changes)
    return base


@pytest.mark.parametrize("doc,words", [
    (_v2(anchor={"events": ["AS"]}), "anchor event 'AS' is not AP or VP"),
    (_v2(anchor={"events": []}), "non-empty list"),
    (_v2(anchor=None, prelude=[{"t_us": 0, "chamber": "A"}]), "a prelude needs an anchor"),
    (_v2(prelude=[{"t_us": 2_000_000, "chamber": "A"}]), "not before the anchor search"),
    (_v2(judge_until_us=3_000_001), "judge_until_us = 3000001 is after the end"),
    (_v2(expected=[{"t_us": 1, "chamber": "V", "flags": ["safty"]}]),
     "flag 'safty' is not a pace flag (did you mean safety?)"),
    (_v2(expected=[{"t_us": 1, "chamber": "V", "tolerance_us": -1}]), "below 0"),
    (_v2(requirements="A-7"), "must be a list of IDs"),
    (_v2(device_defined="yes"), "is not true or false"),
])
def test_bad_v2_fields_are_named_and_the_schema_agrees(doc: dict[str, Any],
                                                       words: str) -> None:
    if doc.get("anchor", "") is None:
        del doc["anchor"]
    with pytest.raises(VectorFileError, match=re.escape(words)):
        parse_vectors(json.dumps(doc, indent=1), "bad.json")
    if "prelude" in doc and "anchor" in doc and words.startswith("not before"):
        return  # an ordering rule across fields: the reader's, not the schema's
    if "judge_until_us" in doc and "after the end" in words:
        return  # a rule between two numbers: the reader's
    assert not VALIDATOR.is_valid(doc), words


def test_device_defined_programming_is_held_to_physical_sense() -> None:
    doc = _v2(parameters={"upper_rate_ppm": 67})  # off the 5 ppm grid
    with pytest.raises(VectorFileError, match="upper_rate_ppm"):
        parse_vectors(json.dumps(doc))
    v = parse_vectors(json.dumps({**doc, "device_defined": True}))
    assert v.device_defined and v.programming().device_defined
    assert v.programming().upper_rate_ppm == 67
    assert '"device_defined": true' in v.to_json()


def test_generated_names_are_unique(tmp_path: Path) -> None:
    a = generate_vectors("DDD", {}, "sinus", 2_000_000)
    b = generate_vectors("DDD", {}, "sinus:rate_bpm=90", 2_000_000)
    c = generate_vectors("DDD", {"lower_rate_ppm": 70}, "sinus", 2_000_000)
    d = generate_vectors("DDD", {}, "sinus", 3_000_000)
    names = {a.name, b.name, c.name, d.name}
    assert len(names) == 4, names
    assert a.name == generate_vectors("DDD", {}, "sinus", 2_000_000).name  # reproducible
    assert b.name.startswith("ddd_sinus_rate_bpm90-")


def test_generate_stimuli_wraps_a_hand_written_list(tmp_path: Path) -> None:
    csv = tmp_path / "mine.csv"
    csv.write_text("t_ms,event\n# a conducted beat, then nothing\n200,A\n330,V\n")
    out = tmp_path / "mine.json"
    assert main(["vectors", "generate", "--mode", "DDD", "--stimuli", str(csv),
                 "--duration-s", "2.5", "--out", str(out)]) == 0
    v = read_vectors(out)
    assert [(s.t_us, s.chamber) for s in v.stimuli] == [(200_000, Chamber.A),
                                                          (330_000, Chamber.V)]
    # VS at 330 ms starts VA = 1000 - 150: AP at 1180 ms, VP 150 ms later, again a second on
    assert [(e.t_us, e.chamber) for e in v.expected] == [
        (1_180_000, Chamber.A), (1_330_000, Chamber.V), (2_180_000, Chamber.A),
        (2_330_000, Chamber.V)]
    assert v.name == "mine"
    bad = tmp_path / "bad.csv"
    bad.write_text("100,AP\n")
    assert main(["vectors", "generate", "--stimuli", str(bad), "--out", str(out)]) == 2
