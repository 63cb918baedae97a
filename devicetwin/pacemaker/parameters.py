"""Programmable parameters as data: the PACEMAKER parameter table and the project's settings.

Each :class:`ParameterSpec` holds a parameter's allowed values (its grid), step, nominal,
tolerance, unit, the modes it applies to and how it is sent on the wire. ``Programming``
(``programming.py``) validates against these specs; nothing else hard-codes a range.

"Off" is ``None`` for every parameter whose grid includes Off (amplitudes, sensed AV offset,
PVARP extension, hysteresis rate, rate smoothing); it is ``0`` on the wire. On/Off switches
(dynamic AV delay, ATR mode, safety pacing, PMT termination) are ``bool``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from devicetwin.pacemaker.modes import PERMANENT_MODES, ActivityThreshold, LowerRateTiming, Mode

Value = Any
"""A parameter value: int, float, bool, None (Off) or an enum member."""


class Kind(enum.Enum):
    """How a parameter's values are represented in Python."""

    INT = "int"
    DECIMAL = "decimal"  # a float on a grid of thousandths (V, ms pulse width, mV)
    BOOL = "bool"
    ENUM = "enum"


def _r(lo: int, hi: int, step: int) -> list[int]:
    return list(range(lo, hi + 1, step))


def _modes(*codes: str, r: bool = True) -> frozenset[Mode]:
    """The named modes plus (when ``r``) their rate-adaptive variants that exist."""
    out = {Mode(c) for c in codes}
    if r:
        out |= {m for m in Mode if m.rate_adaptive and m.base in out}
    return frozenset(out)


ALL_MODES: frozenset[Mode] = frozenset(Mode)
_R_MODES = frozenset(m for m in Mode if m.rate_adaptive)
_PACES_A = frozenset(m for m in Mode if m.paces_atrium)
_PACES_V = frozenset(m for m in Mode if m.paces_ventricle)
_SENSES_A = frozenset(m for m in Mode if m.senses_atrium)
_SENSES_V = frozenset(m for m in Mode if m.senses_ventricle)
_DUAL = frozenset(m for m in Mode if m.dual_chamber)
_TRACKING = frozenset(m for m in Mode if m.tracking)
_PVARP_MODES = _modes("VDD", "DDI", "DDD")


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """One programmable parameter or project setting.

    Attributes
    ----------
    name:
        Canonical snake_case name, shared with the wire protocol and the firmware.
    unit:
        Unit of the Python value (``"ppm"``, ``"ms"``, ``"V"``, ``"mV"``, ``"%"``, ...).
    values:
        Every allowed value in order (``None`` = Off first when allowed). Enum and bool
        parameters list their members.
    allowed:
        The grid in words, used in error messages (``"30-50 step 5, 50-90 step 1, ..."``).
    nominal:
        The nominal (default) value.
    tolerance:
        The specification's tolerance in words (``""`` when none is given).
    modes:
        Modes in which the parameter applies; elsewhere it must stay at its nominal value.
    wire_unit:
        Unit of the integer sent on the wire; ``wire_scale`` converts (value * scale).
    setting:
        True for project settings of ``docs/assumptions.md`` (not rows of the spec table).
    """

    name: str
    unit: str
    kind: Kind
    values: tuple[Value, ...]
    allowed: str
    nominal: Value
    tolerance: str
    modes: frozenset[Mode]
    wire_unit: str
    wire_scale: int = 1
    setting: bool = False

    @property
    def wire_name(self) -> str:
        """The name on the wire: the unit suffix follows the wire unit.

        ``atrial_amplitude_v`` (V) travels as ``atrial_amplitude_mv``, ``*_pulse_width_ms`` as
        ``*_pulse_width_us``, ``*_sensitivity_mv`` as ``*_sensitivity_uv``; other names are
        unchanged (docs/protocol.md section 3.2).
        """
        suffix = "_" + self.unit.lower()
        if self.unit and self.wire_unit != self.unit and self.name.endswith(suffix):
            return self.name[: -len(suffix)] + "_" + self.wire_unit.lower()
        return self.name

    @property
    def off_allowed(self) -> bool:
        """True when ``None`` (Off) is one of the values."""
        return None in self.values

    def applies_to(self, mode: Mode) -> bool:
        """True when the parameter is used in ``mode``."""
        return mode in self.modes

    def to_wire(self, value: Value) -> int:
        """The integer wire form of ``value`` (Off -> 0; bool -> 0/1; enums by position)."""
        if value is None:
            return 0
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, Mode):
            return value.wire_code
        if isinstance(value, ActivityThreshold):
            return list(ActivityThreshold).index(value)
        if isinstance(value, LowerRateTiming):
            return 0 if value is LowerRateTiming.VENTRICULAR else 1
        if self.kind is Kind.DECIMAL:
            scaled: int = round(value * self.wire_scale)
            return scaled
        return int(value) * self.wire_scale


