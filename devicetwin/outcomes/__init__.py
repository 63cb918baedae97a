"""Outcome measures: how the simulated patient fared, from the heart's ground truth.

Pure computation, independent of the twin's labels and of what the device reports about itself:
rates and time at the upper rate (``rates``), PMT episodes (``pmt``), pacing burden with fusion
(``burden``), pauses, R-on-T and competitive atrial pacing (``safety``), delivered charge
(``charge``); ``compute_outcomes`` gives them all at once.
"""

from devicetwin.outcomes.beats import ChamberBeats, ChamberPaces, GroundTruth, ground_truth
from devicetwin.outcomes.burden import PacingBurden
from devicetwin.outcomes.charge import DeliveredCharge
from devicetwin.outcomes.hazards import merge_findings, outcome_hazards
from devicetwin.outcomes.measures import (
    OUTCOME_NAMES,
    UNITS,
    OutcomeLimit,
    Outcomes,
    OutcomeSettings,
    compute_outcomes,
)
from devicetwin.outcomes.pmt import PmtEnd, PmtEpisode, PmtOutcome
from devicetwin.outcomes.rates import RateSummary, UpperRateCause
from devicetwin.outcomes.safety import Pauses

__all__ = [
    "OUTCOME_NAMES",
    "UNITS",
    "ChamberBeats",
    "ChamberPaces",
    "DeliveredCharge",
    "GroundTruth",
    "OutcomeLimit",
    "OutcomeSettings",
    "Outcomes",
    "PacingBurden",
    "Pauses",
    "PmtEnd",
    "PmtEpisode",
    "PmtOutcome",
    "RateSummary",
    "UpperRateCause",
    "compute_outcomes",
    "ground_truth",
    "merge_findings",
    "outcome_hazards",
]
