"""The patient's twin: imported sessions, what a recording tells, the twin file.

Pure computation (no I/O but the twin file's own reader and writer): importing a recording is
``hil.twin``'s; calibration and recommendation live in their own modules here.
"""

from devicetwin.twin.errors import TwinError
from devicetwin.twin.label_analysis import BeatLabelAnalysis, Estimate, analyse_beat_labels
from devicetwin.twin.observed import BEHAVIOUR_UNITS, observed_behaviour
from devicetwin.twin.provenance import Provenance
from devicetwin.twin.session import BeatLabel, RecordedSession, RhythmNote, SignalInfo
from devicetwin.twin.twinfile import (
    Posterior,
    Recommendation,
    Twin,
    condition_changes,
    load_twin,
    save_twin,
)

__all__ = [
    "BEHAVIOUR_UNITS",
    "BeatLabel",
    "BeatLabelAnalysis",
    "Estimate",
    "Posterior",
    "Provenance",
    "Recommendation",
    "RecordedSession",
    "RhythmNote",
    "SignalInfo",
    "Twin",
    "TwinError",
    "analyse_beat_labels",
    "condition_changes",
    "load_twin",
    "observed_behaviour",
    "save_twin",
]
