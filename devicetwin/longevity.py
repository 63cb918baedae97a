"""Battery longevity of a pacemaker: years from a battery, a programming and a pacing burden.

The model is the one pacing textbooks and manufacturers' longevity tables use (issue 17):

    longevity (years) = 114 x usable capacity (Ah) / mean current drain (uA)

where 114 is hours per microampere-year turned round: 1 Ah lasts 10^6 h at 1 uA, and
10^6 h / 8766 h per year = 114.08 years (:data:`YEARS_PER_AH_PER_UA`). The mean drain is the
static (housekeeping) current plus, for every paced chamber, the battery-side current of its
pulses:

    charge per pulse (uC) = amplitude (V) / lead impedance (ohm) x width (ms) x 1000
    output current (uA)   = charge per pulse (uC) x pulses per second x pacing fraction
    battery current (uA)  = output current x multiplier / charge-pump efficiency

The pulse is taken as a constant-voltage rectangle into a resistive load (the droop of the
output capacitor, a few per cent, is neglected and so is the lead's polarisation). **Where the
output-voltage multiplier applies**: a programmed amplitude at or below the battery voltage is
drawn from the battery directly (multiplier 1); above it, the charge pump multiplies the battery
voltage by the smallest available ratio that reaches the amplitude (2x, 3x), and the battery
supplies that many times the output charge, divided by the pump's efficiency. A lithium-iodine
cell is about 2.8 V at beginning of life, so the nominal 3.5 V output already doubles the
charge drawn for pacing; 2.5 V does not.

The published worked example (1 Ah, 85 % usable, 2.5 V, 0.4 ms, 500 ohm, 60 ppm, 50 % pacing,
6-10 uA static: 8.8-13.9 years) is held in ``tests/devicetwin/test_longevity.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from devicetwin.errors import DeviceTwinError
from devicetwin.pacemaker import Programming

#: Years a 1 Ah capacity lasts at a 1 uA drain: 10^6 h / (365.25 x 24 h).
YEARS_PER_AH_PER_UA = 1e6 / (365.25 * 24.0)


class LongevityError(DeviceTwinError):
    """A battery or output value outside what the longevity model accepts."""


def _check(name: str, value: float, lo: float, hi: float, unit: str,
           lo_open: bool = False) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (lo < value if lo_open else lo <= value) and value <= hi
    if not ok:
        side = "(" if lo_open else "["
        raise LongevityError(
            f"{name} {value!r} is out of range; expected {side}{lo:g}, {hi:g}] {unit}",
            name=name, value=value, expected=f"{side}{lo:g}, {hi:g}] {unit}")


@dataclass(frozen=True, slots=True)
class Battery:
    """A pacemaker's cell and its power supply.

    Parameters
    ----------
    capacity_ah:
        Nominal capacity in ampere-hours (0.5-2.5 Ah in pacemakers).
    usable_fraction:
        The share of the capacity delivered before the elective replacement indicator.
    voltage_v:
        The cell's voltage in volts (about 2.8 V for lithium-iodine at beginning of life).
    static_current_ua:
        Housekeeping drain in microamperes (sensing, timing, telemetry): 5-10 uA.
    multipliers:
        The charge pump's voltage ratios above the cell voltage, ascending (e.g. 2, 3).
    pump_efficiency:
        The charge pump's efficiency (1 = ideal); only used when a multiplier applies.
    """

    capacity_ah: float = 1.0
    usable_fraction: float = 0.85
    voltage_v: float = 2.8
    static_current_ua: float = 8.0
    multipliers: tuple[float, ...] = (2.0, 3.0)
    pump_efficiency: float = 1.0

    def __post_init__(self) -> None:
        _check("capacity_ah", self.capacity_ah, 0.0, 10.0, "Ah", lo_open=True)
        _check("usable_fraction", self.usable_fraction, 0.0, 1.0, "", lo_open=True)
        _check("voltage_v", self.voltage_v, 0.0, 10.0, "V", lo_open=True)
        _check("static_current_ua", self.static_current_ua, 0.0, 1000.0, "uA")
        _check("pump_efficiency", self.pump_efficiency, 0.0, 1.0, "", lo_open=True)
        last = 1.0
        for m in self.multipliers:
            _check("multipliers", m, last, 10.0, "x (ascending, above 1)", lo_open=True)
            last = m

    @property
    def usable_ah(self) -> float:
        """Capacity delivered before replacement, in ampere-hours."""
        return self.capacity_ah * self.usable_fraction

    def multiplier_for(self, amplitude_v: float) -> float:
        """The ratio the battery's charge is multiplied by to reach ``amplitude_v`` (1 when the
        cell's own voltage suffices)."""
        if amplitude_v <= self.voltage_v:
            return 1.0
        for m in self.multipliers:
            if m * self.voltage_v >= amplitude_v:
                return m
        reach = self.voltage_v * (self.multipliers[-1] if self.multipliers else 1.0)
        raise LongevityError(
            f"amplitude {amplitude_v:g} V is beyond what the supply reaches ({reach:g} V: "
            f"{self.voltage_v:g} V x {self.multipliers or (1.0,)})",
            name="amplitude_v", value=amplitude_v, expected=f"<= {reach:g} V")


