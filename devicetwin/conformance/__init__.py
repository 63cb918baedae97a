"""Conformance: score a device's marker stream against the twin's prediction and the
programmed limits.

- :func:`match` pairs device events with predicted events within tolerance and classifies every
  discrepancy (:class:`MatchResult`).
- :func:`run_monitors` checks the device's own stream (lower/upper rate, AV delay, refractory
  handling, PMT, crosstalk, noise reversion, ATR, PVC response, capture, far-field) and returns
  verdicts and the hazard summary (:class:`MonitorReport`).

Timing errors are also kept signed (:class:`SignedStats`, microseconds): per marker kind against
the twin, and per interval measurement against its programmed value, so a bias shows.

Depends only on ``devicetwin.pacemaker.markers`` and NumPy. See ``docs/conformance.md``.
"""

from devicetwin.conformance.errors import ConformanceError
from devicetwin.conformance.hazards import Hazard, HazardFinding
from devicetwin.conformance.limits import LowerRateTiming, MatchTolerance, TimingLimits
from devicetwin.conformance.matching import (
    Discrepancy,
    DiscrepancyClass,
    MatchResult,
    TimingErrorStats,
    match,
)
from devicetwin.conformance.monitors import (
    HAZARD_MONITOR,
    MonitorReport,
    MonitorResult,
    PmtRun,
    run_monitors,
)
from devicetwin.conformance.statistics import SignedStats
from devicetwin.conformance.stream import Activation, ActivationOrigin, EventArrays
from devicetwin.conformance.verdicts import Limits, Measurement, Verdict, VerdictStatus, judge

__all__ = [
    "HAZARD_MONITOR",
    "Activation",
    "ActivationOrigin",
    "ConformanceError",
    "Discrepancy",
    "DiscrepancyClass",
    "EventArrays",
    "Hazard",
    "HazardFinding",
    "Limits",
    "LowerRateTiming",
    "MatchResult",
    "MatchTolerance",
    "Measurement",
    "MonitorReport",
    "MonitorResult",
    "PmtRun",
    "SignedStats",
    "TimingErrorStats",
    "TimingLimits",
    "Verdict",
    "VerdictStatus",
    "judge",
    "match",
    "run_monitors",
]
