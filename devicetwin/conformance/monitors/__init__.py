"""Monitors on the device's own marker stream; :func:`run_monitors` runs them all.

Each monitor acquires measurements (:class:`~devicetwin.conformance.verdicts.Measurement`);
:func:`run_monitors` judges them against their limits and derives the hazard summary from the
verdicts each monitor declares as its hazard's evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from devicetwin.conformance.hazards import Hazard, HazardFinding
from devicetwin.conformance.limits import TimingLimits
from devicetwin.conformance.monitors._context import MonitorContext, MonitorResult
from devicetwin.conformance.monitors.atr import atr
from devicetwin.conformance.monitors.av_delay import av_delay
from devicetwin.conformance.monitors.crosstalk import crosstalk
from devicetwin.conformance.monitors.ground_truth import far_field, loss_of_capture
from devicetwin.conformance.monitors.noise import noise_reversion
from devicetwin.conformance.monitors.pmt import PmtRun, pmt
from devicetwin.conformance.monitors.pvc import pvc_response
from devicetwin.conformance.monitors.rates import lower_rate, upper_rate
from devicetwin.conformance.monitors.refractory import refractory
from devicetwin.conformance.statistics import SignedStats
from devicetwin.conformance.stream import Activation, ActivationArrays, EventArrays
from devicetwin.conformance.verdicts import Verdict, judge, not_applicable
from devicetwin.pacemaker.markers import MarkerEvent, MarkerKind

Monitor = Callable[[MonitorContext], MonitorResult]

#: Every monitor, in report order.
MONITORS: tuple[Monitor, ...] = (
    lower_rate, upper_rate, av_delay, refractory, pmt, crosstalk, noise_reversion, atr,
    pvc_response, loss_of_capture, far_field,
)

#: The monitors that judge a device from its paces alone (with the heart's ground truth); every
#: other monitor reads senses, refractory senses or markers, and needs a device that reports them.
PACES_SUFFICE: frozenset[str] = frozenset({"upper_rate", "loss_of_capture"})
FULL_MARKERS: frozenset[MarkerKind] = frozenset(MarkerKind)

#: Which monitor's hazard measurements decide each hazard.
HAZARD_MONITOR: dict[Hazard, str] = {
    Hazard.PMT: "pmt",
    Hazard.UPPER_RATE: "upper_rate",
    Hazard.CROSSTALK: "crosstalk",
    Hazard.FAR_FIELD_OVERSENSING: "far_field_oversensing",
    Hazard.NOISE_REVERSION: "noise_reversion",
    Hazard.ATRIAL_TACHYARRHYTHMIA_HANDLING: "atr",
    Hazard.PVC_RESPONSE: "pvc_response",
    Hazard.LOSS_OF_CAPTURE: "loss_of_capture",
}


@dataclass(frozen=True, slots=True, eq=False)
class MonitorReport:
    """All verdicts of a run, per monitor, and the hazard summary."""

    verdicts: tuple[Verdict, ...]
    results: dict[str, MonitorResult]
    hazards: dict[Hazard, HazardFinding]

    @property
    def passed(self) -> bool:
        """True when no verdict failed (a not-applicable verdict does not fail a run)."""
        return not any(v.failed for v in self.verdicts)

    def verdict(self, name: str) -> Verdict:
        """The verdict of measurement ``name`` (KeyError if there is none)."""
        for v in self.verdicts:
            if v.name == name:
                return v
        raise KeyError(name)

    def hazard_flags(self) -> dict[str, bool]:
        """``{hazard name: detected}``, as ``summary.json`` wants it."""
        return {h.value: f.detected for h, f in self.hazards.items()}

    def timing_statistics(self) -> dict[str, SignedStats]:
        """The signed error of each interval measurement that has one, by measurement name
        (microseconds, measured minus expected), in report order."""
        return {v.name: v.signed_error for v in self.verdicts if v.signed_error is not None}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "passed": self.passed,
            "verdicts": [v.to_dict() for v in self.verdicts],
            "hazards": {h.value: f.to_dict() for h, f in self.hazards.items()},
        }


def run_monitors(
    device: Sequence[MarkerEvent] | EventArrays,
    limits: TimingLimits,
    *,
    activations: Sequence[Activation] | None = None,
    end_us: int | None = None,
    reported: frozenset[MarkerKind] = FULL_MARKERS,
) -> MonitorReport:
    """Run every monitor on the device's marker stream and judge the measurements.

    Parameters
    ----------
    device:
        The device's marker events (any order), or their ``EventArrays`` (converted once).
    limits:
        The programmed timing.
    activations:
        The heart's ground truth, if the bench has it (needed for loss of capture and
        far-field oversensing; improves crosstalk).
    end_us:
        End of the session in microseconds; lets the lower-rate monitor judge a final silence.
    reported:
        The marker kinds the device reports. A device that does not report every kind is
        judged only by the monitors of ``PACES_SUFFICE``; the others are not applicable (a
        device that shows no senses is never blamed for what only senses could show).
    """
    ev = EventArrays.of(device)
    acts = ActivationArrays.from_activations(activations) if activations is not None else None
    ctx = MonitorContext.build(ev, limits, acts, end_us)
    results: dict[str, MonitorResult] = {}
    verdicts: list[Verdict] = []
    partial = sorted(k.name for k in FULL_MARKERS - reported)
    for monitor in MONITORS:
        res = monitor(ctx)
        results[res.name] = res
        if partial and res.name not in PACES_SUFFICE:
            verdicts.extend(
                not_applicable(m, f"the device does not report {', '.join(partial)}")
                for m in res.measurements)
        else:
            verdicts.extend(judge(m) for m in res.measurements)
    by_name = {v.name: v for v in verdicts}
    hazards: dict[Hazard, HazardFinding] = {}
    for hazard, mon in HAZARD_MONITOR.items():
        res = results[mon]
        vs = [by_name[n] for n in res.hazard_measurements if n in by_name]
        failed = [v for v in vs if v.failed]
        evaluated = any(v.applicable for v in vs)
        ev_t = tuple(sorted({t for v in failed for t in v.evidence_t_us}))
        if failed:
            sentence = f"{hazard.value} detected: " + " ".join(v.sentence for v in failed)
        elif evaluated:
            sentence = f"{hazard.value} not detected."
        else:
            sentence = f"{hazard.value} not evaluated: nothing in this run could show it."
        hazards[hazard] = HazardFinding(hazard, bool(failed), ev_t, evaluated, sentence)
    return MonitorReport(tuple(verdicts), results, hazards)


__all__ = [
    "HAZARD_MONITOR",
    "MONITORS",
    "MonitorContext",
    "MonitorReport",
    "MonitorResult",
    "PmtRun",
    "run_monitors",
]
