"""Pace requests and the strength-duration capture law.

Capture needs two things. At the electrode, the pulse must be strong enough for its width:
Weiss/Lapicque, ``V_th = V_rheobase * (1 + chronaxie / width)`` (Lapicque 1909; the form used
clinically, e.g. Ellenbogen et al., *Clinical Cardiac Pacing*, ch. 1), with per-site rheobase and
chronaxie from the condition, multiplied by the condition's threshold-rise factor. A pulse at or
above threshold injects a suprathreshold current into the cells under the electrode for
:data:`CAPTURE_CURRENT_MS` ms; whether they fire (and the heart is captured) is then decided by
the cell model: refractory tissue does not fire. A pulse below threshold injects nothing. Either
way the pulse shows on every lead as an artefact (see :mod:`devicetwin.heart.signals`).

The law is applied at the electrode-tissue interface rather than by the membrane model because
the Mitchell-Schaeffer membrane time constant (tau_out = 6 ms) would give a chronaxie of ~4 ms,
ten times the clinical 0.3-0.5 ms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from devicetwin.heart.errors import bad

SITES = ("RA", "RV", "LV")
MAX_AMPLITUDE_V = 25.0
MAX_WIDTH_US = 5000

#: Current injected by a capturing pulse (1/ms, potential units per ms) and its duration.
CAPTURE_CURRENT_PER_MS = 0.8
CAPTURE_CURRENT_MS = 1.0


@dataclass(frozen=True)
class Pace:
    """A pacing pulse delivered to the heart.

    Attributes
    ----------
    t_us:
        Start of the pulse (integer microseconds, inside the advance window).
    site:
        "RA", "RV" or "LV".
    amplitude_v:
        Pulse amplitude in volts, (0, 25].
    width_us:
        Pulse width in microseconds, [30, 5000].
    """

    t_us: int
    site: str
    amplitude_v: float
    width_us: int

    def __post_init__(self) -> None:
        if not isinstance(self.t_us, int) or isinstance(self.t_us, bool) or self.t_us < 0:
            raise bad("Pace.t_us", self.t_us, "an integer >= 0 (microseconds)")
        if self.site not in SITES:
            raise bad("Pace.site", self.site, f"one of {SITES}")
        amp = self.amplitude_v
        if not (
            isinstance(amp, (int, float)) and math.isfinite(amp) and 0 < amp <= MAX_AMPLITUDE_V
        ):
            raise bad("Pace.amplitude_v", amp, f"(0, {MAX_AMPLITUDE_V}] V")
        if not isinstance(self.width_us, int) or not (30 <= self.width_us <= MAX_WIDTH_US):
            raise bad("Pace.width_us", self.width_us, f"an integer in [30, {MAX_WIDTH_US}] us")


def threshold_v(rheobase_v: float, chronaxie_ms: float, width_us: int) -> float:
    """Weiss/Lapicque threshold (V) for a pulse ``width_us`` long."""
    return rheobase_v * (1.0 + chronaxie_ms * 1000.0 / width_us)