def _decimal_grid(thousandths: Iterable[int]) -> tuple[float, ...]:
    return tuple(k / 1000 for k in thousandths)


_LRL_GRID = _r(30, 50, 5) + _r(51, 90, 1) + _r(95, 175, 5)
_LRL_TEXT = "30-50 step 5, 50-90 step 1, 90-175 step 5"
_AMP = _decimal_grid(sorted({*_r(500, 3200, 100), *_r(3500, 7000, 500), 1250, 2500, 3750, 5000}))
_WIDTH = _decimal_grid([50, *_r(100, 1900, 100)])
_SENS = _decimal_grid([250, 500, 750, *_r(1000, 10000, 500)])

AMPLITUDES_V: tuple[float | None, ...] = (None, *_AMP)
"""Pulse amplitudes: Off, regulated 0.5-3.2 V step 0.1 and 3.5-7.0 V step 0.5, and the
unregulated settings 1.25, 2.5, 3.75, 5.0 V (one grid; 2.5 and 5.0 are on both)."""
AMPLITUDE_TEXT = (
    "Off (None), regulated 0.5-3.2 V step 0.1 or 3.5-7.0 V step 0.5, or unregulated 1.25, 2.5,"
    " 3.75, 5.0 V"
)


def _enum_text(members: Iterable[enum.Enum]) -> str:
    """The members' names in words, for ``allowed`` (``"VENTRICULAR or ATRIAL"``)."""
    names = [m.name for m in members]
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]


def _spec(
    name: str,
    unit: str,
    values: Iterable[Value],
    allowed: str,
    nominal: Value,
    modes: frozenset[Mode],
    *,
    tolerance: str = "",
    kind: Kind = Kind.INT,
    wire_unit: str | None = None,
    wire_scale: int = 1,
    setting: bool = False,
) -> ParameterSpec:
    return ParameterSpec(
        name=name,
        unit=unit,
        kind=kind,
        values=tuple(values),
        allowed=allowed,
        nominal=nominal,
        tolerance=tolerance,
        modes=modes,
        wire_unit=wire_unit or unit,
        wire_scale=wire_scale,
        setting=setting,
    )


