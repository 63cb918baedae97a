"""Device profiles: what a device is, reports and runs; errors name the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from devicetwin.pacemaker import MarkerKind, Mode
from hil.devices.profile import REPORTS, load_profile, parse_profile
from hil.scenarios import ScenarioError

STUDENT = """\
name = "student-ddd"
description = "a DDD state machine"
url = "events+exec:./pacer"
reports = "paces"
programmed = false

[programming]
mode = "DDD"
upper_rate_ppm = 67
ventricular_pulse_width_ms = 5.0
fixed_av_delay_ms = 143

[events]
early_stop = true
"""


def test_a_profile_with_off_grid_programming() -> None:
    p = parse_profile(STUDENT, "student.toml")
    assert (p.name, p.url, p.programmed) == ("student-ddd", "events+exec:./pacer", False)
    assert p.reports == REPORTS["paces"] and MarkerKind.AS not in p.reports
    assert p.programming is not None and p.programming.device_defined
    assert p.programming.mode is Mode.DDD and p.programming.upper_rate_ppm == 67
    assert p.settings == {"early_stop": True}
    assert p.to_dict()["programming"] == "device-defined"


@pytest.mark.parametrize(("change", "line", "message"), [
    (('reports = "paces"', 'reports = "pace"'), 4, "did you mean paces"),
    (("ventricular_pulse_width_ms = 5.0", "ventricular_pulse_width_ms = 50.0"), 10,
     "physical sense"),
    (('url = "events+exec:./pacer"', 'url = "evnts+exec:./pacer"'), 3, "did you mean events"),
    (("upper_rate_ppm = 67", "upper_rat_ppm = 67"), 9, "did you mean upper_rate_ppm"),
])
def test_errors_name_the_line(change: tuple[str, str], line: int, message: str) -> None:
    with pytest.raises(ScenarioError, match=message) as err:
        parse_profile(STUDENT.replace(*change), "p.toml")
    assert err.value.line == line


def test_a_device_that_is_not_programmed_needs_its_programming(tmp_path: Path) -> None:
    text = STUDENT.split("[programming]")[0]
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match="needs the \\[programming\\]"):
        load_profile(path)
