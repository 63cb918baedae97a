"""A validated pacemaker programming: every parameter of ``parameters.PARAMETERS`` for one mode.

Validation happens once, in the constructor (grid, mode applicability, the cross-parameter rules
of ``docs/assumptions.md`` A-18); everything downstream trusts a ``Programming``.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from devicetwin.errors import DeviceTwinError, did_you_mean
from devicetwin.pacemaker.modes import PERMANENT_MODES, ActivityThreshold, LowerRateTiming, Mode
from devicetwin.pacemaker.parameters import (
    PARAMETERS,
    Kind,
    ParameterSpec,
    Value,
    interval_ms,
)


class ProgrammingError(DeviceTwinError):
    """A programming was rejected; ``name``, ``value`` and ``expected`` say why."""


def _fail(name: str, value: Any, expected: str, why: str = "is not allowed") -> ProgrammingError:
    return ProgrammingError(
        f"{name}={value!r} {why}: expected {expected}", name=name, value=value, expected=expected
    )


#: The names a programming takes as keywords besides ``mode`` (every row of the table but it).
PARAMETER_NAMES: tuple[str, ...] = tuple(n for n in PARAMETERS if n != "mode")
_SWITCH_WORDS = {"on": True, "true": True, "off": False, "false": False}
_OFF_WORDS = ("off", "none")


def _check_names(changes: Mapping[str, Any]) -> None:
    """Unknown keywords are a ProgrammingError naming the closest parameters, not a TypeError."""
    for name, value in changes.items():
        if name not in PARAMETERS and name != "allow_temporary_modes":
            raise _not_a_parameter(name, f"{name}={value!r}")


def parse_mode(name: object) -> Mode:
    """The :class:`Mode` called ``name`` (its name in any case), or ``name`` if it is one.

    Raises
    ------
    ProgrammingError
        Naming the permanent modes and the closest ones (``VOOO``: did you mean VOO?).
    """
    if isinstance(name, Mode):
        return name
    if isinstance(name, str) and name.upper() in Mode.__members__:
        return Mode[name.upper()]
    expected = PARAMETERS["mode"].allowed
    hint = did_you_mean(name, (m.name for m in PERMANENT_MODES))
    raise ProgrammingError(f"mode={name!r} is not a pacing mode{hint}: expected {expected}",
                           name="mode", value=name, expected=expected)


def parameter_spec(name: object) -> ParameterSpec:
    """The spec of the programmable parameter called ``name`` (``mode`` is given on its own).

    Raises
    ------
    ProgrammingError
        For an unknown name, with the closest parameter names (``lower_rate_pmm``: did you mean
        lower_rate_ppm?) and the list of all.
    """
    if isinstance(name, str) and name in PARAMETER_NAMES:
        return PARAMETERS[name]
    if name == "mode":
        raise ProgrammingError("'mode' is given on its own, not as one of the parameters",
                               name="mode", value=name, expected="a parameter other than mode")
    raise _not_a_parameter(name, repr(name))


def _not_a_parameter(name: object, shown: str) -> ProgrammingError:
    expected = "one of " + ", ".join(PARAMETER_NAMES)
    return ProgrammingError(
        f"{shown} is not a parameter{did_you_mean(name, PARAMETER_NAMES)}: expected {expected}",
        name=str(name), value=name, expected=expected)


def value_from_plain(spec: ParameterSpec, raw: object) -> Value:
    """The Python value of parameter ``spec`` from plain data (TOML, JSON, a command line).

    Enum members are given by name in any case (``"atrial"``, ``"med_high"``; the value, such as
    ``"Med-High"``, is accepted too), Off as ``None`` or ``"off"``, switches as booleans or
    ``"on"``/``"off"``, and an integer parameter takes a whole float (``60.0``). Only the type is
    checked here; the grid and the cross-parameter rules are the constructor's.

    Raises
    ------
    ProgrammingError
        For a value of the wrong type or a number that is not finite.
    """
    name = spec.name
    if spec.kind is Kind.BOOL:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.casefold() in _SWITCH_WORDS:
            return _SWITCH_WORDS[raw.casefold()]
        raise _fail(name, raw, spec.allowed, "is not a switch")
    if raw is None or (isinstance(raw, str) and raw.casefold() in _OFF_WORDS):
        if spec.off_allowed:
            return None
        raise _fail(name, raw, spec.allowed, "cannot be Off")
    if spec.kind is Kind.ENUM:
        return _member(spec, raw)
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise _fail(name, raw, spec.allowed, "is not a number")
    if isinstance(raw, float) and not math.isfinite(raw):
        raise _fail(name, raw, spec.allowed, "is not a finite number")
    if spec.kind is Kind.INT and isinstance(raw, float):
        if not raw.is_integer():
            raise _fail(name, raw, spec.allowed, "is not a whole number")
        return int(raw)
    return raw


def _member(spec: ParameterSpec, raw: object) -> Value:
    members: tuple[enum.Enum, ...] = spec.values
    if isinstance(raw, type(spec.nominal)):
        return raw
    if isinstance(raw, str):
        key = raw.casefold().replace("-", "_")
        for member in members:
            if key in (member.name.casefold(), str(member.value).casefold().replace("-", "_")):
                return member
    hint = did_you_mean(raw, (m.name for m in members))
    raise _fail(spec.name, raw, spec.allowed, f"is not allowed{hint}")


def values_from_plain(values: Mapping[str, object]) -> dict[str, Value]:
    """Parameter values from plain data: every name checked (:func:`parameter_spec`), every
    value converted (:func:`value_from_plain`); grid and rules are left to ``Programming``."""
    return {name: value_from_plain(parameter_spec(name), raw) for name, raw in values.items()}


def value_to_plain(value: Value) -> Any:
    """The plain-data form of a parameter value: enum members by name, the rest unchanged
    (Off stays ``None``); :func:`value_from_plain` reads it back."""
    return value.name if isinstance(value, enum.Enum) else value


@dataclass(frozen=True, slots=True, kw_only=True)
class Programming:
    """Everything a pacemaker is programmed with. Defaults are the nominal values.

    Off is ``None`` (see ``parameters``). A parameter that does not apply to ``mode`` must keep
    its nominal value. Construct with keywords; ``Programming.nominal(Mode.VVI)`` is the nominal
    programming of a mode and ``replace(**changes)`` re-validates.

    Raises
    ------
    ProgrammingError
        On a value off its grid, a parameter changed in a mode it does not apply to, a
        temporary-only mode, or a broken cross-parameter rule (A-18).
    """

    mode: Mode = Mode.DDD
    lower_rate_ppm: int = 60
    upper_rate_ppm: int = 120
    max_sensor_rate_ppm: int = 120
    fixed_av_delay_ms: int = 150
    dynamic_av_delay: bool = False
    min_dynamic_av_delay_ms: int = 50
    sensed_av_offset_ms: int | None = None
    atrial_amplitude_v: float | None = 3.5
    ventricular_amplitude_v: float | None = 3.5
    atrial_pulse_width_ms: float = 0.4
    ventricular_pulse_width_ms: float = 0.4
    atrial_sensitivity_mv: float = 0.75
    ventricular_sensitivity_mv: float = 2.5
    vrp_ms: int = 320
    arp_ms: int = 250
    pvarp_ms: int = 250
    pvarp_extension_ms: int | None = None
    hysteresis_rate_ppm: int | None = None
    rate_smoothing_pct: int | None = None
    atr_mode: bool = False
    atr_duration_cycles: int = 20
    atr_fallback_time_min: int = 1
    ventricular_blanking_ms: int = 40
    activity_threshold: ActivityThreshold = ActivityThreshold.MED
    reaction_time_s: int = 30
    response_factor: int = 8
    recovery_time_min: int = 5
    lower_rate_timing: LowerRateTiming = LowerRateTiming.VENTRICULAR
    pvab_ms: int = 100
    pace_blanking_ms: int = 100
    safety_pacing: bool = True
    vsp_window_ms: int = 110
    noise_interval_ms: int = 100
    noise_count: int = 3
    pmt_termination: bool = True
    pmt_cycles: int = 8
    pmt_va_max_ms: int = 400
    pmt_va_stability_ms: int = 32
    pmt_pvarp_ms: int = 500
    detection_dead_time_ms: int = 50
    allow_temporary_modes: bool = field(default=False, repr=False, compare=False)
    device_defined: bool = False
    """The programming a device runs by its own definition (a device not programmed over the
    wire, described by a device profile): its values may lie off the PACEMAKER grid, and are
    held instead to physical sense (``DEVICE_LIMITS``) and to the cross-parameter rules."""

    def __post_init__(self) -> None:
        _validate(self)

    @classmethod
    def nominal(cls, mode: Mode = Mode.DDD, **changes: Any) -> Programming:
        """The nominal programming of ``mode`` (with ``changes`` applied, validated once)."""
        if not isinstance(mode, Mode):
            raise _fail("mode", mode, "a Mode (e.g. Mode.DDD)")
        _check_names(changes)
        return cls(mode=mode, **changes)

    @classmethod
    def from_plain(cls, mode: object, values: Mapping[str, object]) -> Programming:
        """The nominal programming of ``mode`` (a name, any case) with ``values`` from plain
        data (TOML, JSON, a command line; see :func:`value_from_plain`), validated once.

        Raises
        ------
        ProgrammingError
            For an unknown mode or parameter (with the closest names), a value of the wrong
            type, off its grid, or breaking a rule; ``name`` is the offending parameter.
        """
        return cls.nominal(parse_mode(mode), **values_from_plain(values))

    def replace(self, **changes: Any) -> Programming:
        """A copy with ``changes`` applied, validated again."""
        _check_names(changes)
        return dataclasses.replace(self, **changes)

    def value(self, name: str) -> Any:
        """The value of parameter ``name``."""
        return getattr(self, name)

    def to_wire_units(self) -> dict[str, int]:
        """Every parameter under its wire name as the integer the wire protocol carries.

        In table order, keyed by ``ParameterSpec.wire_name`` (``atrial_amplitude_mv``, ...). Rates
        in ppm, times in ms, amplitudes in mV, pulse widths in us, sensitivities in uV,
        percentages in %, Off and False as 0, True as 1, ``mode`` as ``Mode.wire_code``,
        ``activity_threshold`` as its index (V-Low 0 .. V-High 6), ``lower_rate_timing`` 0
        (ventricular) / 1 (atrial). See ``docs/assumptions.md`` A-20.
        """
        return {spec.wire_name: spec.to_wire(getattr(self, name))
                for name, spec in PARAMETERS.items()}

    @property
    def lri_ms(self) -> int:
        """Lower-rate interval (A-1)."""
        return interval_ms(self.lower_rate_ppm)

    @property
    def uri_ms(self) -> int:
        """Upper-rate interval (A-1)."""
        return interval_ms(self.upper_rate_ppm)


def _on_grid(spec: ParameterSpec, value: Any) -> bool:
    values: tuple[Any, ...] = spec.values
    if value is None:
        return None in values
    if spec.kind is Kind.BOOL:
        return isinstance(value, bool)
    if spec.kind is Kind.ENUM:
        return value in values and type(value) is type(spec.nominal)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if spec.kind is Kind.INT:
        return isinstance(value, int) and value in values
    if isinstance(value, float) and not math.isfinite(value * 1000):
        return False
    thousandths = round(value * 1000)
    if abs(value * 1000 - thousandths) > 1e-6:
        return False
    return any(v is not None and round(v * 1000) == thousandths for v in values)


#: Physical sense of a device-defined value, by unit: (lowest, highest). The pulse limits are
#: the heart's (``devicetwin.heart.pacing``: 25 V, 30-5000 us); rates and intervals span any
#: pacemaker's hardware.
DEVICE_LIMITS: dict[str, tuple[float, float]] = {
    "ppm": (20.0, 250.0), "ms": (0.0, 3000.0), "V": (0.1, 25.0), "mV": (0.1, 20.0),
    "%": (0.0, 100.0), "cycles": (1.0, 100.0), "s": (1.0, 600.0), "min": (1.0, 600.0),
    "": (1.0, 16.0),
}
_PULSE_WIDTH_MS = (0.03, 5.0)


def _check_physical(name: str, spec: ParameterSpec, value: Any) -> None:
    """A device-defined value: the right type, finite, and within ``DEVICE_LIMITS``."""
    if value is None:
        if None not in spec.values:
            raise _fail(name, value, f"a value (Off is not possible for {name})")
        return
    if spec.kind in (Kind.BOOL, Kind.ENUM):
        if not _on_grid(spec, value):
            raise _fail(name, value, spec.allowed)
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(name, value, f"a finite number in {spec.unit}")
    if spec.kind is Kind.INT and not isinstance(value, int):
        raise _fail(name, value, f"a whole number of {spec.unit}")
    low, high = _PULSE_WIDTH_MS if name.endswith("pulse_width_ms") else DEVICE_LIMITS.get(
        spec.unit, (0.0, math.inf))
    if not low <= value <= high:
        raise _fail(name, value, f"a device-defined value in {low:g}..{high:g} {spec.unit} "
                                 "(physical sense; the PACEMAKER grid does not apply)")


def _validate(prog: Programming) -> None:
    mode = prog.mode
    if not isinstance(mode, Mode):
        raise _fail("mode", mode, "a Mode (e.g. Mode.DDD)")
    if mode.temporary_only and not prog.allow_temporary_modes:
        raise _fail("mode", mode.value, "a permanent mode (OAO, OVO, ODO, OOO are temporary-only;"
                    " use the Temporary device state)")
    for name, spec in PARAMETERS.items():
        if name == "mode":
            continue
        value = getattr(prog, name)
        if prog.device_defined:
            _check_physical(name, spec, value)
        elif not _on_grid(spec, value):
            raise _fail(name, value, spec.allowed)
        if not spec.applies_to(mode) and value != spec.nominal:
            where = ", ".join(m.value for m in Mode if m in spec.modes)
            raise _fail(
                name, value,
                f"the nominal value {spec.nominal!r} (it does not apply to mode "
                f"{mode.value}; it applies to {where})",
                f"does not apply to mode {mode.value}",
            )
    _check_cross_rules(prog)


def _rule(ok: bool, name: str, value: Any, expected: str) -> None:
    if not ok:
        raise _fail(name, value, expected, "breaks a cross-parameter rule (A-18)")


def _check_cross_rules(p: Programming) -> None:
    mode = p.mode
    lri = p.lri_ms
    _rule(p.upper_rate_ppm >= p.lower_rate_ppm, "upper_rate_ppm", p.upper_rate_ppm,
          f"at least lower_rate_ppm ({p.lower_rate_ppm} ppm)")
    if mode.rate_adaptive:
        _rule(p.max_sensor_rate_ppm >= p.lower_rate_ppm, "max_sensor_rate_ppm",
              p.max_sensor_rate_ppm, f"at least lower_rate_ppm ({p.lower_rate_ppm} ppm)")
    if p.hysteresis_rate_ppm is not None:
        _rule(p.hysteresis_rate_ppm < p.lower_rate_ppm, "hysteresis_rate_ppm",
              p.hysteresis_rate_ppm, f"Off or below lower_rate_ppm ({p.lower_rate_ppm} ppm)")
    if mode.tracking:
        tarp = p.fixed_av_delay_ms + p.pvarp_ms
        _rule(tarp <= p.uri_ms, "fixed_av_delay_ms", p.fixed_av_delay_ms,
              f"fixed_av_delay_ms + pvarp_ms ({p.fixed_av_delay_ms} + {p.pvarp_ms} = {tarp} ms,"
              f" TARP) at most the upper-rate interval {p.uri_ms} ms "
              f"(upper_rate_ppm {p.upper_rate_ppm})")
    if mode.dual_chamber:
        room = lri - p.fixed_av_delay_ms
        _rule(room >= p.pvab_ms + 50, "lower_rate_ppm", p.lower_rate_ppm,
              f"a VA interval (lower-rate interval {lri} ms - fixed_av_delay_ms "
              f"{p.fixed_av_delay_ms} ms = {room} ms) of at least pvab_ms + 50 = "
              f"{p.pvab_ms + 50} ms")
    if PARAMETERS["vrp_ms"].applies_to(mode):
        _rule(p.vrp_ms < lri, "vrp_ms", p.vrp_ms, f"less than the lower-rate interval {lri} ms")
    if PARAMETERS["arp_ms"].applies_to(mode):
        _rule(p.arp_ms < lri, "arp_ms", p.arp_ms, f"less than the lower-rate interval {lri} ms")
    if PARAMETERS["pvarp_ms"].applies_to(mode):
        _rule(p.pvarp_ms < lri, "pvarp_ms", p.pvarp_ms,
              f"less than the lower-rate interval {lri} ms")
    if PARAMETERS["ventricular_blanking_ms"].applies_to(mode):
        _rule(p.ventricular_blanking_ms < p.fixed_av_delay_ms, "ventricular_blanking_ms",
              p.ventricular_blanking_ms, f"less than fixed_av_delay_ms ({p.fixed_av_delay_ms} ms)")
    if mode.tracking and p.dynamic_av_delay:
        _rule(p.min_dynamic_av_delay_ms <= p.fixed_av_delay_ms, "min_dynamic_av_delay_ms",
              p.min_dynamic_av_delay_ms,
              f"at most fixed_av_delay_ms ({p.fixed_av_delay_ms} ms) when dynamic_av_delay is on")
    if mode.tracking and p.dynamic_av_delay and mode.dual_chamber:
        _rule(p.ventricular_blanking_ms < p.min_dynamic_av_delay_ms, "ventricular_blanking_ms",
              p.ventricular_blanking_ms,
              f"less than min_dynamic_av_delay_ms ({p.min_dynamic_av_delay_ms} ms) when "
              "dynamic_av_delay is on")
