"""Harm the patient can come to from the device's timing: pauses, R-on-T pacing, competitive
atrial pacing.

- *Pause*: a V-V interval (between ventricular beats, paced or not) longer than the longest the
  programming allows: the escape interval (with hysteresis where programmed) plus
  ``PAUSE_MARGIN_MS``. The margin is there because a beat's time here is its first activation
  in the heart, and the device starts its escape interval when the wave reaches its lead and
  crosses its sensitivity: up to about a QRS duration later for an ectopic beat far from the
  lead.
- *R-on-T*: a ventricular pulse (captured or not) delivered into the vulnerable period of a
  spontaneous ventricular beat. The vulnerable period is taken as the end of the T wave's
  refractory part to its end: from ``ERP_OVER_QT`` x QT to QT after the beat, QT from the
  preceding R-R interval by Fridericia's formula (QT = QTc x RR^(1/3), RR in seconds, QTc
  ``QTC_MS``), as Lian et al. estimate R-on-T risk from RR series ("Risk assessment of R-on-T
  event based on modeled QT-RR relationship", PACE 2011). ``ERP_OVER_QT`` 0.77 +- 0.05 is the
  right-ventricular effective refractory period over QT measured during atrial pacing, that is
  in conducted beats ("Human ventricular refractoriness. Effects of cycle length, pacing site
  and atropine").
- *Competitive atrial pacing*: an atrial pulse more than ``SAME_BEAT_MS`` and at most
  ``CAP_MS`` after an intrinsic atrial activation, which can start atrial fibrillation;
  ``CAP_MS`` is the 300 ms that Medtronic's Non-Competitive Atrial Pacing keeps between a
  refractory atrial sense and the next atrial pace. A pulse within ``SAME_BEAT_MS`` lands on the
  P wave itself (a triggered pace, AAT), while the atrium is refractory: not competitive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from devicetwin.outcomes.beats import SAME_BEAT_MS, ChamberBeats, ChamberPaces

PAUSE_MARGIN_MS = 120
QTC_MS = 400.0
ERP_OVER_QT = 0.77
CAP_MS = 300
DEFAULT_RR_MS = 1000.0
"""R-R interval assumed for the first beat of a run (no preceding interval)."""


@dataclass(frozen=True)
class Pauses:
    """V-V intervals longer than allowed: how many, and the longest interval of the run."""

    count: int
    longest_ms: float
    limit_ms: float
    first_at_us: int | None


def pauses(ventricular: ChamberBeats, limit_ms: float) -> Pauses:
    """V-V intervals above ``limit_ms`` (module docstring)."""
    if len(ventricular) < 2:
        return Pauses(0, 0.0, limit_ms, None)
    interval = np.diff(ventricular.t_us)
    long = np.flatnonzero(interval > limit_ms * 1000)
    return Pauses(len(long), float(interval.max()) / 1000, limit_ms,
                  int(ventricular.t_us[long[0]]) if len(long) else None)


def qt_ms(rr_ms: np.ndarray, qtc_ms: float = QTC_MS) -> np.ndarray:
    """Fridericia's QT (ms) for R-R intervals (ms)."""
    return np.asarray(qtc_ms * np.cbrt(rr_ms / 1000.0))


def r_on_t(ventricular: ChamberBeats, paces: ChamberPaces) -> int:
    """Ventricular pulses in the vulnerable period of a spontaneous beat (module docstring)."""
    spont = ~ventricular.paced
    if not spont.any() or len(paces) == 0:
        return 0
    rr_us = np.diff(ventricular.t_us, prepend=ventricular.t_us[0] - round(DEFAULT_RR_MS * 1000))
    t_beat = ventricular.t_us[spont]
    qt_us = qt_ms(rr_us[spont] / 1000.0) * 1000
    i = np.searchsorted(t_beat, paces.t_us, side="left") - 1  # the last spontaneous beat before
    ok = i >= 0
    since = paces.t_us[ok] - t_beat[i[ok]]
    qt = qt_us[i[ok]]
    return int(np.count_nonzero((since >= ERP_OVER_QT * qt) & (since <= qt)))


def competitive_atrial_pacing(paces: ChamberPaces) -> int:
    """Atrial pulses within ``CAP_MS`` after an intrinsic atrial activation."""
    intrinsic = paces.intrinsic_us
    if len(intrinsic) == 0 or len(paces) == 0:
        return 0
    i = np.searchsorted(intrinsic, paces.t_us, side="left") - 1
    ok = i >= 0
    since = paces.t_us[ok] - intrinsic[i[ok]]
    return int(np.count_nonzero((since > SAME_BEAT_MS * 1000) & (since <= CAP_MS * 1000)))
