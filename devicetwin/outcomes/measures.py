"""Every outcome measure of a run, computed together from the heart's ground truth.

``compute_outcomes`` is the one entry point that bench verdicts, cohort endpoints and the
programming optimiser share; each measure's definition and source is in its own module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from devicetwin.heart.events import Activation
from devicetwin.outcomes.beats import ground_truth
from devicetwin.outcomes.burden import PacingBurden, pacing_burden
from devicetwin.outcomes.charge import DEFAULT_LEAD_OHM, DeliveredCharge, delivered_charge
from devicetwin.outcomes.pmt import DEFAULT_MIN_CYCLES, PmtOutcome, pmt_outcome
from devicetwin.outcomes.rates import (
    DEFAULT_NEAR_FRACTION,
    RateSummary,
    UpperRateCause,
    rate_summary,
    upper_rate_time,
)
from devicetwin.outcomes.safety import (
    PAUSE_MARGIN_MS,
    Pauses,
    competitive_atrial_pacing,
    pauses,
    r_on_t,
)
from devicetwin.outcomes.tracking import followed_atrial
from devicetwin.pacemaker.markers import Chamber, MarkerEvent
from devicetwin.pacemaker.parameters import interval_ms
from devicetwin.pacemaker.programming import Programming


@dataclass(frozen=True)
class OutcomeSettings:
    """What the measures need to know of the programming and the patient.

    Attributes
    ----------
    duration_us:
        The run's length.
    lri_ms, uri_ms:
        Lower- and upper-rate intervals of the programming.
    pause_limit_ms:
        The longest V-V interval the programming allows (escape with hysteresis, plus tolerance).
    max_tracked_av_ms:
        How long after an atrial beat a ventricular pace still counts as following it (default:
        the upper-rate interval, longer than any upper-rate-delayed tracked AV interval).
    lead_ohm_a, lead_ohm_v:
        Lead impedances for the delivered charge.
    """

    duration_us: int
    lri_ms: float
    uri_ms: float
    pause_limit_ms: float
    max_tracked_av_ms: float | None = None
    lead_ohm_a: float = DEFAULT_LEAD_OHM
    lead_ohm_v: float = DEFAULT_LEAD_OHM
    pmt_min_cycles: int = DEFAULT_MIN_CYCLES
    near_upper_fraction: float = DEFAULT_NEAR_FRACTION

    @classmethod
    def for_programming(cls, programming: Programming, duration_us: int,
                        tolerance_ms: float = 8.0) -> OutcomeSettings:
        """The settings a programming implies: its lower rate, its fastest upper rate (tracking
        or, in a rate-adaptive mode, sensor), and a pause limit of its longest escape interval
        (hysteresis where programmed) plus ``PAUSE_MARGIN_MS`` and ``tolerance_ms``."""
        hyst = programming.hysteresis_rate_ppm
        escape_ms = interval_ms(hyst) if hyst else programming.lri_ms
        upper_ms = programming.uri_ms
        if programming.mode.rate_adaptive:
            upper_ms = min(upper_ms, interval_ms(programming.max_sensor_rate_ppm))
        return cls(duration_us, programming.lri_ms, upper_ms,
                   pause_limit_ms=escape_ms + PAUSE_MARGIN_MS + tolerance_ms)


@dataclass(frozen=True)
class Outcomes:
    """The patient's outcome of one run (see each field's type for its definition)."""

    settings: OutcomeSettings
    atrial_rate: RateSummary
    ventricular_rate: RateSummary
    upper_rate_us: dict[UpperRateCause, int]
    pmt: PmtOutcome
    atrial_pacing: PacingBurden
    ventricular_pacing: PacingBurden
    pauses: Pauses
    r_on_t: int
    competitive_atrial_pacing: int
    atrial_charge: DeliveredCharge
    ventricular_charge: DeliveredCharge

    @property
    def upper_rate_fraction(self) -> float:
        """Share of the run spent at or near the upper rate, whatever the cause, 0..1."""
        total = sum(self.upper_rate_us.values())
        return total / self.settings.duration_us if self.settings.duration_us else 0.0

    def values(self) -> dict[str, float | int | None]:
        """The headline numbers by name: what scenario limits and cohort endpoints refer to."""
        d = self.settings.duration_us
        return {
            "atrial_rate_mean_bpm": self.atrial_rate.mean_bpm,
            "ventricular_rate_mean_bpm": self.ventricular_rate.mean_bpm,
            "ventricular_rate_max_bpm": self.ventricular_rate.max_bpm,
            "upper_rate_fraction": self.upper_rate_fraction,
            "upper_rate_retrograde_fraction":
                self.upper_rate_us[UpperRateCause.RETROGRADE] / d if d else 0.0,
            "pmt_cycles": self.pmt.cycles,
            "pmt_episodes": len(self.pmt.episodes),
            "pmt_burden": self.pmt.burden,
            "pmt_longest_episode_s": self.pmt.longest_episode_us / 1e6,
            "pmt_episodes_ended_by_device": self.pmt.ended_by_device,
            "atrial_paced_percent": self.atrial_pacing.paced_percent,
            "ventricular_paced_percent": self.ventricular_pacing.paced_percent,
            "ventricular_fusion": self.ventricular_pacing.fusion,
            "ventricular_pseudo_fusion": self.ventricular_pacing.pseudo_fusion,
            "atrial_pulses_without_capture": self.atrial_pacing.pulses_without_capture,
            "ventricular_pulses_without_capture": self.ventricular_pacing.pulses_without_capture,
            "longest_pause_ms": self.pauses.longest_ms,
            "pauses": self.pauses.count,
            "r_on_t": self.r_on_t,
            "competitive_atrial_pacing": self.competitive_atrial_pacing,
            "charge_uc_per_h": (self.atrial_charge.charge_uc_per_h
                                + self.ventricular_charge.charge_uc_per_h),
            "energy_uj_per_h": (self.atrial_charge.energy_uj_per_h
                                + self.ventricular_charge.energy_uj_per_h),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the headline values, the upper-rate time by cause and every episode."""
        return {
            **self.values(),
            "upper_rate_s_by_cause": {c.value: us / 1e6 for c, us in self.upper_rate_us.items()},
            "pmt_episodes_detail": [
                {"onset_s": e.onset_us / 1e6, "duration_s": e.duration_us / 1e6,
                 "cycles": e.cycles, "ended_by": e.ended_by.value}
                for e in self.pmt.episodes],
        }


