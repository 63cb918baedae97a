"""Scenario timeline actions turned into heart condition changes and device commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devicetwin.heart import Heart
from hil.scenarios.model import NOISE_SOURCES, TimelineEntry


def heart_changes(entry: TimelineEntry, heart: Heart) -> tuple[str | None, dict[str, Any]] | None:
    """The (preset, field changes) an action makes to the heart; None for device actions.

    Times inside a change (PVC times, exercise profile, EMI bursts) count from the moment it
    takes effect (``Heart.schedule``).
    """
    p = dict(entry.params)
    a = entry.action
    cond = heart.condition
    if a == "heart":
        return None, p
    if a == "condition":
        name = p.pop("name", None)
        return (str(name) if name is not None else None), p
    if a == "exercise":
        ramp = float(p.get("ramp_s", 30.0))
        return None, {"exercise_profile": ((0.0, 0.0), (ramp, float(p.get("workload", 0.5))))}
    if a == "rest":
        ramp = float(p.get("ramp_s", 30.0))
        return None, {"exercise_profile": ((0.0, 0.0), (ramp, 0.0))}
    if a in ("pvc", "pac"):
        count = int(p.get("count", 1))
        coupling = float(p.get("coupling_ms", 600.0 if a == "pvc" else 500.0))
        after = float(p.get("after_ms", 0.0))
        times = tuple(after + i * coupling for i in range(count))
        return None, {f"{a}_times_ms": times}
    if a == "af_start":
        changes: dict[str, Any] = {"atrial_rhythm": "fibrillation"}
        if "mean_cycle_ms" in p:
            changes["af_mean_cycle_ms"] = float(p["mean_cycle_ms"])
        return None, changes
    if a == "flutter_start":
        return None, {"atrial_rhythm": "flutter",
                      "flutter_cycle_ms": float(p.get("cycle_ms", cond.flutter_cycle_ms))}
    if a in ("af_stop", "flutter_stop"):
        return None, {"atrial_rhythm": "sinus"}
    if a == "noise":
        source = NOISE_SOURCES[str(p.get("kind", "mains"))]
        amp = float(p.get("amplitude_mv", 1.0))
        if source == "emi_bursts":
            return None, {source: ((0.0, float(p.get("duration_s", 2.0)) * 1000.0, amp),)}
        return None, {source: amp}
    if a == "noise_stop":
        return None, {s: (() if s == "emi_bursts" else 0.0) for s in NOISE_SOURCES.values()}
    if a == "threshold":
        factor = float(p.get("factor", 1.0))
        return None, {"threshold_max_factor": max(1.0, factor), "threshold_rise_per_min": 10.0}
    if a == "av_block":
        return None, {"av_conduction": str(p.get("conduction", "blocked"))}
    return None


def schedule_on_heart(heart: Heart, timeline: tuple[TimelineEntry, ...]) -> list[TimelineEntry]:
    """Schedule every heart action; return the device actions left for the session."""
    device_actions = []
    for entry in timeline:
        change = heart_changes(entry, heart)
        if change is None:
            device_actions.append(entry)
            continue
        preset, fields = change
        heart.schedule(entry.at_us - entry.at_us % 1000, preset, **fields)
    return device_actions


def device_timeline(actions: list[TimelineEntry],
                    apply: Callable[[TimelineEntry], None]) -> Callable[[int], int | None]:
    """A lock-step timeline hook that applies device actions at their times."""
    queue = sorted(actions, key=lambda e: e.at_us)

    def hook(t_us: int) -> int | None:
        while queue and queue[0].at_us <= t_us:
            apply(queue.pop(0))
        return queue[0].at_us if queue else None

    return hook
