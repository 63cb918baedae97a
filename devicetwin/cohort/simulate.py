"""One virtual patient in closed loop with the reference pacemaker, at event level.

:func:`simulate_patient` runs a heart (the event-level :class:`~devicetwin.fastheart.FastHeart`,
or the cell-network :class:`~devicetwin.heart.Heart` to compare against) with the reference
:class:`~devicetwin.pacemaker.engine.PacemakerModel` in the loop. The device senses what the
reference front end reports at nominal sensitivity: each lead site's activation plus the offset
of :data:`devicetwin.fastheart.SENSE_OFFSET_US` (docs/heart.md, "Times at the leads"); its own
paces go back to the heart through the capture rule of :mod:`devicetwin.heart.pacing`. Both
hearts are driven through the same senses and the same paces, so a difference between them is
the heart's. The result carries the heart's ground truth, the device's markers and the outcome
measures (:func:`devicetwin.outcomes.compute_outcomes`).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from devicetwin.errors import DeviceTwinError
from devicetwin.fastheart.heart import SENSE_OFFSET_US, FastHeart
from devicetwin.heart.conditions import Condition, get_condition
from devicetwin.heart.events import Activation, Origin
from devicetwin.heart.model import Heart
from devicetwin.heart.pacing import Pace
from devicetwin.outcomes import Outcomes, OutcomeSettings, compute_outcomes
from devicetwin.pacemaker.engine import PacemakerModel
from devicetwin.pacemaker.markers import Chamber, MarkerEvent, MarkerKind
from devicetwin.pacemaker.programming import Programming

#: The hearts :func:`simulate_patient` can run.
HEARTS = ("fast", "cells")
#: The longest run (microseconds): 30 simulated days.
MAX_DURATION_US = 30 * 86_400 * 1_000_000
_SITE = {Chamber.A: "RA", Chamber.V: "RV"}
_PACES = frozenset(k for k in MarkerKind if k.is_pace)
_A_OFFSET, _V_BUNDLE_OFFSET, _V_MUSCLE_OFFSET = SENSE_OFFSET_US


class CohortError(DeviceTwinError):
    """A patient simulation was asked for something it cannot do."""


@dataclass(frozen=True)
class PatientRun:
    """One patient's closed-loop run.

    Attributes
    ----------
    activations:
        The heart's ground truth: every activation and every pace record, in time order.
    markers:
        The pacemaker's markers, in time order.
    outcomes:
        :func:`devicetwin.outcomes.compute_outcomes` of the run (settings from the programming).
    duration_us:
        The simulated time.
    """

    activations: tuple[Activation, ...]
    markers: tuple[MarkerEvent, ...]
    outcomes: Outcomes
    duration_us: int


def simulate_patient(condition: Condition | str, programming: Programming, duration_us: int,
                     seed: int = 0, heart: str = "fast", *, draws: str = "hash",
                     changes: Sequence[tuple[int, Mapping[str, Any]]] = ()) -> PatientRun:
    """Run ``condition`` with the reference pacemaker programmed ``programming`` in closed loop.

    Parameters
    ----------
    condition:
        The patient (a :class:`Condition` or a preset name).
    programming:
        The device's permanent programming (its mode, rates, AV delays, PVARP, outputs ...).
    duration_us:
        Simulated time in microseconds, > 0 (at most 30 days).
    seed:
        The heart's seed (sinus variability, ectopy, fibrillation), an integer >= 0.
    heart:
        ``"fast"``: the event-level heart (:mod:`devicetwin.fastheart`, ~10^5 x real time);
        ``"cells"``: the cell-network heart (:class:`devicetwin.heart.Heart`, ~75 x real time),
        for validation.
    draws:
        The fast heart's random draws: ``"hash"`` (fast) or ``"cells"`` (the cell heart's own,
        for a beat-by-beat comparison with ``heart="cells"``; see
        :class:`~devicetwin.fastheart.FastHeart`).
    changes:
        Condition changes during the run: ``(t_us, {field: value})``, ``t_us`` a whole
        millisecond in ``[0, duration_us)``, applied to the condition then in force as
        :meth:`devicetwin.heart.Heart.schedule` applies them (PAC/PVC and other event times
        inside count from the change).

    Rate-adaptive modes get one activity epoch a second (A-12) from the condition's workload
    (:func:`activity_epochs`), the same for both hearts.
    """
    if isinstance(condition, str):
        condition = get_condition(condition)
    if not isinstance(condition, Condition):
        raise CohortError(f"condition {condition!r}: expected a Condition or a preset name",
                          name="condition", value=condition, expected="a Condition")
    if not isinstance(programming, Programming):
        raise CohortError(f"programming {programming!r}: expected a Programming",
                          name="programming", value=programming, expected="a Programming")
    if (not isinstance(duration_us, int) or isinstance(duration_us, bool)
            or not 0 < duration_us <= MAX_DURATION_US):
        raise CohortError(f"duration_us {duration_us!r}: expected an integer in "
                          f"(0, {MAX_DURATION_US}] microseconds", name="duration_us",
                          value=duration_us, expected=f"(0, {MAX_DURATION_US}] us")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise CohortError(f"seed {seed!r}: expected an integer >= 0", name="seed", value=seed,
                          expected="an integer >= 0")
    plan = _check_changes(condition, changes, duration_us)
    if heart == "fast":
        if draws not in ("hash", "cells"):
            raise CohortError(f"draws {draws!r}: expected 'hash' or 'cells'", name="draws",
                              value=draws, expected="'hash' or 'cells'")
        activations, markers = _run_fast(condition, programming, duration_us, seed, draws,
                                         plan)
    elif heart == "cells":
        activations, markers = _run_cells(condition, programming, duration_us, seed, plan)
    else:
        raise CohortError(f"heart {heart!r}: expected one of {HEARTS}", name="heart",
                          value=heart, expected=f"one of {HEARTS}")
    outcomes = compute_outcomes(activations, [m for m in markers if m.kind.is_pace],
                                OutcomeSettings.for_programming(programming, duration_us))
    return PatientRun(activations, markers, outcomes, duration_us)


def _check_changes(condition: Condition, changes: Sequence[tuple[int, Mapping[str, Any]]],
                   duration_us: int) -> list[tuple[int, dict[str, Any]]]:
    """The changes in time order, each checked (time, fields, values)."""
    plan = []
    cond = condition
    for item in sorted(changes, key=lambda c: c[0]):
        t_us, fields = item
        if (not isinstance(t_us, int) or isinstance(t_us, bool) or t_us % 1000
                or not 0 <= t_us < duration_us):
            raise CohortError(f"changes: a condition change at t_us={t_us!r}: expected a whole "
                              f"millisecond in [0, {duration_us}) us", name="changes",
                              value=t_us, expected="a whole millisecond inside the run")
        cond = cond.with_changes(**dict(fields))  # names and values checked here
        plan.append((t_us, dict(fields)))
    return plan


def _run_fast(condition: Condition, programming: Programming, duration_us: int, seed: int,
              draws: str = "hash", plan: Sequence[tuple[int, dict[str, Any]]] = ()
              ) -> tuple[tuple[Activation, ...], tuple[MarkerEvent, ...]]:
    """The closed loop on the fast heart: the heart runs to the next pace due or the next sense
    (whichever comes first; a sense at a pace's instant is handled first, A-1)."""
    fast = FastHeart(condition, seed, draws=draws)
    k = fast.kernel
    pm = PacemakerModel(programming)
    markers: list[MarkerEvent] = []
    last = duration_us - 1
    # what happens before any event at its time: activity epochs (the sensor rate moves, A-12)
    # and condition changes (the cell heart's actions come before its crossings)
    timed: list[tuple[int, int, Any]] = [(t, 1, m) for t, m in activity_epochs(
        condition, duration_us)] if programming.mode.rate_adaptive else []
    timed += [(t, 0, fields) for t, fields in plan]
    timed.sort(key=lambda x: (x[0], x[1]), reverse=True)
    while True:
        due = pm.next_pace_due_us()
        limit = last if due is None or due > last else due
        if timed and timed[-1][0] <= limit:
            limit = timed[-1][0] - 1
            ch = k.run(limit)
            if ch < 0:
                t_at, kind, what = timed.pop()
                if kind:
                    pm.activity_epoch(t_at, what)
                else:
                    fast.apply(t_at, **what)
                continue
        else:
            ch = k.run(limit)
        if ch >= 0:
            t = int(k.sense_t)
            pm.detect(t, ch)
            new = pm.advance_to(t)
        elif limit == last:
            markers += pm.advance_to(last)
            break
        else:
            new = pm.advance_to(limit)
        markers += new
        for m in new:
            if m.kind in _PACES:
                k.pace(m.t_us, 0 if m.chamber is Chamber.A else 1,
                       (m.amplitude_mv or 0) / 1000.0, m.width_us or 0)
    return fast.activations(), tuple(markers)


#: The accelerometer's epoch (A-12) and its mean rectified signal: the cell heart's activity
#: waveform (``devicetwin.heart.signals.activity_block``) is a rectified sinusoid scaled
#: between the resting and maximal amplitudes by the workload, whose mean absolute value over
#: whole steps is that amplitude.
EPOCH_US = 1_000_000


def activity_epochs(condition: Condition, duration_us: int) -> list[tuple[int, int]]:
    """``(epoch end us, mean absolute milli-g)`` of every whole epoch of a run: the condition's
    workload at the epoch's middle scaled between its resting and maximal activity."""
    prof = condition.exercise_profile
    out = []
    for end in range(EPOCH_US, duration_us, EPOCH_US):
        load = 0.0
        if prof:
            load = float(np.interp((end - EPOCH_US // 2) / 1e6, [p[0] for p in prof],
                                   [p[1] for p in prof]))
        amp = condition.activity_rest_milli_g + (
            condition.activity_max_milli_g - condition.activity_rest_milli_g) * load
        out.append((end, int(amp)))
    return out


class _LeadHeart(Heart):
    """The cell-network heart, also noting when each lead site activates (for the senses)."""

    def __init__(self, condition: Condition, seed: int) -> None:
        self.lead_crossings: list[tuple[int, str, bool]] = []
        super().__init__(condition, seed, sample_rate_hz=5000, leads=(), ecg=False,
                         noise=False)

    def _on_crossing(self, name: str, step: int, events: list[Activation]) -> None:
        n = len(events)
        super()._on_crossing(name, step, events)
        if name in ("RA", "RV"):
            paced = any(e.origin is Origin.PACED and e.captured for e in events[n:])
            self.lead_crossings.append((step * 200, name, paced))


#: The cell heart's window (us) and how far the device lags it (the earliest sense comes
#: 5 ms before its lead's activation).
_WINDOW_US = 5000
_LAG_US = -_V_BUNDLE_OFFSET


def _run_cells(condition: Condition, programming: Programming, duration_us: int, seed: int,
               plan: Sequence[tuple[int, dict[str, Any]]] = ()
               ) -> tuple[tuple[Activation, ...], tuple[MarkerEvent, ...]]:
    """The closed loop on the cell heart, by speculation: the heart runs ahead in 5 ms windows,
    the device follows 5 ms behind on the senses known; a pace due in the past rolls the heart
    back to a window before it, which is then run again with the pace (the heart before a pace
    does not depend on it)."""
    heart = _LeadHeart(condition, seed)
    for t_us, fields in plan:
        heart.schedule(t_us, **fields)
    pm = PacemakerModel(programming)
    # activity epochs as (end, -1 - mean): before a detection at the same time
    epochs = [(t, -1 - m) for t, m in activity_epochs(condition, duration_us)
              ] if programming.mode.rate_adaptive else []
    end = -(-duration_us // 200) * 200
    markers: list[MarkerEvent] = []
    events: list[Activation] = []
    paces: list[Pace] = []
    fed: set[tuple[int, int]] = set()
    # per window start: (time, heart snapshot, len(events), len(lead_crossings))
    snaps: list[tuple[int, Any, int, int]] = []
    while True:
        t0 = heart.now_us
        if t0 >= end:
            break
        snaps.append((t0, heart.snapshot(), len(events), len(heart.lead_crossings)))
        del snaps[:-6]
        w = min(_WINDOW_US, end - t0)
        window_paces = [p for p in paces if t0 <= p.t_us < t0 + w]
        events += heart.advance(w, window_paces).events
        known = heart.now_us - _LAG_US if heart.now_us < end else duration_us
        todo = _senses(heart.lead_crossings, events)
        todo += [e for e in epochs if t0 - _WINDOW_US - _LAG_US <= e[0] < known]
        new = _feed(pm, todo, known, fed)
        markers += new
        pace_marks = [m for m in new if m.kind.is_pace]
        if not pace_marks:
            continue
        first = min(m.t_us for m in pace_marks)
        for m in pace_marks:
            paces.append(Pace(m.t_us, _SITE[m.chamber], (m.amplitude_mv or 0) / 1000.0,
                              m.width_us or 0))
        while snaps[-1][0] > first:
            snaps.pop()
        _, snap, n_events, n_cross = snaps.pop()
        heart.restore(snap)
        del events[n_events:]
        del heart.lead_crossings[n_cross:]
    markers += pm.advance_to(duration_us - 1)
    activations = sorted((e for e in events if e.t_us < duration_us), key=lambda e: e.t_us)
    return tuple(activations), tuple(markers)


def _senses(crossings: Sequence[tuple[int, str, bool]], events: Sequence[Activation]
            ) -> list[tuple[int, int]]:
    """The device's detections of the latest lead activations: (time us, chamber 0/1)."""
    out = []
    v_events = [e for e in events[-12:] if e.chamber is Chamber.V
                and e.origin is not Origin.PACED]
    for t, name, paced in crossings[-12:]:
        if paced:
            continue
        if name == "RA":
            out.append((t + _A_OFFSET, 0))
        else:
            # a wave from the bundles (conducted, escape) reached the ventricles first at a
            # Purkinje-muscle junction shortly before the lead
            bundle = any(e.origin in (Origin.CONDUCTED, Origin.ESCAPE)
                         and 0 <= t - e.t_us <= 60_000 for e in v_events)
            out.append((t + (_V_BUNDLE_OFFSET if bundle else _V_MUSCLE_OFFSET), 1))
    return out


def _feed(pm: PacemakerModel, senses: list[tuple[int, int]], known_us: int,
          fed: set[tuple[int, int]]) -> list[MarkerEvent]:
    """Feed the device the senses (and activity epochs, chamber ``-1 - mean``) before
    ``known_us`` it has not had, in time order, and run it to ``known_us``; stop at its first
    pace (returned with the markers before it)."""
    out: list[MarkerEvent] = []
    todo = [s for s in senses if s[0] < known_us and s not in fed and s[0] >= pm.now_us]
    heapq.heapify(todo)
    while todo:
        t, ch = heapq.heappop(todo)
        if t > pm.now_us:
            out += pm.advance_to(t - 1)
            if any(m.kind.is_pace for m in out):
                return out
        if ch < 0:
            pm.activity_epoch(t, -1 - ch)
        else:
            pm.detect(t, ch)
        fed.add((t, ch))
        out += pm.advance_to(t)
        if any(m.kind.is_pace for m in out):
            return out
    if known_us - 1 > pm.now_us:
        out += pm.advance_to(known_us - 1)
    return out
