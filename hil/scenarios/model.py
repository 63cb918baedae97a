"""What a scenario file declares: patient, device programming, duration, timeline, expectations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from devicetwin.conformance.hazards import Hazard
from devicetwin.heart.conditions import AV_CONDUCTION, PRESETS
from devicetwin.outcomes import OutcomeLimit

#: Hazard names a scenario may expect (domain brief section 3), as the monitors report them.
HAZARDS: tuple[str, ...] = tuple(h.value for h in Hazard)

#: What ``noise`` actions inject (``kind``).
#: Each noise kind of the ``noise`` action and the heart condition field it drives.
NOISE_SOURCES = {"mains": "mains_mv", "myopotential": "myopotential_mv", "emi": "emi_bursts"}
NOISE_KINDS = tuple(NOISE_SOURCES)


@dataclass(frozen=True, slots=True)
class ActionField:
    """One field of a timeline action: what it means and the values it takes.

    ``kind`` is the TOML type (``float`` also takes integers); ``choices`` close a string
    field; ``low`` and ``high`` bound a number (inclusive, in the unit the description names).
    Physiological limits are the heart's, checked when the change is scheduled.
    """

    description: str
    kind: type[bool] | type[int] | type[float] | type[str]
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """A timeline action: its own fields and whether it takes heart condition fields too
    (``devicetwin.heart.Condition``, any of them, validated against the patient)."""

    fields: Mapping[str, ActionField] = field(default_factory=dict)
    condition_fields: bool = False


def _num(description: str, low: float | None = 0.0, high: float | None = None) -> ActionField:
    return ActionField(description, float, low=low, high=high)


_COUPLING_MS = "ms between them"
_AFTER_MS = _num("ms after the action time (default 0)")

#: Timeline actions and the fields each takes.
TIMELINE_ACTIONS: Mapping[str, ActionSpec] = MappingProxyType(
    {
        "heart": ActionSpec(condition_fields=True),
        "condition": ActionSpec(
            {"name": ActionField("a heart condition preset; fields given after it override it",
                                 str, choices=tuple(PRESETS))},
            condition_fields=True),
        "exercise": ActionSpec({"workload": _num("fraction of maximal workload", 0.0, 1.0),
                                "ramp_s": _num("seconds")}),
        "rest": ActionSpec({"ramp_s": _num("seconds")}),
        "pvc": ActionSpec({"count": ActionField("PVCs one after another", int, low=1, high=1000),
                           "coupling_ms": _num(_COUPLING_MS + " (default 600)", 1.0),
                           "after_ms": _AFTER_MS}),
        "pac": ActionSpec({"count": ActionField("PACs one after another", int, low=1, high=1000),
                           "coupling_ms": _num(_COUPLING_MS + " (default 500)", 1.0),
                           "after_ms": _AFTER_MS}),
        "af_start": ActionSpec(
            {"mean_cycle_ms": _num("mean atrial cycle, ms (default the condition's)", 1.0)}),
        "af_stop": ActionSpec(),
        "flutter_start": ActionSpec({"cycle_ms": _num("atrial flutter cycle length, ms", 1.0)}),
        "flutter_stop": ActionSpec(),
        "noise": ActionSpec({"kind": ActionField("what is injected", str, choices=NOISE_KINDS),
                             "amplitude_mv": _num("mV"),
                             "duration_s": _num("s (emi bursts)")}),
        "noise_stop": ActionSpec(),
        "threshold": ActionSpec(
            {"factor": _num("capture threshold multiplier now (1 = baseline)")}),
        "av_block": ActionSpec({"conduction": ActionField("AV conduction", str,
                                                          choices=AV_CONDUCTION)}),
        "magnet": ActionSpec({"on": ActionField("magnet applied (true) or removed (false)", bool)}),
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
    hazards not named are reported but not judged. ``outcomes`` limits what happened to the
    patient (PMT burden, ventricular pacing, pauses...), judged from the heart's ground truth.
    Conformance thresholds judge the match of the device's events against the twin's
    predictions.
    """

    hazards: Mapping[str, bool] = field(default_factory=dict)
    min_recall: float = 0.99
    min_precision: float = 0.99
    max_timing_error_ms: float = 8.0
    monitors: tuple[str, ...] = ()
    outcomes: tuple[OutcomeLimit, ...] = ()
    """Limits on the patient's outcome measures (``[expect.outcomes]``, devicetwin.outcomes)."""


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
    #: Device features the scenario exercises (``hil.devices.contract.DEVICE_FEATURES``): it
    #: does not apply to a device that lacks one.
    needs: tuple[str, ...] = ()
    tolerance_ms: float = 8.0
    source: Path | None = None
    #: ``[patient] twin``: the twin's id and file, when the patient is a calibrated twin
    #: (``condition`` is then the base preset and ``condition_overrides`` the twin's values).
    patient_twin: str | None = None

    @property
    def duration_s(self) -> float:
        """Duration in seconds (for display)."""
        return self.duration_us / 1e6
