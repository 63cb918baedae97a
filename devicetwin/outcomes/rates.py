"""Rates from the heart's beats: over time, and how long the ventricle ran at the upper rate, why.

The ventricular rate is the patient's pulse; time at or near the upper rate is the symptom of
PMT and of tracking a fast atrium. Each V-V interval within ``near_fraction`` of the upper-rate
interval (default 5 %: 114-120 bpm for URL 120) is attributed to what ended it:

- ``sinus`` / ``atrial_ectopic`` / ``retrograde``: a ventricular pace that followed an atrial
  activation of that origin (tracking; ``devicetwin.outcomes.tracking``);
- ``paced_atrium``: a ventricular pace after a captured atrial pace (AV sequential pacing at a
  sensor-driven or programmed fast rate);
- ``sensor``: a ventricular pace that followed no atrial beat (sensor-driven ventricular pacing);
- ``intrinsic``: a ventricular beat the device did not start.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from devicetwin.heart.events import Origin
from devicetwin.outcomes.beats import ORIGIN_CODE, ChamberBeats, GroundTruth
from devicetwin.outcomes.tracking import NO_BEAT

US_PER_MIN = 60_000_000
DEFAULT_NEAR_FRACTION = 0.05


class UpperRateCause(enum.Enum):
    """Why a V-V interval at the upper rate ended when it did (module docstring)."""

    SINUS = "sinus"
    ATRIAL_ECTOPIC = "atrial_ectopic"
    RETROGRADE = "retrograde"
    PACED_ATRIUM = "paced_atrium"
    SENSOR = "sensor"
    INTRINSIC = "intrinsic"


_CAUSE_OF_ATRIAL_ORIGIN = {
    ORIGIN_CODE[Origin.SINUS]: UpperRateCause.SINUS,
    ORIGIN_CODE[Origin.ECTOPIC]: UpperRateCause.ATRIAL_ECTOPIC,
    ORIGIN_CODE[Origin.RETROGRADE]: UpperRateCause.RETROGRADE,
    ORIGIN_CODE[Origin.PACED]: UpperRateCause.PACED_ATRIUM,
}


@dataclass(frozen=True)
class RateSummary:
    """One chamber's rate: beats, mean over the run, and the extremes of beat-to-beat rate."""

    beats: int
    mean_bpm: float
    min_bpm: float | None
    max_bpm: float | None


def rate_series(beats: ChamberBeats) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Beat-to-beat rate over time: (time of each beat after the first, its rate in bpm)."""
    if len(beats) < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return beats.t_us[1:], US_PER_MIN / np.diff(beats.t_us).astype(np.float64)


def rate_summary(beats: ChamberBeats, duration_us: int) -> RateSummary:
    """Beats, the mean rate over ``duration_us``, and the slowest and fastest beat-to-beat rate."""
    _, bpm = rate_series(beats)
    mean = len(beats) * US_PER_MIN / duration_us if duration_us > 0 else 0.0
    return RateSummary(len(beats), mean, float(bpm.min()) if len(bpm) else None,
                       float(bpm.max()) if len(bpm) else None)


def upper_rate_time(truth: GroundTruth, followed: npt.NDArray[np.int64], *, uri_ms: float,
                    near_fraction: float = DEFAULT_NEAR_FRACTION) -> dict[UpperRateCause, int]:
    """Microseconds of V-V intervals at or near the upper rate, by cause (module docstring)."""
    v = truth.ventricular
    out = {cause: 0 for cause in UpperRateCause}
    if len(v) < 2:
        return out
    interval = np.diff(v.t_us)
    near = interval <= uri_ms * 1000 * (1 + near_fraction)
    a_origin = truth.atrial.origin
    for i in np.flatnonzero(near).tolist():
        beat = i + 1
        if not v.paced[beat]:
            cause = UpperRateCause.INTRINSIC
        elif followed[beat] == NO_BEAT:
            cause = UpperRateCause.SENSOR
        else:
            cause = _CAUSE_OF_ATRIAL_ORIGIN.get(int(a_origin[followed[beat]]),
                                                UpperRateCause.SINUS)
        out[cause] += int(interval[i])
    return out
