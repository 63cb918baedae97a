"""Scenario files load into the declared structure; every mistake names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.scenarios import ScenarioError, load_scenario, parse_scenario

GOOD = """\
name = "pmt_demo"
description = "A PVC starts a PMT that the device ends."
requirements = ["REQ-PMT-1", "A-14"]
duration_s = 60
seed = 7

[patient]
condition = "retrograde_va"
overrides = { retrograde_ms = 260 }

[device]
mode = "DDD"
[device.parameters]
lower_rate_ppm = 60
pvarp_ms = 250

[[timeline]]
at_s = 10
action = "pvc"
count = 1

[[timeline]]
at_s = 5.5
action = "exercise"
workload = 0.5

[expect]
min_recall = 0.95
[expect.hazards]
pmt = true
crosstalk = false
"""


def test_good_file_loads_every_field() -> None:
    sc = parse_scenario(GOOD, "pmt.toml")
    assert sc.name == "pmt_demo"
    assert sc.requirements == ("REQ-PMT-1", "A-14")
    assert sc.duration_us == 60_000_000
    assert sc.seed == 7
    assert sc.condition == "retrograde_va"
    assert sc.condition_overrides == {"retrograde_ms": 260}
    assert sc.mode == "DDD"
    assert sc.parameters == {"lower_rate_ppm": 60, "pvarp_ms": 250}
    # sorted by time, converted to microseconds, with the line of its [[timeline]] header
    assert [(e.at_us, e.action, e.line) for e in sc.timeline] == [
        (5_500_000, "exercise", 22),
        (10_000_000, "pvc", 17),
    ]
    assert sc.timeline[1].params == {"count": 1}
    assert sc.expect.hazards == {"pmt": True, "crosstalk": False}
    assert sc.expect.min_recall == 0.95
    assert sc.expect.min_precision == 0.99  # default
    assert sc.tolerance_ms == 8.0


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "words"),
    [
        ('duration_s = 60', 'duration_s = -1', 4, "duration_s", "-1 is out of range"),
        ('duration_s = 60', 'duration_s = "60"', 4, "duration_s", "'60' is not"),
        ('condition = "retrograde_va"', 'kondition = "x"', 8, "patient.kondition",
         "unknown field"),
        ('action = "pvc"', 'action = "explode"', 19, "timeline.0.action",
         "unknown action 'explode'"),
        ('count = 1', 'colour = 1', 20, "timeline.0.colour", "takes no field 'colour'"),
        ('pmt = true', 'pmt = "yes"', 30, "expect.hazards.pmt", "'yes' is not true or false"),
        ('crosstalk = false', 'warp_core = false', 31, "expect.hazards.warp_core",
         "unknown hazard"),
        ('at_s = 10', 'at_s = 100', 18, "timeline.0.at_s", "100 is out of range"),
        ('name = "pmt_demo"', 'name = "PMT Demo"', 1, "name", "not a lowercase identifier"),
        ('mode = "DDD"', '', 11, "device", "missing required field 'mode'"),
    ],
)
def test_errors_name_file_line_and_field(
    old: str, new: str, line: int, field: str, words: str
) -> None:
    assert old in GOOD
    with pytest.raises(ScenarioError) as info:
        parse_scenario(GOOD.replace(old, new, 1), "bad.toml")
    err = info.value
    assert (err.file, err.line, err.field) == ("bad.toml", line, field)
    assert str(err).startswith(f"bad.toml:{line}: field '{field}': ")
    assert words in str(err)


def test_toml_syntax_error_names_the_line() -> None:
    with pytest.raises(ScenarioError, match=r"^x.toml:2: field '\(syntax\)'"):
        parse_scenario('name = "a"\nduration_s = = 3\n', "x.toml")


def test_semantic_check_is_reported_at_the_parameter_line() -> None:
    class BadValueError(ValueError):
        name = "pvarp_ms"

    def check(sc: object) -> None:
        raise BadValueError("pvarp_ms=250 is not allowed here")

    with pytest.raises(ScenarioError) as info:
        parse_scenario(GOOD, "p.toml", checks=(check,))
    assert (info.value.line, info.value.field) == (15, "device.parameters.pvarp_ms")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read the file"):
        load_scenario(tmp_path / "nope.toml")
