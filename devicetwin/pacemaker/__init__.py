"""The reference pacemaker: an executable form of the PACEMAKER specification."""

from devicetwin.pacemaker.engine import ModelError, ModelSnapshot, PacemakerModel, state_programming
from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind, PaceFlag
from devicetwin.pacemaker.modes import (
    ActivityThreshold,
    BatteryState,
    DeviceState,
    LowerRateTiming,
    Mode,
)
from devicetwin.pacemaker.parameters import PARAMETERS, ParameterSpec, interval_ms
from devicetwin.pacemaker.programming import Programming, ProgrammingError

__all__ = [
    "PARAMETERS",
    "ActivityThreshold",
    "BatteryState",
    "Chamber",
    "DeviceState",
    "LowerRateTiming",
    "MarkerEvent",
    "MarkerKind",
    "Mode",
    "ModelError",
    "ModelSnapshot",
    "PaceFlag",
    "PacemakerModel",
    "ParameterSpec",
    "Programming",
    "ProgrammingError",
    "interval_ms",
    "state_programming",
]
