"""Trial files: the reference trial reads; a bad value fails naming file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.errors import ConfigError
from hil.trials.spec import LIBRARY_DIR, TrialSpec, library_trials, load_trial, trial_from_text

POP = LIBRARY_DIR / "snd_intact_av.toml"
GOOD = f"""name = "t"
population = "{POP}"
patients = 4
duration_s = 60
strata = ["retrograde"]
[[arms]]
name = "a"
mode = "DDD"
[[arms]]
name = "b"
mode = "DDD"
parameters = {{ fixed_av_delay_ms = 300, upper_rate_ppm = 105 }}
"""


def _read(tmp_path: Path, text: str) -> TrialSpec:
    path = tmp_path / "t.toml"
    path.write_text(text)
    return trial_from_text(text, path)


def _fails(tmp_path: Path, text: str, *fragments: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        _read(tmp_path, text)
    for f in fragments:
        assert f in str(info.value), str(info.value)
    return info.value


def test_the_reference_trial_reads() -> None:
    assert "save_pace" in library_trials()
    spec = load_trial("save_pace")
    assert spec.population_path == LIBRARY_DIR / "snd_intact_av.toml"
    assert spec.baseline == "nominal_ddd" and spec.duration_us == 1_800_000_000
    nominal, long_av, short = (a.programming() for a in spec.arms)
    assert (nominal.fixed_av_delay_ms, long_av.fixed_av_delay_ms) == (150, 300)
    assert short.pvarp_ms == 200 and long_av.upper_rate_ppm == 105
    assert spec.statistic_for("ventricular_paced_percent") == "median"
    assert spec.statistic_for("pmt_burden") == "mean"
    (cmp,) = spec.comparisons
    assert dict(cmp.published) == {"nominal_ddd": 99.0, "long_av": 9.1}  # SAVE PACe


def test_a_good_file_and_its_defaults(tmp_path: Path) -> None:
    spec = _read(tmp_path, GOOD)
    assert spec.baseline == "a" and spec.endpoints == ("ventricular_paced_percent",)


def test_a_programming_the_model_refuses_names_its_line(tmp_path: Path) -> None:
    # AV 300 + PVARP 250 = TARP 550 ms is longer than the 120 ppm upper-rate interval (500 ms)
    text = GOOD.replace(", upper_rate_ppm = 105", "")
    err = _fails(tmp_path, text, "t.toml:12:", "arms.1.parameters.fixed_av_delay_ms", "TARP")
    assert err.line == 12


def test_unknown_names_get_the_closest(tmp_path: Path) -> None:
    _fails(tmp_path, GOOD.replace('strata = ["retrograde"]', 'strata = ["retrogade"]'),
           "t.toml:5:", "did you mean retrograde")
    wrong = 'duration_s = 60\nendpoints = ["ventricular_paced_pct"]'
    _fails(tmp_path, GOOD.replace("duration_s = 60", wrong), "t.toml:5:",
           "did you mean ventricular_paced_percent")
    _fails(tmp_path, GOOD.replace('name = "b"\nmode = "DDD"', 'name = "b"\nmode = "DDX"'),
           "t.toml:11:", "mode")
    _fails(tmp_path, GOOD.replace("patients = 4", "patients = 4\npatents = 3"),
           "unknown field 'patents'")


def test_values_out_of_range_and_shapes(tmp_path: Path) -> None:
    _fails(tmp_path, GOOD.replace("patients = 4", "patients = 0"), "t.toml:3:", "patients")
    _fails(tmp_path, GOOD.replace("patients = 4", "patients = 4.5"), "t.toml:3:", "integer")
    _fails(tmp_path, GOOD.replace("duration_s = 60", "duration_s = -1"), "duration_s")
    _fails(tmp_path, GOOD.replace('name = "b"', 'name = "a"'), "used twice")
    _fails(tmp_path, GOOD.split("[[arms]]\nname = \"b\"")[0], "at least two arms")
    _fails(tmp_path, GOOD.replace('strata = ["retrograde"]', 'strata = ["av_delay_ms"]'),
           "continuous")
    _fails(tmp_path, GOOD.replace('mode = "DDD"\n[[arms]]',
                                  'mode = "DDD"\ndevice = "hardware"\n[[arms]]'),
           "unknown device kind 'hardware'")
    _fails(tmp_path, GOOD.replace(f'population = "{POP}"', 'population = "nowhere"'),
           "t.toml:2:", "no population file")
