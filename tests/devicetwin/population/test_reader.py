"""The population file reader: library files load; bad files fail naming file, place and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from devicetwin.errors import DeviceTwinError
from devicetwin.population import (
    Bernoulli,
    Normal,
    PopulationError,
    load_population,
    population_from_mapping,
    sample_patients,
)

LIBRARY = Path(__file__).resolve().parents[3] / "hil" / "trials" / "library"
POPULATIONS = ("snd_intact_av", "bradycardia_mix")


@pytest.mark.parametrize("name", POPULATIONS)
def test_library_population_loads_and_every_patient_is_a_valid_condition(name: str) -> None:
    pop = load_population(LIBRARY / f"{name}.toml")
    for ind in pop.indications:
        for p in ind.parameters:
            assert p.source.strip(), (ind.name, p.name)
        for c in ind.correlations:
            assert c.source.strip()
    for patient in sample_patients(pop, 300, 11):
        patient.condition()  # validates every field against its range


def test_snd_population_carries_the_published_retrograde_figures() -> None:
    ind = load_population(LIBRARY / "snd_intact_av.toml").indication("sinus_node_dysfunction")
    params = {p.name: p for p in ind.parameters}
    assert params["retrograde"].distribution == Bernoulli(0.67)  # Marco & Gallagher 1988
    va = params["va_conduction_ms"].distribution
    assert isinstance(va, Normal) and (va.mean, va.sd) == (258.0, 65.0)  # Richter 2013
    assert "Richter" in params["va_conduction_ms"].source


def _pop(**param: object) -> dict[str, object]:
    return {"name": "p", "indications": [{"name": "snd", "base": "sick_sinus",
                                          "parameters": param}]}


def _fails(data: dict[str, object], *fragments: str) -> PopulationError:
    with pytest.raises(PopulationError) as info:
        population_from_mapping(data, source="pop.toml")
    for f in fragments:
        assert f in str(info.value), str(info.value)
    assert isinstance(info.value, DeviceTwinError)
    return info.value


def test_unknown_distribution_names_the_parameter_and_the_choices() -> None:
    _fails(_pop(sinus_rate_bpm={"dist": "gaussian", "mean": 50, "sd": 5, "source": "x"}),
           "pop.toml", "indication 'snd'", "sinus_rate_bpm", "'gaussian'")


def test_a_parameter_without_a_source_is_refused() -> None:
    err = _fails(_pop(sinus_rate_bpm={"dist": "normal", "mean": 50, "sd": 5}), "needs a source")
    assert err.name == "source"


def test_truncation_outside_the_condition_range_is_refused() -> None:
    # sinus_rate_bpm is allowed 20..200 bpm
    err = _fails(_pop(sinus_rate_bpm={"dist": "uniform", "low": 10.0, "high": 60.0,
                                      "source": "x"}), "[10.0, 60.0]", "[20.0, 200.0] bpm")
    assert err.value == (10.0, 60.0)


def test_a_misspelt_parameter_gets_the_closest_name() -> None:
    _fails(_pop(sinus_rate_bmp={"dist": "constant", "value": 50.0, "source": "x"}),
           "did you mean sinus_rate_bpm")


def test_a_tuple_field_is_not_a_population_parameter() -> None:
    _fails(_pop(pvc_times_ms={"dist": "constant", "value": 1.0, "source": "x"}),
           "'pvc_times_ms' is not a condition parameter")


def test_bad_shape_parameters() -> None:
    _fails(_pop(av_delay_ms={"dist": "normal", "mean": 200, "sd": 0, "source": "x"}),
           "sd 0.0 must be > 0")
    _fails(_pop(pvc_rate_per_min={"dist": "lognormal", "median": 1, "gsd": 0.5, "source": "x"}),
           "gsd 0.5 must be > 1")
    _fails(_pop(retrograde={"dist": "bernoulli", "p": 1.5, "source": "x"}), "p 1.5")
    _fails(_pop(retrograde={"dist": "normal", "mean": 1, "sd": 1, "low": 0, "high": 1,
                            "source": "x"}), "true/false")
    _fails(_pop(atrial_rhythm={"dist": "choice", "values": ["sinus", "flutterr"],
                               "source": "x"}), "choices")


def test_correlations_must_name_varied_parameters_and_fit_together() -> None:
    params = {n: {"dist": "uniform", "low": 200.0, "high": 300.0, "source": "x"}
              for n in ("av_delay_ms", "av_erp_ms", "va_erp_ms")}
    base = {"name": "snd", "base": "sick_sinus", "parameters": params}
    _fails({"indications": [{**base, "correlations": [
        {"between": ["av_delay_ms", "sinus_rate_bpm"], "rho": 0.3, "source": "x"}]}]},
        "'sinus_rate_bpm', which the indication does not vary")
    # pairwise 0.9, 0.9 and -0.9 cannot hold together
    _fails({"indications": [{**base, "correlations": [
        {"between": ["av_delay_ms", "av_erp_ms"], "rho": 0.9, "source": "x"},
        {"between": ["av_erp_ms", "va_erp_ms"], "rho": 0.9, "source": "x"},
        {"between": ["av_delay_ms", "va_erp_ms"], "rho": -0.9, "source": "x"}]}]},
        "positive definite")
    _fails({"indications": [{**base, "correlations": [
        {"between": ["av_delay_ms", "av_erp_ms"], "rho": 1.0, "source": "x"}]}]},
        "outside (-1, 1)")


def test_unknown_base_and_keys() -> None:
    _fails({"indications": [{"name": "x", "base": "sick_sinnus"}]}, "did you mean sick_sinus")
    _fails({"indications": [{"name": "x", "base": "sick_sinus", "wieght": 2}]},
           "unknown field 'wieght'", "did you mean weight")
    _fails({"indications": []}, "at least one")


def test_a_file_that_is_not_toml(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(PopulationError, match=r"bad\.toml: not valid TOML"):
        load_population(bad)
    with pytest.raises(PopulationError, match="cannot read population file"):
        load_population(tmp_path / "missing.toml")