@dataclass(frozen=True, slots=True)
class ChamberOutput:
    """One paced chamber's output and how often it paces.

    Parameters
    ----------
    amplitude_v:
        Programmed pulse amplitude in volts.
    width_ms:
        Pulse width in milliseconds.
    impedance_ohm:
        Pacing lead impedance in ohms.
    rate_ppm:
        Mean rate of the chamber's cycles in pulses per minute (paced or not).
    paced_fraction:
        The share of those cycles that are paced (0-1).
    """

    amplitude_v: float
    width_ms: float
    impedance_ohm: float
    rate_ppm: float
    paced_fraction: float

    def __post_init__(self) -> None:
        _check("amplitude_v", self.amplitude_v, 0.0, 10.0, "V")
        _check("width_ms", self.width_ms, 0.0, 2.0, "ms")
        _check("impedance_ohm", self.impedance_ohm, 100.0, 5000.0, "ohm")
        _check("rate_ppm", self.rate_ppm, 0.0, 300.0, "ppm")
        _check("paced_fraction", self.paced_fraction, 0.0, 1.0, "")

    @property
    def charge_per_pulse_uc(self) -> float:
        """Charge delivered by one pulse into the lead, in microcoulombs."""
        return self.amplitude_v / self.impedance_ohm * self.width_ms * 1000.0

    @property
    def output_current_ua(self) -> float:
        """Mean current delivered into the lead, in microamperes."""
        return self.charge_per_pulse_uc * self.rate_ppm / 60.0 * self.paced_fraction


@dataclass(frozen=True, slots=True)
class Longevity:
    """The result: years, and the drain that gives them (microamperes)."""

    years: float
    static_current_ua: float
    pacing_current_ua: float
    multipliers: tuple[float, ...]

    @property
    def total_current_ua(self) -> float:
        """Mean battery drain in microamperes."""
        return self.static_current_ua + self.pacing_current_ua


def years_for_drain(usable_ah: float, current_ua: float) -> float:
    """114 x usable capacity (Ah) / mean current drain (uA), in years."""
    _check("current_ua", current_ua, 0.0, 1e6, "uA", lo_open=True)
    return YEARS_PER_AH_PER_UA * usable_ah / current_ua


def longevity(battery: Battery, outputs: Sequence[ChamberOutput]) -> Longevity:
    """Years until the usable capacity is spent, with every chamber in ``outputs`` pacing."""
    pacing = 0.0
    used = []
    for out in outputs:
        m = battery.multiplier_for(out.amplitude_v)
        used.append(m)
        pacing += out.output_current_ua * (m / battery.pump_efficiency if m > 1.0 else 1.0)
    total = battery.static_current_ua + pacing
    return Longevity(years_for_drain(battery.usable_ah, total), battery.static_current_ua,
                     pacing, tuple(used))


def programming_longevity(
    battery: Battery,
    programming: Programming,
    *,
    atrial_paced_fraction: float,
    ventricular_paced_fraction: float,
    rate_ppm: float | None = None,
    atrial_impedance_ohm: float = 500.0,
    ventricular_impedance_ohm: float = 500.0,
) -> Longevity:
    """Years for a programming and a pacing burden (the fractions of cycles paced, 0-1).

    ``rate_ppm`` is the mean cycle rate (default the programmed lower rate); a chamber the mode
    does not pace, or whose output is Off, draws nothing.
    """
    rate = float(programming.lower_rate_ppm) if rate_ppm is None else rate_ppm
    outputs = []
    chambers = (
        (programming.mode.paces_atrium, programming.atrial_amplitude_v,
         programming.atrial_pulse_width_ms, atrial_impedance_ohm, atrial_paced_fraction),
        (programming.mode.paces_ventricle, programming.ventricular_amplitude_v,
         programming.ventricular_pulse_width_ms, ventricular_impedance_ohm,
         ventricular_paced_fraction),
    )
    for paces, amplitude_v, width_ms, impedance_ohm, fraction in chambers:
        if paces and amplitude_v is not None:
            outputs.append(ChamberOutput(amplitude_v, width_ms, impedance_ohm, rate, fraction))
    return longevity(battery, outputs)