_SPECS: list[ParameterSpec] = [
    _spec("mode", "", tuple(Mode), "a Mode: " + _enum_text(PERMANENT_MODES), Mode.DDD,
          ALL_MODES, kind=Kind.ENUM, wire_unit="code"),
    _spec("lower_rate_ppm", "ppm", _LRL_GRID, _LRL_TEXT + " ppm", 60, ALL_MODES,
          tolerance="+-8 ms on the interval"),
    _spec("upper_rate_ppm", "ppm", _r(50, 175, 5), "50-175 step 5 ppm", 120, ALL_MODES,
          tolerance="+-8 ms"),
    _spec("max_sensor_rate_ppm", "ppm", _r(50, 175, 5), "50-175 step 5 ppm", 120, _R_MODES,
          tolerance="+-4 ms"),
    _spec("fixed_av_delay_ms", "ms", _r(70, 300, 10), "70-300 step 10 ms", 150,
          _DUAL | _modes("VDD"), tolerance="+-8 ms"),
    _spec("dynamic_av_delay", "", (False, True), "False (Off) or True (On)", False,
          _TRACKING, kind=Kind.BOOL, wire_unit="bool"),
    _spec("min_dynamic_av_delay_ms", "ms", _r(30, 100, 10), "30-100 step 10 ms", 50, _TRACKING),
    _spec("sensed_av_offset_ms", "ms", (None, *range(-10, -101, -10)),
          "Off (None) or -10 to -100 step -10 ms", None, _modes("DDD"), tolerance="+-1 ms"),
    _spec("atrial_amplitude_v", "V", AMPLITUDES_V, AMPLITUDE_TEXT, 3.5,
          _PACES_A, tolerance="+-12 %", kind=Kind.DECIMAL, wire_unit="mV", wire_scale=1000),
    _spec("ventricular_amplitude_v", "V", AMPLITUDES_V, AMPLITUDE_TEXT, 3.5,
          _PACES_V, tolerance="+-12 %", kind=Kind.DECIMAL, wire_unit="mV", wire_scale=1000),
    _spec("atrial_pulse_width_ms", "ms", _WIDTH, "0.05 ms or 0.1-1.9 ms step 0.1", 0.4,
          _PACES_A, tolerance="+-0.2 ms", kind=Kind.DECIMAL, wire_unit="us", wire_scale=1000),
    _spec("ventricular_pulse_width_ms", "ms", _WIDTH, "0.05 ms or 0.1-1.9 ms step 0.1", 0.4,
          _PACES_V, tolerance="+-0.2 ms", kind=Kind.DECIMAL, wire_unit="us", wire_scale=1000),
    _spec("atrial_sensitivity_mv", "mV", _SENS, "0.25, 0.5, 0.75 or 1.0-10.0 step 0.5 mV", 0.75,
          _SENSES_A, tolerance="+-20 %", kind=Kind.DECIMAL, wire_unit="uV", wire_scale=1000),
    _spec("ventricular_sensitivity_mv", "mV", _SENS, "0.25, 0.5, 0.75 or 1.0-10.0 step 0.5 mV",
          2.5, _SENSES_V, tolerance="+-20 %", kind=Kind.DECIMAL, wire_unit="uV",
          wire_scale=1000),
    _spec("vrp_ms", "ms", _r(150, 500, 10), "150-500 step 10 ms", 320, _SENSES_V,
          tolerance="+-8 ms"),
    _spec("arp_ms", "ms", _r(150, 500, 10), "150-500 step 10 ms", 250,
          _modes("AOO", "AAI", "AAT"), tolerance="+-8 ms"),
    _spec("pvarp_ms", "ms", _r(150, 500, 10), "150-500 step 10 ms", 250, _PVARP_MODES,
          tolerance="+-8 ms"),
    _spec("pvarp_extension_ms", "ms", (None, *_r(50, 400, 50)), "Off (None) or 50-400 step 50 ms",
          None, _TRACKING, tolerance="+-8 ms"),
    _spec("hysteresis_rate_ppm", "ppm", (None, *_LRL_GRID),
          "Off (None) or a lower-rate-grid value below lower_rate_ppm", None,
          _modes("AAI", "VVI", "VDD", "DDI", "DDD"), tolerance="+-8 ms"),
    _spec("rate_smoothing_pct", "%", (None, 3, 6, 9, 12, 15, 18, 21, 25),
          "Off (None), 3, 6, 9, 12, 15, 18, 21 or 25 %", None,
          _modes("AAI", "VVI", "VDD", "DDD"), tolerance="+-1 %"),
    _spec("atr_mode", "", (False, True), "False (Off) or True (On)", False, _TRACKING,
          kind=Kind.BOOL, wire_unit="bool"),
    _spec("atr_duration_cycles", "cycles", [10, *_r(20, 80, 20), *_r(100, 2000, 100)],
          "10, 20-80 step 20 or 100-2000 step 100 cycles", 20, _TRACKING, tolerance="+-1 cc"),
    _spec("atr_fallback_time_min", "min", _r(1, 5, 1), "1-5 step 1 min", 1, _TRACKING),
    _spec("ventricular_blanking_ms", "ms", _r(30, 60, 10), "30-60 step 10 ms", 40, _DUAL),
    _spec("activity_threshold", "", tuple(ActivityThreshold),
          "an ActivityThreshold: " + _enum_text(ActivityThreshold),
          ActivityThreshold.MED, _R_MODES, kind=Kind.ENUM, wire_unit="index"),
    _spec("reaction_time_s", "s", _r(10, 50, 10), "10-50 step 10 s", 30, _R_MODES,
          tolerance="+-3 s"),
    _spec("response_factor", "", _r(1, 16, 1), "1-16 step 1", 8, _R_MODES),
    _spec("recovery_time_min", "min", _r(2, 16, 1), "2-16 step 1 min", 5, _R_MODES,
          tolerance="+-30 s"),
    # Project settings of docs/assumptions.md.
    _spec("lower_rate_timing", "", tuple(LowerRateTiming),
          "a LowerRateTiming: " + _enum_text(LowerRateTiming),
          LowerRateTiming.VENTRICULAR, ALL_MODES, kind=Kind.ENUM, wire_unit="code",
          setting=True),
    _spec("pvab_ms", "ms", _r(50, 250, 10), "50-250 step 10 ms", 100, ALL_MODES, setting=True),
    _spec("pace_blanking_ms", "ms", _r(50, 250, 10), "50-250 step 10 ms", 100, ALL_MODES,
          setting=True),
    _spec("safety_pacing", "", (True, False), "True (On) or False (Off)", True, ALL_MODES,
          kind=Kind.BOOL, wire_unit="bool", setting=True),
    _spec("vsp_window_ms", "ms", _r(60, 150, 10), "60-150 step 10 ms", 110, ALL_MODES,
          setting=True),
    _spec("noise_interval_ms", "ms", _r(50, 250, 10), "50-250 step 10 ms", 100, ALL_MODES,
          setting=True),
    _spec("noise_count", "", _r(1, 10, 1), "1-10 step 1", 3, ALL_MODES, setting=True),
    _spec("pmt_termination", "", (True, False), "True (On) or False (Off)", True, ALL_MODES,
          kind=Kind.BOOL, wire_unit="bool", setting=True),
    _spec("pmt_cycles", "cycles", _r(4, 16, 1), "4-16 step 1 cycles", 8, ALL_MODES,
          setting=True),
    _spec("pmt_va_max_ms", "ms", _r(200, 600, 10), "200-600 step 10 ms", 400, ALL_MODES,
          setting=True),
    _spec("pmt_va_stability_ms", "ms", _r(8, 64, 1), "8-64 step 1 ms", 32, ALL_MODES,
          setting=True),
    _spec("pmt_pvarp_ms", "ms", _r(150, 500, 10), "150-500 step 10 ms", 500, ALL_MODES,
          setting=True),
    _spec("detection_dead_time_ms", "ms", _r(20, 100, 10), "20-100 step 10 ms", 50, ALL_MODES,
          setting=True),
]

PARAMETERS: dict[str, ParameterSpec] = {spec.name: spec for spec in _SPECS}
"""Every parameter and setting by canonical name, in table order."""


def interval_ms(rate_ppm: int) -> int:
    """A-1: 60000 / rate rounded half up to a whole millisecond (60 -> 1000, 175 -> 343)."""
    return (60000 + rate_ppm // 2) // rate_ppm
