"""Which atrial beat, if any, each ventricular beat followed: the basis of tracking outcomes.

A ventricular beat *follows* an atrial beat when that atrial beat is the last one after the
previous ventricular beat and came at most ``max_av_ms`` before it. For a ventricular pace of a
tracking mode (DDD, VDD) that is the atrial beat it tracked; whether the device actually tracked
it is not asked of the device, only read off the heart's timing.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from devicetwin.outcomes.beats import GroundTruth

NO_BEAT = -1
"""Index meaning 'no atrial beat followed'."""


def followed_atrial(truth: GroundTruth, max_av_ms: float) -> npt.NDArray[np.int64]:
    """For each ventricular beat, the index of the atrial beat it followed, or ``NO_BEAT``."""
    v_t = truth.ventricular.t_us
    a_t = truth.atrial.t_us
    if len(v_t) == 0:
        return np.zeros(0, dtype=np.int64)
    idx = np.searchsorted(a_t, v_t, side="left").astype(np.int64) - 1
    prev_v = np.concatenate(([np.iinfo(np.int64).min], v_t[:-1]))
    safe = np.clip(idx, 0, max(len(a_t) - 1, 0))
    a_at = a_t[safe] if len(a_t) else np.zeros_like(v_t)
    ok = (idx >= 0) & (a_at > prev_v) & (v_t - a_at <= round(max_av_ms * 1000))
    return np.where(ok, idx, NO_BEAT)