#: The unit of each headline value, for tables (one place; names carry it too).
UNITS: dict[str, str] = {
    "atrial_rate_mean_bpm": "bpm", "ventricular_rate_mean_bpm": "bpm",
    "ventricular_rate_max_bpm": "bpm", "upper_rate_fraction": "of run",
    "upper_rate_retrograde_fraction": "of run", "pmt_cycles": "beats", "pmt_episodes": "",
    "pmt_burden": "of run", "pmt_longest_episode_s": "s", "pmt_episodes_ended_by_device": "",
    "atrial_paced_percent": "%", "ventricular_paced_percent": "%", "ventricular_fusion": "beats",
    "ventricular_pseudo_fusion": "beats", "atrial_pulses_without_capture": "pulses",
    "ventricular_pulses_without_capture": "pulses", "longest_pause_ms": "ms", "pauses": "",
    "r_on_t": "pulses", "competitive_atrial_pacing": "pulses", "charge_uc_per_h": "uC/h",
    "energy_uj_per_h": "uJ/h",
}


#: The headline measures by name (the keys of ``Outcomes.values()``), in table order.
OUTCOME_NAMES: tuple[str, ...] = tuple(UNITS)


@dataclass(frozen=True)
class OutcomeLimit:
    """A limit on one headline measure: ``low <= value <= high`` (either side may be open).

    Scenario files write it ``<name>_max = x`` / ``<name>_min = x`` under ``[expect.outcomes]``.
    """

    name: str
    low: float | None = None
    high: float | None = None

    def holds(self, value: float | int | None) -> bool:
        """True when ``value`` lies within the limit (None, no value, never does)."""
        if value is None:
            return False
        return ((self.low is None or value >= self.low)
                and (self.high is None or value <= self.high))

    @property
    def text(self) -> str:
        """``<= 0.05``, ``>= 1``, ``1..5``."""
        if self.low is not None and self.high is not None:
            return f"{self.low:g}..{self.high:g}"
        return f">= {self.low:g}" if self.low is not None else f"<= {self.high:g}"


def compute_outcomes(activations: Sequence[Activation], pulses: Sequence[MarkerEvent],
                     settings: OutcomeSettings) -> Outcomes:
    """Every outcome measure of a run.

    Parameters
    ----------
    activations:
        The heart's ground truth: every activation and every pace record (with capture).
    pulses:
        The pace markers of the pulses delivered (amplitude and width), for the charge.
    """
    truth = ground_truth(activations)
    followed = followed_atrial(truth, settings.max_tracked_av_ms or settings.uri_ms)
    d = settings.duration_us
    return Outcomes(
        settings=settings,
        atrial_rate=rate_summary(truth.atrial, d),
        ventricular_rate=rate_summary(truth.ventricular, d),
        upper_rate_us=upper_rate_time(truth, followed, uri_ms=settings.uri_ms,
                                      near_fraction=settings.near_upper_fraction),
        pmt=pmt_outcome(truth, followed, lri_ms=settings.lri_ms, duration_us=d,
                        min_cycles=settings.pmt_min_cycles),
        atrial_pacing=pacing_burden(truth.atrial, truth.atrial_paces),
        ventricular_pacing=pacing_burden(truth.ventricular, truth.ventricular_paces),
        pauses=pauses(truth.ventricular, settings.pause_limit_ms),
        r_on_t=r_on_t(truth.ventricular, truth.ventricular_paces),
        competitive_atrial_pacing=competitive_atrial_pacing(truth.atrial_paces),
        atrial_charge=delivered_charge(pulses, Chamber.A, d, settings.lead_ohm_a),
        ventricular_charge=delivered_charge(pulses, Chamber.V, d, settings.lead_ohm_v),
    )
