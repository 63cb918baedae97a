"""Scenario files load into the declared structure; every mistake names file, line and field."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from devicetwin.pacemaker import LowerRateTiming
from hil.errors import ConfigError
from hil.scenarios import ScenarioError, load_scenario, parse_scenario

GOOD = """\
name = "pmt_demo"
description = "A PVC starts a PMT that the device ends."
requirements = ["REQ-PMT-1", "A-14"]
duration_s = 60
seed = 7

[patient]
condition = "retrograde_va"
overrides = { va_conduction_ms = 260 }

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
    assert sc.condition_overrides == {"va_conduction_ms": 260}
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


# --- configuration errors are messages: names checked, closest names suggested ---------------

DEVICE = """\
name = "t"
description = "t"
duration_s = 2
[patient]
condition = "normal_sinus"
[device]
mode = "{mode}"
parameters = {{ {parameters} }}
"""


def _error(mode: str = "DDD", parameters: str = "", extra: str = "") -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(DEVICE.format(mode=mode, parameters=parameters) + extra, "s.toml")
    return info.value


def test_a_misspelt_parameter_suggests_the_closest_name() -> None:
    err = _error(parameters="lower_rate_pmm = 75")
    assert str(err).startswith("s.toml:8: field 'device.parameters.lower_rate_pmm': ")
    assert "did you mean lower_rate_ppm?" in str(err)
    assert "upper_rate_ppm" in str(err)  # and what is allowed


def test_an_unknown_mode_names_the_allowed_modes() -> None:
    err = _error(mode="VOOO")
    assert (err.line, err.field) == (7, "device.mode")
    assert "did you mean VOO?" in str(err)
    assert "AOO, AAI, VOO, VVI" in str(err)


def test_a_programming_rule_names_the_file_and_the_line_of_the_parameter() -> None:
    err = _error(mode="VVI", parameters="lower_rate_ppm = 7")
    assert str(err).startswith("s.toml:8: field 'device.parameters.lower_rate_ppm': "
                               "lower_rate_ppm=7 is not allowed: expected 30-50 step 5")
    # TARP > URI is reported on fixed_av_delay_ms, which the file leaves nominal: the line of
    # its parameters
    text = DEVICE.format(mode="DDD", parameters="").replace("parameters = {  }\n", "") \
        + "[device.parameters]\nupper_rate_ppm = 120\npvarp_ms = 400\n"
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.toml")
    assert info.value.line == 8 and "TARP" in str(info.value)
    # no parameters at all: the [device] table
    with pytest.raises(ScenarioError) as info:
        parse_scenario(DEVICE.format(mode="OAO", parameters="").replace(
            "parameters = {  }\n", ""), "s.toml")
    assert (info.value.line, info.value.field) == (7, "device.mode")
    assert "temporary-only" in str(info.value)


def test_enum_parameters_take_their_names_in_any_case() -> None:
    sc = parse_scenario(DEVICE.format(mode="ddd", parameters='lower_rate_timing = "atrial", '
                                      'hysteresis_rate_ppm = "off"'))
    assert sc.mode == "DDD"
    assert sc.parameters == {"lower_rate_timing": LowerRateTiming.ATRIAL,
                             "hysteresis_rate_ppm": None}


