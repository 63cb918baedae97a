"""Charge and energy the device delivered, from each pulse's amplitude and width and the lead's
impedance: the drain that battery longevity is computed from.

A constant-voltage pulse of amplitude V into a lead of impedance R for a width w delivers
charge Q = V / R x w and energy E = V^2 / R x w (the output capacitor's droop is neglected, a few
percent at the usual widths). The default impedance is 500 ohm, the test load of ISO 14708-2 and a
typical chronic lead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from devicetwin.pacemaker.markers import Chamber, MarkerEvent

DEFAULT_LEAD_OHM = 500.0
US_PER_HOUR = 3_600_000_000


@dataclass(frozen=True)
class DeliveredCharge:
    """Pulses, charge (microcoulomb) and energy (microjoule) of one chamber, and per hour."""

    pulses: int
    charge_uc: float
    energy_uj: float
    charge_uc_per_h: float
    energy_uj_per_h: float


def delivered_charge(pulses: Iterable[MarkerEvent], chamber: Chamber, duration_us: int,
                     lead_ohm: float = DEFAULT_LEAD_OHM) -> DeliveredCharge:
    """Charge and energy of the pace markers of ``chamber`` (``amplitude_mv``, ``width_us``)."""
    n = 0
    q_uc = 0.0
    e_uj = 0.0
    for p in pulses:
        if p.chamber is not chamber or not p.kind.is_pace:
            continue
        n += 1
        volts = (p.amplitude_mv or 0) / 1000.0
        width_s = (p.width_us or 0) / 1e6
        q_uc += volts / lead_ohm * width_s * 1e6
        e_uj += volts * volts / lead_ohm * width_s * 1e6
    hours = duration_us / US_PER_HOUR
    return DeliveredCharge(n, q_uc, e_uj, q_uc / hours if hours else 0.0,
                           e_uj / hours if hours else 0.0)
