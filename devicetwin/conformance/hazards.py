"""The hazards of pacing.md section 3 and how a run's verdicts say whether each was detected."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Hazard(enum.Enum):
    """Closed-loop hazards (pacing.md section 3); the value is the key in ``summary.json``."""

    PMT = "pmt"
    UPPER_RATE = "upper_rate"
    CROSSTALK = "crosstalk"
    FAR_FIELD_OVERSENSING = "far_field_oversensing"
    NOISE_REVERSION = "noise_reversion"
    ATRIAL_TACHYARRHYTHMIA_HANDLING = "atrial_tachyarrhythmia_handling"
    PVC_RESPONSE = "pvc_response"
    LOSS_OF_CAPTURE = "loss_of_capture"


@dataclass(frozen=True, slots=True)
class HazardFinding:
    """Whether a hazard was detected in a run, with the times that show it.

    ``evaluated`` is False when nothing in the run could show the hazard (e.g. loss of capture
    without the heart's ground truth).
    """

    hazard: Hazard
    detected: bool
    evidence_t_us: tuple[int, ...]
    evaluated: bool
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (evidence capped at 200 times)."""
        return {"detected": self.detected, "evaluated": self.evaluated,
                "evidence_t_us": list(self.evidence_t_us[:200]), "sentence": self.sentence}