@pytest.mark.parametrize(("parameters", "extra", "line", "field", "words"), [
    ('lower_rate_timing = "atrail"', "", 8, "device.parameters.lower_rate_timing",
     "did you mean ATRIAL?"),
    ("atrial_amplitude_v = nan", "", 8, "device.parameters.atrial_amplitude_v",
     "is not a finite number"),
    ("mode = 1", "", 8, "device.parameters.mode", "'mode' is given on its own"),
    ("", "must_refuse = [\n  { lower_rate_ppm = 33 },\n  { lower_rat_ppm = 33 },\n]\n", 11,
     "device.must_refuse.1.lower_rat_ppm", "did you mean lower_rate_ppm?"),
    ("", '[patient.overrides]\nsinus_rate = 80\n', 10, "patient.overrides.sinus_rate",
     "did you mean sinus_rate_bpm?"),
    ("", '[patient.overrides]\nsinus_rate_bpm = 500\n', 10, "patient.overrides.sinus_rate_bpm",
     "expected [20.0, 200.0] bpm"),
    ("", '[[timeline]]\nat_s = 1\naction = "hart"\n', 11, "timeline.0.action",
     "did you mean heart?"),
    ("", '[[timeline]]\nat_s = 1\naction = "heart"\nsinus_rate = 80\n', 12,
     "timeline.0.sinus_rate", "did you mean sinus_rate_bpm?"),
    ("", '[[timeline]]\nat_s = 1\naction = "pvc"\ncount = 1.5\n', 12, "timeline.0.count",
     "1.5 is not an integer"),
    ("", '[[timeline]]\nat_s = 1\naction = "noise"\nkind = "main"\n', 12, "timeline.0.kind",
     "did you mean mains?"),
    ("", '[[timeline]]\nat_s = nan\naction = "pvc"\n', 10, "timeline.0.at_s",
     "is not a finite number"),
    ("", '[expect]\nhazards = { pmtt = true }\n', 10, "expect.hazards.pmtt",
     "did you mean pmt?"),
    ("", '[patiant]\n', 9, "patiant", "did you mean patient?"),
])
def test_every_name_and_value_is_checked(parameters: str, extra: str, line: int, field: str,
                                         words: str) -> None:
    err = _error(parameters=parameters, extra=extra)
    assert (err.line, err.field) == (line, field), str(err)
    assert words in str(err)


def test_scenario_error_is_a_config_error_and_pickles() -> None:
    err = _error(mode="VOOO")
    assert isinstance(err, ConfigError)
    assert (err.source, err.line) == ("s.toml", 7)
    back = pickle.loads(pickle.dumps(err))
    assert (str(back), back.source, back.line, back.field, back.value) == (
        str(err), "s.toml", 7, "device.mode", "VOOO")


def test_a_file_that_is_not_utf8_is_a_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes(b'name = "\xff"\n')
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(path)


OUTCOMES_DOC = """\
name = "t"
description = "t"
duration_s = 2
[patient]
condition = "normal_sinus"
[device]
mode = "DDD"
[expect.outcomes]
{limits}
"""


def test_outcome_limits_are_read(tmp_path: Path) -> None:
    sc = parse_scenario(OUTCOMES_DOC.format(
        limits="pmt_burden_max = 0.05\nventricular_paced_percent_max = 40\npmt_episodes_min = 1"))
    got = {(lim.name, lim.low, lim.high) for lim in sc.expect.outcomes}
    assert got == {("pmt_burden", None, 0.05), ("ventricular_paced_percent", None, 40.0),
                   ("pmt_episodes", 1.0, None)}


@pytest.mark.parametrize(("limits", "message"), [
    ("pmt_burdn_max = 0.1", "did you mean pmt_burden_max?"),
    ("pmt_burden_max = \"low\"", "is not a number"),
    ("pmt_episodes_min = 3\npmt_episodes_max = 1", "pmt_episodes_min 3 is above"),
])
def test_bad_outcome_limits_name_the_line(limits: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message) as err:
        parse_scenario(OUTCOMES_DOC.format(limits=limits), "o.toml")
    assert err.value.line in (9, 10)  # the [expect.outcomes] entries start on line 9


def test_device_needs_are_checked() -> None:
    base = OUTCOMES_DOC.replace("[expect.outcomes]\n{limits}\n", "").replace(
        'mode = "DDD"', 'mode = "DDD"\nneeds = [{needs}]')
    assert parse_scenario(base.format(needs='"pmt_termination"')).needs == ("pmt_termination",)
    with pytest.raises(ScenarioError, match="did you mean pmt_termination"):
        parse_scenario(base.format(needs='"pmt_terminaton"'), "n.toml")
