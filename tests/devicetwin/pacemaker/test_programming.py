"""Parameters as data and the validated Programming (spec table; assumptions A-1, A-18)."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from devicetwin.errors import DeviceTwinError, close_names, did_you_mean
from devicetwin.pacemaker import (
    PARAMETERS,
    ActivityThreshold,
    LowerRateTiming,
    Mode,
    Programming,
    ProgrammingError,
    interval_ms,
)
from devicetwin.pacemaker.programming import (
    PARAMETER_NAMES,
    parse_mode,
    value_from_plain,
    value_to_plain,
)

# The spec table (pacing.md section 1), restated by hand: name -> (nominal, a few allowed values,
# a few values off the grid).
SPEC_TABLE: dict[str, tuple[Any, list[Any], list[Any]]] = {
    "lower_rate_ppm": (60, [30, 35, 50, 51, 89, 90, 95, 175], [29, 31, 52.5, 92, 180]),
    "upper_rate_ppm": (120, [50, 55, 175], [45, 52, 180]),
    "max_sensor_rate_ppm": (120, [50, 175], [49, 121]),
    "fixed_av_delay_ms": (150, [70, 80, 300], [60, 75, 310]),
    "min_dynamic_av_delay_ms": (50, [30, 100], [20, 35, 110]),
    "sensed_av_offset_ms": (None, [None, -10, -100], [0, -5, -110, 10]),
    "atrial_amplitude_v": (3.5, [None, 0.5, 3.2, 3.5, 7.0, 1.25, 3.75], [0.4, 3.3, 3.4, 7.5]),
    "ventricular_amplitude_v": (3.5, [None, 0.6, 6.5, 2.5, 5.0], [3.25, 8.0, 0.0]),
    "atrial_pulse_width_ms": (0.4, [0.05, 0.1, 1.9], [0.0, 0.075, 2.0, 0.15]),
    "ventricular_pulse_width_ms": (0.4, [0.05, 1.0], [0.06, 1.95]),
    "atrial_sensitivity_mv": (0.75, [0.25, 0.5, 0.75, 1.0, 1.5, 10.0], [0.3, 1.25, 10.5]),
    "ventricular_sensitivity_mv": (2.5, [0.25, 9.5], [0.1, 1.2]),
    "vrp_ms": (320, [150, 500], [140, 155, 510]),
    "arp_ms": (250, [150, 500], [140, 505]),
    "pvarp_ms": (250, [150, 500], [149, 510]),
    "pvarp_extension_ms": (None, [None, 50, 400], [0, 25, 450]),
    "hysteresis_rate_ppm": (None, [None, 30, 55], [0, 32]),
    "rate_smoothing_pct": (None, [None, 3, 21, 25], [0, 4, 24, 30]),
    "atr_duration_cycles": (20, [10, 20, 80, 100, 2000], [15, 90, 150, 2100]),
    "atr_fallback_time_min": (1, [1, 5], [0, 6]),
    "ventricular_blanking_ms": (40, [30, 60], [20, 45, 70]),
    "reaction_time_s": (30, [10, 50], [5, 15, 60]),
    "response_factor": (8, [1, 16], [0, 17]),
    "recovery_time_min": (5, [2, 16], [1, 17]),
}


def test_table_nominals_grids_and_units() -> None:
    for name, (nominal, good, bad) in SPEC_TABLE.items():
        spec = PARAMETERS[name]
        assert spec.nominal == nominal, name
        for v in good:
            assert v in spec.values, (name, v)
        for v in bad:
            assert v not in spec.values, (name, v)
    assert PARAMETERS["activity_threshold"].nominal is ActivityThreshold.MED
    assert PARAMETERS["dynamic_av_delay"].nominal is False
    assert PARAMETERS["atr_mode"].nominal is False
    assert PARAMETERS["lower_rate_ppm"].tolerance == "+-8 ms on the interval"
    assert PARAMETERS["max_sensor_rate_ppm"].tolerance == "+-4 ms"
    assert PARAMETERS["atrial_amplitude_v"].unit == "V"
    assert PARAMETERS["atrial_pulse_width_ms"].wire_unit == "us"
    assert PARAMETERS["ventricular_sensitivity_mv"].wire_unit == "uV"
    # LRL grid: 5 (30-50) + 40 (51-90) + 17 (95-175) values.
    assert len(PARAMETERS["lower_rate_ppm"].values) == 5 + 40 + 17


def test_nominal_programming_matches_spec() -> None:
    p = Programming.nominal(Mode.DDD)
    for name, (nominal, _, _) in SPEC_TABLE.items():
        assert p.value(name) == nominal, name
    assert p.lri_ms == 1000 and p.uri_ms == 500
    assert Programming.nominal(Mode.VVIR).mode is Mode.VVIR


@pytest.mark.parametrize(("name", "good"), [(n, g) for n, (_, gs, _) in SPEC_TABLE.items()
                                            for g in gs])
def test_every_grid_value_accepted_in_a_mode_it_applies_to(name: str, good: Any) -> None:
    mode = Mode.AAIR if name == "arp_ms" else Mode.DDDR
    base: dict[str, Any] = {}
    if name in ("lower_rate_ppm", "upper_rate_ppm", "max_sensor_rate_ppm"):
        # VVIR has no AV/PVARP rules; VRP 150 < the shortest LRI (343 ms).
        mode = Mode.VVIR
        base = {"lower_rate_ppm": 30, "upper_rate_ppm": 175, "max_sensor_rate_ppm": 175,
                "vrp_ms": 150}
    if name in ("vrp_ms", "pvarp_ms", "arp_ms") and good > 350:
        base = {"lower_rate_ppm": 50}
        if name == "pvarp_ms":  # TARP 70 + 500 <= URI 1200 (50 ppm)
            base.update(upper_rate_ppm=50, max_sensor_rate_ppm=50, fixed_av_delay_ms=70)
    if name == "fixed_av_delay_ms" and good > 250:
        base = {"upper_rate_ppm": 100}  # TARP 300 + 250 <= URI 600
    if name == "min_dynamic_av_delay_ms":
        # VDD: no post-atrial ventricular blanking, so 30 ms is reachable (blanking >= 30).
        mode = Mode.VDDR
        base = {"dynamic_av_delay": True}
    if name == "hysteresis_rate_ppm" and good is not None and good >= 60:
        base = {"lower_rate_ppm": 90}
    base[name] = good
    prog = Programming.nominal(mode, **base)
    assert prog.value(name) == good


@pytest.mark.parametrize(("name", "bad"), [(n, b) for n, (_, _, bs) in SPEC_TABLE.items()
                                           for b in bs])
def test_every_off_grid_value_rejected_naming_parameter_value_and_grid(name: str, bad: Any) -> None:
    mode = Mode.AAIR if "arp" in name and "pvarp" not in name else Mode.DDDR
    with pytest.raises(ProgrammingError) as info:
        Programming.nominal(mode, **{name: bad})
    err = info.value
    assert err.name == name
    assert err.value == bad
    assert name in str(err) and repr(bad) in str(err)
    assert err.expected == PARAMETERS[name].allowed
    assert PARAMETERS[name].allowed in str(err)


@pytest.mark.parametrize(
    ("changes", "name", "fragments"),
    [
        ({"upper_rate_ppm": 55}, "upper_rate_ppm", ["55", "at least lower_rate_ppm (60 ppm)"]),
        ({"mode": Mode.DDDR, "max_sensor_rate_ppm": 50}, "max_sensor_rate_ppm",
         ["50", "lower_rate_ppm (60 ppm)"]),
        ({"hysteresis_rate_ppm": 60}, "hysteresis_rate_ppm", ["60", "below lower_rate_ppm"]),
        ({"hysteresis_rate_ppm": 70}, "hysteresis_rate_ppm", ["70", "below lower_rate_ppm"]),
        # TARP 150 + 360 = 510 > URI 500 (120 ppm)
        ({"pvarp_ms": 360}, "fixed_av_delay_ms", ["510", "500"]),
        # 175 ppm: URI 343; TARP 150 + 250 = 400 > 343
        ({"upper_rate_ppm": 175}, "fixed_av_delay_ms", ["400", "343"]),
        # DOO at 175 ppm: LRI 343 - 300 = 43 < PVAB 100 + 50
        ({"mode": Mode.DOO, "lower_rate_ppm": 175, "upper_rate_ppm": 175,
          "fixed_av_delay_ms": 300}, "lower_rate_ppm", ["175", "43 ms", "150 ms"]),
        # VVI at 150 ppm: LRI 400 <= VRP 400
        ({"mode": Mode.VVI, "lower_rate_ppm": 150, "upper_rate_ppm": 150, "vrp_ms": 400},
         "vrp_ms", ["400", "less than the lower-rate interval 400 ms"]),
        ({"mode": Mode.AAI, "lower_rate_ppm": 150, "upper_rate_ppm": 150, "arp_ms": 450},
         "arp_ms", ["450", "400 ms"]),
        # DDI (no TARP rule) with PVARP 420 at 150 ppm (LRI 400): VA 400-70 = 330 >= 150 OK
        ({"mode": Mode.DDI, "lower_rate_ppm": 150, "upper_rate_ppm": 150, "pvarp_ms": 420,
          "fixed_av_delay_ms": 70, "vrp_ms": 150}, "pvarp_ms", ["420", "400 ms"]),
        ({"dynamic_av_delay": True, "min_dynamic_av_delay_ms": 40, "ventricular_blanking_ms": 40},
         "ventricular_blanking_ms", ["40", "min_dynamic_av_delay_ms (40 ms)"]),
        # min dynamic AV 100 > fixed 90: the formula of A-4 would lengthen the delay.
        ({"mode": Mode.VDD, "dynamic_av_delay": True, "min_dynamic_av_delay_ms": 100,
          "fixed_av_delay_ms": 90}, "min_dynamic_av_delay_ms",
         ["100", "fixed_av_delay_ms (90 ms)"]),
    ],
)
def test_cross_parameter_rules(changes: dict[str, Any], name: str, fragments: list[str]) -> None:
    mode = changes.pop("mode", Mode.DDD)
    with pytest.raises(ProgrammingError) as info:
        Programming.nominal(mode, **changes)
    assert info.value.name == name
    assert "A-18" in str(info.value)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_blanking_below_fixed_av_always_holds_on_the_grids() -> None:
    # Fixed AV >= 70 ms and blanking <= 60 ms: the fixed-AV half of the rule cannot fail, the
    # dynamic half can (case above); the extremes are accepted.
    ok = Programming.nominal(Mode.DDD, fixed_av_delay_ms=70, ventricular_blanking_ms=60)
    assert ok.ventricular_blanking_ms == 60


@pytest.mark.parametrize(
    ("mode", "name", "value"),
    [
        (Mode.VVI, "fixed_av_delay_ms", 200),
        (Mode.VVI, "atrial_amplitude_v", 5.0),
        (Mode.VVI, "pvarp_ms", 300),
        (Mode.AAI, "vrp_ms", 300),
        (Mode.DDD, "arp_ms", 300),
        (Mode.DDD, "max_sensor_rate_ppm", 150),
        (Mode.DDI, "sensed_av_offset_ms", -30),
        (Mode.VDD, "sensed_av_offset_ms", -30),
        (Mode.DDI, "atr_mode", True),
        (Mode.DDI, "rate_smoothing_pct", 9),
        (Mode.VOO, "ventricular_sensitivity_mv", 1.0),
        (Mode.AAT, "hysteresis_rate_ppm", 50),
        (Mode.DOO, "dynamic_av_delay", True),
        (Mode.VVI, "activity_threshold", ActivityThreshold.HIGH),
        (Mode.AAI, "ventricular_blanking_ms", 50),
    ],
)
def test_parameter_not_applicable_to_mode(mode: Mode, name: str, value: Any) -> None:
    with pytest.raises(ProgrammingError) as info:
        Programming.nominal(mode, **{name: value})
    msg = str(info.value)
    assert info.value.name == name
    assert f"does not apply to mode {mode.value}" in msg
    assert repr(value) in msg
    assert f"nominal value {PARAMETERS[name].nominal!r}" in msg


def test_wrong_types_and_unknown_names() -> None:
    with pytest.raises(ProgrammingError, match="dynamic_av_delay=1"):
        Programming.nominal(Mode.DDD, dynamic_av_delay=1)
    with pytest.raises(ProgrammingError, match="lower_rate_ppm=True"):
        Programming.nominal(Mode.DDD, lower_rate_ppm=True)
    with pytest.raises(ProgrammingError, match=r"lower_rate_ppm=60\.0"):
        Programming.nominal(Mode.DDD, lower_rate_ppm=60.0)
    with pytest.raises(ProgrammingError, match="activity_threshold='Med'"):
        Programming.nominal(Mode.DDDR, activity_threshold="Med")
    with pytest.raises(ProgrammingError, match="mode='DDD'"):
        Programming.nominal("DDD")  # type: ignore[arg-type]
    with pytest.raises(ProgrammingError, match="lower_rate_timing='atrial'"):
        Programming.nominal(Mode.DDD, lower_rate_timing="atrial")
    with pytest.raises(ProgrammingError, match=r"lower_rate_bpm=.*not a parameter"):
        Programming.nominal(Mode.DDD).replace(lower_rate_bpm=70)
    with pytest.raises(ProgrammingError, match="pvab_ms=105"):
        Programming.nominal(Mode.DDD, pvab_ms=105)
    with pytest.raises(ProgrammingError, match="noise_count=0"):
        Programming.nominal(Mode.DDD, noise_count=0)


def test_temporary_only_modes_need_the_temporary_state() -> None:
    for mode in (Mode.OAO, Mode.OVO, Mode.ODO, Mode.OOO):
        with pytest.raises(ProgrammingError, match="temporary-only"):
            Programming.nominal(mode)
        assert Programming.nominal(mode, allow_temporary_modes=True).mode is mode


def test_replace_revalidates_and_is_frozen() -> None:
    p = Programming.nominal(Mode.DDD)
    q = p.replace(lower_rate_ppm=70)
    assert q.lower_rate_ppm == 70 and p.lower_rate_ppm == 60
    with pytest.raises(ProgrammingError):
        p.replace(lower_rate_ppm=130)  # URL 120 < LRL 130
    with pytest.raises(AttributeError):
        p.lower_rate_ppm = 70  # type: ignore[misc]


def test_error_is_a_picklable_devicetwin_error() -> None:
    with pytest.raises(DeviceTwinError) as info:
        Programming.nominal(Mode.DDD, vrp_ms=155)
    err = pickle.loads(pickle.dumps(info.value))
    assert isinstance(err, ProgrammingError)
    assert (err.name, err.value) == ("vrp_ms", 155)
    assert str(err) == str(info.value)


def test_wire_units() -> None:
    p = Programming.nominal(
        Mode.DDDR, atrial_amplitude_v=None, ventricular_amplitude_v=1.25,
        ventricular_pulse_width_ms=0.05, atrial_sensitivity_mv=0.25, sensed_av_offset_ms=-30,
        rate_smoothing_pct=12, activity_threshold=ActivityThreshold.V_HIGH,
        lower_rate_timing=LowerRateTiming.ATRIAL,
    )
    w = p.to_wire_units()
    assert set(w) == {spec.wire_name for spec in PARAMETERS.values()}
    assert len(w) == len(PARAMETERS)
    assert w["mode"] == 18  # OFF=0 ... DDDR=18 (declaration order)
    assert w["atrial_amplitude_mv"] == 0
    assert w["ventricular_amplitude_mv"] == 1250
    assert w["ventricular_pulse_width_us"] == 50
    assert w["atrial_pulse_width_us"] == 400
    assert w["atrial_sensitivity_uv"] == 250
    assert w["ventricular_sensitivity_uv"] == 2500
    assert w["sensed_av_offset_ms"] == -30
    assert w["rate_smoothing_pct"] == 12
    assert w["hysteresis_rate_ppm"] == 0
    assert w["activity_threshold"] == 6
    assert w["lower_rate_timing"] == 1
    assert w["safety_pacing"] == 1
    assert all(isinstance(v, int) for v in w.values())
    assert Mode.from_wire_code(w["mode"]) is Mode.DDDR


def test_interval_rounding() -> None:
    # A-1 examples.
    assert [interval_ms(r) for r in (60, 120, 175, 65, 150, 100, 90, 85)] == [
        1000, 500, 343, 923, 400, 600, 667, 706]


def test_wire_names_are_the_protocol_parameter_names() -> None:
    # docs/protocol.md 3.2 names every parameter with its wire unit; the bridge's table is a
    # second, independent listing of them
    from firmware_bridge.wire import ParamId

    wire = {p.name.lower() for p in ParamId if not p.name.startswith("RESERVED")}
    assert {spec.wire_name for spec in PARAMETERS.values()} <= wire


# --- plain data (scenario TOML, vector JSON, --param): names checked, values typed -------------


def test_unknown_keywords_are_programming_errors_with_the_closest_name() -> None:
    with pytest.raises(ProgrammingError, match=r"did you mean lower_rate_ppm\?") as info:
        Programming.nominal(Mode.DDD, lower_rate_pmm=60)
    assert info.value.name == "lower_rate_pmm"
    with pytest.raises(ProgrammingError, match="'mode' is given on its own"):
        Programming.from_plain("DDD", {"mode": "VVI"})


def test_parse_mode_takes_names_in_any_case_and_suggests_the_closest() -> None:
    assert parse_mode("ddd") is Mode.DDD and parse_mode(Mode.VVI) is Mode.VVI
    with pytest.raises(ProgrammingError) as info:
        parse_mode("VOOO")
    assert "did you mean VOO?" in str(info.value)
    assert PARAMETERS["mode"].allowed in str(info.value)
    assert "OAO" not in PARAMETERS["mode"].allowed  # temporary-only modes are not offered
    with pytest.raises(ProgrammingError, match="not a pacing mode"):
        parse_mode(3)


@pytest.mark.parametrize(("name", "raw", "value"), [
    ("lower_rate_timing", "atrial", LowerRateTiming.ATRIAL),
    ("lower_rate_timing", "ATRIAL", LowerRateTiming.ATRIAL),
    ("activity_threshold", "med_high", ActivityThreshold.MED_HIGH),
    ("activity_threshold", "Med-High", ActivityThreshold.MED_HIGH),
    ("hysteresis_rate_ppm", "off", None),
    ("hysteresis_rate_ppm", None, None),
    ("atr_mode", "on", True),
    ("lower_rate_ppm", 60.0, 60),
    ("atrial_amplitude_v", 5, 5),
])
def test_values_from_plain_data(name: str, raw: object, value: object) -> None:
    got = value_from_plain(PARAMETERS[name], raw)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(("name", "raw", "words"), [
    ("lower_rate_timing", "atrail", "did you mean ATRIAL?"),
    ("lower_rate_ppm", 60.5, "is not a whole number"),
    ("lower_rate_ppm", "fast", "is not a number"),
    ("lower_rate_ppm", "off", "cannot be Off"),
    ("atrial_amplitude_v", float("nan"), "is not a finite number"),
    ("atrial_amplitude_v", True, "is not a number"),
    ("atr_mode", 1, "is not a switch"),
])
def test_wrong_plain_values_name_the_parameter_and_its_grid(name: str, raw: object,
                                                            words: str) -> None:
    with pytest.raises(ProgrammingError, match=words) as info:
        value_from_plain(PARAMETERS[name], raw)
    assert info.value.name == name and PARAMETERS[name].allowed in str(info.value)


def test_every_grid_value_survives_plain_data() -> None:
    """value_to_plain and value_from_plain are inverse on every parameter's grid."""
    for name in PARAMETER_NAMES:
        spec = PARAMETERS[name]
        for value in spec.values:
            back = value_from_plain(spec, value_to_plain(value))
            assert back == value and type(back) is type(value), (name, value)


