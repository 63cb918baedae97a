"""The battery longevity model, held to the published worked example and to closed-form
arithmetic (114 x usable Ah / mean uA)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devicetwin.longevity import (
    Battery,
    ChamberOutput,
    LongevityError,
    longevity,
    programming_longevity,
    years_for_drain,
)
from devicetwin.pacemaker import Mode, Programming

# The worked example quoted in issue 17: 1 Ah, 85 % usable, 2.5 V output (at or below the
# cell's voltage: no multiplier), 0.4 ms, 500 ohm, 60 ppm, 50 % pacing, 6-10 uA static.
EXAMPLE = ChamberOutput(amplitude_v=2.5, width_ms=0.4, impedance_ohm=500.0, rate_ppm=60.0,
                        paced_fraction=0.5)


@pytest.mark.parametrize(("static_ua", "published_years"), [(6.0, 13.9), (10.0, 8.8)])
def test_published_worked_example_within_one_percent(static_ua: float,
                                                     published_years: float) -> None:
    battery = Battery(capacity_ah=1.0, usable_fraction=0.85, voltage_v=2.8,
                      static_current_ua=static_ua)
    result = longevity(battery, [EXAMPLE])
    assert result.years == pytest.approx(published_years, rel=0.01)


def test_pulse_charge_and_current_by_hand() -> None:
    # 2.5 V / 500 ohm = 5 mA for 0.4 ms = 2 uC; one pulse a second, half of them: 1 uA
    assert EXAMPLE.charge_per_pulse_uc == pytest.approx(2.0)
    assert EXAMPLE.output_current_ua == pytest.approx(1.0)
    result = longevity(Battery(static_current_ua=6.0), [EXAMPLE])
    assert result.total_current_ua == pytest.approx(7.0)
    assert result.multipliers == (1.0,)


def test_114_rule() -> None:
    # 1 Ah at 1 uA: 10^6 hours = 114.08 years
    assert years_for_drain(1.0, 1.0) == pytest.approx(114.08, abs=0.01)


def test_multiplier_applies_only_above_the_cell_voltage() -> None:
    battery = Battery(voltage_v=2.8, static_current_ua=5.0, multipliers=(2.0, 3.0),
                      pump_efficiency=0.8)
    below = ChamberOutput(2.8, 0.4, 500.0, 60.0, 1.0)
    above = ChamberOutput(3.5, 0.4, 500.0, 60.0, 1.0)
    triple = ChamberOutput(7.0, 0.4, 500.0, 60.0, 1.0)
    r_below = longevity(battery, [below])
    r_above = longevity(battery, [above])
    r_triple = longevity(battery, [triple])
    # 2.8/500*0.4 = 2.24 uC/s; 3.5 V: 2.8 uC/s x 2 / 0.8; 7.0 V (> 5.6 V): 5.6 uC/s x 3 / 0.8
    assert r_below.pacing_current_ua == pytest.approx(2.24)
    assert r_above.pacing_current_ua == pytest.approx(2.8 * 2 / 0.8)
    assert r_triple.pacing_current_ua == pytest.approx(5.6 * 3 / 0.8)
    assert (r_below.multipliers, r_above.multipliers, r_triple.multipliers) == \
        ((1.0,), (2.0,), (3.0,))


def test_amplitude_beyond_the_supply_is_refused() -> None:
    with pytest.raises(LongevityError, match=r"amplitude 9 V .*8\.4 V"):
        longevity(Battery(voltage_v=2.8), [ChamberOutput(9.0, 0.4, 500.0, 60.0, 1.0)])


@pytest.mark.parametrize(("field", "value"), [("capacity_ah", 0.0), ("usable_fraction", 1.5),
                                              ("static_current_ua", -1.0)])
def test_bad_battery_values_are_named(field: str, value: float) -> None:
    with pytest.raises(LongevityError, match=rf"{field} {value!r} is out of range") as info:
        Battery(**{field: value})
    assert info.value.name == field


def test_programming_longevity_counts_only_paced_chambers() -> None:
    battery = Battery(voltage_v=2.8, static_current_ua=8.0)
    vvi = Programming.nominal(Mode.VVI, ventricular_amplitude_v=2.5)
    ddd = Programming.nominal(Mode.DDD, atrial_amplitude_v=2.5, ventricular_amplitude_v=2.5)
    r_vvi = programming_longevity(battery, vvi, atrial_paced_fraction=1.0,
                                  ventricular_paced_fraction=0.5)
    r_ddd = programming_longevity(battery, ddd, atrial_paced_fraction=1.0,
                                  ventricular_paced_fraction=0.5)
    # VVI at 60 ppm: the atrium draws nothing; DDD adds 2 uC/s x 1.0 for the atrium
    assert r_vvi.pacing_current_ua == pytest.approx(1.0)
    assert r_ddd.pacing_current_ua == pytest.approx(3.0)
    assert r_vvi.years == pytest.approx(114.08 * 0.85 / 9.0, rel=1e-3)


@given(st.floats(0.5, 5.0), st.floats(0.5, 5.0), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_more_output_or_more_pacing_never_lasts_longer(a1: float, a2: float, f1: float,
                                                       f2: float) -> None:
    battery = Battery()
    lo_a, hi_a = sorted((a1, a2))
    lo_f, hi_f = sorted((f1, f2))
    short = longevity(battery, [ChamberOutput(hi_a, 0.4, 500.0, 70.0, hi_f)])
    long = longevity(battery, [ChamberOutput(lo_a, 0.4, 500.0, 70.0, lo_f)])
    assert short.years <= long.years
    # years x drain is the battery's constant
    assert short.years * short.total_current_ua == pytest.approx(
        long.years * long.total_current_ua)
