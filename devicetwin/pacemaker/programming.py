"""A validated pacemaker programming: every parameter of ``parameters.PARAMETERS`` for one mode.

Validation happens once, in the constructor (grid, mode applicability, the cross-parameter rules
of ``docs/assumptions.md`` A-18); everything downstream trusts a ``Programming``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from devicetwin.errors import DeviceTwinError
from devicetwin.pacemaker.modes import ActivityThreshold, LowerRateTiming, Mode
from devicetwin.pacemaker.parameters import PARAMETERS, Kind, ParameterSpec, interval_ms


class ProgrammingError(DeviceTwinError):
    """A programming was rejected; ``name``, ``value`` and ``expected`` say why."""


def _fail(name: str, value: Any, expected: str, why: str = "is not allowed") -> ProgrammingError:
    return ProgrammingError(
        f"{name}={value!r} {why}: expected {expected}", name=name, value=value, expected=expected
    )


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

    def __post_init__(self) -> None:
        _validate(self)

    @classmethod
    def nominal(cls, mode: Mode = Mode.DDD, **changes: Any) -> Programming:
        """The nominal programming of ``mode`` (with ``changes`` applied, validated once)."""
        if not isinstance(mode, Mode):
            raise _fail("mode", mode, "a Mode (e.g. Mode.DDD)")
        return cls(mode=mode, **changes)

    def replace(self, **changes: Any) -> Programming:
        """A copy with ``changes`` applied, validated again."""
        unknown = sorted(set(changes) - set(PARAMETERS) - {"allow_temporary_modes"})
        if unknown:
            raise _fail(unknown[0], changes[unknown[0]], "one of " + ", ".join(PARAMETERS),
                        "is not a parameter")
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
    thousandths = round(value * 1000)
    if abs(value * 1000 - thousandths) > 1e-6:
        return False
    return any(v is not None and round(v * 1000) == thousandths for v in values)


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
        if not _on_grid(spec, value):
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