def test_huge_numbers_are_off_the_grid_not_overflow_errors() -> None:
    with pytest.raises(ProgrammingError, match="atrial_amplitude_v=1e"):
        Programming.nominal(Mode.DDD, atrial_amplitude_v=1e306)
    with pytest.raises(ProgrammingError, match="lower_rate_ppm="):
        Programming.from_plain("DDD", {"lower_rate_ppm": 2**80})


def test_close_names_ignore_case_and_keep_only_near_ties() -> None:
    assert close_names("Lower_Rate_PPM", PARAMETERS) == ["lower_rate_ppm"]
    assert close_names("lower_rate_pmm", PARAMETERS) == ["lower_rate_ppm"]
    assert close_names(5, PARAMETERS) == [] and did_you_mean("zzz", PARAMETERS) == ""


def test_device_defined_programming_may_leave_the_grid_but_not_physical_sense() -> None:
    """A student DDD firmware: URL 67 ppm (off the 5 ppm grid), a 5 ms pulse (above 1.9 ms)."""
    from devicetwin.pacemaker import Mode, Programming, ProgrammingError

    p = Programming(mode=Mode.DDD, upper_rate_ppm=67, ventricular_pulse_width_ms=5.0,
                    fixed_av_delay_ms=143, device_defined=True)
    assert p.uri_ms == 896  # 60000 / 67 = 895.5 -> 896
    with pytest.raises(ProgrammingError, match="upper_rate_ppm"):
        Programming(mode=Mode.DDD, upper_rate_ppm=67)  # the same on the grid is refused
    with pytest.raises(ProgrammingError, match="physical sense"):
        Programming(mode=Mode.DDD, ventricular_pulse_width_ms=6.0, device_defined=True)
    with pytest.raises(ProgrammingError, match="physical sense"):
        Programming(mode=Mode.DDD, lower_rate_ppm=7, device_defined=True)
    with pytest.raises(ProgrammingError, match="TARP"):  # the cross rules still hold
        Programming(mode=Mode.DDD, upper_rate_ppm=150, pvarp_ms=350, device_defined=True)
