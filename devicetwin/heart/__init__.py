"""The heart: a compiled cardiac electrophysiology model that conducts, blocks, takes pacing and
writes electrograms (see docs/heart.md)."""

from devicetwin.heart.conditions import (
    PRESETS,
    Condition,
    condition_from_mapping,
    get_condition,
    list_conditions,
    load_condition,
)
from devicetwin.heart.errors import HeartError
from devicetwin.heart.events import Activation, Origin
from devicetwin.heart.ionic import IonicModel
from devicetwin.heart.model import DT_US, Heart, HeartOutput, HeartSnapshot
from devicetwin.heart.pacing import Pace, threshold_v

__all__ = [
    "DT_US",
    "PRESETS",
    "Activation",
    "Condition",
    "Heart",
    "HeartError",
    "HeartOutput",
    "HeartSnapshot",
    "IonicModel",
    "Origin",
    "Pace",
    "condition_from_mapping",
    "get_condition",
    "list_conditions",
    "load_condition",
    "threshold_v",
]
