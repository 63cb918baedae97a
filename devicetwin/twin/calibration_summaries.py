"""Summary statistics of a protocol recording: what calibration compares, data against simulation.

Every statistic is read off the device's marker channel of one protocol segment
(:mod:`devicetwin.twin.calibration_protocol`), the way a clinician reads an interrogation strip:

- ``intrinsic``: sinus cycle (ms: the median time from an atrial event to the next atrial sense,
  below) and its variability (robust coefficient of variation), the PR interval (median AS to
  the next VS, ms) and its spread (interquartile range, ms), the share of P waves that conduct
  (the next ventricular event is a sense, not an escape pace: block pattern), premature atrial
  beats per minute (cycles shorter than 80 % of the median) and PVC markers per minute;
- ``atrial_pacing_<ppm>``: the median atrial-event to VS time (ms) and the share of atrial events
  conducted within the 250 ms AV delay, at each rate (decrement and Wenckebach point);
- ``retrograde``: the share of ventricular paces followed, before the next ventricular event and
  within 600 ms, by an atrial sense (AS, AR or AT), the median of those intervals (the VA time at
  the device, ms) and their interquartile range (ms): retrograde conduction gives a fixed interval,
  a sinus rhythm dissociated from the paces gives scattered ones.

The sinus cycle: every atrial depolarisation (a sinus P wave, a retrograde one, an atrial pace)
resets the sinus node, so the time from the last atrial event (AS, AR, AT or AP) to the next
atrial sense (AS, AR or AT; refractory senses too, so that a PVARP does not select the longer
cycles) is one sinus cycle, unless a ventricular pace lies between them: a paced beat may
conduct back to the atria, and the interval then ends at the retrograde P wave (a VA time, not a
cycle). Intervals ending in an atrial pace are not cycles either.

A statistic without data (no conducted beat, no atrial sense) takes a fixed value outside its
normal range (``MISSING``), the same in data and simulation, so that "nothing conducted" is
itself compared.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind
from devicetwin.twin.calibration_protocol import PACING_RATES_PPM, Recording

FloatArray = npt.NDArray[np.float64]

#: Value of a time statistic without data, ms (no conduction seen / no atrial sense after paces).
MISSING = -100.0
#: How long after an atrial event a ventricular sense still counts as conducted from it, ms.
MAX_CONDUCTION_MS = 500.0
#: How long after a ventricular pace an atrial sense counts in the retrograde test, ms.
MAX_RETROGRADE_MS = 600.0
#: An AS-AS interval shorter than this share of the median is a premature atrial beat.
PREMATURE_FRACTION = 0.8

_A_SENSES = (MarkerKind.AS, MarkerKind.AT)
_A_ANY_SENSE = (MarkerKind.AS, MarkerKind.AR, MarkerKind.AT)
_V_SENSES = (MarkerKind.VS, MarkerKind.PVC)


def summary_names() -> tuple[str, ...]:
    """The statistics in vector order (names carry units: ``_ms``, ``_per_min``, fractions)."""
    names = ["sinus_cycle_ms", "sinus_cv", "pr_ms", "pr_iqr_ms", "conducted_fraction",
             "pac_per_min", "pvc_per_min"]
    for rate in PACING_RATES_PPM:
        names += [f"paced_av_ms_{rate}", f"paced_conducted_fraction_{rate}"]
    names += ["retro_fraction", "retro_va_ms", "retro_iqr_ms"]
    return tuple(names)


def resolution_of(name: str) -> float:
    """The smallest difference of summary ``name`` worth a unit of distance: 5 ms for times
    (``*_ms``), 0.5/min for rates (``*_per_min``), 0.005 for the coefficient of variation
    (``sinus_cv``), 0.05 for shares (the rest)."""
    if name.endswith("_ms"):
        return 5.0
    if name.endswith("_per_min"):
        return 0.5
    if name == "sinus_cv":
        return 0.005
    return 0.05


def summary_resolution() -> tuple[float, ...]:
    """The smallest difference worth a unit of distance, per statistic (same order): 5 ms for
    times, 0.05 for shares, 0.005 for the coefficient of variation, 0.5/min for rates.

    Calibration scales each statistic by its spread over the prior's simulations, but never by
    less than this: a statistic that barely varies in the model (the PR interval's spread is
    0 ms on the fast heart and 0.2 ms on the cell heart) must not let a difference the two
    hearts do not share dominate the distance.
    """
    return tuple(resolution_of(n) for n in summary_names())


def _times(markers: Sequence[MarkerEvent], kinds: tuple[MarkerKind, ...],
           chamber: Chamber) -> npt.NDArray[np.int64]:
    return np.array(sorted(m.t_us for m in markers if m.kind in kinds and m.chamber is chamber),
                    dtype=np.int64)


def _median(values: FloatArray) -> float:
    return float(np.median(values)) if len(values) else MISSING


def _iqr(values: FloatArray) -> float:
    if len(values) < 2:
        return MISSING
    q75, q25 = np.percentile(values, [75.0, 25.0])
    return float(q75 - q25)


def _next_after(starts: npt.NDArray[np.int64], events: npt.NDArray[np.int64]
                ) -> npt.NDArray[np.int64]:
    """Index into ``events`` of the first event after each start (len(events) if none)."""
    return np.searchsorted(events, starts, side="right").astype(np.int64)


def _conduction(atrial_us: npt.NDArray[np.int64], v_sense_us: npt.NDArray[np.int64],
                v_any_us: npt.NDArray[np.int64]) -> tuple[FloatArray, int]:
    """A-to-VS times (ms) of atrial events whose next ventricular event is a sense within
    ``MAX_CONDUCTION_MS``, and how many atrial events had any ventricular event after them."""
    if len(atrial_us) == 0 or len(v_any_us) == 0:
        return np.zeros(0), 0
    nxt = _next_after(atrial_us, v_any_us)
    has = nxt < len(v_any_us)
    nxt_t = v_any_us[np.minimum(nxt, len(v_any_us) - 1)]
    # the next atrial event must not come before that ventricular event (a dropped beat)
    next_a = np.concatenate((atrial_us[1:], [np.iinfo(np.int64).max]))
    has &= nxt_t < next_a
    is_sense = np.isin(nxt_t, v_sense_us)
    delay_ms = (nxt_t - atrial_us) / 1000.0
    ok = has & is_sense & (delay_ms <= MAX_CONDUCTION_MS)
    return delay_ms[ok].astype(np.float64), int(has.sum())


def sinus_cycles_ms(markers: Sequence[MarkerEvent]) -> FloatArray:
    """The sinus cycles of an unpaced stretch, ms: each interval from an atrial event (AS, AR,
    AT, AP) to the next atrial sense (AS, AR, AT) with no ventricular pace between them (module
    docstring)."""
    events = sorted((m.t_us, m.kind is MarkerKind.AP) for m in markers
                    if m.chamber is Chamber.A and m.kind in (*_A_ANY_SENSE, MarkerKind.AP))
    if len(events) < 2:
        return np.zeros(0)
    t = np.array([e[0] for e in events], dtype=np.int64)
    paced = np.array([e[1] for e in events], dtype=np.bool_)
    v_p = _times(markers, (MarkerKind.VP,), Chamber.V)
    keep = ~paced[1:]
    if len(v_p):
        keep &= np.searchsorted(v_p, t[1:], side="left") == np.searchsorted(v_p, t[:-1],
                                                                             side="right")
    return (np.diff(t)[keep] / 1000.0).astype(np.float64)


def intrinsic_summaries(markers: Sequence[MarkerEvent], duration_us: int) -> list[float]:
    """Sinus, PR, block and ectopy statistics of the intrinsic segment (module docstring)."""
    minutes = duration_us / 60e6
    a_s = _times(markers, _A_SENSES, Chamber.A)
    v_s = _times(markers, _V_SENSES, Chamber.V)
    v_p = _times(markers, (MarkerKind.VP,), Chamber.V)
    v_any = np.union1d(v_s, v_p)
    pvcs = sum(1 for m in markers if m.kind is MarkerKind.PVC)
    intervals = sinus_cycles_ms(markers)
    cycle = _median(intervals)
    if len(intervals) >= 3 and cycle > 0:
        regular = intervals[(intervals > 0.7 * cycle) & (intervals < 1.3 * cycle)]
        mad = float(np.median(np.abs(regular - np.median(regular)))) if len(regular) else 0.0
        cv = 1.4826 * mad / cycle
        pacs = float(np.sum(intervals < PREMATURE_FRACTION * cycle)) / minutes
    else:
        cv, pacs = MISSING / 1000.0, 0.0
    pr, n_followed = _conduction(a_s, v_s, v_any)
    conducted = len(pr) / n_followed if n_followed else 0.0
    return [cycle, cv, _median(pr), _iqr(pr), conducted, pacs, pvcs / minutes]


def pacing_summaries(markers: Sequence[MarkerEvent]) -> list[float]:
    """Median atrial-to-VS time (ms) and conducted share of one atrial-pacing segment."""
    a = np.union1d(_times(markers, _A_SENSES, Chamber.A),
                   _times(markers, (MarkerKind.AP,), Chamber.A))
    v_s = _times(markers, _V_SENSES, Chamber.V)
    v_any = np.union1d(v_s, _times(markers, (MarkerKind.VP,), Chamber.V))
    delays, n_followed = _conduction(a, v_s, v_any)
    return [_median(delays), len(delays) / n_followed if n_followed else 0.0]


def retrograde_summaries(markers: Sequence[MarkerEvent]) -> list[float]:
    """Share of V paces followed by an atrial sense, its median interval and IQR (ms)."""
    vp = _times(markers, (MarkerKind.VP,), Chamber.V)
    a_any = _times(markers, _A_ANY_SENSE, Chamber.A)
    v_all = np.union1d(vp, _times(markers, _V_SENSES, Chamber.V))
    if len(vp) == 0:
        return [0.0, MISSING, MISSING]
    nxt_a = _next_after(vp, a_any)
    has = nxt_a < len(a_any)
    a_t = a_any[np.minimum(nxt_a, max(len(a_any) - 1, 0))] if len(a_any) else vp
    nxt_v = _next_after(vp, v_all)
    v_t = np.where(nxt_v < len(v_all), v_all[np.minimum(nxt_v, len(v_all) - 1)],
                   np.iinfo(np.int64).max)
    va_ms = (a_t - vp) / 1000.0
    ok = has & (a_t < v_t) & (va_ms <= MAX_RETROGRADE_MS)
    vals = va_ms[ok].astype(np.float64)
    return [float(ok.mean()), _median(vals), _iqr(vals)]


def summaries(recording: Recording) -> FloatArray:
    """The summary vector of a protocol recording, in :func:`summary_names` order."""
    intr = recording.segment("intrinsic")
    out = intrinsic_summaries(intr.markers, intr.segment.duration_us)
    for rate in PACING_RATES_PPM:
        out += pacing_summaries(recording.segment(f"atrial_pacing_{rate}").markers)
    out += retrograde_summaries(recording.segment("retrograde").markers)
    return np.asarray(out, dtype=np.float64)
