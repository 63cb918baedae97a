"""What a scenario file declares: patient, device programming, duration, timeline, expectations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

#: Hazard names a scenario may expect (domain brief section 3); the monitors report these.
HAZARDS = (
    "pmt",
    "upper_rate",
    "crosstalk",
    "far_field_oversensing",
    "noise_reversion",
    "atrial_tachyarrhythmia_handling",
    "pvc_response",
    "loss_of_capture",
)

#: Timeline actions and the parameters each takes (name -> (type, unit/description)).
TIMELINE_ACTIONS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "heart": {"*": "any heart condition field (devicetwin.heart.Condition) and its value"},
        "condition": {"name": "a heart condition preset; fields given after it override it",
                      "*": "condition fields"},
        "exercise": {"workload": "0..1 fraction of maximal workload", "ramp_s": "seconds"},
        "rest": {"ramp_s": "seconds"},
        "pvc": {"count": "PVCs one after another", "coupling_ms": "ms between them (default 600)",
                "after_ms": "ms after the action time (default 0)"},
        "pac": {"count": "PACs one after another", "coupling_ms": "ms between them (default 500)",
                "after_ms": "ms after the action time (default 0)"},
        "af_start": {"mean_cycle_ms": "mean atrial cycle (default the condition's)"},
        "af_stop": {},
        "flutter_start": {"cycle_ms": "atrial flutter cycle length"},
        "flutter_stop": {},
        "noise": {"kind": "mains | myopotential | emi", "amplitude_mv": "mV",
                  "duration_s": "s (emi bursts)"},
        "noise_stop": {},
        "threshold": {"factor": "capture threshold multiplier now (1 = baseline)"},
        "av_block": {"conduction": "normal | blocked | intermittent"},
        "magnet": {"on": "true | false"},
    }
)

@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One change during a run: what happens at ``at_us`` (microseconds from the start)."""

    at_us: int
    action: str
    params: Mapping[str, Any] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True, slots=True)
class Expectations:
    """What must hold for the run to pass.

    ``hazards`` maps a hazard name to whether it must be detected (True) or must not (False);
    hazards not named are reported but not judged. Conformance thresholds judge the match of the
    device's events against the twin's predictions.
    """

    hazards: Mapping[str, bool] = field(default_factory=dict)
    min_recall: float = 0.99
    min_precision: float = 0.99
    max_timing_error_ms: float = 8.0
    monitors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Scenario:
    """A declarative bench run.

    ``parameters`` are programming values in the reference model's units under its canonical
    names (``lower_rate_ppm``, ``fixed_av_delay_ms``, ...); the rest take their nominal values.
    """

    name: str
    description: str
    requirements: tuple[str, ...]
    duration_us: int
    seed: int
    condition: str
    condition_overrides: Mapping[str, Any]
    mode: str
    parameters: Mapping[str, Any]
    timeline: tuple[TimelineEntry, ...] = ()
    expect: Expectations = field(default_factory=Expectations)
    #: ``normal``, or ``corrupt_store``: the emulated device powers up with a damaged parameter
    #: store and must start in power-on reset (A-15); the twin starts there too.
    device_start: str = "normal"
    #: Programmings (changes to ``parameters``) the device must refuse with a NACK (A-18).
    must_refuse: tuple[Mapping[str, Any], ...] = ()
    tolerance_ms: float = 8.0
    source: Path | None = None

    @property
    def duration_s(self) -> float:
        """Duration in seconds (for display)."""
        return self.duration_us / 1e6
